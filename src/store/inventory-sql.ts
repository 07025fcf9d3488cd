// The fleet inventory's tables and queries, shared by both adapters: the same DDL but the integer type, and the same
// SQL written with `?` (PostgreSQL numbers it). Queries run through a `Run` the adapter passes, so the paging,
// filtering and row mapping live here once. Ingest fills the tables (see inventory-ingest.ts).
import type { Finding } from '../core/inventory.js';
import type { AgentRow, GuardHookRow, McpServerRow, PostureRow, SelfTestRow, SqlParam } from './inventory-ingest.js';
import { versionKey } from './inventory-ingest.js';
import { compact, type Row } from './rows.js';
import { clampLimit } from './sql-filters.js';
import { StoreError, type Page } from './store.js';

/** Migration 3 of both schemas; `bigint` is INTEGER on SQLite and BIGINT on PostgreSQL. */
export function inventoryMigration(bigint: string): string {
  return `
  -- The latest inventory of each device; each part remembers the seq it came from, so only a newer one replaces it.
  CREATE TABLE inventory_devices (
    device_id TEXT PRIMARY KEY, inventory_seq ${bigint}, collected_at TEXT, findings TEXT NOT NULL DEFAULT '[]',
    posture_seq ${bigint}, posture_at TEXT, guard_seq ${bigint}, heartbeat_at TEXT, heartbeat_ms ${bigint},
    policy_hash TEXT, self_test_passed INTEGER, self_test_at TEXT, self_test_detail TEXT,
    problems TEXT NOT NULL DEFAULT '[]'
  );
  CREATE TABLE inventory_agents (
    device_id TEXT NOT NULL, agent_id TEXT NOT NULL, name TEXT NOT NULL, version TEXT, version_key TEXT,
    governance TEXT NOT NULL, running INTEGER NOT NULL
  );
  CREATE INDEX inventory_agents_device ON inventory_agents (device_id, agent_id, version_key);
  CREATE INDEX inventory_agents_agent ON inventory_agents (agent_id, version_key);
  CREATE TABLE inventory_mcp_servers (
    device_id TEXT NOT NULL, agent TEXT NOT NULL, scope TEXT NOT NULL, name TEXT NOT NULL, transport TEXT NOT NULL,
    fingerprint TEXT NOT NULL, approval TEXT NOT NULL, url TEXT, command TEXT
  );
  CREATE INDEX inventory_mcp_device ON inventory_mcp_servers (device_id);
  CREATE INDEX inventory_mcp_name ON inventory_mcp_servers (name, fingerprint);
  CREATE TABLE inventory_posture (
    device_id TEXT NOT NULL, name TEXT NOT NULL, status TEXT NOT NULL, value TEXT, checked_at TEXT,
    PRIMARY KEY (device_id, name)
  );
  CREATE TABLE inventory_guard (device_id TEXT NOT NULL, agent TEXT NOT NULL, hooks_installed INTEGER NOT NULL);
  CREATE INDEX inventory_guard_device ON inventory_guard (device_id);
  `;
}

export type PostureStatus = PostureRow['status'];
export type McpApproval = McpServerRow['approval'];

/** Devices matching every given filter, ordered by device id. */
export interface InventoryFilter {
  /** An agent's catalogue id ('claude-code'); with a version filter, the version is this agent's. */
  agent?: string;
  version?: string;
  /** Versions older than this one, by semver precedence; agents whose version is unknown do not match. */
  versionBelow?: string;
  /** An MCP server's name or fingerprint. */
  mcp?: string;
  /** Devices with an MCP server of this approval (the one named by `mcp`, when given). */
  approval?: McpApproval;
  /** A person's id or email. */
  person?: string;
  /** Part of a hostname, device id or person's email, any case. */
  search?: string;
  /** A posture check with any of these statuses; a device that never reported the check counts as unknown. */
  posture?: { check: string; statuses: PostureStatus[] };
  /** Devices with any of these guard problems. */
  guard?: { hooksOff?: boolean; selfTestFailed?: boolean; heartbeatOlderThanMinutes?: number };
  offset?: number;
  limit?: number;
}

export interface DeviceInventoryRecord {
  deviceId: string;
  personId: string;
  personEmail?: string;
  hostname?: string;
  os?: string;
  revokedAt?: string;
  collectedAt?: string;
  agents: AgentRow[];
  mcpServers: McpServerRow[];
  posture: PostureRow[];
  guard: { hooks: GuardHookRow[]; heartbeatAt?: string; policyHash?: string; selfTest?: SelfTestRow };
  /** What the device reported about its own look-around. */
  findings: Finding[];
  /** What the server found wrong with the device's inventory data (ignored entries, unreadable parts). */
  problems: Finding[];
}

export interface AgentCount {
  agentId: string;
  name: string;
  version?: string;
  devices: number;
  governed: number;
  ungoverned: number;
  unknown: number;
}

export interface McpServerCount {
  name: string;
  fingerprint: string;
  devices: number;
  approved: number; // devices on which it is approved
  unapproved: number;
  denied: number;
}

/** Runs one `?`-placeholder query and returns its rows. */
export type Run = (sql: string, params: SqlParam[]) => Promise<Row[]>;

const MINUTE_MS = 60_000;

function deviceConditions(filter: InventoryFilter, nowMs: number, params: SqlParam[]): string[] {
  const bind = (value: SqlParam): string => (params.push(value), '?');
  const conditions: string[] = [];
  const agent: string[] = [];
  if (filter.agent !== undefined) agent.push(`a.agent_id = ${bind(filter.agent)}`);
  if (filter.version !== undefined) agent.push(`a.version = ${bind(filter.version)}`);
  if (filter.versionBelow !== undefined) {
    const key = versionKey(filter.versionBelow);
    if (key === undefined) throw new StoreError('INVALID_INPUT', `version \`${filter.versionBelow}\` is not a semantic version`);
    agent.push(`a.version_key < ${bind(key)}`);
  }
  if (agent.length > 0) conditions.push(`EXISTS (SELECT 1 FROM inventory_agents a WHERE a.device_id = i.device_id AND ${agent.join(' AND ')})`);
  const mcp: string[] = [];
  if (filter.mcp !== undefined) mcp.push(`(m.name = ${bind(filter.mcp)} OR m.fingerprint = ${bind(filter.mcp)})`);
  if (filter.approval !== undefined) mcp.push(`m.approval = ${bind(filter.approval)}`);
  if (mcp.length > 0) conditions.push(`EXISTS (SELECT 1 FROM inventory_mcp_servers m WHERE m.device_id = i.device_id AND ${mcp.join(' AND ')})`);
  if (filter.person !== undefined) conditions.push(`(d.person_id = ${bind(filter.person)} OR p.email = ${bind(filter.person)})`);
  if (filter.search !== undefined) {
    const pattern = `%${filter.search.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    conditions.push(`(lower(d.hostname) LIKE ${bind(pattern)} ESCAPE '\\' OR d.id LIKE ${bind(pattern)} ESCAPE '\\' OR lower(p.email) LIKE ${bind(pattern)} ESCAPE '\\')`);
  }
  if (filter.posture !== undefined) {
    const { check, statuses } = filter.posture;
    if (statuses.length === 0) throw new StoreError('INVALID_INPUT', `posture check \`${check}\` names no status`);
    const found = `EXISTS (SELECT 1 FROM inventory_posture c WHERE c.device_id = i.device_id AND c.name = ${bind(check)}
      AND c.status IN (${statuses.map(bind).join(', ')}))`;
    // Binding adds a parameter, so the second condition is built only when it is used.
    const orMissing = () => `(${found} OR NOT EXISTS (SELECT 1 FROM inventory_posture c WHERE c.device_id = i.device_id AND c.name = ${bind(check)}))`;
    conditions.push(statuses.includes('unknown') ? orMissing() : found);
  }
  if (filter.guard !== undefined) {
    const { hooksOff, selfTestFailed, heartbeatOlderThanMinutes } = filter.guard;
    const any: string[] = [];
    if (hooksOff) any.push('EXISTS (SELECT 1 FROM inventory_guard g WHERE g.device_id = i.device_id AND g.hooks_installed = 0)');
    if (selfTestFailed) any.push('i.self_test_passed = 0');
    if (heartbeatOlderThanMinutes !== undefined) {
      any.push(`(i.heartbeat_ms IS NULL OR i.heartbeat_ms < ${bind(nowMs - heartbeatOlderThanMinutes * MINUTE_MS)})`);
    }
    if (any.length === 0) throw new StoreError('INVALID_INPUT', 'the guard filter names no problem');
    conditions.push(`(${any.join(' OR ')})`);
  }
  return conditions;
}

const inList = (ids: readonly string[]): string => ids.map(() => '?').join(', ');
const flag = (value: unknown): boolean => Number(value) === 1;
const optional = (value: unknown): string | undefined => (value === null || value === undefined ? undefined : String(value));

/** One page of devices with their inventories; a few queries per page whatever the fleet's size. */
export async function listDeviceInventories(run: Run, filter: InventoryFilter, now: Date): Promise<Page<DeviceInventoryRecord>> {
  const params: SqlParam[] = [];
  const conditions = deviceConditions(filter, now.getTime(), params);
  const from = `FROM inventory_devices i JOIN devices d ON d.id = i.device_id LEFT JOIN people p ON p.id = d.person_id
    ${conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`}`;
  const offset = Math.max(0, Math.floor(filter.offset ?? 0));
  const [rows, counted] = [
    await run(`SELECT i.*, d.person_id, p.email AS person_email, d.hostname, d.os, d.revoked_at ${from} ORDER BY i.device_id LIMIT ? OFFSET ?`, [...params, clampLimit(filter.limit), offset]),
    await run(`SELECT count(*) AS n ${from}`, params),
  ];
  const ids = rows.map((row) => row.device_id as string);
  if (ids.length === 0) return { items: [], total: Number(counted[0].n) };
  const children = async (table: string, order: string) => {
    const byDevice = new Map<string, Row[]>();
    for (const row of await run(`SELECT * FROM ${table} WHERE device_id IN (${inList(ids)}) ORDER BY device_id, ${order}`, ids)) {
      const list = byDevice.get(row.device_id as string) ?? [];
      list.push(row);
      byDevice.set(row.device_id as string, list);
    }
    return (id: string) => byDevice.get(id) ?? [];
  };
  const agents = await children('inventory_agents', 'agent_id, version_key');
  const mcpServers = await children('inventory_mcp_servers', 'name, fingerprint, agent, scope');
  const posture = await children('inventory_posture', 'name');
  const hooks = await children('inventory_guard', 'agent');
  const items = rows.map((row): DeviceInventoryRecord => {
    const id = row.device_id as string;
    return compact({
      deviceId: id,
      personId: row.person_id as string,
      personEmail: optional(row.person_email),
      hostname: optional(row.hostname),
      os: optional(row.os),
      revokedAt: optional(row.revoked_at),
      collectedAt: optional(row.collected_at),
      agents: agents(id).map(toAgentRow),
      mcpServers: mcpServers(id).map(toMcpServerRow),
      posture: posture(id).map(toPostureRow),
      guard: compact({
        hooks: hooks(id).map((h) => ({ agent: h.agent as string, hooksInstalled: flag(h.hooks_installed) })),
        heartbeatAt: optional(row.heartbeat_at),
        policyHash: optional(row.policy_hash),
        selfTest:
          row.self_test_passed === null || row.self_test_passed === undefined
            ? undefined
            : compact({ passed: flag(row.self_test_passed), at: optional(row.self_test_at), detail: optional(row.self_test_detail) }),
      }),
      findings: JSON.parse(row.findings as string) as Finding[],
      problems: JSON.parse(row.problems as string) as Finding[],
    });
  });
  return { items, total: Number(counted[0].n) };
}

/** Agents by id and version across the fleet, with how many devices run each governed and ungoverned. */
export async function countAgents(run: Run, offset: number, limit: number): Promise<Page<AgentCount>> {
  const rows = await run(
    `SELECT agent_id, max(name) AS name, version, max(version_key) AS version_key, count(DISTINCT device_id) AS devices,
       count(DISTINCT CASE WHEN governance = 'governed' THEN device_id END) AS governed,
       count(DISTINCT CASE WHEN governance = 'ungoverned' THEN device_id END) AS ungoverned,
       count(DISTINCT CASE WHEN governance = 'unknown' THEN device_id END) AS unknown
     FROM inventory_agents GROUP BY agent_id, version
     ORDER BY agent_id, CASE WHEN max(version_key) IS NULL THEN 1 ELSE 0 END, max(version_key) DESC, version LIMIT ? OFFSET ?`,
    [clampLimit(limit), Math.max(0, offset)],
  );
  const total = await run('SELECT count(*) AS n FROM (SELECT 1 FROM inventory_agents GROUP BY agent_id, version) g', []);
  return {
    items: rows.map((row) =>
      compact({
        agentId: row.agent_id as string,
        name: row.name as string,
        version: optional(row.version),
        devices: Number(row.devices),
        governed: Number(row.governed),
        ungoverned: Number(row.ungoverned),
        unknown: Number(row.unknown),
      }),
    ),
    total: Number(total[0].n),
  };
}

/** MCP servers by name and fingerprint, with the devices that load each and how many approve it. */
export async function countMcpServers(run: Run, filter: { approval?: McpApproval; offset: number; limit: number }): Promise<Page<McpServerCount>> {
  const having = filter.approval === undefined ? '' : 'HAVING count(CASE WHEN approval = ? THEN 1 END) > 0';
  const params: SqlParam[] = filter.approval === undefined ? [] : [filter.approval];
  const grouped = `FROM inventory_mcp_servers GROUP BY name, fingerprint ${having}`;
  const rows = await run(
    `SELECT name, fingerprint, count(DISTINCT device_id) AS devices,
       count(DISTINCT CASE WHEN approval = 'approved' THEN device_id END) AS approved,
       count(DISTINCT CASE WHEN approval = 'unapproved' THEN device_id END) AS unapproved,
       count(DISTINCT CASE WHEN approval = 'denied' THEN device_id END) AS denied
     ${grouped} ORDER BY count(DISTINCT device_id) DESC, name, fingerprint LIMIT ? OFFSET ?`,
    [...params, clampLimit(filter.limit), Math.max(0, filter.offset)],
  );
  const total = await run(`SELECT count(*) AS n FROM (SELECT 1 ${grouped}) g`, params);
  return {
    items: rows.map((row) => ({
      name: row.name as string,
      fingerprint: row.fingerprint as string,
      devices: Number(row.devices),
      approved: Number(row.approved),
      unapproved: Number(row.unapproved),
      denied: Number(row.denied),
    })),
    total: Number(total[0].n),
  };
}

function toAgentRow(row: Row): AgentRow {
  return compact({
    agentId: row.agent_id as string,
    name: row.name as string,
    version: optional(row.version),
    governance: row.governance as AgentRow['governance'],
    running: flag(row.running),
  });
}

function toMcpServerRow(row: Row): McpServerRow {
  return compact({
    agent: row.agent as string,
    scope: row.scope as string,
    name: row.name as string,
    transport: row.transport as string,
    fingerprint: row.fingerprint as string,
    approval: row.approval as McpApproval,
    url: optional(row.url),
    command: optional(row.command),
  });
}

function toPostureRow(row: Row): PostureRow {
  return compact({
    name: row.name as string,
    status: row.status as PostureStatus,
    value: row.value === null ? undefined : (JSON.parse(row.value as string) as PostureRow['value']),
    checkedAt: optional(row.checked_at),
  });
}

