// Fleet inventory queries on 10,000 devices: each device's latest inventory (3 agents, 4 MCP servers, 6 posture
// checks, guard state) is ingested through the store's ingest path, then each query of the inventory API is timed
// on SQLite (a file) and PostgreSQL. The figures are the store's; HTTP adds its own small cost.
//
//   node --import tsx bench/inventory.bench.ts [devices=10000] [rounds=30]
import { openStore } from '../src/store/open.js';
import type { InventoryFilter, Store } from '../src/store/store.js';
import { agent, guard, InventoryChain, inventory, mcp, posture } from '../test/store/inventory-suite.js';
import { deviceRecord } from '../test/store/store-suite.js';
import { quantile } from './stats.js';
import { withPostgresDatabase, withSqliteDatabase } from './databases.js';

const devices = Number(process.argv[2] ?? 10_000);
const rounds = Number(process.argv[3] ?? 30);
const NOW = new Date(Date.UTC(2026, 0, 1, 1));

async function load(store: Store): Promise<number> {
  const started = performance.now();
  // Eight devices at a time, as several devices upload at once; PostgreSQL serialises ingests on the log lock.
  const next = { d: 0 };
  const worker = async (): Promise<void> => {
    for (let d = next.d++; d < devices; d = next.d++) await loadDevice(store, d);
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return (performance.now() - started) / 1000;
}

async function loadDevice(store: Store, d: number): Promise<void> {
  const statuses = ['pass', 'fail', 'unknown'] as const;
  const id = `dev_${String(d).padStart(6, '0')}`;
  await store.enrollDevice(deviceRecord(id, { personId: `per_${d % 2000}` }));
  const chain = new InventoryChain(id);
  const report = inventory({
    agents: [agent('claude-code', `2.${d % 12}.${d % 7}`), agent('codex-cli', `0.${160 + (d % 10)}.0`, d % 3 === 0 ? 'ungoverned' : 'governed'), agent('cursor', `1.${d % 5}.0`, 'unknown')],
    mcp_servers: [mcp('github', 'approved'), mcp('slack', 'approved'), mcp(`internal-${d % 50}`, 'approved'), mcp(d % 97 === 0 ? 'scraper' : 'jira', d % 97 === 0 ? 'unapproved' : 'approved')],
    posture: posture({ disk_encrypted: statuses[d % 3], firewall: 'pass', endpoint_protection: statuses[d % 2], screen_lock: 'pass', os_version: 'pass', patch_age: statuses[d % 3] }),
    guard: guard({ 'claude-code': d % 53 !== 0, 'codex-cli': true }, d % 89 !== 0),
  });
  const heartbeat = { ...guard({ 'claude-code': d % 53 !== 0 }, d % 89 !== 0), policy_hash: 'sha256:p', kills: [] };
  await store.ingest(id, [chain.event('inventory.reported', report), chain.event('guard.heartbeat', heartbeat, d % 61 === 0 ? 0 : 3500)], NOW.toISOString());
}

const QUERIES: [string, (store: Store) => Promise<{ total: number }>][] = [
  ['devices, first page of 100', (s) => s.deviceInventories({ limit: 100 }, NOW)],
  ['devices, page 50 (offset 4,900)', (s) => s.deviceInventories({ offset: 4900, limit: 100 }, NOW)],
  ['agent=claude-code&version_lt=2.5.0', (s) => s.deviceInventories({ agent: 'claude-code', versionBelow: '2.5.0', limit: 100 }, NOW)],
  ['approval=unapproved', (s) => s.deviceInventories({ approval: 'unapproved', limit: 100 }, NOW)],
  ['mcp=github', (s) => s.deviceInventories({ mcp: 'github', limit: 100 }, NOW)],
  ['posture=disk_encrypted=fail|unknown', (s) => s.deviceInventories({ posture: { check: 'disk_encrypted', statuses: ['fail', 'unknown'] }, limit: 100 } satisfies InventoryFilter, NOW)],
  ['guard=off,self_test_failed,stale:30', (s) => s.deviceInventories({ guard: { hooksOff: true, selfTestFailed: true, heartbeatOlderThanMinutes: 30 }, limit: 100 }, NOW)],
  ['person=per_7', (s) => s.deviceInventories({ person: 'per_7', limit: 100 }, NOW)],
  ['agents (counts)', (s) => s.inventoryAgents(0, 100)],
  ['mcp-servers (counts)', (s) => s.inventoryMcpServers({ offset: 0, limit: 100 })],
];

async function run(label: string, spec: string): Promise<void> {
  const store = await openStore(spec);
  try {
    await store.migrate();
    const seconds = await load(store);
    console.log(`${label}: loaded ${devices} device inventories in ${seconds.toFixed(1)} s (${(devices / seconds).toFixed(0)} devices/s, 2 events each)`);
    for (const [name, query] of QUERIES) {
      const samples: number[] = [];
      let total = 0;
      for (let r = 0; r < rounds; r += 1) {
        const started = performance.now();
        total = (await query(store)).total;
        samples.push(performance.now() - started);
      }
      console.log(`${label}: ${name}: median ${quantile(samples, 0.5).toFixed(1)} ms, p90 ${quantile(samples, 0.9).toFixed(1)} ms (total ${total}, ${rounds} rounds)`);
    }
  } finally {
    await store.close();
  }
}

await withSqliteDatabase('writ-bench-inventory-', (url) => run('sqlite', url));
await withPostgresDatabase((url) => run('postgres', url));
