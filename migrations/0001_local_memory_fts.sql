-- Custom migration (drizzle-kit does not model virtual tables or triggers).
-- The local memory backend's full-text index over message content. External content: the text
-- lives once, in messages; the triggers index each message in the same transaction that commits it.
CREATE VIRTUAL TABLE `messages_fts` USING fts5(
	content,
	content='messages',
	content_rowid='n',
	tokenize='unicode61 remove_diacritics 2'
);
--> statement-breakpoint
CREATE TRIGGER `messages_fts_insert` AFTER INSERT ON `messages` BEGIN
	INSERT INTO `messages_fts`(rowid, content) VALUES (new.n, new.content);
END;
--> statement-breakpoint
CREATE TRIGGER `messages_fts_delete` AFTER DELETE ON `messages` BEGIN
	INSERT INTO `messages_fts`(`messages_fts`, rowid, content) VALUES ('delete', old.n, old.content);
END;
--> statement-breakpoint
CREATE TRIGGER `messages_fts_update` AFTER UPDATE OF content ON `messages` BEGIN
	INSERT INTO `messages_fts`(`messages_fts`, rowid, content) VALUES ('delete', old.n, old.content);
	INSERT INTO `messages_fts`(rowid, content) VALUES (new.n, new.content);
END;
--> statement-breakpoint
-- SPEC §8.14: a random epoch made when the database is first migrated.
INSERT INTO `meta`(`key`, `value`) VALUES ('epoch', lower(hex(randomblob(16))));
