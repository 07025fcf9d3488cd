// The organisation's identity on this server: its log origin and the Ed25519 key that signs checkpoints,
// device certificates, policy bundles and control state. Replicas must share the key file.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ed25519Signer, type Signer } from '../core/dsse.js';
import { loadOrCreatePrivateKey } from '../home/key-file.js';
import { signLogCheckpoint, type TreeHead } from '../ledger/log-checkpoint.js';
import { ed25519NoteSigner, verifierKeyFor } from '../ledger/note.js';

export interface Org {
  origin: string;
  publicKey: KeyObject;
  publicKeyPem: string;
  /** DSSE signer for certificates, policy bundles and control state. */
  signer: Signer;
  /** The C2SP note verifier key (`origin+keyid+key`) that outsiders pin. */
  verifierKey: string;
  signCheckpoint(head: TreeHead): string;
}

/** Loads `dir`/org.json and `dir`/keys/org.key, creating them on first start with `origin`. */
export function loadOrCreateOrg(dir: string, origin?: string): Org {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const configPath = join(dir, 'org.json');
  if (!existsSync(configPath)) {
    const chosen = origin ?? `writ.local/${hostname()}`;
    writeFileSync(configPath, JSON.stringify({ origin: validOrigin(chosen) }, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
  }
  const config = JSON.parse(readFileSync(configPath, 'utf8')) as { origin: string };
  if (origin && origin !== config.origin) {
    throw new Error(`this server's log origin is ${config.origin}; a log cannot change its origin (asked for ${origin})`);
  }
  return orgFromKey(validOrigin(config.origin), loadOrCreatePrivateKey(join(dir, 'keys', 'org.key'), 'org key'));
}

export function orgFromKey(origin: string, privateKey: KeyObject): Org {
  const publicKey = createPublicKey(privateKey);
  const noteSigner = ed25519NoteSigner(origin, privateKey);
  return {
    origin,
    publicKey,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }) as string,
    signer: ed25519Signer(privateKey),
    verifierKey: verifierKeyFor(origin, publicKey),
    signCheckpoint: (head) => signLogCheckpoint(head, noteSigner),
  };
}

// C2SP: key names are schemaless URLs without whitespace or '+'.
function validOrigin(origin: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._~:/-]*$/.test(origin) || origin.length > 200) {
    throw new Error(`log origin ${JSON.stringify(origin)} must be a schemaless URL such as writ.example.com/acme`);
  }
  return origin;
}
