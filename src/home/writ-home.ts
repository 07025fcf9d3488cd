// Where a device's Writ state lives: $WRIT_HOME, by default ~/.writ. Everything is created owner-only.
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

export interface WritHome {
  root: string;
  socket: string;
  journal: string;
  policy: string;
  spool: string;
  pidFile: string;
  hookToken: string;
  log: string;
  /** The server's enrolment answer: device certificate, org keys, server URL. */
  enrollment: string;
  /** The org policy bundle in force (its signed envelope), enforced before the server is reached. */
  policyBundle: string;
  /** The last control state received (signed envelope: version and kill switches). */
  controlState: string;
  /** The device's posture as the posture collector last wrote it. */
  posture: string;
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
    enrollment: join(root, 'enrollment.json'),
    policyBundle: join(root, 'policy-bundle.json'),
    controlState: join(root, 'control-state.json'),
    posture: join(root, 'posture.json'),
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

/**
 * Replaces `path` with `text` atomically, owner-only (0600): written in full to a temporary file, synced, then
 * renamed over the old one, so a crash leaves either the old file or the new one, never half of either.
 */
export function writePrivateFileAtomic(path: string, text: string): void {
  const temporaryPath = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fd = openSync(temporaryPath, 'wx', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(temporaryPath, { force: true });
    throw error;
  }
  closeSync(fd);
  try {
    renameSync(temporaryPath, path);
  } catch (error) {
    rmSync(temporaryPath, { force: true });
    throw error;
  }
  const dir = openSync(dirname(path), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}
