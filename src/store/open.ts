// Chooses the store adapter from one configuration string, the only place that knows both adapters' names.
import { openPostgresStore } from './postgres.js';
import { openSqliteStore } from './sqlite.js';
import type { Store } from './store.js';

/**
 * Opens the store named by `spec`: `sqlite:PATH` or a bare path for SQLite, `postgres://…` or `postgresql://…`
 * for PostgreSQL. The schema is not touched: call migrate() next.
 * @example
 * const store = await openStore(process.env.WRIT_STORE ?? 'sqlite:/var/lib/writ/writ.db');
 * await store.migrate();
 */
export async function openStore(spec: string): Promise<Store> {
  if (/^postgres(ql)?:\/\//i.test(spec)) return openPostgresStore(spec);
  if (spec.startsWith('sqlite:')) {
    const path = spec.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (path === '') throw new Error('store `sqlite:` names no file: hint: use sqlite:/path/to/writ.db or sqlite::memory:');
    return openSqliteStore(path);
  }
  // A bare path, but not a URL of some other scheme (a Windows drive letter is one character long).
  if (spec !== '' && !/^[a-z][a-z0-9+.-]+:/i.test(spec)) return openSqliteStore(spec);
  throw new Error(
    `store \`${spec}\` is not supported: hint: use sqlite:PATH, a file path, postgres://… or postgresql://…`,
  );
}
