// The fleet inventory part of the store contract, run on every adapter by test/store/<adapter>.test.ts: ingest keeps
// the latest inventory per device from the events' own data, and the queries filter and page on the store.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AgentFinding, DeviceInventory, GuardReport, McpServerFinding, PostureReport } from '../../src/core/inventory.js';
import { postureChange } from '../../src/daemon/posture-collector.js';
import { leafHash } from '../../src/ledger/merkle.js';
import { versionKey } from '../../src/store/inventory-ingest.js';
import { StoreError, type IngestEvent, type Store } from '../../src/store/store.js';
import { ChainBuilder, deviceRecord, type StoreFactory } from './store-suite.js';

const T0 = Date.UTC(2026, 0, 1);
const at = (seconds: number): string => new Date(T0 + seconds * 1000).toISOString();
const NOW = new Date(T0 + 3600 * 1000);

/** A chain whose events carry `data` in their envelope, as a device's signed events do. */
export class InventoryChain {
  readonly chain: ChainBuilder;

  constructor(deviceId: string) {
    this.chain = new ChainBuilder(deviceId);
  }

  event(kind: string, data: unknown, seconds?: number): IngestEvent {
    const [event] = this.chain.next(1, (seq) => ({ kind, time: at(seconds ?? seq) }));
    const body = { device: this.chain.deviceId, seq: event.seq, kind, data };
    event.envelope = JSON.stringify({ payload: Buffer.from(JSON.stringify(body)).toString('base64'), payloadType: 'x', signatures: [] });
    event.leafHash = leafHash(Buffer.from(event.envelope));
    return event;
  }
}

export function agent(id: string, version: string | undefined, governance: AgentFinding['governance'] = 'governed'): AgentFinding {
  return { id, name: id, kind: 'cli', ...(version && { version }), governance, governance_reason: 'test', running: false, evidence: [] };
}

export function mcp(name: string, approval: McpServerFinding['approval'], fingerprint = `sha256:${name}`): McpServerFinding {
  return { agent: 'claude-code', scope: 'user', file: '/home/dev/.claude.json', name, transport: 'stdio', command: 'npx', fingerprint, approval, env_names: [], header_names: [] };
}

export function posture(checks: Record<string, 'pass' | 'fail' | 'unknown'>): PostureReport {
  return { collected_at: at(1), checks: Object.entries(checks).map(([name, status]) => ({ name: name as 'firewall', status, checked_at: at(1) })) };
}

export function guard(hooks: Record<string, boolean>, passed?: boolean): GuardReport {
  return {
    agents: Object.entries(hooks).map(([name, installed]) => ({ agent: name, hooks_installed: installed, settings: [], problems: [] })),
    ...(passed !== undefined && { self_test: { at: at(2), passed, detail: passed ? 'ok' : 'hook did not answer' } }),
    uncovered_calls: [],
  };
}

export function inventory(parts: Partial<DeviceInventory> = {}): DeviceInventory {
  return { v: 1, collected_at: at(1), agents: [], mcp_servers: [], findings: [], ...parts };
}

export function runInventorySuite(name: string, factory: StoreFactory): void {
  const withStore = (fn: (store: Store) => Promise<void>) => async () => {
    const store = await factory.open();
    try {
      await fn(store);
    } finally {
      await store.close();
    }
  };
  const only = async (store: Store, deviceId: string) => {
    const page = await store.deviceInventories({}, NOW);
    const record = page.items.find((item) => item.deviceId === deviceId);
    assert.ok(record, `${deviceId} has an inventory`);
    return record;
  };
  const ids = async (store: Store, filter: Parameters<Store['deviceInventories']>[0]) =>
    (await store.deviceInventories(filter, NOW)).items.map((item) => item.deviceId);

  describe(`${name} store: fleet inventory`, () => {
    it('keeps the latest inventory, posture and guard of a device, each from its newest event', withStore(async (store) => {
      await store.enrollDevice(deviceRecord('dev_1'));
      const device = new InventoryChain('dev_1');
      const first = inventory({
        agents: [agent('claude-code', '2.1.0'), agent('codex-cli', '0.1.0', 'ungoverned')],
        mcp_servers: [mcp('github', 'approved')],
        posture: posture({ disk_encrypted: 'fail' }),
        guard: guard({ 'claude-code': false }),
      });
      await store.ingest('dev_1', [device.event('inventory.reported', first), device.event('hook.PreToolUse', {})], at(10));
      let record = await only(store, 'dev_1');
      assert.deepEqual(record.agents.map((a) => [a.agentId, a.version, a.governance]), [['claude-code', '2.1.0', 'governed'], ['codex-cli', '0.1.0', 'ungoverned']]);
      assert.deepEqual(record.posture.map((c) => [c.name, c.status]), [['disk_encrypted', 'fail']]);
      assert.deepEqual(record.guard.hooks, [{ agent: 'claude-code', hooksInstalled: false }]);
      assert.equal(record.guard.heartbeatAt, undefined, 'an inventory is not a heartbeat');

      // A heartbeat and a posture change replace their parts only; a later inventory replaces agents and servers.
      const heartbeat = { ...guard({ 'claude-code': true }, true), policy_hash: 'sha256:p1', kills: [] };
      const change = { changed: ['disk_encrypted'], previous: posture({ disk_encrypted: 'fail' }), current: posture({ disk_encrypted: 'pass' }) };
      const second = inventory({ agents: [agent('claude-code', '2.2.0')], mcp_servers: [mcp('slack', 'unapproved')] });
      await store.ingest('dev_1', [device.event('guard.heartbeat', heartbeat, 30), device.event('posture.changed', change), device.event('inventory.reported', second)], at(40));
      record = await only(store, 'dev_1');
      assert.deepEqual(record, {
        deviceId: 'dev_1',
        personId: 'per_alice',
        hostname: 'dev_1.example',
        os: 'linux',
        collectedAt: at(1),
        agents: [{ agentId: 'claude-code', name: 'claude-code', version: '2.2.0', governance: 'governed', running: false }],
        mcpServers: [{ agent: 'claude-code', scope: 'user', name: 'slack', transport: 'stdio', fingerprint: 'sha256:slack', approval: 'unapproved', command: 'npx' }],
        posture: [{ name: 'disk_encrypted', status: 'pass', checkedAt: at(1) }],
        guard: { hooks: [{ agent: 'claude-code', hooksInstalled: true }], heartbeatAt: at(30), policyHash: 'sha256:p1', selfTest: { passed: true, at: at(2), detail: 'ok' } },
        findings: [],
        problems: [],
      });
    }));

    it('applies a posture change as the daemon sends it: only the checks it names, checked at the event time', withStore(async (store) => {
      await store.enrollDevice(deviceRecord('dev_1'));
      const device = new InventoryChain('dev_1');
      const before = posture({ disk_encrypted: 'pass', firewall: 'pass', screen_lock: 'unknown' });
      const after = posture({ disk_encrypted: 'pass', firewall: 'fail', screen_lock: 'unknown' });
      const change = postureChange(before, after);
      assert.deepEqual(change?.changed, ['firewall']);
      await store.ingest('dev_1', [device.event('inventory.reported', inventory({ posture: before }))], at(10));
      await store.ingest('dev_1', [device.event('posture.changed', change, 20)], at(20));
      const record = await only(store, 'dev_1');
      assert.deepEqual(record.posture, [
        { name: 'disk_encrypted', status: 'pass', checkedAt: at(1) },
        { name: 'firewall', status: 'fail', checkedAt: at(20) },
        { name: 'screen_lock', status: 'unknown', checkedAt: at(1) },
      ]);
    }));

    it('never lets an older event overwrite a newer one: within a batch, and when a batch is sent again', withStore(async (store) => {
      await store.enrollDevice(deviceRecord('dev_1'));
      const device = new InventoryChain('dev_1');
      const older = device.event('inventory.reported', inventory({ agents: [agent('claude-code', '1.0.0')], posture: posture({ firewall: 'fail' }) }));
      const newerPosture = device.event('posture.changed', { changed: ['firewall'], previous: posture({ firewall: 'fail' }), current: posture({ firewall: 'pass' }) });
      const newer = device.event('inventory.reported', inventory({ agents: [agent('claude-code', '2.0.0')] }));
      // Out of order in the request: the store sequences by seq, so the newest still wins.
      await store.ingest('dev_1', [newer, older, newerPosture], at(10));
      const expect = async () => {
        const record = await only(store, 'dev_1');
        assert.deepEqual(record.agents.map((a) => a.version), ['2.0.0']);
        assert.deepEqual(record.posture.map((c) => c.status), ['pass'], 'the posture change (seq 2) beats the posture in the inventory of seq 1');
      };
      await expect();
      const again = await store.ingest('dev_1', [older], at(20));
      assert.deepEqual(again.sequenced, [{ seq: 1, index: 0, duplicate: true }]);
      await expect();
    }));

    it('keeps what is well formed in malformed inventory data, records why the rest was ignored, and still ingests the event', withStore(async (store) => {
      await store.enrollDevice(deviceRecord('dev_1'));
      const device = new InventoryChain('dev_1');
      const good = inventory({ agents: [agent('claude-code', '2.1.0')] });
      await store.ingest('dev_1', [device.event('inventory.reported', good)], at(10));
      const hostile = {
        v: 1,
        agents: [agent('cursor', '1.0.0'), { name: 'no id' }, 'text', { ...agent('x', '1'), governance: 'maybe' }],
        mcp_servers: [mcp('github', 'approved'), { ...mcp('evil', 'approved'), approval: 'yes' }],
        posture: 'off',
        guard: { agents: [{ agent: 'claude-code', hooks_installed: 'yes' }], self_test: { passed: 'sure' } },
        findings: [{ severity: 'error', subject: 'settings', message: 'unreadable' }, 7],
      };
      const events = [
        device.event('inventory.reported', hostile),
        device.event('inventory.reported', { v: 2, agents: [] }),
        device.event('guard.heartbeat', ['not', 'an', 'object']),
        device.event('posture.changed', { current: { checks: 'none' } }),
      ];
      const result = await store.ingest('dev_1', events, at(20));
      assert.equal(result.stop, undefined);
      assert.deepEqual(result.sequenced.map((s) => s.duplicate), [false, false, false, false], 'every event is in the log');
      assert.equal(await store.logSize(), 5);

      const record = await only(store, 'dev_1');
      assert.deepEqual(record.agents.map((a) => a.agentId), ['cursor'], 'the well-formed agent replaces the last inventory');
      assert.deepEqual(record.mcpServers.map((m) => m.name), ['github']);
      assert.deepEqual(record.findings, [{ severity: 'error', subject: 'settings', message: 'unreadable' }]);
      assert.deepEqual(record.guard.hooks, [], 'the guard part had no readable agent');
      assert.deepEqual(record.posture, [], 'the posture change had no readable check');
      const messages = record.problems.map((p) => `${p.subject}: ${p.message}`);
      for (const expected of [
        /^inventory.reported seq 2: agents\[1\] ignored: `id` is not a string$/,
        /^inventory.reported seq 2: agents\[2\] ignored: not an object$/,
        /^inventory.reported seq 2: agents\[3\] ignored: `governance`/,
        /^inventory.reported seq 2: mcp_servers\[1\] ignored: `approval`/,
        /^inventory.reported seq 2: posture is not an object; ignored$/,
        /^inventory.reported seq 2: guard.agents\[0\] ignored: `hooks_installed`/,
        /^inventory.reported seq 2: self_test ignored/,
        /^inventory.reported seq 2: findings\[1\] ignored/,
        /^inventory.reported seq 3: inventory version `2` is not 1; ignored$/,
        /^guard.heartbeat seq 4: data is not an object; ignored$/,
        /^posture.changed seq 5: current.checks is not a list; ignored$/,
      ]) {
        assert.ok(messages.some((message) => expected.test(message)), `a problem matching ${expected} in ${JSON.stringify(messages, null, 1)}`);
      }
    }));

    it('finds devices by agent and semver version, MCP server, approval, person, posture and guard health', withStore(async (store) => {
      await store.upsertPerson({ id: 'per_bob', iss: 'https://idp', sub: 'bob', email: 'bob@example.com', groups: [] }, at(0));
      const fleet: [string, DeviceInventory][] = [
        ['dev_a', inventory({ agents: [agent('claude-code', '2.9.0')], mcp_servers: [mcp('github', 'approved')], posture: posture({ disk_encrypted: 'pass' }), guard: guard({ 'claude-code': true }, true) })],
        ['dev_b', inventory({ agents: [agent('claude-code', '2.10.0')], mcp_servers: [mcp('scraper', 'unapproved')], posture: posture({ disk_encrypted: 'fail' }), guard: guard({ 'claude-code': false }, false) })],
        ['dev_c', inventory({ agents: [agent('claude-code', '2.1.0-beta.2'), agent('codex-cli', '0.169.0')], mcp_servers: [mcp('github', 'approved', 'sha256:other')] })],
        ['dev_d', inventory({ agents: [agent('claude-code', 'unknown build')], posture: posture({ disk_encrypted: 'unknown' }) })],
      ];
      for (const [id, report] of fleet) {
        await store.enrollDevice(deviceRecord(id, id === 'dev_b' ? { personId: 'per_bob' } : {}));
        const device = new InventoryChain(id);
        const events = [device.event('inventory.reported', report)];
        if (id === 'dev_a') events.push(device.event('guard.heartbeat', { ...guard({ 'claude-code': true }, true), policy_hash: 'p', kills: [] }, 3590));
        if (id === 'dev_b') events.push(device.event('guard.heartbeat', { ...guard({ 'claude-code': false }, false), policy_hash: 'p', kills: [] }, 600));
        await store.ingest(id, events, at(10));
      }

      assert.deepEqual(await ids(store, { agent: 'claude-code', versionBelow: '2.10.0' }), ['dev_a', 'dev_c'], '2.9.0 and a 2.1.0 pre-release are older than 2.10.0');
      assert.deepEqual(await ids(store, { agent: 'claude-code', versionBelow: '2.1.0' }), ['dev_c'], 'a pre-release is older than its release');
      assert.deepEqual(await ids(store, { agent: 'codex-cli' }), ['dev_c']);
      assert.deepEqual(await ids(store, { agent: 'claude-code', version: '2.9.0' }), ['dev_a']);
      assert.deepEqual(await ids(store, { mcp: 'github' }), ['dev_a', 'dev_c']);
      assert.deepEqual(await ids(store, { mcp: 'sha256:other' }), ['dev_c'], 'by fingerprint');
      assert.deepEqual(await ids(store, { approval: 'unapproved' }), ['dev_b']);
      assert.deepEqual(await ids(store, { mcp: 'github', approval: 'unapproved' }), []);
      assert.deepEqual(await ids(store, { person: 'per_bob' }), ['dev_b']);
      assert.deepEqual(await ids(store, { person: 'bob@example.com' }), ['dev_b']);
      assert.deepEqual(await ids(store, { posture: { check: 'disk_encrypted', statuses: ['fail', 'unknown'] } }), ['dev_b', 'dev_c', 'dev_d'], 'a check never reported is unknown');
      assert.deepEqual(await ids(store, { posture: { check: 'disk_encrypted', statuses: ['pass'] } }), ['dev_a']);
      assert.deepEqual(await ids(store, { guard: { hooksOff: true } }), ['dev_b']);
      assert.deepEqual(await ids(store, { guard: { selfTestFailed: true } }), ['dev_b']);
      assert.deepEqual(await ids(store, { guard: { heartbeatOlderThanMinutes: 30 } }), ['dev_b', 'dev_c', 'dev_d'], 'no heartbeat at all is stale');
      assert.deepEqual(await ids(store, { guard: { heartbeatOlderThanMinutes: 30 }, agent: 'codex-cli' }), ['dev_c'], 'filters combine');

      const page = await store.deviceInventories({ offset: 1, limit: 2 }, NOW);
      assert.deepEqual([page.items.map((item) => item.deviceId), page.total], [['dev_b', 'dev_c'], 4]);
      const filteredTotal = await store.deviceInventories({ agent: 'claude-code', limit: 1 }, NOW);
      assert.deepEqual([filteredTotal.items.length, filteredTotal.total], [1, 4]);
      await assert.rejects(store.deviceInventories({ versionBelow: 'latest' }, NOW), (error) => error instanceof StoreError && error.code === 'INVALID_INPUT');

      const agents = await store.inventoryAgents(0, 100);
      assert.deepEqual(agents.items.map((a) => [a.agentId, a.version, a.devices, a.governed, a.ungoverned]), [
        ['claude-code', '2.10.0', 1, 1, 0],
        ['claude-code', '2.9.0', 1, 1, 0],
        ['claude-code', '2.1.0-beta.2', 1, 1, 0],
        ['claude-code', 'unknown build', 1, 1, 0],
        ['codex-cli', '0.169.0', 1, 1, 0],
      ]);
      assert.equal(agents.total, 5);
      const servers = await store.inventoryMcpServers({ offset: 0, limit: 100 });
      assert.deepEqual(servers.items, [
        { name: 'github', fingerprint: 'sha256:github', devices: 1, approved: 1, unapproved: 0, denied: 0 },
        { name: 'github', fingerprint: 'sha256:other', devices: 1, approved: 1, unapproved: 0, denied: 0 },
        { name: 'scraper', fingerprint: 'sha256:scraper', devices: 1, approved: 0, unapproved: 1, denied: 0 },
      ]);
      const unapproved = await store.inventoryMcpServers({ approval: 'unapproved', offset: 0, limit: 100 });
      assert.deepEqual([unapproved.items.map((s) => s.name), unapproved.total], [['scraper'], 1]);
    }));

    it('orders versions by semver precedence, not as strings', () => {
      const ordered = ['1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0', '1.2', '1.10.0', '2.0.0 (Claude Code)', '10.0.0'];
      const keys = ordered.map((version) => versionKey(version));
      assert.ok(keys.every((key) => key !== undefined));
      assert.deepEqual([...keys].sort(), keys);
      assert.equal(versionKey('latest'), undefined);
      assert.equal(versionKey('1.2.3abc'), undefined);
    });
  });
}
