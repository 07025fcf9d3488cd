// DSSE v1 envelopes (github.com/secure-systems-lab/dsse, protocol.md), signed with Ed25519.
// The signature covers PAE(payloadType, payload), so neither can be swapped without breaking it.
import { createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { sha256Hex } from './digest.js';

export interface EnvelopeSignature {
  keyid: string;
  sig: string; // base64
}

export interface Envelope {
  payloadType: string;
  payload: string; // base64
  signatures: EnvelopeSignature[];
}

export interface Signer {
  keyId: string;
  sign(data: Uint8Array): Uint8Array;
}

export type EnvelopeVerdict =
  | { ok: true; keyId: string; payload: Uint8Array }
  | { ok: false; problem: string };

/** Pre-Authentication Encoding: "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, lengths in bytes. */
export function pae(payloadType: string, payload: Uint8Array): Uint8Array {
  const header = `DSSEv1 ${Buffer.byteLength(payloadType, 'utf8')} ${payloadType} ${payload.length} `;
  return Buffer.concat([Buffer.from(header, 'utf8'), payload]);
}

/** A key's id: "sha256:" + hex SHA-256 of its SubjectPublicKeyInfo DER. */
export function keyIdFor(publicKey: KeyObject): string {
  return `sha256:${sha256Hex(publicKey.export({ type: 'spki', format: 'der' }))}`;
}

export function ed25519Signer(privateKey: KeyObject): Signer {
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new TypeError(`expected an Ed25519 private key, got ${privateKey.asymmetricKeyType}`);
  }
  return {
    keyId: keyIdFor(createPublicKey(privateKey)),
    sign: (data) => sign(null, data, privateKey),
  };
}

export function signEnvelope(payloadType: string, payload: Uint8Array, signer: Signer): Envelope {
  const sig = Buffer.from(signer.sign(pae(payloadType, payload))).toString('base64');
  return {
    payloadType,
    payload: Buffer.from(payload).toString('base64'),
    signatures: [{ keyid: signer.keyId, sig }],
  };
}

/** Accepts the envelope if any signature whose keyid is in `publicKeys` verifies. */
export function verifyEnvelope(envelope: Envelope, publicKeys: ReadonlyMap<string, KeyObject>): EnvelopeVerdict {
  const payload = Buffer.from(envelope.payload, 'base64');
  const signed = pae(envelope.payloadType, payload);
  const known = envelope.signatures.filter((signature) => publicKeys.has(signature.keyid));
  if (known.length === 0) {
    const keyIds = envelope.signatures.map((signature) => signature.keyid).join(', ') || 'none';
    return { ok: false, problem: `not signed by a known key (keyid ${keyIds})` };
  }
  for (const signature of known) {
    if (verify(null, signed, publicKeys.get(signature.keyid)!, Buffer.from(signature.sig, 'base64'))) {
      return { ok: true, keyId: signature.keyid, payload };
    }
  }
  return { ok: false, problem: 'signature does not verify' };
}

/**
 * As verifyEnvelope, but the Ed25519 check runs on libuv's thread pool, so a batch of envelopes is verified
 * on every core while the caller's thread goes on parsing.
 */
export async function verifyEnvelopeAsync(envelope: Envelope, publicKeys: ReadonlyMap<string, KeyObject>): Promise<EnvelopeVerdict> {
  const payload = Buffer.from(envelope.payload, 'base64');
  const signed = pae(envelope.payloadType, payload);
  const known = envelope.signatures.filter((signature) => publicKeys.has(signature.keyid));
  if (known.length === 0) return verifyEnvelope(envelope, publicKeys);
  for (const signature of known) {
    const valid = await new Promise<boolean>((resolve, reject) =>
      verify(null, signed, publicKeys.get(signature.keyid)!, Buffer.from(signature.sig, 'base64'), (error, result) => (error ? reject(error) : resolve(result))),
    );
    if (valid) return { ok: true, keyId: signature.keyid, payload };
  }
  return { ok: false, problem: 'signature does not verify' };
}

/** Parses envelope JSON and checks its shape; throws on anything that is not a DSSE envelope. */
export function parseEnvelope(json: string): Envelope {
  const value: unknown = JSON.parse(json);
  if (!isEnvelope(value)) throw new Error('not a DSSE envelope');
  return value;
}

function isEnvelope(value: unknown): value is Envelope {
  if (typeof value !== 'object' || value === null) return false;
  const { payloadType, payload, signatures } = value as Record<string, unknown>;
  return (
    typeof payloadType === 'string' &&
    typeof payload === 'string' &&
    Array.isArray(signatures) &&
    signatures.every(
      (signature: unknown) =>
        typeof signature === 'object' &&
        signature !== null &&
        typeof (signature as EnvelopeSignature).keyid === 'string' &&
        typeof (signature as EnvelopeSignature).sig === 'string',
    )
  );
}
