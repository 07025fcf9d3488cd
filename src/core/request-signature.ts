// Device-signed HTTP requests: the daemon proves each request with its Ed25519 key, so there is no bearer
// token to leak. The signature covers method, path with query, time, a nonce and the body's digest; the
// server refuses stale times and reused nonces, so a captured request cannot be replayed.
import { randomBytes, verify, type KeyObject } from 'node:crypto';
import { sha256Hex } from './digest.js';
import type { Signer } from './dsse.js';

export const SIGNATURE_HEADERS = {
  keyId: 'writ-key',
  time: 'writ-time',
  nonce: 'writ-nonce',
  signature: 'writ-signature',
} as const;

/** How far a request's time may be from the server's clock. */
export const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;

export interface SignedRequestParts {
  method: string;
  path: string; // path and query, as sent
  body: Uint8Array;
}

export function signingString(parts: SignedRequestParts, time: string, nonce: string): string {
  return ['writ-request-v1', parts.method.toUpperCase(), parts.path, time, nonce, sha256Hex(parts.body)].join('\n');
}

/** The headers that sign one request. */
export function signRequest(parts: SignedRequestParts, signer: Signer, now = Date.now()): Record<string, string> {
  const time = String(now);
  const nonce = randomBytes(16).toString('base64url');
  const signature = Buffer.from(signer.sign(Buffer.from(signingString(parts, time, nonce)))).toString('base64');
  return {
    [SIGNATURE_HEADERS.keyId]: signer.keyId,
    [SIGNATURE_HEADERS.time]: time,
    [SIGNATURE_HEADERS.nonce]: nonce,
    [SIGNATURE_HEADERS.signature]: signature,
  };
}

export interface RequestSignature {
  keyId: string;
  time: number;
  nonce: string;
  signature: Buffer;
}

/** Reads the signature headers; throws a message fit for a 401 when one is missing or malformed. */
export function readRequestSignature(headers: Record<string, string | string[] | undefined>): RequestSignature {
  const header = (name: string): string => {
    const value = headers[name];
    if (typeof value !== 'string' || value === '') throw new Error(`missing ${name} header`);
    return value;
  };
  const keyId = header(SIGNATURE_HEADERS.keyId);
  const timeText = header(SIGNATURE_HEADERS.time);
  const nonce = header(SIGNATURE_HEADERS.nonce);
  const signatureText = header(SIGNATURE_HEADERS.signature);
  if (!/^\d{1,16}$/.test(timeText)) throw new Error(`${SIGNATURE_HEADERS.time} must be milliseconds since the epoch`);
  if (!/^[A-Za-z0-9_-]{16,64}$/.test(nonce)) throw new Error(`${SIGNATURE_HEADERS.nonce} must be 16 to 64 base64url characters`);
  const signature = Buffer.from(signatureText, 'base64');
  if (signature.length !== 64) throw new Error(`${SIGNATURE_HEADERS.signature} must be a base64 Ed25519 signature`);
  return { keyId, time: Number(timeText), nonce, signature };
}

/** Checks time and signature (the nonce's freshness is the caller's: it needs shared state). */
export function checkRequestSignature(
  parts: SignedRequestParts,
  signature: RequestSignature,
  publicKey: KeyObject,
  now = Date.now(),
): { ok: true } | { ok: false; problem: string } {
  if (Math.abs(now - signature.time) > MAX_CLOCK_SKEW_MS) {
    return { ok: false, problem: 'request time is more than 5 minutes from the server clock' };
  }
  const signed = Buffer.from(signingString(parts, String(signature.time), signature.nonce));
  if (!verify(null, signed, publicKey, signature.signature)) {
    return { ok: false, problem: 'request signature does not verify' };
  }
  return { ok: true };
}
