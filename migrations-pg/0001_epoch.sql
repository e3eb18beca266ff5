-- Custom migration. SPEC §8.14: a random epoch made when the database is first migrated
-- (32 hex characters, the same form as the SQLite adapter's).
INSERT INTO "meta" ("key", "value") VALUES ('epoch', replace(gen_random_uuid()::text, '-', ''));
