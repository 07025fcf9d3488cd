// The fleet inventory as ingest sees it: which appended events carry an inventory, a heartbeat or a posture change,
// what of their data is well formed, and the statements that make the device's stored inventory the latest one.
// Pure: both adapters read the device's stored seqs, call inventoryWrites, and run what it returns in the ingest's
// own transaction. Data a device got wrong becomes a problem finding; it never fails the ingest (the event is
// evidence and is already in the log).
import type { Finding } from '../core/inventory.js';
import type { PlannedAppend } from './ingest-plan.js';
import type { Row } from './rows.js';

export const INVENTORY_KINDS = ['inventory.reported', 'guard.heartbeat', 'posture.changed'] as const;

/** More entries than this in one list are ignored, with a problem saying so. */
export const MAX_INVENTORY_ITEMS = 1000;
const MAX_TEXT = 2048;
const MAX_PROBLEMS = 50;

export type SqlParam = string | number | null;

/** One statement written with `?` placeholders (PostgreSQL numbers them; see approval-sql.ts `numbered`). */
export interface Statement {
  sql: string;
  params: SqlParam[];
}

export interface AgentRow {
  agentId: string;
  name: string;
  version?: string;
  governance: 'governed' | 'ungoverned' | 'unknown';
  running: boolean;
}

export interface McpServerRow {
  agent: string;
  scope: string;
  name: string;
  transport: string;
  fingerprint: string;
  approval: 'approved' | 'unapproved' | 'denied';
  url?: string;
  command?: string;
}

export interface PostureRow {
  name: string;
  status: 'pass' | 'fail' | 'unknown';
  value?: boolean | string | number;
  checkedAt?: string;
}

export interface GuardHookRow {
  agent: string;
  hooksInstalled: boolean;
}

export interface SelfTestRow {
  at?: string;
  passed: boolean;
  detail?: string;
}

interface GuardUpdate {
  seq: number;
  hooks: GuardHookRow[];
  selfTest?: SelfTestRow;
  heartbeat?: { time: string; ms: number; policyHash?: string };
}

/** The newest well-formed value of each part of a device's inventory in one batch, and what was wrong. */
export interface InventoryUpdates {
  inventory?: { seq: number; collectedAt?: string; agents: AgentRow[]; mcpServers: McpServerRow[]; findings: Finding[] };
  /** `replace`: a whole posture report; otherwise only the checks a posture change names. */
  posture?: { seq: number; collectedAt?: string; checks: PostureRow[]; replace: boolean };
  guard?: GuardUpdate;
  problems: Finding[];
}

/** The seqs behind a device's stored inventory, as CURRENT_INVENTORY reads them. */
export interface StoredInventorySeqs {
  inventorySeq: number;
  postureSeq: number;
  guardSeq: number;
  problems: Finding[];
}

export const CURRENT_INVENTORY = 'SELECT inventory_seq, posture_seq, guard_seq, problems FROM inventory_devices WHERE device_id = ?';

export function storedSeqs(row: Row | undefined): StoredInventorySeqs | undefined {
  if (row === undefined) return undefined;
  return {
    inventorySeq: Number(row.inventory_seq ?? 0),
    postureSeq: Number(row.posture_seq ?? 0),
    guardSeq: Number(row.guard_seq ?? 0),
    problems: JSON.parse(row.problems as string) as Finding[],
  };
}

/** True when the batch appended an event that inventoryUpdates reads: the adapters skip everything else. */
export function carriesInventory(appends: readonly PlannedAppend[]): boolean {
  return appends.some(({ event }) => (INVENTORY_KINDS as readonly string[]).includes(event.kind));
}

// ---- reading the events -----------------------------------------------------------------------------------------

type Problems = (message: string) => void;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value.slice(0, MAX_TEXT) : undefined);
const oneOf = <T extends string>(value: unknown, allowed: readonly T[]): T | undefined =>
  allowed.includes(value as T) ? (value as T) : undefined;

/** The event's signed data, read back from the envelope the log keeps (the server checked the signature). */
function eventData(envelope: string): unknown {
  const { payload } = JSON.parse(envelope) as { payload?: unknown };
  if (typeof payload !== 'string') return undefined;
  return (JSON.parse(Buffer.from(payload, 'base64').toString('utf8')) as { data?: unknown }).data;
}

/** Each entry of `list` read by `read`; an entry it refuses (a string saying why) is dropped with a problem. */
function readList<T>(list: unknown, what: string, problem: Problems, read: (entry: Record<string, unknown>) => T | string): T[] {
  if (list === undefined) return [];
  if (!Array.isArray(list)) {
    problem(`${what} is not a list; ignored`);
    return [];
  }
  if (list.length > MAX_INVENTORY_ITEMS) problem(`${what} has ${list.length} entries; only the first ${MAX_INVENTORY_ITEMS} are kept`);
  const rows: T[] = [];
  list.slice(0, MAX_INVENTORY_ITEMS).forEach((entry, i) => {
    const row = isObject(entry) ? read(entry) : 'not an object';
    if (typeof row === 'string') problem(`${what}[${i}] ignored: ${row}`);
    else rows.push(row);
  });
  return rows;
}

function readAgent(entry: Record<string, unknown>): AgentRow | string {
  const agentId = text(entry.id);
  if (agentId === undefined) return '`id` is not a string';
  const governance = oneOf(entry.governance, ['governed', 'ungoverned', 'unknown'] as const);
  if (governance === undefined) return '`governance` is not governed, ungoverned or unknown';
  const version = text(entry.version);
  return { agentId, name: text(entry.name) ?? agentId, ...(version && { version }), governance, running: entry.running === true };
}

function readMcpServer(entry: Record<string, unknown>): McpServerRow | string {
  const name = text(entry.name);
  const fingerprint = text(entry.fingerprint);
  const agent = text(entry.agent);
  if (name === undefined || fingerprint === undefined || agent === undefined) return '`name`, `fingerprint` and `agent` must be strings';
  const approval = oneOf(entry.approval, ['approved', 'unapproved', 'denied'] as const);
  if (approval === undefined) return '`approval` is not approved, unapproved or denied';
  const url = text(entry.url);
  const command = text(entry.command);
  return {
    agent,
    scope: text(entry.scope) ?? 'unknown',
    name,
    transport: text(entry.transport) ?? 'unknown',
    fingerprint,
    approval,
    ...(url && { url }),
    ...(command && { command }),
  };
}

function readPostureCheck(entry: Record<string, unknown>): PostureRow | string {
  const name = text(entry.name);
  if (name === undefined || !/^[a-z][a-z0-9_]{0,63}$/.test(name)) return '`name` is not a check name';
  const status = oneOf(entry.status, ['pass', 'fail', 'unknown'] as const);
  if (status === undefined) return '`status` is not pass, fail or unknown';
  const value = ['boolean', 'number'].includes(typeof entry.value) ? (entry.value as boolean | number) : text(entry.value);
  const checkedAt = text(entry.checked_at);
  return { name, status, ...(value !== undefined && { value }), ...(checkedAt && { checkedAt }) };
}

function readHook(entry: Record<string, unknown>): GuardHookRow | string {
  const agent = text(entry.agent);
  if (agent === undefined) return '`agent` is not a string';
  if (typeof entry.hooks_installed !== 'boolean') return '`hooks_installed` is not true or false';
  return { agent, hooksInstalled: entry.hooks_installed };
}

function readSelfTest(value: unknown, problem: Problems): SelfTestRow | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value) || typeof value.passed !== 'boolean') {
    problem('self_test ignored: `passed` is not true or false');
    return undefined;
  }
  const at = text(value.at);
  const detail = text(value.detail);
  return { passed: value.passed, ...(at && { at }), ...(detail && { detail }) };
}

function readFinding(entry: Record<string, unknown>): Finding | string {
  const severity = oneOf(entry.severity, ['info', 'warning', 'error'] as const);
  const subject = text(entry.subject);
  const message = text(entry.message);
  if (severity === undefined || subject === undefined || message === undefined) return 'needs severity, subject and message';
  const path = text(entry.path);
  return { severity, subject, message, ...(path && { path }) };
}

function readPosture(report: unknown, what: string, problem: Problems): { collectedAt?: string; checks: PostureRow[] } | undefined {
  if (!isObject(report)) {
    problem(`${what} is not an object; ignored`);
    return undefined;
  }
  const collectedAt = text(report.collected_at);
  return { ...(collectedAt && { collectedAt }), checks: readList(report.checks, `${what}.checks`, problem, readPostureCheck) };
}

/**
 * A posture change's `current`: a whole posture report (`checks` list), or, as the daemon sends it, only the
 * checks that changed, `{check: {status, value?}}`, which were checked at the event's time.
 */
function readPostureChange(current: unknown, time: string, problem: Problems): { checks: PostureRow[]; replace: boolean; collectedAt?: string } | undefined {
  if (isObject(current) && 'checks' in current) {
    const report = readPosture(current, 'current', problem);
    return report && { ...report, replace: true };
  }
  if (!isObject(current)) {
    problem('current is not an object; ignored');
    return undefined;
  }
  const entries = Object.entries(current).map(([name, state]) => ({ ...(isObject(state) ? state : {}), name, checked_at: time }));
  return { checks: readList(entries, 'current', problem, readPostureCheck), replace: false };
}

/** A change applied on top of an earlier posture of the same batch keeps that posture's other checks. */
function mergePosture(earlier: InventoryUpdates['posture'], change: NonNullable<InventoryUpdates['posture']>): NonNullable<InventoryUpdates['posture']> {
  if (change.replace || earlier === undefined) return change;
  const names = new Set(change.checks.map((check) => check.name));
  return { ...earlier, seq: change.seq, checks: [...earlier.checks.filter((check) => !names.has(check.name)), ...change.checks] };
}

function readGuard(report: unknown, what: string, problem: Problems): Pick<GuardUpdate, 'hooks' | 'selfTest'> | undefined {
  if (!isObject(report)) {
    problem(`${what} is not an object; ignored`);
    return undefined;
  }
  return { hooks: readList(report.agents, `${what}.agents`, problem, readHook), selfTest: readSelfTest(report.self_test, problem) };
}

/**
 * Walks the batch's appended inventory events in seq order; each well-formed part replaces the one before it, so
 * what is returned is the newest of each part. Nothing here throws on a device's data.
 */
export function inventoryUpdates(appends: readonly PlannedAppend[]): InventoryUpdates {
  const updates: InventoryUpdates = { problems: [] };
  for (const { event, timeMs } of appends) {
    if (!(INVENTORY_KINDS as readonly string[]).includes(event.kind)) continue;
    const subject = `${event.kind} seq ${event.seq}`;
    const problem: Problems = (message) => {
      updates.problems.push({ severity: 'warning', subject, message });
    };
    let data: unknown;
    try {
      data = eventData(event.envelope);
    } catch (error) {
      problem(`the event's payload could not be read: ${(error as Error).message}`);
      continue;
    }
    if (!isObject(data)) {
      problem('data is not an object; ignored');
      continue;
    }
    if (event.kind === 'inventory.reported') {
      if (data.v !== 1) {
        problem(`inventory version \`${String(data.v).slice(0, 20)}\` is not 1; ignored`);
        continue;
      }
      const collectedAt = text(data.collected_at);
      updates.inventory = {
        seq: event.seq,
        ...(collectedAt && { collectedAt }),
        agents: readList(data.agents, 'agents', problem, readAgent),
        mcpServers: readList(data.mcp_servers, 'mcp_servers', problem, readMcpServer),
        findings: readList(data.findings, 'findings', problem, readFinding),
      };
      const posture = data.posture === undefined ? undefined : readPosture(data.posture, 'posture', problem);
      if (posture) updates.posture = { seq: event.seq, ...posture, replace: true };
      const guard = data.guard === undefined ? undefined : readGuard(data.guard, 'guard', problem);
      // An inventory's guard state is not a heartbeat: the last heartbeat time stays.
      if (guard) updates.guard = { seq: event.seq, ...guard, heartbeat: updates.guard?.heartbeat };
    } else if (event.kind === 'posture.changed') {
      const change = readPostureChange(data.current, event.time, problem);
      if (change) updates.posture = mergePosture(updates.posture, { seq: event.seq, ...change });
    } else {
      const guard = readGuard(data, 'heartbeat', problem);
      const policyHash = text(data.policy_hash);
      if (guard) updates.guard = { seq: event.seq, ...guard, heartbeat: { time: event.time, ms: timeMs, ...(policyHash && { policyHash }) } };
    }
  }
  return updates;
}

// ---- writing the latest -----------------------------------------------------------------------------------------

const ROWS_PER_INSERT = 200;

function insertRows(table: string, columns: readonly string[], rows: SqlParam[][]): Statement[] {
  const statements: Statement[] = [];
  const tuple = `(${columns.map(() => '?').join(', ')})`;
  for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
    const chunk = rows.slice(i, i + ROWS_PER_INSERT);
    statements.push({ sql: `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${chunk.map(() => tuple).join(', ')}`, params: chunk.flat() });
  }
  return statements;
}

const bool = (value: boolean): number => (value ? 1 : 0);

/**
 * The statements that store `updates` for a device whose stored inventory has `stored` seqs. A part is replaced
 * only by a higher seq, so an older event can never overwrite a newer one, however it arrives.
 */
export function inventoryWrites(deviceId: string, updates: InventoryUpdates, stored: StoredInventorySeqs | undefined): Statement[] {
  const statements: Statement[] = [];
  if (stored === undefined) statements.push({ sql: 'INSERT INTO inventory_devices (device_id) VALUES (?)', params: [deviceId] });
  const { inventory, posture, guard } = updates;
  if (inventory && inventory.seq > (stored?.inventorySeq ?? 0)) {
    statements.push(
      {
        sql: 'UPDATE inventory_devices SET inventory_seq = ?, collected_at = ?, findings = ? WHERE device_id = ?',
        params: [inventory.seq, inventory.collectedAt ?? null, JSON.stringify(inventory.findings), deviceId],
      },
      { sql: 'DELETE FROM inventory_agents WHERE device_id = ?', params: [deviceId] },
      ...insertRows(
        'inventory_agents',
        ['device_id', 'agent_id', 'name', 'version', 'version_key', 'governance', 'running'],
        inventory.agents.map((a) => [deviceId, a.agentId, a.name, a.version ?? null, versionKey(a.version) ?? null, a.governance, bool(a.running)]),
      ),
      { sql: 'DELETE FROM inventory_mcp_servers WHERE device_id = ?', params: [deviceId] },
      ...insertRows(
        'inventory_mcp_servers',
        ['device_id', 'agent', 'scope', 'name', 'transport', 'fingerprint', 'approval', 'url', 'command'],
        inventory.mcpServers.map((m) => [deviceId, m.agent, m.scope, m.name, m.transport, m.fingerprint, m.approval, m.url ?? null, m.command ?? null]),
      ),
    );
  }
  if (posture && posture.seq > (stored?.postureSeq ?? 0)) {
    // A device repeating a check keeps its last answer.
    const checks = new Map(posture.checks.map((check) => [check.name, check]));
    const names = [...checks.keys()];
    statements.push(
      posture.replace
        ? { sql: 'UPDATE inventory_devices SET posture_seq = ?, posture_at = ? WHERE device_id = ?', params: [posture.seq, posture.collectedAt ?? null, deviceId] }
        : { sql: 'UPDATE inventory_devices SET posture_seq = ? WHERE device_id = ?', params: [posture.seq, deviceId] },
      posture.replace
        ? { sql: 'DELETE FROM inventory_posture WHERE device_id = ?', params: [deviceId] }
        : { sql: `DELETE FROM inventory_posture WHERE device_id = ? AND name IN (${names.map(() => '?').join(', ') || 'NULL'})`, params: [deviceId, ...names] },
      ...insertRows(
        'inventory_posture',
        ['device_id', 'name', 'status', 'value', 'checked_at'],
        [...checks.values()].map((c) => [deviceId, c.name, c.status, c.value === undefined ? null : JSON.stringify(c.value), c.checkedAt ?? null]),
      ),
    );
  }
  if (guard && guard.seq > (stored?.guardSeq ?? 0)) {
    const { selfTest, heartbeat } = guard;
    statements.push(
      {
        sql: `UPDATE inventory_devices SET guard_seq = ?, self_test_passed = ?, self_test_at = ?, self_test_detail = ?
          ${heartbeat ? ', heartbeat_at = ?, heartbeat_ms = ?, policy_hash = ?' : ''} WHERE device_id = ?`,
        params: [
          guard.seq,
          selfTest ? bool(selfTest.passed) : null,
          selfTest?.at ?? null,
          selfTest?.detail ?? null,
          ...(heartbeat ? [heartbeat.time, heartbeat.ms, heartbeat.policyHash ?? null] : []),
          deviceId,
        ],
      },
      { sql: 'DELETE FROM inventory_guard WHERE device_id = ?', params: [deviceId] },
      ...insertRows('inventory_guard', ['device_id', 'agent', 'hooks_installed'], guard.hooks.map((h) => [deviceId, h.agent, bool(h.hooksInstalled)])),
    );
  }
  if (updates.problems.length > 0) {
    const problems = [...(stored?.problems ?? []), ...updates.problems].slice(-MAX_PROBLEMS);
    statements.push({ sql: 'UPDATE inventory_devices SET problems = ? WHERE device_id = ?', params: [JSON.stringify(problems), deviceId] });
  }
  return statements;
}

// ---- versions -----------------------------------------------------------------------------------------------------

const VERSION = /^v?(\d{1,9})(?:\.(\d{1,9}))?(?:\.(\d{1,9}))?(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z.-]*)?(?=$|[\s(])/;

const pad = (digits: string): string => digits.padStart(9, '0');

/**
 * A key whose string order is semver precedence, so SQL can compare versions: numbers zero-padded, and a release
 * ('~') after its pre-releases ('-…', whose numeric identifiers are padded too). Text after the version ("2.1.0
 * (Claude Code)") is ignored; undefined when it does not start with a version.
 */
export function versionKey(version: string | undefined): string | undefined {
  const match = version === undefined ? null : VERSION.exec(version.trim());
  if (match === null) return undefined;
  const [, major, minor = '0', patch = '0', pre] = match;
  const core = [major, minor, patch].map(pad).join('.');
  if (pre === undefined) return `${core}~`;
  return `${core}-${pre.split('.').map((id) => (/^\d+$/.test(id) ? pad(id) : id)).join('.')}`;
}
