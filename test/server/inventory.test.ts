// The fleet inventory over real HTTP: devices with real keys upload signed inventory, heartbeat and posture events
// through /v1/ingest, and the inventory API finds them, counts them, pages them and refuses bad queries.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import type { DeviceInventory } from '../../src/core/inventory.js';
import { SimulatedDevice, startTestServer, type TestServer } from '../support/server.js';
import { agent, guard, inventory, mcp, posture } from '../store/inventory-suite.js';
import { GUARD_PATH } from '../../src/daemon/daemon.js';
import { startControlPlane, startEnrolledDaemon, waitFor } from '../support/control-plane.js';
import { WRIT_BIN, writEnv } from '../support/writ-process.js';

let server: TestServer;
const get = async (path: string, token = server.adminToken) => {
  const response = await fetch(server.url + path, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, body: (await response.json()) as any };
};
const deviceIds = async (query: string) => {
  const answer = await get(`/v1/inventory/devices?${query}`);
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return (answer.body.items as { device_id: string }[]).map((item) => item.device_id);
};

async function ingest(device: SimulatedDevice, events: unknown[]) {
  const response = await device.request(`${server.url}/v1/ingest`, 'POST', { events });
  const body = (await response.json()) as any;
  assert.equal(response.status, 200, JSON.stringify(body));
  return body;
}

async function token(role: string): Promise<string> {
  const response = await fetch(`${server.url}/v1/tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: `${role}-${Math.random()}`, role }),
  });
  return ((await response.json()) as { secret: string }).secret;
}

/** Enrols as the local user `osUser`, so devices can belong to different people. */
async function enrolled(osUser = 'dev'): Promise<SimulatedDevice> {
  const device = new SimulatedDevice();
  const response = await device.request(`${server.url}/v1/enroll`, 'POST', { public_key_pem: device.publicKeyPem, os_user: osUser, hostname: `host-${osUser}` }, { authorization: `Bearer ${server.adminToken}` });
  assert.equal(response.status, 200);
  return device;
}

const report = (device: SimulatedDevice, data: DeviceInventory | Record<string, unknown>) => device.events(1, { kind: 'inventory.reported', session_id: undefined, tool_use_id: undefined, data: data as Record<string, unknown> });
const heartbeat = (device: SimulatedDevice, hooks: Record<string, boolean>, passed: boolean, time = new Date().toISOString()) =>
  device.events(1, { kind: 'guard.heartbeat', time, session_id: undefined, tool_use_id: undefined, data: { ...guard(hooks, passed), policy_hash: 'sha256:p', kills: [] } as unknown as Record<string, unknown> });

const sorted = (ids: string[]) => [...ids].sort();

before(async () => {
  server = await startTestServer();
});
after(async () => server.close());

describe('fleet inventory API', () => {
  let alice: SimulatedDevice;
  let bob: SimulatedDevice;
  let carol: SimulatedDevice;

  before(async () => {
    alice = await enrolled('alice');
    bob = await enrolled('bob');
    carol = await enrolled('carol');
    await ingest(alice, [
      ...alice.events(2),
      ...report(alice, inventory({ agents: [agent('claude-code', '2.9.0')], mcp_servers: [mcp('github', 'approved')], posture: posture({ disk_encrypted: 'pass' }) })),
      ...heartbeat(alice, { 'claude-code': true }, true),
    ]);
    await ingest(bob, [
      ...report(bob, inventory({ agents: [agent('claude-code', '2.10.0'), agent('codex-cli', '0.169.0', 'ungoverned')], mcp_servers: [mcp('scraper', 'unapproved'), mcp('github', 'approved')], posture: posture({ disk_encrypted: 'fail' }) })),
      ...heartbeat(bob, { 'claude-code': false }, false, '2026-01-01T00:00:00.000Z'),
    ]);
    await ingest(carol, report(carol, inventory({ agents: [agent('claude-code', '2.0.5')] })));
  });

  it('finds the devices that uploaded signed inventories, by what they run, their posture and their guard', async () => {
    assert.deepEqual(sorted(await deviceIds('agent=claude-code&version_lt=2.10.0')), sorted([alice.id, carol.id]), 'semver: 2.9.0 < 2.10.0');
    assert.deepEqual(await deviceIds('approval=unapproved'), [bob.id]);
    assert.deepEqual(sorted(await deviceIds('mcp=github')), sorted([alice.id, bob.id]));
    assert.deepEqual(await deviceIds(`mcp=${encodeURIComponent('sha256:scraper')}`), [bob.id], 'by fingerprint');
    assert.deepEqual(sorted(await deviceIds(`posture=${encodeURIComponent('disk_encrypted=fail|unknown')}`)), sorted([bob.id, carol.id]));
    assert.deepEqual(await deviceIds('guard=off'), [bob.id]);
    assert.deepEqual(await deviceIds('guard=self_test_failed'), [bob.id]);
    assert.deepEqual(sorted(await deviceIds('guard=stale:60')), sorted([bob.id, carol.id]), 'an old heartbeat and none at all');
    const device = await get(`/v1/devices/${bob.id}`);
    assert.deepEqual(await deviceIds(`person=${device.body.personId}`), [bob.id]);

    const one = await get(`/v1/inventory/devices?agent=codex-cli`);
    assert.equal(one.body.total, 1);
    const [record] = one.body.items;
    assert.equal(record.hostname, 'host-bob');
    assert.deepEqual(record.agents.map((a: any) => [a.id, a.version, a.governance]), [['claude-code', '2.10.0', 'governed'], ['codex-cli', '0.169.0', 'ungoverned']]);
    assert.deepEqual(record.guard.agents, [{ agent: 'claude-code', hooks_installed: false }]);
    assert.equal(record.guard.heartbeat_at, '2026-01-01T00:00:00.000Z');
    assert.deepEqual(record.posture.map((c: any) => [c.name, c.status]), [['disk_encrypted', 'fail']]);

    const first = await get('/v1/inventory/devices?limit=2');
    const rest = await get('/v1/inventory/devices?limit=2&offset=2');
    assert.equal(first.body.total, 3);
    assert.deepEqual(sorted([...first.body.items, ...rest.body.items].map((item: any) => item.device_id)), sorted([alice.id, bob.id, carol.id]));
  });

  it('counts agents by version with governance, and MCP servers with approvals', async () => {
    const agents = await get('/v1/inventory/agents');
    assert.equal(agents.status, 200);
    assert.deepEqual(agents.body.items.map((a: any) => [a.id, a.version, a.devices, a.governed, a.ungoverned]), [
      ['claude-code', '2.10.0', 1, 1, 0],
      ['claude-code', '2.9.0', 1, 1, 0],
      ['claude-code', '2.0.5', 1, 1, 0],
      ['codex-cli', '0.169.0', 1, 0, 1],
    ]);
    const servers = await get('/v1/inventory/mcp-servers');
    assert.deepEqual(servers.body.items, [
      { name: 'github', fingerprint: 'sha256:github', devices: 2, approved: 2, unapproved: 0, denied: 0 },
      { name: 'scraper', fingerprint: 'sha256:scraper', devices: 1, approved: 0, unapproved: 1, denied: 0 },
    ]);
    const unapproved = await get('/v1/inventory/mcp-servers?approval=unapproved');
    assert.deepEqual(unapproved.body.items.map((s: any) => s.name), ['scraper']);
  });

  it('keeps the newest inventory when an older event is uploaded again, and stores malformed data as problems', async () => {
    const dave = await enrolled('dave');
    const older = report(dave, inventory({ agents: [agent('claude-code', '1.0.0')] }));
    const newer = report(dave, inventory({ agents: [agent('claude-code', '2.0.0')] }));
    await ingest(dave, [...older, ...newer]);
    const resent = await ingest(dave, older);
    assert.equal(resent.sequenced[0].duplicate, true);
    const find = async () => (await get('/v1/inventory/devices?person=' + encodeURIComponent((await get(`/v1/devices/${dave.id}`)).body.personId))).body.items[0];
    assert.deepEqual((await find()).agents.map((a: any) => a.version), ['2.0.0']);

    const malformed = report(dave, { v: 1, agents: [{ version: '9' }, agent('cursor', '1.0.0')], mcp_servers: 'none', findings: [] });
    const answer = await ingest(dave, malformed);
    assert.equal(answer.head_seq, 3, 'the malformed event is in the log');
    const record = await find();
    assert.deepEqual(record.agents.map((a: any) => a.id), ['cursor']);
    assert.deepEqual(record.problems.map((p: any) => `${p.subject}: ${p.message}`), [
      'inventory.reported seq 3: agents[0] ignored: `id` is not a string',
      'inventory.reported seq 3: mcp_servers is not a list; ignored',
    ]);
  });

  it('lets auditors read, not enrollers or strangers', async () => {
    assert.equal((await get('/v1/inventory/agents', await token('auditor'))).status, 200);
    assert.equal((await get('/v1/inventory/devices', await token('enroller'))).status, 403);
    assert.equal((await fetch(`${server.url}/v1/inventory/mcp-servers`)).status, 401);
  });

  it('answers bad query values with a 400 that says what is wrong', async () => {
    for (const [query, message] of [
      ['version_lt=latest', /version_lt must be a semantic version/],
      ['posture=disk_encrypted', /posture must be CHECK=STATUS/],
      [`posture=${encodeURIComponent('disk_encrypted=maybe')}`, /posture status `maybe` is not one of pass, fail, unknown/],
      ['guard=sometimes', /guard takes off, self_test_failed or stale:MINUTES/],
      ['guard=stale:0', /not `stale:0`/],
      ['approval=maybe', /approval must be equal to one of the allowed values/],
      ['limit=0', /limit must be >= 1/],
    ] as const) {
      const answer = await get(`/v1/inventory/devices?${query}`);
      assert.equal(answer.status, 400, query);
      assert.match(answer.body.error.message, message, query);
    }
  });

  it('answers `writ fleet inventory` (run `npm run build` first)', async () => {
    const home = mkdtempSync(join(tmpdir(), 'writ-inventory-cli-'));
    // Asynchronous: the server answering the CLI runs in this process.
    const writ = async (...args: string[]) => {
      try {
        const { stdout, stderr } = await promisify(execFile)(process.execPath, [WRIT_BIN, 'fleet', 'inventory', ...args, '--server', server.url, '--token', server.adminToken], { env: writEnv(home) });
        return { code: 0, stdout, stderr };
      } catch (error) {
        const failed = error as { code: number; stdout: string; stderr: string };
        return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
      }
    };
    try {
      const unapproved = await writ('--unapproved', '--json');
      assert.equal(unapproved.code, 0, unapproved.stderr);
      assert.deepEqual(JSON.parse(unapproved.stdout).map((d: any) => d.device_id), [bob.id]);
      const older = await writ('--agent', 'claude-code', '--older-than', '2.1.0');
      assert.equal(older.code, 0, older.stderr);
      assert.match(older.stdout, new RegExp(`^${carol.id}  host-carol  per_\\w+  claude-code 2.0.5 \\(governed\\)  no MCP servers  heartbeat never\\n$`));
      const guardOff = await writ('--guard', 'off', '--posture', 'disk_encrypted=fail');
      assert.match(guardOff.stdout, /hooks off: claude-code; self-test failed; heartbeat 2026-01-01T00:00:00.000Z  posture: disk_encrypted=fail/);
      const servers = await writ('mcp', '--unapproved');
      assert.equal(servers.stdout, 'scraper  sha256:scraper  1 devices  approved 0  unapproved 1  denied 0\n');
      const bad = await writ('--older-than', 'newest');
      assert.notEqual(bad.code, 0);
      assert.match(bad.stderr, /version_lt must be a semantic version/);
      const misuse = await writ('agents', '--agent', 'x');
      assert.equal(misuse.code, 2);
      assert.match(misuse.stderr, /--agent filters devices/);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('is described in the OpenAPI document', async () => {
    const document = await get('/v1/openapi.json');
    for (const path of ['/v1/inventory/devices', '/v1/inventory/agents', '/v1/inventory/mcp-servers']) assert.ok(document.body.paths[path]?.get, path);
    const names = document.body.paths['/v1/inventory/devices'].get.parameters.map((p: any) => p.name);
    for (const name of ['agent', 'version_lt', 'mcp', 'approval', 'person', 'posture', 'guard', 'offset', 'limit']) assert.ok(names.includes(name), name);
  });
});

describe('fleet inventory from a real daemon', () => {
  it('finds an enrolled daemon by the inventory and heartbeat it signs and uploads itself', async () => {
    const plane = await startControlPlane();
    const root = mkdtempSync(join(tmpdir(), 'writ-inventory-daemon-'));
    const userHome = join(root, 'user');
    mkdirSync(join(userHome, '.claude'), { recursive: true });
    const enrolled = await startEnrolledDaemon(plane);
    const deviceId = enrolled.enrollment.device_id;
    const find = async (query: string) => {
      const answer = await plane.admin('GET', `/v1/inventory/devices?${query}`);
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      return (answer.body.items as { device_id: string; guard: { heartbeat_at?: string; agents: unknown[] } }[]).find((item) => item.device_id === deviceId);
    };
    try {
      // Restarted with a user home whose Claude Code settings have no Writ hooks: the guard is off there.
      await enrolled.daemon.close();
      await enrolled.restart({ guard: { intervalMs: 60 * 60 * 1000, firstInventoryDelayMs: 0, userHome, managedDir: join(root, 'managed'), discovery: false } });
      await waitFor(async () => (await find('guard=off')) !== undefined, 'the daemon’s inventory with the guard off');
      const reported = (await find('guard=off'))!;
      assert.deepEqual(reported.guard.agents, [{ agent: 'claude-code', hooks_installed: false }]);
      assert.equal(reported.guard.heartbeat_at, undefined);
      assert.ok(await find('guard=stale:5'), 'no heartbeat yet');

      const answer = await new Promise<number>((resolve, reject) => {
        const req = request({ socketPath: enrolled.home.socket, method: 'POST', path: GUARD_PATH }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end();
      });
      assert.equal(answer, 200);
      await waitFor(async () => (await find(''))?.guard.heartbeat_at !== undefined, 'the heartbeat');
      assert.equal(await find('guard=stale:5'), undefined, 'a fresh heartbeat is not stale');
    } finally {
      await enrolled.daemon.close();
      await plane.close();
      rmSync(root, { recursive: true, force: true });
    }
  });
});
