import { defineConfig } from 'drizzle-kit';

// `npm run db:generate` diffs src/db/schema against drizzle/ and writes a new migration to review.
// There is deliberately no `push`: every change to the database goes through a committed migration.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema/index.ts',
  out: './drizzle',
  casing: 'snake_case',
});
