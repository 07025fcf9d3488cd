// Device certificates: the org's signed statement that a device key belongs to a person, and how sure the
// org is of that person (`oidc` after a sign-in, `local-os-user` without an IdP). A DSSE envelope signed with
// the org key, so an offline verifier needs nothing but the org's public key to tie an event to a person.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { canonicalBytes } from './canonical-json.js';
import { keyIdFor, signEnvelope, verifyEnvelope, type Envelope, type Signer } from './dsse.js';

export const DEVICE_CERTIFICATE_PAYLOAD_TYPE = 'application/vnd.writ.device-certificate.v1+json';

export type Assurance = 'oidc' | 'local-os-user';

/** The person a device is certified for, as the IdP (or the local OS, with iss `local`) named them. */
export interface CertifiedPerson {
  id: string; // 'per_…'
  iss: string;
  sub: string;
  email?: string;
}

/** The signed payload of a device certificate. */
export interface DeviceCertificate {
  v: 1;
  origin: string; // the org log's origin, which is also the org key's name
  device_id: string; // 'dev_' + the first 16 hex digits of the key id's hash
  key_id: string; // 'sha256:' + hex SHA-256 of the SPKI DER
  public_key: string; // base64 SPKI DER of the device's Ed25519 key
  person: CertifiedPerson;
  assurance: Assurance;
  issued_at: string; // RFC 3339
}

export type DeviceCertificateFields = Omit<DeviceCertificate, 'v'>;

export type CertificateErrorCode =
  | 'WRONG_PAYLOAD_TYPE'
  | 'NOT_SIGNED_BY_ORG'
  | 'BAD_SIGNATURE'
  | 'NOT_CANONICAL'
  | 'MALFORMED'
  | 'KEY_MISMATCH'
  | 'DEVICE_ID_MISMATCH'
  | 'ORIGIN_MISMATCH';

export class CertificateError extends Error {
  constructor(
    readonly code: CertificateErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'CertificateError';
  }
}

/** The device id a key id implies: 'dev_' + its first 16 hex digits (as the daemon names itself). */
export function deviceIdFor(keyId: string): string {
  return `dev_${keyId.slice('sha256:'.length, 'sha256:'.length + 16)}`;
}

/** Checks the fields, then signs them with the org key; throws a CertificateError on inconsistent fields. */
export function issueDeviceCertificate(fields: DeviceCertificateFields, orgSigner: Signer): Envelope {
  const certificate: DeviceCertificate = { v: 1, ...fields };
  checkCertificate(certificate);
  return signEnvelope(DEVICE_CERTIFICATE_PAYLOAD_TYPE, canonicalBytes(certificate), orgSigner);
}

/**
 * Verifies the org's signature and that the certificate is self-consistent (the key id is the hash of the
 * public key, the device id derives from it); throws a CertificateError saying what is wrong.
 */
export function verifyDeviceCertificate(envelope: Envelope, orgPublicKey: KeyObject, expectedOrigin?: string): DeviceCertificate {
  if (envelope.payloadType !== DEVICE_CERTIFICATE_PAYLOAD_TYPE) {
    throw new CertificateError('WRONG_PAYLOAD_TYPE', `payload type is \`${envelope.payloadType}\`, expected ${DEVICE_CERTIFICATE_PAYLOAD_TYPE}`);
  }
  const orgKeyId = keyIdFor(orgPublicKey);
  const verdict = verifyEnvelope(envelope, new Map([[orgKeyId, orgPublicKey]]));
  if (!verdict.ok) {
    const signedBy = envelope.signatures.map((signature) => signature.keyid).join(', ') || 'no key';
    throw verdict.problem === 'signature does not verify'
      ? new CertificateError('BAD_SIGNATURE', 'org signature does not verify (certificate changed?)')
      : new CertificateError('NOT_SIGNED_BY_ORG', `not signed by the org key ${orgKeyId} (signed by ${signedBy})`);
  }
  const bytes = Buffer.from(verdict.payload);
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
    if (!bytes.equals(canonicalBytes(value))) throw new Error();
  } catch {
    throw new CertificateError('NOT_CANONICAL', 'certificate payload is not canonical JSON');
  }
  checkCertificate(value);
  if (expectedOrigin !== undefined && value.origin !== expectedOrigin) {
    throw new CertificateError('ORIGIN_MISMATCH', `certificate is for origin \`${value.origin}\`, not \`${expectedOrigin}\``);
  }
  return value;
}

/** The device's public key as a KeyObject, from a verified certificate. */
export function certifiedPublicKey(certificate: DeviceCertificate): KeyObject {
  return createPublicKey({ key: Buffer.from(certificate.public_key, 'base64'), format: 'der', type: 'spki' });
}

function checkCertificate(value: unknown): asserts value is DeviceCertificate {
  const problem = shapeProblem(value);
  if (problem !== undefined) throw new CertificateError('MALFORMED', `certificate is not well formed: ${problem}`);
  const certificate = value as DeviceCertificate;
  let publicKey: KeyObject;
  try {
    publicKey = certifiedPublicKey(certificate);
  } catch {
    throw new CertificateError('MALFORMED', 'certificate is not well formed: public_key is not a base64 SPKI DER key');
  }
  if (publicKey.asymmetricKeyType !== 'ed25519') {
    throw new CertificateError('MALFORMED', `certificate is not well formed: public_key is ${publicKey.asymmetricKeyType}, not Ed25519`);
  }
  const keyId = keyIdFor(publicKey);
  if (certificate.key_id !== keyId) {
    throw new CertificateError('KEY_MISMATCH', `key id \`${certificate.key_id}\` does not match the public key (${keyId})`);
  }
  if (certificate.device_id !== deviceIdFor(keyId)) {
    throw new CertificateError('DEVICE_ID_MISMATCH', `device id \`${certificate.device_id}\` does not derive from the key (${deviceIdFor(keyId)})`);
  }
}

// Names the first field that is missing or of the wrong type; undefined when the shape is right.
function shapeProblem(value: unknown): string | undefined {
  if (!isRecord(value)) return 'payload is not an object';
  if (value.v !== 1) return `version is ${JSON.stringify(value.v)}, expected 1`;
  for (const field of ['origin', 'device_id', 'key_id', 'public_key', 'issued_at'] as const) {
    if (typeof value[field] !== 'string' || value[field] === '') return `${field} is not a non-empty string`;
  }
  if (value.assurance !== 'oidc' && value.assurance !== 'local-os-user') return `assurance is ${JSON.stringify(value.assurance)}, expected oidc or local-os-user`;
  if (Number.isNaN(Date.parse(value.issued_at as string))) return `issued_at \`${value.issued_at}\` is not an RFC 3339 time`;
  const person = value.person;
  if (!isRecord(person)) return 'person is not an object';
  for (const field of ['id', 'iss', 'sub'] as const) {
    if (typeof person[field] !== 'string' || person[field] === '') return `person.${field} is not a non-empty string`;
  }
  if (person.email !== undefined && typeof person.email !== 'string') return 'person.email is not a string';
  const extra = Object.keys(value).find((key) => !CERTIFICATE_FIELDS.has(key)) ?? Object.keys(person).find((key) => !PERSON_FIELDS.has(key));
  if (extra !== undefined) return `unknown field \`${extra}\``;
  return undefined;
}

const CERTIFICATE_FIELDS = new Set(['v', 'origin', 'device_id', 'key_id', 'public_key', 'person', 'assurance', 'issued_at']);
const PERSON_FIELDS = new Set(['id', 'iss', 'sub', 'email']);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
