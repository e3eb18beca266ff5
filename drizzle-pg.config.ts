/**
 * drizzle-kit configuration for the PostgreSQL schema (cluster mode): `bun run gen:migrations:pg`
 * reads src/storage/postgres/schema.ts and writes SQL into migrations-pg/.
 */
import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: './src/storage/postgres/schema.ts',
  out: './migrations-pg',
});
