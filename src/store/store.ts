// The control plane's storage, behind one interface with two adapters: SQLite (embedded default) and
// PostgreSQL (several server replicas on one database). Both run the same test suite (test/store).
//
// The store keeps state; it does not judge evidence. The server verifies signatures and certificates
// before it calls `ingest`; the store enforces what only a transaction can: per-device chain order,
// idempotent duplicates, and one sequencer for the org's Merkle log.

import type { NodeId, TreeNode } from '../ledger/merkle.js';
import type { AgentCount, DeviceInventoryRecord, InventoryFilter, McpApproval, McpServerCount } from './inventory-sql.js';
import type { OverviewCounts } from './overview-sql.js';

export type { NodeId, TreeNode };
export type { AgentCount, DeviceInventoryRecord, InventoryFilter, McpServerCount, OverviewCounts };

export type StoreErrorCode =
  | 'UNKNOWN_DEVICE' // ingest for a device id that was never enrolled
  | 'DEVICE_REVOKED' // ingest for a revoked device: nothing is appended
  | 'KEY_MISMATCH' // enrolment of a known device id with another key
  | 'INVALID_INPUT' // a value the store cannot keep (a seq that is not a positive integer, a time that is not RFC 3339)
  | 'CORRUPT'; // the stored log misses a node it must hold: run fsck

// Anything else a store throws (a lost connection, a busy database) is transient: the caller may retry. `ingest`
// is idempotent, so retrying a batch whose commit was lost returns the same indexes.
/** A refusal by the store, with a stable code; any other error from a store is transient. */
export class StoreError extends Error {
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StoreError';
  }
}

/** admin: everything; auditor: read only; enroller: may only enrol devices (local mode, no IdP). */
export type Role = 'admin' | 'auditor' | 'enroller';

export interface Person {
  id: string; // 'per_' + 16 hex digits of SHA-256(iss + '\n' + sub)
  iss: string; // OIDC issuer, or 'local' for local-os-user enrolment
  sub: string;
  email?: string;
  name?: string;
  groups: string[];
  createdAt: string; // RFC 3339
  revokedAt?: string;
}

export interface Device {
  id: string; // the daemon's 'dev_…' id, derived from its key
  keyId: string; // 'sha256:…' of the SPKI DER
  publicKeyPem: string;
  personId: string;
  assurance: string; // 'oidc' | 'local-os-user'
  hostname?: string;
  os?: string;
  certificate: string; // DSSE envelope JSON signed by the org key
  enrolledAt: string;
  revokedAt?: string;
  headSeq: number; // last accepted seq, 0 before the first
  headHash: string; // hash of that event, '' before the first
  lastSeenAt?: string;
}

/** One event as the server accepted it, after checking its signature. */
export interface IngestEvent {
  seq: number;
  prev: string;
  hash: string; // eventHash of the body
  leafHash: Buffer; // RFC 6962 leaf hash of the canonical envelope bytes
  envelope: string; // canonical JSON of the DSSE envelope: the log entry
  time: string;
  kind: string;
  sessionId?: string;
  toolUseId?: string;
  promptId?: string;
  agentName: string;
  agentVersion?: string;
  decision?: string; // 'allow' | 'deny' | 'ask' | undefined when the event carries none
  rules: string[]; // rule ids behind the decision
  policyHash?: string;
}

export type IngestStop =
  | { reason: 'gap'; seq: number; expectedSeq: number } // first unaccepted seq is ahead of head+1
  | { reason: 'conflict'; seq: number } // same seq already stored with another hash
  | { reason: 'chain'; seq: number }; // prev does not match the stored head

export interface IngestResult {
  /** Every event of the batch up to the stop, in order: newly sequenced or already stored. */
  sequenced: { seq: number; index: number; duplicate: boolean }[];
  stop?: IngestStop;
  headSeq: number;
  logSize: number;
}

export interface StoredEvent extends Omit<IngestEvent, 'leafHash'> {
  index: number; // leaf index in the org log
  deviceId: string;
  personId: string;
  receivedAt: string;
}

export interface EventFilter {
  afterIndex?: number;
  beforeIndex?: number;
  since?: string; // event time >=, RFC 3339
  until?: string; // event time <
  deviceId?: string;
  personId?: string;
  sessionId?: string;
  kind?: string;
  decision?: string;
  rule?: string;
  limit?: number; // default 100, at most 10,000
  order?: 'asc' | 'desc'; // by index; default asc
}

export interface Checkpoint {
  size: number;
  root: Buffer;
  note: string; // the signed C2SP note text
  createdAt: string;
}

export interface PolicyBundleRecord {
  hash: string; // 'sha256:…' of the bundle payload
  envelope: string; // DSSE envelope JSON signed by the org key
  publishedBy: string;
  publishedAt: string;
}

export interface KillSwitch {
  id: number;
  target: string; // 'mcp:<server>' | 'tool:<name>'
  reason?: string;
  createdBy: string;
  createdAt: string;
  liftedAt?: string;
}

export interface AdminToken {
  id: string;
  name: string;
  role: Role;
  createdAt: string;
  revokedAt?: string;
}

export interface TelemetryRecord {
  signal: 'log' | 'metric';
  name: string; // event name ('claude_code.tool_result') or metric name
  time: string;
  sessionId?: string;
  promptId?: string;
  toolUseId?: string;
  deviceId?: string; // the device whose telemetry token sent it
  attributes: Record<string, unknown>;
  value?: number; // metric points
}

export interface SessionSummary {
  sessionId: string;
  deviceId: string;
  personId: string;
  agentName: string;
  agentVersion?: string;
  firstTime: string;
  lastTime: string;
  events: number;
  denials: number;
}

export interface AgentSummary {
  deviceId: string;
  agentName: string;
  agentVersion?: string;
  lastTime: string;
  events: number;
}

export type ApprovalStatus = 'pending' | 'approved' | 'denied';

/** A tool call waiting for (or decided by) a named reviewer; see docs/protocol.md, "Approvals". */
export interface Approval {
  id: string; // 'apr_…'
  deviceId: string;
  personId: string;
  digest: string; // 'sha256:…' of the exact call (src/core/approval.ts)
  sessionId?: string;
  tool: string;
  summary: Record<string, unknown>; // the journal's redacted summary of the call: never raw secrets
  rules: string[];
  reviewers: string; // the reviewer group named by the rule
  reason: string;
  status: ApprovalStatus;
  createdAt: string;
  expiresAt: string; // RFC 3339; nothing covers the call after it
  decidedAt?: string;
  decidedBy?: string;
  comment?: string;
  decision?: string; // DSSE envelope JSON of the org-signed decision
}

/** What a device asks for; the store adds the status (pending) and, later, the decision. */
export type ApprovalRequest = Omit<Approval, 'status' | 'decidedAt' | 'decidedBy' | 'comment' | 'decision'>;

/** A reviewer's decision as stored: `decision` is the org-signed envelope. */
export interface ApprovalVerdict {
  status: 'approved' | 'denied';
  decidedAt: string;
  decidedBy: string;
  comment?: string;
  decision: string;
}

export interface ApprovalFilter {
  status?: ApprovalStatus;
  deviceId?: string;
  limit?: number; // default 100, at most 10,000
}

export interface Page<T> {
  items: T[];
  total: number;
}

export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  /** Creates or upgrades the schema; safe to run from several replicas at once. */
  migrate(): Promise<void>;
  close(): Promise<void>;

  /** Returns the stored value, storing `value` first if the key had none (first writer wins). */
  metaSetIfAbsent(key: string, value: string): Promise<string>;
  metaGet(key: string): Promise<string | undefined>;

  upsertPerson(person: Omit<Person, 'createdAt' | 'revokedAt'>, at: string): Promise<Person>;
  getPerson(id: string): Promise<Person | undefined>;
  listPeople(offset: number, limit: number): Promise<Page<Person>>;
  revokePerson(id: string, at: string): Promise<boolean>;

  /**
   * Enrols or re-enrols (same id and key: new person/certificate, head kept). A different key for the id is refused
   * with StoreError('KEY_MISMATCH'). Re-enrolment does not lift a revocation: the returned device keeps `revokedAt`.
   */
  enrollDevice(device: Omit<Device, 'headSeq' | 'headHash' | 'revokedAt' | 'lastSeenAt'>): Promise<Device>;
  getDevice(id: string): Promise<Device | undefined>;
  listDevices(offset: number, limit: number, search?: string): Promise<Page<Device>>;
  revokeDevice(id: string, at: string): Promise<boolean>;

  /**
   * In one transaction, under the log's lock: for each event in seq order, a stored seq with the same hash is a
   * duplicate; head+1 with prev = head hash is appended to the log (leaf index = log size) with its tree nodes;
   * anything else stops the batch. `completeNodes` (from src/ledger/merkle) computes the new nodes.
   * Throws StoreError('UNKNOWN_DEVICE' | 'DEVICE_REVOKED') and appends nothing for a device that may not write.
   * Also updates the device's `lastSeenAt` and the session and agent summaries, and keeps the latest fleet inventory
   * of the device from its appended inventory.reported, guard.heartbeat and posture.changed events.
   */
  ingest(deviceId: string, events: IngestEvent[], receivedAt: string): Promise<IngestResult>;

  logSize(): Promise<number>;
  /** Hashes of complete nodes; ids not (yet) complete are absent from the map, keyed `${level}/${index}`. */
  nodes(ids: NodeId[]): Promise<Map<string, Buffer>>;
  /** Complete nodes of one level in [from, from+count). */
  nodeRange(level: number, from: number, count: number): Promise<Buffer[]>;
  eventsByIndex(from: number, count: number): Promise<StoredEvent[]>;
  /** Events matching every given filter, ordered by index; `time` filters compare instants, not strings. */
  events(filter: EventFilter): Promise<StoredEvent[]>;
  countEvents(filter: EventFilter): Promise<number>;
  eventAt(deviceId: string, seq: number): Promise<StoredEvent | undefined>;
  /** Sessions, the most recently active first. */
  sessions(filter: { deviceId?: string; personId?: string; offset: number; limit: number }): Promise<Page<SessionSummary>>;
  /** One row per device and agent name, the most recently active first; `agentVersion` is the latest seen. */
  agents(): Promise<AgentSummary[]>;

  /** Stores a checkpoint; a second, different checkpoint for one size is refused (returns the stored one). */
  addCheckpoint(checkpoint: Checkpoint): Promise<Checkpoint>;
  latestCheckpoint(): Promise<Checkpoint | undefined>;
  checkpointAt(size: number): Promise<Checkpoint | undefined>;
  listCheckpoints(offset: number, limit: number): Promise<Page<Checkpoint>>;

  /** Publishes a bundle; publishing an older bundle again makes it the active one again. */
  addPolicyBundle(bundle: PolicyBundleRecord): Promise<void>;
  activePolicyBundle(): Promise<PolicyBundleRecord | undefined>; // the latest published
  policyBundle(hash: string): Promise<PolicyBundleRecord | undefined>;

  addKill(kill: Omit<KillSwitch, 'id' | 'liftedAt'>): Promise<KillSwitch>;
  /** Lifts every active kill of `target`; false if there was none. */
  liftKill(target: string, at: string): Promise<boolean>;
  activeKills(): Promise<KillSwitch[]>;

  /** A counter that grows whenever policy bundles or kill switches change: replicas poll it to push. */
  controlVersion(): Promise<number>;

  createAdminToken(token: AdminToken, secretHash: string): Promise<void>;
  /** The token with this secret hash, unless it was revoked. */
  findAdminToken(secretHash: string): Promise<AdminToken | undefined>;
  listAdminTokens(): Promise<AdminToken[]>;
  revokeAdminToken(id: string, at: string): Promise<boolean>;

  /** Device telemetry tokens (for OTLP exporters, which can only send static headers). */
  setTelemetryToken(deviceId: string, secretHash: string): Promise<void>; // replaces the device's previous token
  /** The device id of this token, unless the device was revoked. */
  deviceForTelemetryToken(secretHash: string): Promise<string | undefined>;

  /** Records a signed request's nonce; false if it was seen before (a replay). Expired nonces are purged. */
  useNonce(keyId: string, nonce: string, expiresAt: string, now: string): Promise<boolean>;

  /**
   * Returns the approval of this device for `digest` that has not expired at `now` (the newest, whatever its status),
   * or stores `approval` and returns it. Atomic: two requests for one call at once get the same approval.
   */
  requestApproval(approval: ApprovalRequest, now: string): Promise<{ approval: Approval; created: boolean }>;
  getApproval(id: string): Promise<Approval | undefined>;
  /** Newest first. */
  listApprovals(filter: ApprovalFilter): Promise<Approval[]>;
  /**
   * Decides a pending approval that has not expired at `decision.decidedAt`; undefined (and nothing changed) when it
   * is unknown, already decided or expired. The caller reads it again to say which.
   */
  decideApproval(id: string, verdict: ApprovalVerdict): Promise<Approval | undefined>;

  /** The latest inventory of the devices matching `filter`, by device id; `now` dates the heartbeat filter. */
  deviceInventories(filter: InventoryFilter, now: Date): Promise<Page<DeviceInventoryRecord>>;
  /** Agents by id and version across the fleet, each with its governed and ungoverned device counts. */
  inventoryAgents(offset: number, limit: number): Promise<Page<AgentCount>>;
  /** MCP servers by name and fingerprint, with device and approval counts; `approval` keeps those with it somewhere. */
  inventoryMcpServers(filter: { approval?: McpApproval; offset: number; limit: number }): Promise<Page<McpServerCount>>;
  /** The dashboard overview's aggregates for events since `sinceMs`; "stale" heartbeats and posture are older than `staleMs`. */
  overview(sinceMs: number, now: Date, staleMs: number): Promise<OverviewCounts>;

  addTelemetry(records: TelemetryRecord[]): Promise<void>;
  /** Records in arrival order (limit: default 100, at most 10,000). */
  telemetry(filter: { sessionId?: string; toolUseId?: string; limit?: number }): Promise<TelemetryRecord[]>;
}
