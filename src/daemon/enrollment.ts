// Enrolment state: what the server answered when this device enrolled, kept in $WRIT_HOME/enrollment.json
// (0600). It pins the org's keys: everything the daemon later accepts from the server (checkpoints, control
// state, policy bundles) must verify against them, so a server that changes its key is noticed, not followed.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { verifyDeviceCertificate, type Assurance, type CertifiedPerson } from '../core/certificate.js';
import { parseEnvelope, type Envelope } from '../core/dsse.js';
import { writePrivateFileAtomic } from '../home/writ-home.js';
import { verifierKeyFor } from '../ledger/note.js';
import type { DeviceKey } from './keys.js';
import { ServerClient } from './server-client.js';

/** The org as the server presented it at enrolment. */
export interface EnrolledOrg {
  origin: string; // the log origin, also the note key name
  verifier_key: string; // C2SP note verifier key, `origin+keyid+base64`
  public_key_pem: string; // the same Ed25519 key, for DSSE envelopes
}

/** The answer of `POST /v1/enroll` (docs/protocol.md), plus where and when it was obtained. */
export interface Enrollment {
  server: string; // base URL, no trailing slash
  enrolled_at: string; // RFC 3339
  device_id: string;
  assurance: Assurance;
  person: CertifiedPerson;
  certificate: Envelope;
  org: EnrolledOrg;
  telemetry_token: string;
}

export class EnrollmentError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EnrollmentError';
  }
}

/** Reads the enrolment file; undefined when the device is not enrolled. Throws an EnrollmentError naming the file when it is malformed. */
export function readEnrollment(path: string): Enrollment | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new EnrollmentError(`cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new EnrollmentError(`${path} is not valid JSON (${(error as Error).message}); run \`writ enroll\` again`, { cause: error });
  }
  const problem = enrollmentProblem(value);
  if (problem) throw new EnrollmentError(`${path} is malformed: ${problem}; run \`writ enroll\` again`);
  return value as Enrollment;
}

/** Writes the enrolment file atomically, owner-only. */
export function writeEnrollment(path: string, enrollment: Enrollment): void {
  const problem = enrollmentProblem(enrollment);
  if (problem) throw new EnrollmentError(`refusing to write a malformed enrolment: ${problem}`);
  writePrivateFileAtomic(path, JSON.stringify(enrollment, null, 2) + '\n');
}

/** The org's public key, for control state, policy bundles and certificates. */
export function orgPublicKey(enrollment: Enrollment): KeyObject {
  return createPublicKey(enrollment.org.public_key_pem);
}

export interface EnrollRequest {
  server: string;
  key: DeviceKey;
  /** An OIDC ID token proving the person (assurance `oidc`). */
  idToken?: string;
  /** Without an ID token: an enroller or admin token vouching for the OS user (assurance `local-os-user`). */
  enrollToken?: string;
  hostname: string;
  os: string;
  osUser: string;
  now?: () => Date;
}

/**
 * Enrols the device key with the server (`POST /v1/enroll`, signed with that key) and checks the answer: the
 * certificate must be signed by the org key the server names, for this very key, and the verifier key must be
 * that same org key. Returns what to keep in enrollment.json; throws an EnrollmentError or a ServerError.
 */
export async function enrollDevice(request: EnrollRequest): Promise<Enrollment> {
  const client = new ServerClient(request.server, request.key);
  const body = {
    public_key_pem: request.key.publicKeyPem,
    ...(request.idToken && { id_token: request.idToken }),
    hostname: request.hostname,
    os: request.os,
    os_user: request.osUser,
  };
  const headers = !request.idToken && request.enrollToken ? { authorization: `Bearer ${request.enrollToken}` } : undefined;
  const answer = (await client.request<Record<string, unknown>>('POST', '/v1/enroll', body, { headers })).body;
  const enrollment = { server: client.baseUrl, enrolled_at: (request.now ?? (() => new Date()))().toISOString(), ...answer } as Enrollment;
  const problem = enrollmentProblem(enrollment);
  if (problem) throw new EnrollmentError(`the server's enrolment answer is malformed: ${problem}`);
  // The answer is trusted on first use: check at least that it is consistent with itself and with this device.
  const orgKey = orgPublicKey(enrollment);
  let certificate;
  try {
    certificate = verifyDeviceCertificate(parseEnvelope(JSON.stringify(enrollment.certificate)), orgKey, enrollment.org.origin);
  } catch (error) {
    throw new EnrollmentError(`the server's device certificate does not verify: ${(error as Error).message}`, { cause: error });
  }
  if (certificate.key_id !== request.key.keyId || certificate.device_id !== request.key.deviceId) {
    throw new EnrollmentError(`the certificate is for ${certificate.device_id} (${certificate.key_id}), not for this device ${request.key.deviceId}`);
  }
  if (certificate.assurance !== enrollment.assurance || certificate.person.id !== enrollment.person.id || enrollment.device_id !== certificate.device_id) {
    throw new EnrollmentError('the enrolment answer and the certificate name a different person, assurance or device');
  }
  return {
    server: enrollment.server,
    enrolled_at: enrollment.enrolled_at,
    device_id: enrollment.device_id,
    assurance: enrollment.assurance,
    person: certificate.person,
    certificate: enrollment.certificate,
    org: { origin: enrollment.org.origin, verifier_key: enrollment.org.verifier_key, public_key_pem: enrollment.org.public_key_pem },
    telemetry_token: enrollment.telemetry_token,
  };
}

/** Names the first field that is missing or of the wrong type. `value` is a file anyone with the account could edit. */
export function enrollmentProblem(value: unknown): string | undefined {
  if (!isRecord(value)) return 'it is not a JSON object';
  for (const field of ['server', 'enrolled_at', 'device_id', 'telemetry_token'] as const) {
    if (typeof value[field] !== 'string' || value[field] === '') return `\`${field}\` is not a non-empty string`;
  }
  if (!/^https?:\/\//.test(value.server as string)) return `\`server\` ${JSON.stringify(value.server)} is not an http(s) URL`;
  if (value.assurance !== 'oidc' && value.assurance !== 'local-os-user') return `\`assurance\` is ${JSON.stringify(value.assurance)}, expected oidc or local-os-user`;
  const person = value.person;
  if (!isRecord(person) || typeof person.id !== 'string' || typeof person.iss !== 'string' || typeof person.sub !== 'string') {
    return '`person` needs string `id`, `iss` and `sub`';
  }
  const certificate = value.certificate;
  if (!isRecord(certificate) || typeof certificate.payloadType !== 'string' || typeof certificate.payload !== 'string' || !Array.isArray(certificate.signatures)) {
    return '`certificate` is not a DSSE envelope';
  }
  const org = value.org;
  if (!isRecord(org)) return '`org` is not an object';
  for (const field of ['origin', 'verifier_key', 'public_key_pem'] as const) {
    if (typeof org[field] !== 'string' || org[field] === '') return `\`org.${field}\` is not a non-empty string`;
  }
  let key: KeyObject;
  try {
    key = createPublicKey(org.public_key_pem as string);
  } catch {
    return '`org.public_key_pem` is not a PEM public key';
  }
  if (key.asymmetricKeyType !== 'ed25519') return `\`org.public_key_pem\` is ${key.asymmetricKeyType}, not Ed25519`;
  // One org key signs checkpoints (as a note key) and envelopes: the two forms must name the same key.
  let expected: string;
  try {
    expected = verifierKeyFor(org.origin as string, key);
  } catch (error) {
    return `\`org.origin\` cannot name a log key: ${(error as Error).message}`;
  }
  if (org.verifier_key !== expected) return `\`org.verifier_key\` \`${org.verifier_key}\` is not the org key of \`org.public_key_pem\` (${expected})`;
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
