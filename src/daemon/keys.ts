// The device's Ed25519 key: made once, kept in $WRIT_HOME/keys, readable by its owner only.
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import {
  closeSync,
  fstatSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { ed25519Signer, type Signer } from '../core/dsse.js';

export interface DeviceKey {
  keyId: string; // 'sha256:' + hex SHA-256 of the SPKI DER
  deviceId: string; // 'dev_' + the first 16 hex digits of that hash
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicKeyPem: string;
  signer: Signer;
}

const PRIVATE_KEY_FILE = 'device.key';
const PUBLIC_KEY_FILE = 'device.pub';

/** Loads the device key from `writHome`/keys, creating it on first use. */
export function loadOrCreateDeviceKey(writHome: string): DeviceKey {
  const keysDir = join(writHome, 'keys');
  mkdirSync(keysDir, { recursive: true, mode: 0o700 });
  const privatePath = join(keysDir, PRIVATE_KEY_FILE);
  const privateKey = readPrivateKey(privatePath) ?? createPrivateKeyFile(privatePath);
  const key = deviceKey(privateKey);
  publishPublicKey(join(keysDir, PUBLIC_KEY_FILE), key.publicKeyPem);
  return key;
}

/** The device's public key as published in `writHome`/keys/device.pub, for verifying its journal. */
export function loadPublicKey(writHome: string): KeyObject {
  return createPublicKey(readFileSync(join(writHome, 'keys', PUBLIC_KEY_FILE), 'utf8'));
}

function deviceKey(privateKey: KeyObject): DeviceKey {
  const publicKey = createPublicKey(privateKey);
  const signer = ed25519Signer(privateKey);
  return {
    keyId: signer.keyId,
    deviceId: `dev_${signer.keyId.slice('sha256:'.length, 'sha256:'.length + 16)}`,
    privateKey,
    publicKey,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }) as string,
    signer,
  };
}

// The mode is checked on the open descriptor, so the file checked is the file read.
function readPrivateKey(path: string): KeyObject | undefined {
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
        `refusing device key ${path}: mode ${mode.toString(8).padStart(4, '0')} lets others read it; ` +
          `it must be 0600 (chmod 600 ${path}, or remove it to make a new device key)`,
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
function createPrivateKeyFile(path: string): KeyObject {
  const { privateKey } = generateKeyPairSync('ed25519');
  const temporaryPath = `${path}.${process.pid}.tmp`;
  writeNewFile(temporaryPath, privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, 0o600);
  try {
    linkSync(temporaryPath, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return readPrivateKey(path)!;
  } finally {
    unlinkSync(temporaryPath);
  }
  syncDirectory(dirname(path)); // the link itself must survive a power cut, or the device gets a new identity
  return privateKey;
}

function publishPublicKey(path: string, pem: string): void {
  try {
    writeNewFile(path, pem, 0o644);
    return;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  if (readFileSync(path, 'utf8') !== pem) throw new Error(`${path} is not the public half of the device key beside it`);
}

// O_CREAT | O_EXCL with the mode given at creation: the file is never, even briefly, more open than `mode`.
function writeNewFile(path: string, text: string, mode: number): void {
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
