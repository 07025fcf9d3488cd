// Evidence bundles (`writ-evidence/v1`): a slice of the org log that anyone can check offline with nothing
// but the org's public key. JSON Lines, so a bundle of a million events streams through in constant memory:
// line 1 is the header (the signed checkpoint, the certified devices, the people, the policy bundles), then
// one line per event, in log index order, with its inclusion proof unless the bundle holds the whole log.
//
// Everything in a bundle is untrusted input: only what the org key signed (checkpoint, certificates, policy
// bundles) and what the device keys signed (events) is believed, and the header's own claims (revocations,
// people, the filter) can only make a verdict stricter.
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { CertificateError, certifiedPublicKey, verifyDeviceCertificate } from '../core/certificate.js';
import { canonicalBytes } from '../core/canonical-json.js';
import { sha256Hex } from '../core/digest.js';
import { keyIdFor, pae, verifyEnvelope, type Envelope } from '../core/dsse.js';
import { EVENT_PAYLOAD_TYPE } from '../core/event.js';
import { POLICY_BUNDLE_PAYLOAD_TYPE } from '../core/policy-bundle.js';
import { CheckpointError, openLogCheckpoint, type TreeHead } from './log-checkpoint.js';
import { CompactRange, leafHash, verifyInclusion } from './merkle.js';
import { parseVerifierKey, type NoteVerifier } from './note.js';
import { runRecordLinks } from '../runs/record.js';

export const BUNDLE_FORMAT = 'writ-evidence/v1';

/** How many problems and warnings a verdict lists; the rest are counted. */
export const MAX_LISTED = 100;

/** The selection a bundle was cut with; empty for a complete bundle. Times are RFC 3339 (since ≤ time < until). */
export interface BundleFilter {
  since?: string;
  until?: string;
  person?: string;
  device?: string;
  session?: string;
}

export interface BundleDevice {
  id: string;
  key_id: string;
  public_key_pem: string;
  certificate: Envelope; // signed by the org key
  hostname?: string;
  revoked_at?: string;
}

export interface BundlePerson {
  id: string;
  iss: string;
  sub: string;
  email?: string;
  name?: string;
  revoked_at?: string;
}

export interface BundleHeader {
  format: typeof BUNDLE_FORMAT;
  origin: string;
  org_key: string; // C2SP note verifier key: `<origin>+<hex key id>+<base64(0x01 || public key)>`
  org_public_key: string; // PEM of the same key, for DSSE (certificates, policy bundles)
  checkpoint: string; // signed tlog-checkpoint note text
  created_at: string;
  filter: BundleFilter;
  complete: boolean; // the events are exactly leaves [0, size) of the checkpoint
  devices: BundleDevice[];
  people: BundlePerson[];
  policy_bundles: Envelope[];
  /** Only in a bundle cut for one session: its run record (src/runs). Derived, so untrusted: each link must name an event of the bundle. */
  run_record?: unknown;
}

export interface BundleEvent {
  index: number;
  envelope: Envelope;
  proof?: string[]; // base64 hashes; inclusion proof against the header's checkpoint
}

export interface BundleVerdict {
  ok: boolean;
  origin?: string;
  complete: boolean;
  filter?: BundleFilter; // as the header states it
  /** False when no key was pinned and the bundle's own org key was trusted. */
  orgKeyPinned: boolean;
  events: number;
  devices: number; // devices with events in the bundle
  people: number; // people with events in the bundle
  size: number; // the checkpoint's tree size
  root: string; // the checkpoint's root hash, base64 as in the note
  problems: string[]; // the first MAX_LISTED, then one line counting the rest
  warnings: string[];
  problemCount: number; // all problems, listed or not
}

export interface BundleVerifierOptions {
  /** The org's note verifier key, pinned out of band; without it the bundle's own key is trusted (and the verdict says so). */
  orgKey?: string;
  /**
   * Checks one event's Ed25519 signature and calls `answer`, at once or later (verifyBundleLines checks them
   * on the thread pool), but before finish() is called. By default: node:crypto, inline.
   */
  checkSignature?: SignatureCheck;
}

export type SignatureCheck = (message: Uint8Array, publicKey: KeyObject, signature: Uint8Array, answer: (valid: boolean) => void) => void;

const checkSignatureInline: SignatureCheck = (message, publicKey, signature, answer) => answer(verify(null, message, publicKey, signature));

export interface BundleVerifier {
  /** Checks the header line; must come first. */
  header(line: string): void;
  /** Checks one event line; events must come in log index order. */
  event(line: string): void;
  /** The verdict on everything seen; checks what needs all events (completeness, the root). */
  finish(): BundleVerdict;
}

/** The header as its line (ending in a newline). */
export function bundleHeaderLine(header: Omit<BundleHeader, 'format'>): string {
  return `${JSON.stringify({ format: BUNDLE_FORMAT, ...header })}\n`;
}

/**
 * One event as its line (ending in a newline). The envelope may be given as the log entry itself (its canonical
 * JSON text), which is then written as is.
 */
export function bundleEventLine(event: { index: number; envelope: Envelope | string; proof?: readonly Uint8Array[] }): string {
  const envelope = typeof event.envelope === 'string' ? event.envelope : JSON.stringify(event.envelope);
  if (envelope.includes('\n')) throw new Error('an envelope in a bundle must be single-line JSON');
  const proof = event.proof ? `,"proof":${JSON.stringify(event.proof.map((hash) => Buffer.from(hash).toString('base64')))}` : '';
  return `{"index":${event.index},"envelope":${envelope}${proof}}\n`;
}

/** What the verifier keeps per device: its certified key, and the chain position of its last event. */
interface DeviceState {
  id: string;
  keyId: string;
  publicKey: KeyObject | undefined; // undefined when the certificate failed
  personId: string | undefined;
  revokedAt: number; // ms, Infinity when not revoked
  personRevokedAt: number;
  lastSeq: number; // 0 before its first event in the bundle
  lastHash: string;
  events: number;
}

/** A streaming verifier: feed it the header line, then each event line, then ask for the verdict. */
export function createBundleVerifier(options: BundleVerifierOptions = {}): BundleVerifier {
  const problems = new Findings();
  const warnings = new Findings();
  const devices = new Map<string, DeviceState>();
  const range = new CompactRange();
  let head: TreeHead | undefined; // undefined until a checkpoint verified
  let header: BundleHeader | undefined;
  let headerSeen = false;
  let events = 0;
  let lastIndex = -1;
  let filter: EventFilter | undefined;
  // device:seq → hash of the bundle's events, kept only when a run record's links are to be checked.
  const linkable = new Map<string, string>();

  return {
    header(line) {
      if (headerSeen) return problems.add('a second header line');
      headerSeen = true;
      const parsed = parseJson(line);
      if (!isRecord(parsed)) return problems.add('header is not a JSON object');
      if (parsed.format !== BUNDLE_FORMAT) return problems.add(`not a ${BUNDLE_FORMAT} bundle (format ${JSON.stringify(parsed.format)})`);
      const shape = headerShapeProblem(parsed);
      if (shape !== undefined) return problems.add(`header is not well formed: ${shape}`);
      header = parsed as unknown as BundleHeader;
      const org = checkOrgKey(header, options.orgKey, problems, warnings);
      if (org === undefined) return;
      head = checkCheckpoint(header, org.verifier, problems);
      checkDevices(header, org.publicKey, devices, problems, warnings);
      checkPolicyBundles(header, org.publicKey, problems);
      filter = eventFilter(header.filter);
      if (header.complete && filter !== undefined) warnings.add('a complete bundle names a filter; the filter is ignored');
    },

    event(line) {
      if (!headerSeen) {
        headerSeen = true;
        problems.add('the first line is not a header');
      }
      const parsed = parseJson(line);
      const shape = eventShapeProblem(parsed);
      if (shape !== undefined) return problems.add(`event line ${events + 2}: ${shape}`);
      const { index, envelope, proof } = parsed as BundleEvent;
      events++;
      if (index <= lastIndex) problems.add(`event ${index} follows event ${lastIndex}: events out of log order`);
      else if (header?.complete && index !== lastIndex + 1) problems.add(`leaf ${lastIndex + 1} missing: event ${lastIndex} is followed by event ${index}`);
      lastIndex = Math.max(lastIndex, index);

      const leaf = leafHash(envelopeEntry(envelope));
      if (header?.complete) range.push(leaf);
      else if (head !== undefined) checkInclusion(index, leaf, proof, head, problems);

      checkEvent(index, envelope, { header, devices, filter, problems, warnings, checkSignature: options.checkSignature ?? checkSignatureInline });
      if (header?.run_record !== undefined) {
        const payload = Buffer.from(envelope.payload, 'base64');
        const body = parseJson(payload.toString('utf8'));
        if (isBodyFields(body)) linkable.set(`${body.device.id}:${body.seq}`, sha256Hex(payload));
      }
    },

    finish() {
      if (!headerSeen) problems.add('the bundle is empty');
      if (header?.complete && head !== undefined) {
        if (range.size !== head.size) problems.add(`complete bundle has ${range.size} events for size ${head.size}`);
        else if (!range.root().equals(head.root)) {
          problems.add(`the events hash to root ${range.root().toString('base64')}, not to the checkpoint's ${head.root.toString('base64')} (an event changed, or the checkpoint is of another tree)`);
        }
      }
      // Reviews signed by the org ('org') are not device events; every other link must be one of the bundle's.
      for (const link of header?.run_record === undefined ? [] : runRecordLinks(header.run_record)) {
        if (link.device !== 'org' && linkable.get(`${link.device}:${link.seq}`) !== link.hash) problems.add(`the run record links ${link.device} seq ${link.seq} (${link.hash}), which is not an event of this bundle`);
      }
      const seen = [...devices.values()].filter((device) => device.events > 0);
      return {
        ok: problems.count === 0,
        ...(header ? { origin: header.origin } : {}),
        complete: header?.complete ?? false,
        ...(header ? { filter: header.filter } : {}),
        orgKeyPinned: options.orgKey !== undefined,
        events,
        devices: seen.length,
        people: new Set(seen.map((device) => device.personId ?? device.id)).size,
        size: head?.size ?? 0,
        root: head?.root.toString('base64') ?? '',
        problems: problems.list(),
        warnings: warnings.list(),
        problemCount: problems.count,
      };
    },
  };
}

/**
 * Verifies a bundle from its lines (without their newlines; blank lines are skipped), checking event signatures
 * on the thread pool, `concurrency` at a time, while the next lines are read and checked.
 */
export async function verifyBundleLines(
  lines: AsyncIterable<string> | Iterable<string>,
  { orgKey, concurrency = 64 }: { orgKey?: string; concurrency?: number } = {},
): Promise<BundleVerdict> {
  let inFlight = 0;
  let wake: (() => void) | undefined;
  const settled = () => new Promise<void>((resolve) => (wake = resolve));
  const checkSignature: SignatureCheck = (message, publicKey, signature, answer) => {
    inFlight++;
    verify(null, message, publicKey, signature, (error, valid) => {
      inFlight--;
      answer(error === null && valid);
      const resume = wake;
      wake = undefined;
      resume?.();
    });
  };
  const verifier = createBundleVerifier({ orgKey, checkSignature });
  let first = true;
  for await (const line of lines) {
    if (line.trim() === '') continue;
    if (first) {
      verifier.header(line);
      first = false;
      continue;
    }
    verifier.event(line);
    while (inFlight >= concurrency) await settled();
  }
  while (inFlight > 0) await settled();
  return verifier.finish();
}

/**
 * Problems or warnings: the first MAX_LISTED kept, the rest counted. A finding can take its place in the
 * order before it is known (`reserve`), so a signature checked on another thread is listed where it belongs.
 */
class Findings {
  #listed: { order: number; message: string }[] = [];
  #next = 0;
  count = 0;

  add(message: string, order = this.#next++): void {
    this.count++;
    this.#listed.push({ order, message });
    if (this.#listed.length > 2 * MAX_LISTED) this.#trim();
  }

  reserve(): number {
    return this.#next++;
  }

  list(): string[] {
    this.#trim();
    const more = this.count - this.#listed.length;
    const messages = this.#listed.map((finding) => finding.message);
    return more > 0 ? [...messages, `… and ${more} more`] : messages;
  }

  #trim(): void {
    this.#listed = this.#listed.sort((a, b) => a.order - b.order).slice(0, MAX_LISTED);
  }
}

interface OrgKey {
  verifier: NoteVerifier;
  publicKey: KeyObject;
}

// The org key is the root of trust: pinned by the caller, or, failing that, the bundle's own (said so).
function checkOrgKey(header: BundleHeader, pinned: string | undefined, problems: Findings, warnings: Findings): OrgKey | undefined {
  const keyText = pinned ?? header.org_key;
  let org: OrgKey;
  try {
    org = { verifier: parseVerifierKey(keyText), publicKey: publicKeyOfVerifierKey(keyText) };
  } catch (error) {
    problems.add(`${pinned ? 'the pinned' : "the bundle's"} org key is not a note verifier key: ${(error as Error).message}`);
    return undefined;
  }
  if (pinned === undefined) {
    warnings.add('no org key pinned: the key in the bundle itself was trusted, so this only shows the bundle is self-consistent (pin the key with --org-key)');
  } else if (header.org_key !== pinned) {
    warnings.add(`the bundle names org key \`${header.org_key}\`; verified with the pinned key instead`);
  }
  if (org.verifier.name !== header.origin) problems.add(`the bundle's origin \`${header.origin}\` is not the org key's name \`${org.verifier.name}\``);
  try {
    if (!publicKeyFromPem(header.org_public_key).equals(org.publicKey)) problems.add('org_public_key is not the org key');
  } catch {
    problems.add('org_public_key is not a PEM public key');
  }
  return org;
}

function checkCheckpoint(header: BundleHeader, verifier: OrgKey['verifier'], problems: Findings): TreeHead | undefined {
  try {
    return openLogCheckpoint(header.checkpoint, verifier, header.origin);
  } catch (error) {
    const code = error instanceof CheckpointError ? error.code : undefined;
    const what = code === 'BAD_CHECKPOINT_SIGNATURE' ? 'checkpoint not signed by the org key' : code === 'WRONG_ORIGIN' ? 'checkpoint of another log' : 'checkpoint is not well formed';
    problems.add(`${what}: ${(error as Error).message}`);
    return undefined;
  }
}

function checkDevices(header: BundleHeader, orgPublicKey: KeyObject, devices: Map<string, DeviceState>, problems: Findings, warnings: Findings): void {
  const people = new Map<string, BundlePerson>();
  for (const person of header.people) people.set(person.id, person);
  for (const device of header.devices) {
    if (devices.has(device.id)) {
      problems.add(`device ${device.id} is listed twice`);
      continue;
    }
    const state: DeviceState = {
      id: device.id,
      keyId: device.key_id,
      publicKey: undefined,
      personId: undefined,
      revokedAt: timeOf(device.revoked_at),
      personRevokedAt: Infinity,
      lastSeq: 0,
      lastHash: '',
      events: 0,
    };
    devices.set(device.id, state);
    let certificate;
    try {
      certificate = verifyDeviceCertificate(device.certificate, orgPublicKey, header.origin);
    } catch (error) {
      const signature = error instanceof CertificateError && (error.code === 'NOT_SIGNED_BY_ORG' || error.code === 'BAD_SIGNATURE');
      problems.add(signature ? `certificate of ${device.id} not signed by the org key: ${(error as Error).message}` : `certificate of ${device.id}: ${(error as Error).message}`);
      continue;
    }
    if (certificate.device_id !== device.id) {
      problems.add(`certificate of ${device.id} is for device ${certificate.device_id}`);
      continue;
    }
    const publicKey = certifiedPublicKey(certificate);
    if (device.key_id !== certificate.key_id) problems.add(`device ${device.id} lists key ${device.key_id} but is certified for ${certificate.key_id}`);
    try {
      if (!publicKeyFromPem(device.public_key_pem).equals(publicKey)) problems.add(`device ${device.id}: public_key_pem is not its certified key`);
    } catch {
      problems.add(`device ${device.id}: public_key_pem is not a PEM public key`);
    }
    state.keyId = certificate.key_id;
    state.publicKey = publicKey;
    state.personId = certificate.person.id;
    const person = people.get(certificate.person.id);
    if (person === undefined) warnings.add(`device ${device.id} is certified for ${certificate.person.id}, who is not listed in the bundle`);
    else state.personRevokedAt = timeOf(person.revoked_at);
  }
}

function checkPolicyBundles(header: BundleHeader, orgPublicKey: KeyObject, problems: Findings): void {
  const keys = new Map([[keyIdFor(orgPublicKey), orgPublicKey]]);
  header.policy_bundles.forEach((envelope, position) => {
    const name = `policy bundle ${position + 1}`;
    if (envelope.payloadType !== POLICY_BUNDLE_PAYLOAD_TYPE) return problems.add(`${name} has payload type \`${envelope.payloadType}\``);
    const verdict = verifyEnvelope(envelope, keys);
    if (!verdict.ok) problems.add(`${name} not signed by the org key: ${verdict.problem}`);
  });
}

function checkInclusion(index: number, leaf: Buffer, proof: string[] | undefined, head: TreeHead, problems: Findings): void {
  if (proof === undefined) return problems.add(`event ${index} has no inclusion proof (and the bundle is not complete)`);
  if (index >= head.size) return problems.add(`leaf ${index} is beyond checkpoint ${head.size}`);
  let included = false;
  try {
    included = verifyInclusion(index, head.size, leaf, proof.map((hash) => Buffer.from(hash, 'base64')), head.root);
  } catch {
    included = false;
  }
  if (!included) problems.add(`leaf ${index} not included in checkpoint ${head.size}`);
}

interface BodyFields {
  seq: number;
  prev: string;
  time: string;
  device: { id: string; key_id: string };
  session_id?: string;
}

interface EventContext {
  header: BundleHeader | undefined;
  devices: Map<string, DeviceState>;
  filter: EventFilter | undefined;
  problems: Findings;
  warnings: Findings;
  checkSignature: SignatureCheck;
}

// One event: payload, device, key, signature, chain link, revocation, filter.
function checkEvent(index: number, envelope: Envelope, { header, devices, filter, problems, warnings, checkSignature }: EventContext): void {
  if (envelope.payloadType !== EVENT_PAYLOAD_TYPE) return problems.add(`event ${index}: payload type is \`${envelope.payloadType}\`, not an event`);
  const payload = Buffer.from(envelope.payload, 'base64');
  const body = parseJson(payload.toString('utf8'));
  if (!isBodyFields(body)) return problems.add(`event ${index}: payload is not a well-formed event`);
  const label = `event ${index} (device ${body.device.id}, seq ${body.seq})`;
  const device = devices.get(body.device.id);
  if (device === undefined) return problems.add(`${label}: device has no certificate in the bundle`);
  device.events++;
  if (device.publicKey === undefined) problems.add(`${label}: device is not certified (its certificate failed)`);
  else if (body.device.key_id !== device.keyId) problems.add(`${label}: names key ${body.device.key_id}, but the device is certified for ${device.keyId}`);
  else {
    const signature = envelope.signatures.find((candidate) => candidate.keyid === device.keyId);
    if (signature === undefined) problems.add(`${label}: not signed by the device key`);
    else {
      const order = problems.reserve();
      checkSignature(pae(envelope.payloadType, payload), device.publicKey, Buffer.from(signature.sig, 'base64'), (valid) => {
        if (!valid) problems.add(`${label}: signature does not verify`, order);
      });
    }
  }
  // The hash of the signed bytes: for the canonical payloads devices sign, this is eventHash(body).
  const hash = sha256Hex(payload);
  checkChain(body, hash, device, header?.complete ?? false, problems, warnings);

  const time = Date.parse(body.time);
  if (time >= device.revokedAt) problems.add(`${label}: device ${device.id} was revoked before the event's time ${body.time}`);
  if (time >= device.personRevokedAt) problems.add(`${label}: person ${device.personId} was revoked before the event's time ${body.time}`);
  if (filter !== undefined && !header?.complete) {
    const outside = filter(body, time, device.personId);
    if (outside !== undefined) warnings.add(`${label} is outside the bundle's filter (${outside})`);
  }
}

// Per device, events come in seq order; consecutive ones must link. A gap is evidence missing from a
// complete bundle, and expected in a filtered one.
function checkChain(body: BodyFields, hash: string, device: DeviceState, complete: boolean, problems: Findings, warnings: Findings): void {
  const first = device.lastSeq === 0;
  if (!first && body.seq <= device.lastSeq) {
    problems.add(`device ${device.id} seq ${body.seq} follows seq ${device.lastSeq}: out of order or repeated`);
    return;
  }
  if (body.seq === device.lastSeq + 1) {
    if (body.prev !== device.lastHash) {
      problems.add(
        body.seq === 1
          ? `device ${device.id} seq 1 links to a predecessor`
          : `device ${device.id} seq ${body.seq} does not link to seq ${device.lastSeq} (event changed, replaced or reordered)`,
      );
    }
  } else if (!first || complete) {
    const missing = body.seq - device.lastSeq - 1;
    const message = first
      ? `device ${device.id} starts at seq ${body.seq}: ${missing} event${missing === 1 ? '' : 's'} missing`
      : `device ${device.id} seq ${body.seq} follows seq ${device.lastSeq}: ${missing} event${missing === 1 ? '' : 's'} missing`;
    if (complete) problems.add(message);
    else warnings.add(message);
  }
  device.lastSeq = body.seq;
  device.lastHash = hash;
}

type EventFilter = (body: BodyFields, time: number, personId: string | undefined) => string | undefined;

function eventFilter(filter: BundleFilter): EventFilter | undefined {
  const since = filter.since === undefined ? undefined : Date.parse(filter.since);
  const until = filter.until === undefined ? undefined : Date.parse(filter.until);
  if (since === undefined && until === undefined && filter.person === undefined && filter.device === undefined && filter.session === undefined) return undefined;
  return (body, time, personId) => {
    if (since !== undefined && !(time >= since)) return `before ${filter.since}`;
    if (until !== undefined && !(time < until)) return `not before ${filter.until}`;
    if (filter.device !== undefined && body.device.id !== filter.device) return `not device ${filter.device}`;
    if (filter.person !== undefined && personId !== filter.person) return `not person ${filter.person}`;
    if (filter.session !== undefined && body.session_id !== filter.session) return `not session ${filter.session}`;
    return undefined;
  };
}

// The log entry is the RFC 8785 form of the envelope. For the usual shape it is built directly: JCS
// serialises strings as JSON.stringify does and orders these keys as written here.
function envelopeEntry(envelope: Envelope): Uint8Array {
  if (Object.keys(envelope).length === 3 && envelope.signatures.every((signature) => Object.keys(signature).length === 2)) {
    const signatures = envelope.signatures.map((signature) => `{"keyid":${JSON.stringify(signature.keyid)},"sig":${JSON.stringify(signature.sig)}}`);
    return Buffer.from(`{"payload":${JSON.stringify(envelope.payload)},"payloadType":${JSON.stringify(envelope.payloadType)},"signatures":[${signatures.join(',')}]}`, 'utf8');
  }
  return canonicalBytes(envelope);
}

// The key material of a verifier key that parseVerifierKey accepted: base64(0x01 || 32-byte Ed25519 key).
function publicKeyOfVerifierKey(vkey: string): KeyObject {
  const second = vkey.indexOf('+', vkey.indexOf('+') + 1); // the name and the key id have no '+'; base64 may
  const raw = Buffer.from(vkey.slice(second + 1), 'base64').subarray(1);
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
}

function publicKeyFromPem(pem: string): KeyObject {
  return createPublicKey({ key: pem, format: 'pem' });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function timeOf(time: string | undefined): number {
  if (time === undefined) return Infinity;
  const parsed = Date.parse(time);
  return Number.isNaN(parsed) ? -Infinity : parsed; // an unreadable revocation time revokes everything
}

function headerShapeProblem(value: Record<string, unknown>): string | undefined {
  for (const field of ['origin', 'org_key', 'org_public_key', 'checkpoint', 'created_at'] as const) {
    if (typeof value[field] !== 'string') return `${field} is not a string`;
  }
  if (typeof value.complete !== 'boolean') return 'complete is not true or false';
  if (!isRecord(value.filter)) return 'filter is not an object';
  for (const [name, field] of Object.entries(value.filter)) if (typeof field !== 'string') return `filter.${name} is not a string`;
  if (!Array.isArray(value.devices)) return 'devices is not a list';
  for (const device of value.devices) {
    if (!isRecord(device) || typeof device.id !== 'string' || typeof device.key_id !== 'string' || typeof device.public_key_pem !== 'string') return 'a device lacks id, key_id or public_key_pem';
    if (!isEnvelope(device.certificate)) return `the certificate of ${device.id} is not a DSSE envelope`;
    if (device.revoked_at !== undefined && typeof device.revoked_at !== 'string') return `revoked_at of ${device.id} is not a string`;
  }
  if (!Array.isArray(value.people)) return 'people is not a list';
  for (const person of value.people) {
    if (!isRecord(person) || typeof person.id !== 'string') return 'a person has no id';
    if (person.revoked_at !== undefined && typeof person.revoked_at !== 'string') return `revoked_at of ${person.id} is not a string`;
  }
  if (!Array.isArray(value.policy_bundles) || !value.policy_bundles.every(isEnvelope)) return 'policy_bundles is not a list of DSSE envelopes';
  return undefined;
}

function eventShapeProblem(value: unknown): string | undefined {
  if (!isRecord(value)) return 'not a JSON object';
  if (!Number.isSafeInteger(value.index) || (value.index as number) < 0) return 'index is not a leaf index';
  if (!isEnvelope(value.envelope)) return `event ${value.index}: envelope is not a DSSE envelope`;
  if (value.proof !== undefined && !(Array.isArray(value.proof) && value.proof.every((hash) => typeof hash === 'string'))) return `event ${value.index}: proof is not a list of base64 hashes`;
  return undefined;
}

function isBodyFields(value: unknown): value is BodyFields {
  return (
    isRecord(value) &&
    Number.isSafeInteger(value.seq) &&
    (value.seq as number) >= 1 &&
    typeof value.prev === 'string' &&
    typeof value.time === 'string' &&
    isRecord(value.device) &&
    typeof value.device.id === 'string' &&
    typeof value.device.key_id === 'string' &&
    (value.session_id === undefined || typeof value.session_id === 'string')
  );
}

function isEnvelope(value: unknown): value is Envelope {
  return (
    isRecord(value) &&
    typeof value.payloadType === 'string' &&
    typeof value.payload === 'string' &&
    Array.isArray(value.signatures) &&
    value.signatures.every((signature) => isRecord(signature) && typeof signature.keyid === 'string' && typeof signature.sig === 'string')
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
