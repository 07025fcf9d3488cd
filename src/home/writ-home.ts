// Where a device's Writ state lives: $WRIT_HOME, by default ~/.writ. Everything is created owner-only.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export interface WritHome {
  root: string;
  socket: string;
  journal: string;
  policy: string;
  spool: string;
  pidFile: string;
  hookToken: string;
  log: string;
}

export function resolveWritHome(explicit?: string, env: NodeJS.ProcessEnv = process.env): WritHome {
  const root = resolve(explicit ?? env.WRIT_HOME ?? join(env.HOME ?? homedir(), '.writ'));
  return {
    root,
    socket: join(root, 'writ.sock'),
    journal: join(root, 'journal.db'),
    policy: join(root, 'policy'),
    spool: join(root, 'spool'),
    pidFile: join(root, 'daemon.pid'),
    hookToken: join(root, 'hook-token'),
    log: join(root, 'daemon.log'),
  };
}

/** Creates the state directory owner-only (0700); an existing one keeps its mode. */
export function ensureWritHome(home: WritHome): void {
  mkdirSync(home.root, { recursive: true, mode: 0o700 });
  mkdirSync(home.spool, { recursive: true, mode: 0o700 });
}

/** The secret an http hook must present to the daemon's loopback port; created owner-only on first use. */
export function loadOrCreateHookToken(home: WritHome): string {
  if (existsSync(home.hookToken)) return readFileSync(home.hookToken, 'utf8').trim();
  ensureWritHome(home);
  const token = randomBytes(24).toString('base64url');
  writeFileSync(home.hookToken, token + '\n', { mode: 0o600, flag: 'wx' });
  return token;
}
