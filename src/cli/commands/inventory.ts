// `writ fleet inventory`: the server's fleet inventory from the command line. Filters go to the server as they are
// (it checks them and says what is wrong); the CLI pages through the answer and prints one line per row.
import { adminClient, type AdminClient } from '../admin-client.js';
import { UsageError } from '../command.js';
import { oneOf } from '../options.js';

export const inventoryOptions = {
  agent: { type: 'string' },
  'older-than': { type: 'string' },
  mcp: { type: 'string' },
  unapproved: { type: 'boolean' },
  person: { type: 'string' },
  posture: { type: 'string' },
  guard: { type: 'string' },
} as const;

export const INVENTORY_USAGE =
  'fleet inventory [devices] [--agent ID] [--older-than VERSION] [--mcp NAME|FINGERPRINT] [--unapproved] [--person ID|EMAIL] [--posture CHECK=STATUS[|STATUS]] [--guard off|self_test_failed|stale:MINUTES] [--json] | fleet inventory agents|mcp [--unapproved] [--json]';

const PAGE = 1000;
/** The CLI stops there; the API pages further for those who need it. */
const MAX_ROWS = 100_000;

type Values = Record<string, string | boolean | undefined>;

/** Every row of a paged inventory listing. */
async function allPages<T>(client: AdminClient, path: string, query: URLSearchParams): Promise<{ items: T[]; total: number }> {
  const items: T[] = [];
  for (let offset = 0; ; offset += PAGE) {
    query.set('offset', String(offset));
    query.set('limit', String(PAGE));
    const page = await client.json<{ items: T[]; total: number }>('GET', `${path}?${query}`);
    items.push(...page.items);
    if (page.items.length < PAGE || items.length >= page.total || items.length >= MAX_ROWS) return { items, total: page.total };
  }
}

export async function runInventory(values: Values, positionals: string[]): Promise<number> {
  const [view = 'devices', ...extra] = positionals;
  if (extra.length > 0) throw new UsageError(`fleet inventory takes one view, not "${positionals.join(' ')}"`);
  const which = oneOf(view, 'the inventory view', ['devices', 'agents', 'mcp'] as const);
  const query = new URLSearchParams();
  const deviceFilters: [keyof typeof inventoryOptions, string][] = [
    ['agent', 'agent'],
    ['older-than', 'version_lt'],
    ['mcp', 'mcp'],
    ['person', 'person'],
    ['posture', 'posture'],
    ['guard', 'guard'],
  ];
  for (const [option, parameter] of deviceFilters) {
    const value = values[option];
    if (typeof value !== 'string') continue;
    if (which !== 'devices') throw new UsageError(`--${option} filters devices; \`fleet inventory ${which}\` takes only --unapproved`);
    query.set(parameter, value);
  }
  if (values.unapproved) query.set('approval', 'unapproved');
  if (which === 'agents' && values.unapproved) throw new UsageError('--unapproved is about MCP servers; use it with `fleet inventory` or `fleet inventory mcp`');

  const client = adminClient(values);
  const path = { devices: '/v1/inventory/devices', agents: '/v1/inventory/agents', mcp: '/v1/inventory/mcp-servers' }[which];
  const { items, total } = await allPages<Record<string, any>>(client, path, query);
  if (values.json) {
    process.stdout.write(JSON.stringify(items, null, 2) + '\n');
  } else {
    // Devices wrote these values: control characters could drive the terminal, so they are shown escaped.
    for (const item of items) process.stdout.write(describeRow(which, item).replace(/[\p{Cc}]/gu, (c) => JSON.stringify(c).slice(1, -1)) + '\n');
    process.stderr.write(`${total} ${which === 'devices' ? 'devices' : 'rows'}${items.length < total ? ` (showing ${items.length})` : ''}\n`);
  }
  return 0;
}

function describeRow(which: 'devices' | 'agents' | 'mcp', item: Record<string, any>): string {
  if (which === 'agents') return `${item.id}  ${item.version ?? '(version unknown)'}  ${item.devices} devices  governed ${item.governed}  ungoverned ${item.ungoverned}  unknown ${item.unknown}`;
  if (which === 'mcp') return `${item.name}  ${item.fingerprint}  ${item.devices} devices  approved ${item.approved}  unapproved ${item.unapproved}  denied ${item.denied}`;
  const agents = (item.agents as any[]).map((a) => `${a.id} ${a.version ?? '?'} (${a.governance})`).join(', ') || 'no agents';
  const servers = (item.mcp_servers as any[]).map((m) => `${m.name} (${m.approval})`).join(', ') || 'no MCP servers';
  const guard = item.guard;
  const hooksOff = (guard.agents as any[]).filter((a) => !a.hooks_installed).map((a) => a.agent);
  const health = [
    hooksOff.length > 0 ? `hooks off: ${hooksOff.join(', ')}` : '',
    guard.self_test?.passed === false ? 'self-test failed' : '',
    `heartbeat ${guard.heartbeat_at ?? 'never'}`,
  ].filter(Boolean);
  const failing = (item.posture as any[]).filter((c) => c.status !== 'pass').map((c) => `${c.name}=${c.status}`);
  return [item.device_id, item.hostname ?? '-', item.person_id, agents, servers, health.join('; '), failing.length > 0 ? `posture: ${failing.join(', ')}` : '']
    .filter(Boolean)
    .join('  ');
}
