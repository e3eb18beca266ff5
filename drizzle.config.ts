/**
 * drizzle-kit configuration: `bun run gen:migrations` reads the schema and writes SQL into migrations/.
 */
import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'sqlite',
  schema: './src/storage/sqlite/schema.ts',
  out: './migrations',
});
