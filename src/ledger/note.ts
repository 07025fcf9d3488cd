// C2SP signed notes (c2sp.org/signed-note) with Ed25519 keys (signature type 0x01), in the text formats of
// golang.org/x/mod/sumdb/note: `— <name> base64(keyID || sig)` lines and `<name>+<hex keyID>+<base64(0x01 || key)>` vkeys.
import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

export type NoteErrorCode = 'MALFORMED_NOTE' | 'UNVERIFIED_NOTE' | 'BAD_SIGNATURE' | 'AMBIGUOUS_KEY' | 'BAD_KEY';

/** Why a note, key or signer was rejected. */
export class NoteError extends Error {
  constructor(
    readonly code: NoteErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'NoteError';
  }
}

/** Signs note text as one key: `name` and `keyId` go in the signature line. */
export interface NoteSigner {
  readonly name: string;
  readonly keyId: number; // uint32
  sign(text: Uint8Array): Buffer;
}

/** Checks signatures of one key, found by the `name` and `keyId` of a signature line. */
export interface NoteVerifier {
  readonly name: string;
  readonly keyId: number; // uint32
  verify(text: Uint8Array, signature: Uint8Array): boolean;
}

/** One signature line: `base64` is the encoded keyID || signature exactly as it appeared. */
export interface NoteSignature {
  name: string;
  keyId: number;
  base64: string;
}

/** An opened note: its text (ending in a newline) and the signatures from known keys that verified. */
export interface Note {
  text: string;
  signatures: NoteSignature[];
  /** Signatures from keys not among the verifiers (for example witness cosignatures), unchecked. */
  unverifiedSignatures: NoteSignature[];
}

/** The most signature lines openNote reads; the spec asks for at least 16 (post-quantum ones are large). */
export const MAX_SIGNATURES = 100;

const ED25519 = 0x01;
const ED25519_KEY_SIZE = 32;
const SIGNATURE_PREFIX = '— '; // em dash U+2014, space

/** The key ID of an Ed25519 key: SHA-256(name || 0x0A || 0x01 || 32-byte public key)[:4] as a uint32. */
export function ed25519KeyId(name: string, rawPublicKey: Uint8Array): number {
  return keyIdOf(name, Buffer.concat([Buffer.from([ED25519]), rawPublicKey]));
}

/** A note signer for an Ed25519 private key under the key name `name`. */
export function ed25519NoteSigner(name: string, privateKey: KeyObject): NoteSigner {
  checkName(name);
  if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'ed25519') {
    throw new NoteError('BAD_KEY', `key for \`${name}\` is not an Ed25519 private key`);
  }
  const keyId = ed25519KeyId(name, rawEd25519(createPublicKey(privateKey)));
  return { name, keyId, sign: (text) => sign(null, text, privateKey) };
}

/** A note verifier for an Ed25519 public key under the key name `name`. */
export function ed25519NoteVerifier(name: string, publicKey: KeyObject): NoteVerifier {
  checkName(name);
  const key = publicKey.type === 'private' ? createPublicKey(publicKey) : publicKey;
  if (key.asymmetricKeyType !== 'ed25519') throw new NoteError('BAD_KEY', `key for \`${name}\` is not an Ed25519 key`);
  const keyId = ed25519KeyId(name, rawEd25519(key));
  return { name, keyId, verify: (text, signature) => signature.length === 64 && verify(null, text, key, signature) };
}

/** The verifier key string `<name>+<hex keyID>+<base64(0x01 || public key)>` that relying parties pin. */
export function verifierKeyFor(name: string, publicKey: KeyObject): string {
  const verifier = ed25519NoteVerifier(name, publicKey);
  const raw = rawEd25519(publicKey.type === 'private' ? createPublicKey(publicKey) : publicKey);
  return `${name}+${hex32(verifier.keyId)}+${Buffer.concat([Buffer.from([ED25519]), raw]).toString('base64')}`;
}

/** Parses a verifier key string; only Ed25519 (type 0x01) keys are supported. */
export function parseVerifierKey(vkey: string): NoteVerifier {
  // A vkey usually comes from configuration; still, report exactly which part is wrong.
  const first = vkey.indexOf('+');
  const second = first < 0 ? -1 : vkey.indexOf('+', first + 1);
  if (second < 0) throw new NoteError('BAD_KEY', `verifier key \`${vkey}\` is not \`<name>+<key id>+<key>\``);
  const name = vkey.slice(0, first);
  const idHex = vkey.slice(first + 1, second);
  const keyBase64 = vkey.slice(second + 1);
  if (!isValidName(name)) throw new NoteError('BAD_KEY', `verifier key name \`${name}\` is empty or has a space or plus`);
  if (!/^[0-9a-f]{8}$/.test(idHex)) throw new NoteError('BAD_KEY', `verifier key id \`${idHex}\` is not 8 lowercase hex digits`);
  const key = decodeBase64(keyBase64);
  if (key === undefined || key.length === 0) throw new NoteError('BAD_KEY', `verifier key \`${name}\` has invalid base64 key material`);
  if (key[0] !== ED25519) throw new NoteError('BAD_KEY', `verifier key \`${name}\` has unsupported signature type 0x${hex8(key[0])}`);
  if (key.length !== 1 + ED25519_KEY_SIZE) {
    throw new NoteError('BAD_KEY', `verifier key \`${name}\` has a ${key.length - 1}-byte Ed25519 key, not ${ED25519_KEY_SIZE}`);
  }
  if (keyIdOf(name, key) !== parseInt(idHex, 16)) {
    throw new NoteError('BAD_KEY', `verifier key \`${name}\` has key id ${idHex}, but its name and key give ${hex32(keyIdOf(name, key))}`);
  }
  const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: key.subarray(1).toString('base64url') }, format: 'jwk' });
  return ed25519NoteVerifier(name, publicKey);
}

/** Signs `text` (which must end in a newline) with every signer, in order, and returns the whole note. */
export function signNote(text: string, signers: readonly NoteSigner[]): string {
  checkText(text, 'note text');
  if (!text.endsWith('\n')) throw new NoteError('MALFORMED_NOTE', 'note text does not end with a newline');
  if (signers.length === 0) throw new NoteError('MALFORMED_NOTE', 'a note needs at least one signer');
  const bytes = Buffer.from(text, 'utf8');
  const lines = signers.map((signer) => {
    checkName(signer.name);
    if (!Number.isInteger(signer.keyId) || signer.keyId < 0 || signer.keyId > 0xffffffff) {
      throw new NoteError('BAD_KEY', `signer \`${signer.name}\` has key id ${signer.keyId}, not a uint32`);
    }
    const id = Buffer.alloc(4);
    id.writeUInt32BE(signer.keyId);
    return `${SIGNATURE_PREFIX}${signer.name} ${Buffer.concat([id, signer.sign(bytes)]).toString('base64')}\n`;
  });
  return `${text}\n${lines.join('')}`;
}

/**
 * Parses a signed note and checks the signatures of known keys. Throws unless at least one known key signed it
 * and every signature by a known key verifies; signatures by unknown keys are returned unchecked.
 */
export function openNote(note: string | Uint8Array, verifiers: readonly NoteVerifier[]): Note {
  // The note is untrusted input: every rule of the format is checked before any signature.
  const message = typeof note === 'string' ? note : decodeUtf8(note);
  checkText(message, 'note');
  const split = message.lastIndexOf('\n\n');
  if (split < 0) throw new NoteError('MALFORMED_NOTE', 'note has no blank line before its signatures');
  const text = message.slice(0, split + 1);
  const block = message.slice(split + 2);
  if (block === '') throw new NoteError('MALFORMED_NOTE', 'note has no signature lines');
  if (!block.endsWith('\n')) throw new NoteError('MALFORMED_NOTE', 'note does not end with a newline');
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > MAX_SIGNATURES) {
    throw new NoteError('MALFORMED_NOTE', `note has ${lines.length} signatures, more than the ${MAX_SIGNATURES} allowed`);
  }
  const textBytes = Buffer.from(text, 'utf8');
  const signatures: NoteSignature[] = [];
  const unverifiedSignatures: NoteSignature[] = [];
  const seen = new Set<string>();
  for (const [i, line] of lines.entries()) {
    const signature = parseSignatureLine(line, i + 1);
    const known = verifiers.filter((v) => v.name === signature.name && v.keyId === signature.keyId);
    const key = `${signature.name}+${hex32(signature.keyId)}`;
    if (known.length === 0) {
      if (!unverifiedSignatures.some((s) => s.name === signature.name && s.base64 === signature.base64)) {
        unverifiedSignatures.push(signature);
      }
      continue;
    }
    if (known.length > 1) throw new NoteError('AMBIGUOUS_KEY', `more than one verifier has key \`${key}\``);
    if (seen.has(key)) continue; // as in sumdb/note: a key's repeated lines after the first are ignored
    seen.add(key);
    if (!known[0].verify(textBytes, Buffer.from(signature.base64, 'base64').subarray(4))) {
      throw new NoteError('BAD_SIGNATURE', `invalid signature for key \`${key}\``);
    }
    signatures.push(signature);
  }
  if (signatures.length === 0) {
    const names = verifiers.map((v) => `\`${v.name}+${hex32(v.keyId)}\``).join(', ') || 'no keys';
    throw new NoteError('UNVERIFIED_NOTE', `note has no signature from a known key (known: ${names})`);
  }
  return { text, signatures, unverifiedSignatures };
}

function parseSignatureLine(line: string, n: number): NoteSignature {
  if (!line.startsWith(SIGNATURE_PREFIX)) {
    throw new NoteError('MALFORMED_NOTE', `signature line ${n} does not start with an em dash and a space`);
  }
  const rest = line.slice(SIGNATURE_PREFIX.length);
  const space = rest.indexOf(' ');
  if (space < 0) throw new NoteError('MALFORMED_NOTE', `signature line ${n} has no space between key name and signature`);
  const name = rest.slice(0, space);
  const base64 = rest.slice(space + 1);
  if (!isValidName(name)) throw new NoteError('MALFORMED_NOTE', `signature line ${n} has invalid key name \`${name}\``);
  const raw = decodeBase64(base64);
  if (raw === undefined) throw new NoteError('MALFORMED_NOTE', `signature line ${n} is not valid base64`);
  if (raw.length < 5) throw new NoteError('MALFORMED_NOTE', `signature line ${n} is shorter than a key id and a signature`);
  return { name, keyId: raw.readUInt32BE(0), base64 };
}

// Key names MUST be non-empty with no Unicode space and no plus. `\s` misses NEL (U+0085), which Go counts.
function isValidName(name: string): boolean {
  return name !== '' && !/[\s\u0085+]/u.test(name) && !/\p{Cs}/u.test(name);
}

function checkName(name: string): void {
  if (!isValidName(name)) throw new NoteError('BAD_KEY', `key name \`${name}\` is empty or has a space or plus`);
}

// Notes MUST be valid UTF-8 without ASCII control characters other than newline.
function checkText(text: string, what: string): void {
  if (/\p{Cs}/u.test(text)) throw new NoteError('MALFORMED_NOTE', `${what} is not valid UTF-8`);
  const control = /[\x00-\x09\x0b-\x1f]/.exec(text);
  if (control) {
    throw new NoteError('MALFORMED_NOTE', `${what} has control character U+00${hex8(control[0].charCodeAt(0)).toUpperCase()}`);
  }
}

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch (cause) {
    throw new NoteError('MALFORMED_NOTE', 'note is not valid UTF-8', { cause });
  }
}

/** Strict standard base64 (RFC 4648 §4, padded): undefined unless `text` is the canonical encoding of its bytes. */
export function decodeBase64(text: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : undefined;
}

function keyIdOf(name: string, typeAndKey: Uint8Array): number {
  return createHash('sha256').update(name).update(Buffer.from([0x0a])).update(typeAndKey).digest().readUInt32BE(0);
}

function rawEd25519(publicKey: KeyObject): Buffer {
  const jwk = publicKey.export({ format: 'jwk' });
  return Buffer.from(jwk.x as string, 'base64url');
}

const hex8 = (n: number) => n.toString(16).padStart(2, '0');
const hex32 = (n: number) => n.toString(16).padStart(8, '0');
