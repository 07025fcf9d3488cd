// Throwaway databases for benchmarks that run against both stores: a SQLite file in a temp folder, and a
// PostgreSQL database on the local server, each removed afterwards.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export async function withSqliteDatabase<T>(prefix: string, use: (url: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  try {
    return await use(`sqlite:${join(dir, 'writ.db')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function withPostgresDatabase<T>(use: (url: string) => Promise<T>): Promise<T> {
  const database = `writ_bench_${process.pid}`;
  const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/test' });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  try {
    return await use(`postgres://postgres@127.0.0.1:5432/${database}`);
  } finally {
    await admin.query(`DROP DATABASE ${database} WITH (FORCE)`);
    await admin.end();
  }
}
