// The fleet inventory API: which devices run which agents and MCP servers, their posture and whether Writ's guard
// is on, from the devices' signed inventory.reported, guard.heartbeat and posture.changed events. Auditors and
// admins read; filtering and paging happen in the store. A query value the API cannot read is a 400 that says why.
import type { FastifyInstance } from 'fastify';
import { versionKey } from '../../store/inventory-ingest.js';
import type { InventoryFilter, McpApproval, PostureStatus } from '../../store/inventory-sql.js';
import type { AgentCount, DeviceInventoryRecord } from '../../store/store.js';
import type { ServerContext } from '../app.js';
import { authenticateUser } from '../auth.js';
import { badRequest } from '../http-error.js';

const APPROVALS = ['approved', 'unapproved', 'denied'] as const;
const STATUSES = ['pass', 'fail', 'unknown'] as const;
const MAX_STALE_MINUTES = 366 * 24 * 60;

const page = {
  offset: { type: 'integer', minimum: 0, default: 0 },
  limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
} as const;

const approval = { type: 'string', enum: APPROVALS, description: 'what the policy’s MCP register says of the server' } as const;

const deviceQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    agent: { type: 'string', maxLength: 200, description: 'an agent’s catalogue id, e.g. claude-code' },
    version: { type: 'string', maxLength: 100, description: 'an agent version, exactly' },
    version_lt: { type: 'string', maxLength: 100, description: 'agents older than this semantic version (semver precedence); with `agent`, that agent’s' },
    mcp: { type: 'string', maxLength: 500, description: 'an MCP server’s name or fingerprint' },
    approval,
    person: { type: 'string', maxLength: 320, description: 'a person’s id or email' },
    q: { type: 'string', maxLength: 200, description: 'part of a hostname, device id or person’s email, any case' },
    posture: { type: 'string', maxLength: 200, description: 'CHECK=STATUS[|STATUS…], e.g. disk_encrypted=fail|unknown; a check never reported is unknown' },
    guard: { type: 'string', maxLength: 200, description: 'any of off (hooks not installed), self_test_failed (failed or inconclusive), stale:MINUTES (no heartbeat for that long), comma-separated' },
    ...page,
  },
} as const;

interface DeviceQuery {
  agent?: string;
  version?: string;
  version_lt?: string;
  mcp?: string;
  approval?: McpApproval;
  person?: string;
  q?: string;
  posture?: string;
  guard?: string;
  offset: number;
  limit: number;
}

/** `disk_encrypted=fail|unknown` → the check and its statuses. */
export function parsePostureFilter(text: string): NonNullable<InventoryFilter['posture']> {
  const match = /^([a-z][a-z0-9_]{0,63})=(.+)$/.exec(text);
  if (match === null) throw badRequest(`posture must be CHECK=STATUS[|STATUS…] (e.g. disk_encrypted=fail|unknown), not \`${text}\``);
  const statuses = match[2].split('|');
  const wrong = statuses.find((status) => !(STATUSES as readonly string[]).includes(status));
  if (wrong !== undefined) throw badRequest(`posture status \`${wrong}\` is not one of ${STATUSES.join(', ')}`);
  return { check: match[1], statuses: [...new Set(statuses)] as PostureStatus[] };
}

/** `off,stale:60` → the guard problems to look for. */
export function parseGuardFilter(text: string): NonNullable<InventoryFilter['guard']> {
  const guard: NonNullable<InventoryFilter['guard']> = {};
  for (const part of text.split(',')) {
    const stale = /^stale:(\d{1,7})$/.exec(part);
    if (part === 'off') guard.hooksOff = true;
    else if (part === 'self_test_failed') guard.selfTestFailed = true;
    else if (stale !== null && Number(stale[1]) >= 1 && Number(stale[1]) <= MAX_STALE_MINUTES) guard.heartbeatOlderThanMinutes = Number(stale[1]);
    else throw badRequest(`guard takes off, self_test_failed or stale:MINUTES (1 to ${MAX_STALE_MINUTES}), comma-separated; not \`${part}\``);
  }
  return guard;
}

export function inventoryFilter(query: DeviceQuery): InventoryFilter {
  if (query.version_lt !== undefined && versionKey(query.version_lt) === undefined) {
    throw badRequest(`version_lt must be a semantic version such as 2.1.0, not \`${query.version_lt}\``);
  }
  return {
    ...(query.agent && { agent: query.agent }),
    ...(query.version && { version: query.version }),
    ...(query.version_lt && { versionBelow: query.version_lt }),
    ...(query.mcp && { mcp: query.mcp }),
    ...(query.approval && { approval: query.approval }),
    ...(query.person && { person: query.person }),
    ...(query.q && { search: query.q }),
    ...(query.posture !== undefined && { posture: parsePostureFilter(query.posture) }),
    ...(query.guard !== undefined && { guard: parseGuardFilter(query.guard) }),
    offset: query.offset,
    limit: query.limit,
  };
}

/** The inventory's own field names (src/core/inventory.ts), so the API, `writ scan --json` and events agree. */
export function deviceInventoryJson(record: DeviceInventoryRecord) {
  const { guard } = record;
  return {
    device_id: record.deviceId,
    person_id: record.personId,
    person_email: record.personEmail ?? null,
    hostname: record.hostname,
    os: record.os,
    revoked_at: record.revokedAt,
    collected_at: record.collectedAt,
    agents: record.agents.map((a) => ({ id: a.agentId, name: a.name, version: a.version, governance: a.governance, running: a.running })),
    mcp_servers: record.mcpServers,
    posture: record.posture.map((c) => ({ name: c.name, status: c.status, value: c.value, checked_at: c.checkedAt })),
    guard: {
      agents: guard.hooks.map((h) => ({ agent: h.agent, hooks_installed: h.hooksInstalled })),
      heartbeat_at: guard.heartbeatAt,
      policy_hash: guard.policyHash,
      self_test: guard.selfTest,
    },
    findings: record.findings,
    problems: record.problems,
  };
}

const agentCountJson = (count: AgentCount) => ({
  id: count.agentId,
  name: count.name,
  version: count.version,
  devices: count.devices,
  governed: count.governed,
  ungoverned: count.ungoverned,
  unknown: count.unknown,
});

export function inventoryRoutes(context: ServerContext) {
  const { store } = context;
  const read = (summary: string, description: string, querystring: object) => ({
    schema: { summary, description, tags: ['inventory'], security: [{ bearer: [] }], querystring },
  });

  return async (app: FastifyInstance) => {
    app.get(
      '/v1/inventory/devices',
      read(
        'Devices by what they run (auditor)',
        'The latest inventory of each device matching every filter, by device id: agents, MCP servers, posture checks and guard state, with `total` for paging.',
        deviceQuery,
      ),
      async (request) => {
        await authenticateUser(request, store, context.oidc, 'auditor');
        const { items, total } = await store.deviceInventories(inventoryFilter(request.query as DeviceQuery), context.now());
        return { items: items.map(deviceInventoryJson), total };
      },
    );
    app.get(
      '/v1/inventory/agents',
      read('Agents across the fleet (auditor)', 'One row per agent id and version, newest version first, with device counts: governed, ungoverned and unknown.', {
        type: 'object',
        additionalProperties: false,
        properties: page,
      }),
      async (request) => {
        await authenticateUser(request, store, context.oidc, 'auditor');
        const { offset, limit } = request.query as { offset: number; limit: number };
        const { items, total } = await store.inventoryAgents(offset, limit);
        return { items: items.map(agentCountJson), total };
      },
    );
    app.get(
      '/v1/inventory/mcp-servers',
      read(
        'MCP servers across the fleet (auditor)',
        'One row per server name and fingerprint, most widely loaded first, with the devices that load it and on how many it is approved, unapproved or denied. `approval` keeps the servers with that status on at least one device.',
        { type: 'object', additionalProperties: false, properties: { approval, ...page } },
      ),
      async (request) => {
        await authenticateUser(request, store, context.oidc, 'auditor');
        const { approval: wanted, offset, limit } = request.query as { approval?: McpApproval; offset: number; limit: number };
        return store.inventoryMcpServers({ ...(wanted && { approval: wanted }), offset, limit });
      },
    );
  };
}
