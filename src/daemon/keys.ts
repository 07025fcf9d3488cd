// The device's Ed25519 key: made once, kept in $WRIT_HOME/keys, readable by its owner only.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadOrCreatePrivateKey, publishPublicKey } from '../home/key-file.js';
import { ed25519Signer, type Signer } from '../core/dsse.js';
import { deviceIdFor } from '../core/certificate.js';

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
  const key = deviceKey(loadOrCreatePrivateKey(join(keysDir, PRIVATE_KEY_FILE), 'device key'));
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
    deviceId: deviceIdFor(signer.keyId),
    privateKey,
    publicKey,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }) as string,
    signer,
  };
}
