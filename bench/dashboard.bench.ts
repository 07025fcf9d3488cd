// The dashboard at fleet scale: a store with 10,000 devices (each with its inventory: agents, MCP servers,
// posture, guard) and 1,000,000 events, served by a real `writ server` process; Debian's Chromium signs in through
// a real OIDC provider and loads the Overview and Fleet pages. The figure is the time from navigation until the
// page shows its data (the fleet's device count on Overview, a device row on Fleet), median of several runs.
//
// The store is filled through its own ingest path in one batch per device (100 events), so the rows are the rows
// the server reads. The events are real event bodies in canonical DSSE envelopes but carry no signatures: the
// store does not judge evidence, and signing a million events (about 270 µs each here) would take longer than the
// measurement. The pages measured read aggregates and inventories, not signatures.
//
//   node --import tsx bench/dashboard.bench.ts [devices=10000] [eventsPerDevice=100] [runs=7] [sqlite|postgres|both=sqlite]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonicalJson } from '../src/core/canonical-json.js';
import { sha256Hex } from '../src/core/digest.js';
import { EVENT_PAYLOAD_TYPE, type EventBody } from '../src/core/event.js';
import { leafHash } from '../src/ledger/merkle.js';
import { openStore } from '../src/store/open.js';
import type { IngestEvent, Store } from '../src/store/store.js';
import { agent, guard, inventory, mcp, posture } from '../test/store/inventory-suite.js';
import { launchChromium, newDashboardPage, signIn, startDashboardServer } from '../test/support/browser.js';
import { startOidcProvider } from '../test/support/oidc-provider.js';
import { quantile } from './stats.js';
import { withPostgresDatabase, withSqliteDatabase } from './databases.js';

const devices = Number(process.argv[2] ?? 10_000);
const eventsPerDevice = Number(process.argv[3] ?? 100);
const runs = Number(process.argv[4] ?? 7);
const stores = (process.argv[5] ?? 'sqlite') === 'both' ? ['sqlite', 'postgres'] : [process.argv[5] ?? 'sqlite'];
const PEOPLE = 2_000;
const DAY_MS = 86_400_000;
const TOOLS = ['Bash', 'Read', 'Edit', 'Write', 'WebFetch', 'mcp__github__create_issue'];
const DENY_RULES = ['credentials.ssh', 'network.exfiltration', 'git.force-push', 'secrets.env-files', 'mcp.unapproved'];
const ASK_RULES = ['session.exfiltration-after-untrusted', 'shell.package-install'];

function person(p: number) {
  return { id: `per_${String(p).padStart(16, '0')}`, iss: 'https://idp.bench.example', sub: `user${p}`, email: `user${p}@bench.example`, name: `User ${p}`, groups: ['engineering'] };
}

/** One device's batch: its inventory first, then its tool calls over the last day, then a fresh heartbeat. */
function deviceEvents(d: number, deviceId: string, now: number): IngestEvent[] {
  const statuses = ['pass', 'fail', 'unknown'] as const;
  const start = now - DAY_MS + (d % 600) * 1000;
  const step = Math.floor((DAY_MS - 700_000) / eventsPerDevice);
  const events: IngestEvent[] = [];
  let prev = '';
  // Canonical JSON by construction: every object literal here has its keys in sorted order, and the values are
  // ASCII strings and integers, so JSON.stringify writes the canonical form (canonicalize costs 2.5 times as much).
  // Nested data that comes from elsewhere (the inventory) is put in that order once by canonicalJson.
  const push = (kind: string, data: Record<string, unknown>, extra: { session_id?: string; tool_use_id?: string } = {}) => {
    const seq = events.length + 1;
    const time = new Date(start + seq * step).toISOString();
    const body = {
      actor: { assurance: 'oidc', os_user: `user${d % PEOPLE}` },
      agent: { name: 'claude-code', version: `2.${d % 12}.${d % 7}` },
      data, device: { id: deviceId, key_id: `sha256:key-of-${deviceId}` }, kind, prev, seq,
      ...(extra.session_id && { session_id: extra.session_id }), time, ...(extra.tool_use_id && { tool_use_id: extra.tool_use_id }), v: 1,
    } satisfies EventBody;
    const payload = Buffer.from(JSON.stringify(body));
    const envelope = JSON.stringify({ payload: payload.toString('base64'), payloadType: EVENT_PAYLOAD_TYPE, signatures: [] });
    if (d === 0 && canonicalJson(body) !== payload.toString('utf8')) throw new Error(`not canonical: ${kind}`);
    const hash = sha256Hex(payload);
    const decision = data.decision as { decision: string; rules: string[]; policy_hash: string } | undefined;
    events.push({
      seq, prev, hash, leafHash: leafHash(Buffer.from(envelope)), envelope, time, kind,
      sessionId: extra.session_id, toolUseId: extra.tool_use_id, agentName: body.agent.name, agentVersion: body.agent.version,
      decision: decision?.decision, rules: decision?.rules ?? [], policyHash: decision?.policy_hash,
    });
    prev = hash;
  };
  push('inventory.reported', JSON.parse(canonicalJson(inventory({
    agents: [agent('claude-code', `2.${d % 12}.${d % 7}`), agent('codex-cli', `0.${160 + (d % 10)}.0`, d % 3 === 0 ? 'ungoverned' : 'governed'), agent('cursor', `1.${d % 5}.0`, 'unknown')],
    mcp_servers: [mcp('github', 'approved'), mcp('slack', 'approved'), mcp(`internal-${d % 50}`, 'approved'), mcp(d % 97 === 0 ? 'scraper' : 'jira', d % 97 === 0 ? 'unapproved' : 'approved')],
    posture: posture({ disk_encrypted: statuses[d % 3], firewall: 'pass', endpoint_protection: statuses[d % 2], screen_lock: 'pass', os_version: 'pass', patch_age: statuses[d % 3] }),
    guard: guard({ 'claude-code': d % 53 !== 0, 'codex-cli': true }, d % 89 !== 0),
  }))));
  for (let call = 0; events.length < eventsPerDevice - 1; call += 1) {
    const n = d * eventsPerDevice + call;
    const verdict = n % 25 === 0 ? 'ask' : n % 9 === 0 ? 'deny' : 'allow';
    const rules = verdict === 'deny' ? [DENY_RULES[n % DENY_RULES.length]] : verdict === 'ask' ? [ASK_RULES[n % ASK_RULES.length]] : ['baseline.no-objection'];
    const session = { session_id: `${deviceId}-s${Math.floor(call / 20)}`, tool_use_id: `toolu_${d}_${call}` };
    const tool = TOOLS[n % TOOLS.length];
    push('hook.PreToolUse', { decision: { decision: verdict, policy_hash: 'sha256:bench-policy', reason: rules[0], rules }, tool, tool_input: { command: `echo ${call}` } }, session);
  }
  push('guard.heartbeat', JSON.parse(canonicalJson({ ...guard({ 'claude-code': d % 53 !== 0 }, d % 89 !== 0), policy_hash: 'sha256:bench-policy', kills: [] })));
  return events;
}

async function fill(store: Store): Promise<number> {
  const started = performance.now();
  const now = Date.now();
  const at = new Date(now - 2 * DAY_MS).toISOString();
  for (let p = 0; p < PEOPLE; p += 1) await store.upsertPerson(person(p), at);
  const next = { d: 0 };
  const worker = async (): Promise<void> => {
    for (let d = next.d++; d < devices; d = next.d++) {
      const id = `dev_${String(d).padStart(16, '0')}`;
      await store.enrollDevice({
        id, keyId: `sha256:key-of-${id}`, publicKeyPem: '', personId: person(d % PEOPLE).id, assurance: 'oidc',
        hostname: `laptop-${String(d).padStart(5, '0')}`, os: ['linux', 'darwin', 'windows'][d % 3],
        certificate: '{}', enrolledAt: at,
      } as Parameters<Store['enrollDevice']>[0]);
      await store.ingest(id, deviceEvents(d, id, now), new Date().toISOString());
    }
  };
  // A few devices at a time, as a fleet uploads; PostgreSQL serialises ingests on the log lock anyway.
  await Promise.all(Array.from({ length: 4 }, worker));
  return (performance.now() - started) / 1000;
}

async function measure(label: string, db: string, dataDir: string): Promise<void> {
  const idp = await startOidcProvider();
  const server = await startDashboardServer({ idp, db, dataDir });
  const browser = await launchChromium();
  try {
    const page = await newDashboardPage(browser);
    await signIn(page, server, 'alice');
    // Each page, its data request (whose time, from request to last byte, is the server's share) and what shows it.
    const pages: [string, string, string, () => Promise<unknown>][] = [
      ['Overview', '/#/overview', '/v1/overview', () => page.getByRole('link', { name: new RegExp(`^${devices.toLocaleString('en-US')}\\s*Devices`) }).waitFor({ timeout: 30_000 })],
      ['Fleet', '/#/fleet', '/v1/inventory/devices', () => page.getByRole('row').filter({ hasText: 'laptop-' }).first().waitFor({ timeout: 30_000 })],
    ];
    for (const [name, path, api, loaded] of pages) {
      const samples: number[] = [];
      const apiSamples: number[] = [];
      for (let run = 0; run <= runs; run += 1) {
        await page.goto('about:blank');
        const answered = page.waitForEvent('requestfinished', { predicate: (request) => new URL(request.url()).pathname === api, timeout: 30_000 });
        const started = performance.now();
        await page.goto(server.url + path);
        await loaded();
        const elapsed = performance.now() - started;
        const apiMs = (await answered).timing().responseEnd;
        if (run > 0) samples.push(elapsed), apiSamples.push(apiMs); // the first run warms the caches
      }
      console.log(`${label}: ${name} rendered with data: median ${quantile(samples, 0.5).toFixed(0)} ms, p90 ${quantile(samples, 0.9).toFixed(0)} ms, max ${Math.max(...samples).toFixed(0)} ms; its ${api} request: median ${quantile(apiSamples, 0.5).toFixed(0)} ms, max ${Math.max(...apiSamples).toFixed(0)} ms (${runs} runs after a warm-up)`);
    }
  } finally {
    await browser.close();
    await server.close();
    await idp.close();
  }
}

async function run(label: string, db: string): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'writ-bench-dashboard-'));
  try {
    const store = await openStore(db);
    try {
      await store.migrate();
      const seconds = await fill(store);
      console.log(`${label}: filled ${devices} devices and ${devices * eventsPerDevice} events in ${seconds.toFixed(1)} s (${((devices * eventsPerDevice) / seconds).toFixed(0)} events/s)`);
    } finally {
      await store.close();
    }
    await measure(label, db, dataDir);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

for (const kind of stores) {
  if (kind === 'sqlite') {
    await withSqliteDatabase('writ-bench-dashboard-db-', (url) => run('sqlite', url));
  } else {
    await withPostgresDatabase((url) => run('postgres', url));
  }
}
