// Ed25519 private keys on disk: created 0600 in a 0700 directory, refused if anyone else can read them.
import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { closeSync, fstatSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** Loads the key at `path`, creating it (and its directory, 0700) on first use. `what` names it in errors. */
export function loadOrCreatePrivateKey(path: string, what: string): KeyObject {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  return readPrivateKey(path, what) ?? createPrivateKeyFile(path, what);
}

// The mode is checked on the open descriptor, so the file checked is the file read.
function readPrivateKey(path: string, what: string): KeyObject | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const mode = fstatSync(fd).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      throw new Error(
        `refusing ${what} ${path}: mode ${mode.toString(8).padStart(4, '0')} lets others read it; ` +
          `it must be 0600 (chmod 600 ${path}, or remove it to make a new ${what})`,
      );
    }
    return createPrivateKey(readFileSync(fd, 'utf8'));
  } finally {
    closeSync(fd);
  }
}

// Written in full to a temporary file created 0600 with O_EXCL, then linked into place: link() never
// replaces an existing file, so two processes racing to create the key agree on one, and neither can
// read a half-written key.
function createPrivateKeyFile(path: string, what: string): KeyObject {
  const { privateKey } = generateKeyPairSync('ed25519');
  const temporaryPath = `${path}.${process.pid}.tmp`;
  writeNewFile(temporaryPath, privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, 0o600);
  try {
    linkSync(temporaryPath, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return readPrivateKey(path, what)!;
  } finally {
    unlinkSync(temporaryPath);
  }
  syncDirectory(dirname(path)); // the link itself must survive a power cut, or the key's owner gets a new identity
  return privateKey;
}

/** Writes the public half beside the private key (0644), or checks that the one there matches. */
export function publishPublicKey(path: string, pem: string): void {
  try {
    writeNewFile(path, pem, 0o644);
    return;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  if (readFileSync(path, 'utf8') !== pem) throw new Error(`${path} is not the public half of the private key beside it`);
}

// O_CREAT | O_EXCL with the mode given at creation: the file is never, even briefly, more open than `mode`.
export function writeNewFile(path: string, text: string, mode: number): void {
  const fd = openSync(path, 'wx', mode);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function syncDirectory(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
