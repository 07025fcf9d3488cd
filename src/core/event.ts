// The journal's event model: what one hook event or decision looks like once it is evidence.
// A body is canonicalised (RFC 8785), hashed, chained to its predecessor and signed as a DSSE envelope.
import type { KeyObject } from 'node:crypto';
import { canonicalBytes } from './canonical-json.js';
import { sha256Hex } from './digest.js';
import { signEnvelope, verifyEnvelope, type Envelope, type Signer } from './dsse.js';

export const EVENT_PAYLOAD_TYPE = 'application/vnd.writ.event.v1+json';
export const CHECKPOINT_PAYLOAD_TYPE = 'application/vnd.writ.journal-checkpoint.v1+json';

/** What is canonicalised, signed and chained. */
export interface EventBody {
  v: 1;
  seq: number; // 1, 2, 3, … per device, without gaps
  prev: string; // eventHash of event seq-1; '' for seq 1
  time: string; // RFC 3339 with milliseconds, supplied by the caller
  device: { id: string; key_id: string };
  actor: { os_user: string; assurance: 'local-os-user' | string };
  agent: { name: string; version?: string };
  kind: string; // 'hook.PreToolUse', 'hook.PostToolUse', 'daemon.start', …
  session_id?: string;
  tool_use_id?: string;
  prompt_id?: string;
  data: Record<string, unknown>; // tool, actions, decision {decision, rules, reason, policy_hash, answer}, …
}

/** An event as its producer knows it; the journal fills in the chain position and the device. */
export type EventDraft = Omit<EventBody, 'v' | 'seq' | 'prev' | 'device'>;

export interface SealedEvent {
  body: EventBody;
  hash: string;
  envelope: Envelope;
}

/** A device's signed statement that its journal had `head` as the hash of event `seq`. */
export interface JournalCheckpoint {
  v: 1;
  device_id: string;
  seq: number;
  head: string;
  time: string;
}

export type Verdict<T> = ({ ok: true; keyId: string; hash: string } & T) | { ok: false; problem: string };

/** Hex SHA-256 of the body's canonical bytes: the value the next event's `prev` must hold. */
export function eventHash(body: EventBody): string {
  return sha256Hex(canonicalBytes(body));
}

/** Signs a body; canonicalises once, so the hash and the signature cover the same bytes. */
export function sealEvent(body: EventBody, signer: Signer): SealedEvent {
  if (body.device.key_id !== signer.keyId) {
    throw new Error(`event names key ${body.device.key_id} but the signer is ${signer.keyId}`);
  }
  const bytes = canonicalBytes(body);
  return { body, hash: sha256Hex(bytes), envelope: signEnvelope(EVENT_PAYLOAD_TYPE, bytes, signer) };
}

/** Reads the body out of an event envelope without checking its signature (verifyEvent does). */
export function openEvent(envelope: Envelope): EventBody {
  return decodePayload(envelope, EVENT_PAYLOAD_TYPE, isEventBody, 'event');
}

/** Checks the signature, then decodes; the hash is taken over the signed payload bytes. */
export function verifyEvent(envelope: Envelope, publicKeys: ReadonlyMap<string, KeyObject>): Verdict<{ body: EventBody }> {
  const verdict = verifyPayload(envelope, publicKeys, EVENT_PAYLOAD_TYPE, isEventBody, 'event');
  return verdict.ok ? { ok: true, keyId: verdict.keyId, hash: verdict.hash, body: verdict.value } : verdict;
}

export function signCheckpoint(checkpoint: JournalCheckpoint, signer: Signer): Envelope {
  return signEnvelope(CHECKPOINT_PAYLOAD_TYPE, canonicalBytes(checkpoint), signer);
}

export function verifyCheckpoint(
  envelope: Envelope,
  publicKeys: ReadonlyMap<string, KeyObject>,
): Verdict<{ checkpoint: JournalCheckpoint }> {
  const verdict = verifyPayload(envelope, publicKeys, CHECKPOINT_PAYLOAD_TYPE, isJournalCheckpoint, 'checkpoint');
  return verdict.ok ? { ok: true, keyId: verdict.keyId, hash: verdict.hash, checkpoint: verdict.value } : verdict;
}

function verifyPayload<T>(
  envelope: Envelope,
  publicKeys: ReadonlyMap<string, KeyObject>,
  payloadType: string,
  isValue: (value: unknown) => value is T,
  what: string,
): Verdict<{ value: T }> {
  const signature = verifyEnvelope(envelope, publicKeys);
  if (!signature.ok) return signature;
  try {
    const value = decodePayload(envelope, payloadType, isValue, what);
    return { ok: true, keyId: signature.keyId, hash: sha256Hex(signature.payload), value };
  } catch (error) {
    return { ok: false, problem: (error as Error).message };
  }
}

// Only the canonical encoding is accepted, so that the signed bytes and the hashed body are one thing.
function decodePayload<T>(envelope: Envelope, payloadType: string, isValue: (value: unknown) => value is T, what: string): T {
  if (envelope.payloadType !== payloadType) {
    throw new Error(`payload type is ${envelope.payloadType}, expected ${payloadType}`);
  }
  const bytes = Buffer.from(envelope.payload, 'base64');
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
    if (!bytes.equals(canonicalBytes(value))) throw new Error();
  } catch {
    throw new Error(`${what} payload is not canonical JSON`);
  }
  if (!isValue(value)) throw new Error(`${what} payload is not a well-formed ${what}`);
  return value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isOptionalString(value: unknown): boolean {
  return value === undefined || typeof value === 'string';
}

function isSeq(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 1;
}

function isEventBody(value: unknown): value is EventBody {
  return (
    isRecord(value) &&
    value.v === 1 &&
    isSeq(value.seq) &&
    typeof value.prev === 'string' &&
    typeof value.time === 'string' &&
    isRecord(value.device) &&
    typeof value.device.id === 'string' &&
    typeof value.device.key_id === 'string' &&
    isRecord(value.actor) &&
    typeof value.actor.os_user === 'string' &&
    typeof value.actor.assurance === 'string' &&
    isRecord(value.agent) &&
    typeof value.agent.name === 'string' &&
    isOptionalString(value.agent.version) &&
    typeof value.kind === 'string' &&
    isOptionalString(value.session_id) &&
    isOptionalString(value.tool_use_id) &&
    isOptionalString(value.prompt_id) &&
    isRecord(value.data)
  );
}

function isJournalCheckpoint(value: unknown): value is JournalCheckpoint {
  return (
    isRecord(value) &&
    value.v === 1 &&
    typeof value.device_id === 'string' &&
    isSeq(value.seq) &&
    typeof value.head === 'string' &&
    typeof value.time === 'string'
  );
}
