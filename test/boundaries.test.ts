// The pure cores do no I/O and depend on no adapter: a forbidden import here is a design error.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

const PURE = ['src/core', 'src/policy', 'src/ledger', 'src/detect', 'src/runs'];
const FORBIDDEN = /from '(node:fs|node:fs\/promises|node:net|node:http|node:https|node:child_process|node:os|better-sqlite3|pg|(\.\.\/)+(daemon|server|store|cli|agents|home)\/[^']*)'/;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

test('core, policy, ledger and detect import no I/O module and no adapter', () => {
  const offenders = PURE.flatMap(files).flatMap((file) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => FORBIDDEN.test(line))
      .map((line) => `${file}: ${line.trim()}`),
  );
  assert.deepEqual(offenders, []);
});
