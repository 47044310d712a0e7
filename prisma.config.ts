import { defineConfig } from 'prisma/config';
import { PrismaPg } from '@prisma/adapter-pg';

// Prisma's CLI runs its bundled Wasm schema engine (engine: 'js') through this driver adapter, so
// `migrate deploy` and `migrate diff` need no native engine download: they work offline.
// The default matches src/config (the CLI and the app agree on where the database is).
process.env.DATABASE_URL ??= 'postgresql://postgres@127.0.0.1:5432/paperboy';

export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  async adapter() {
    return new PrismaPg({ connectionString: process.env.DATABASE_URL });
  },
});
