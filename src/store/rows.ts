// Rows → records, shared by both adapters: the two schemas use the same column names, better-sqlite3 and pg both
// return BLOB/bytea as Buffer, and the PostgreSQL pool parses BIGINT to Number, so one mapping serves both.
import type {
  AdminToken,
  AgentSummary,
  Checkpoint,
  Device,
  IngestEvent,
  KillSwitch,
  Person,
  PolicyBundleRecord,
  Role,
  SessionSummary,
  StoredEvent,
  TelemetryRecord,
} from './store.js';

type Nullable = string | number | null;

/** A row as the drivers return it. */
export type Row = Record<string, unknown>;

// Optional fields are absent, not undefined, so records compare equal whichever adapter read them.
export function compact<T extends object>(record: T): T {
  for (const key of Object.keys(record) as (keyof T)[]) {
    if (record[key] === undefined || record[key] === null) delete record[key];
  }
  return record;
}

const text = (value: unknown): string | undefined => (value === null || value === undefined ? undefined : String(value));

export function toPerson(row: Row): Person {
  return compact({
    id: row.id as string,
    iss: row.iss as string,
    sub: row.sub as string,
    email: text(row.email),
    name: text(row.name),
    groups: JSON.parse(row.groups as string) as string[],
    createdAt: row.created_at as string,
    revokedAt: text(row.revoked_at),
  });
}

export function toDevice(row: Row): Device {
  return compact({
    id: row.id as string,
    keyId: row.key_id as string,
    publicKeyPem: row.public_key_pem as string,
    personId: row.person_id as string,
    assurance: row.assurance as string,
    hostname: text(row.hostname),
    os: text(row.os),
    certificate: row.certificate as string,
    enrolledAt: row.enrolled_at as string,
    revokedAt: text(row.revoked_at),
    headSeq: Number(row.head_seq),
    headHash: row.head_hash as string,
    lastSeenAt: text(row.last_seen_at),
  });
}

export function toStoredEvent(row: Row): StoredEvent {
  return compact({
    index: Number(row.idx),
    deviceId: row.device_id as string,
    personId: row.person_id as string,
    receivedAt: row.received_at as string,
    seq: Number(row.seq),
    prev: row.prev as string,
    hash: row.hash as string,
    envelope: row.envelope as string,
    time: row.time as string,
    kind: row.kind as string,
    sessionId: text(row.session_id),
    toolUseId: text(row.tool_use_id),
    promptId: text(row.prompt_id),
    agentName: row.agent_name as string,
    agentVersion: text(row.agent_version),
    decision: text(row.decision),
    rules: JSON.parse(row.rules as string) as string[],
    policyHash: text(row.policy_hash),
  });
}

export function toCheckpoint(row: Row): Checkpoint {
  return { size: Number(row.size), root: row.root as Buffer, note: row.note as string, createdAt: row.created_at as string };
}

export function toPolicyBundle(row: Row): PolicyBundleRecord {
  return {
    hash: row.hash as string,
    envelope: row.envelope as string,
    publishedBy: row.published_by as string,
    publishedAt: row.published_at as string,
  };
}

export function toKill(row: Row): KillSwitch {
  return compact({
    id: Number(row.id),
    target: row.target as string,
    reason: text(row.reason),
    createdBy: row.created_by as string,
    createdAt: row.created_at as string,
    liftedAt: text(row.lifted_at),
  });
}

export function toAdminToken(row: Row): AdminToken {
  return compact({
    id: row.id as string,
    name: row.name as string,
    role: row.role as Role,
    createdAt: row.created_at as string,
    revokedAt: text(row.revoked_at),
  });
}

export function toSession(row: Row): SessionSummary {
  return compact({
    sessionId: row.session_id as string,
    deviceId: row.device_id as string,
    personId: row.person_id as string,
    agentName: row.agent_name as string,
    agentVersion: text(row.agent_version),
    firstTime: row.first_time as string,
    lastTime: row.last_time as string,
    events: Number(row.events),
    denials: Number(row.denials),
  });
}

export function toAgent(row: Row): AgentSummary {
  return compact({
    deviceId: row.device_id as string,
    agentName: row.agent_name as string,
    agentVersion: text(row.agent_version),
    lastTime: row.last_time as string,
    events: Number(row.events),
  });
}

export function toTelemetry(row: Row): TelemetryRecord {
  return compact({
    signal: row.signal as TelemetryRecord['signal'],
    name: row.name as string,
    time: row.time as string,
    sessionId: text(row.session_id),
    promptId: text(row.prompt_id),
    toolUseId: text(row.tool_use_id),
    deviceId: text(row.device_id),
    attributes: JSON.parse(row.attributes as string) as Record<string, unknown>,
    value: row.value === null || row.value === undefined ? undefined : Number(row.value),
  });
}

/** The nullable column values of an event, in the order both schemas list them after idx, device_id, person_id. */
export function eventColumns(event: IngestEvent, timeMs: number): Nullable[] {
  return [
    event.seq,
    event.prev,
    event.hash,
    event.envelope,
    event.time,
    timeMs,
    event.kind,
    event.sessionId ?? null,
    event.toolUseId ?? null,
    event.promptId ?? null,
    event.agentName,
    event.agentVersion ?? null,
    event.decision ?? null,
    JSON.stringify(event.rules),
    event.policyHash ?? null,
  ];
}

/** Event columns after idx, device_id and person_id (the names match eventColumns). */
export const EVENT_COLUMNS = [
  'seq',
  'prev',
  'hash',
  'envelope',
  'time',
  'time_ms',
  'kind',
  'session_id',
  'tool_use_id',
  'prompt_id',
  'agent_name',
  'agent_version',
  'decision',
  'rules',
  'policy_hash',
] as const;
