// GET /v1/overview on real servers over SQLite and PostgreSQL: devices upload signed decisions, inventory,
// heartbeats and posture through /v1/ingest and ask for an approval; the overview counts them in SQL, buckets
// decisions by hour, ranks denied rules, leaves out what is older than `since`, and answers the six questions and
// the maturity level for the fleet. Auditors read it; bad windows are refused.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { approvalDigest } from '../../src/core/approval.js';
import { agent, guard, inventory, mcp, posture } from '../store/inventory-suite.js';
import { SimulatedDevice, startTestServer, type TestServer } from '../support/server.js';

const DATABASE_URL = process.env.WRIT_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const HOUR = 3_600_000;

function overviewSuite(name: string, database: () => Promise<{ db: string; drop(): Promise<void> }>) {
  describe(`overview on ${name}`, () => {
    let server: TestServer;
    let drop: () => Promise<void>;
    const get = async (path: string, token = server.adminToken) => {
      const response = await fetch(server.url + path, { headers: token ? { authorization: `Bearer ${token}` } : {} });
      return { status: response.status, body: (await response.json()) as any };
    };
    const enrolled = async (osUser: string) => {
      const device = new SimulatedDevice();
      const response = await device.request(`${server.url}/v1/enroll`, 'POST', { public_key_pem: device.publicKeyPem, os_user: osUser, hostname: `host-${osUser}` }, { authorization: `Bearer ${server.adminToken}` });
      assert.equal(response.status, 200);
      return device;
    };
    const ingest = async (device: SimulatedDevice, events: unknown[]) => {
      const response = await device.request(`${server.url}/v1/ingest`, 'POST', { events });
      assert.equal(response.status, 200, await response.clone().text());
    };
    const decided = (device: SimulatedDevice, decision: string, rules: string[], time: Date) =>
      device.events(1, { time: time.toISOString(), data: { tool: 'Bash', decision: { decision, rules, policy_hash: 'p1' } } })[0];
    const fact = (device: SimulatedDevice, kind: string, data: unknown) => device.events(1, { kind, session_id: undefined, tool_use_id: undefined, data: data as Record<string, unknown> })[0];

    before(async () => {
      const made = await database();
      drop = made.drop;
      server = await startTestServer({ db: made.db });
    });
    after(async () => {
      await server.close();
      await drop();
    });

    it('tells a new server what to do first: nothing enrolled, level 0, every question unanswered', async () => {
      const { status, body } = await get('/v1/overview');
      assert.equal(status, 200, JSON.stringify(body));
      assert.equal(body.devices.total, 0);
      assert.deepEqual(body.decisions_by_hour, []);
      assert.equal(body.maturity.level, 0);
      assert.equal(body.maturity.level_name, 'blind');
      assert.deepEqual(body.maturity.next.missing.map((item: { id: string }) => item.id), ['devices-enrolled', 'inventory', 'tool-calls-seen']);
      assert.match(body.maturity.questions[0].answer, /writ install claude-code/);
    });

    it('counts the fleet, buckets decisions by hour, ranks denied rules and keeps to the window', async () => {
      const now = Date.now();
      const thisHour = new Date(now - 60_000);
      const earlier = new Date(now - 2 * HOUR);
      const [alice, bob] = [await enrolled('alice'), await enrolled('bob')];
      await enrolled('carol'); // enrolled, never reports
      await ingest(alice, [
        decided(alice, 'allow', ['baseline.no-objection'], earlier),
        decided(alice, 'deny', ['credentials.ssh'], earlier),
        decided(alice, 'allow', ['baseline.no-objection'], thisHour),
        decided(alice, 'ask', ['deploy.review'], thisHour),
        decided(alice, 'deny', ['credentials.ssh', 'network.exfil'], thisHour),
        decided(alice, 'deny', ['old.rule'], new Date(now - 3 * 24 * HOUR)), // before the default window
        fact(alice, 'inventory.reported', inventory({ agents: [agent('claude-code', '2.1.197'), agent('codex', '0.169.0', 'ungoverned')], mcp_servers: [mcp('github', 'approved'), mcp('shady', 'unapproved')] })),
        fact(alice, 'guard.heartbeat', { ...guard({ 'claude-code': true }, true), policy_hash: 'sha256:p', kills: [] }),
      ]);
      await ingest(bob, [
        decided(bob, 'deny', ['credentials.ssh'], thisHour),
        fact(bob, 'inventory.reported', inventory({ agents: [agent('claude-code', '2.1.197')], mcp_servers: [mcp('github', 'approved')], posture: posture({ disk_encrypted: 'fail' }) })),
        fact(bob, 'guard.heartbeat', { ...guard({ 'claude-code': false }, false), policy_hash: 'sha256:p', kills: [] }),
      ]);
      const tool_input = { command: 'deploy prod' };
      const asked = await alice.request(`${server.url}/v1/approvals`, 'POST', {
        digest: approvalDigest({ device: alice.id, session: 'session-1', tool: 'Bash', tool_input, cwd: '/work' }),
        session_id: 'session-1',
        tool: 'Bash',
        summary: { cwd: '/work', tool: 'Bash', tool_input },
        rules: ['deploy.review'],
        reviewers: 'release-managers',
        reason: 'deploys need a reviewer',
        expires: 'PT10M',
      });
      assert.equal(asked.status, 201, await asked.clone().text());

      const { status, body } = await get('/v1/overview');
      assert.equal(status, 200, JSON.stringify(body));
      assert.equal(body.devices.total, 3);
      assert.equal(body.devices.reporting, 2);
      assert.equal(body.devices.guard_off, 1);
      assert.equal(body.devices.self_test_failed, 1);
      assert.equal(body.devices.posture_failing, 1);
      assert.equal(body.people, 3);
      assert.deepEqual(body.agents, { total: 3, governed: 2, ungoverned: 1 });
      assert.deepEqual(body.mcp_servers, { total: 2, approved: 1, unapproved: 1 });
      assert.equal(body.denials, 3);
      assert.equal(body.decisions, 6);
      assert.equal(body.pending_approvals, 1);
      const hour = (time: Date) => new Date(Math.floor(time.getTime() / HOUR) * HOUR).toISOString();
      assert.deepEqual(body.decisions_by_hour, [
        { hour: hour(earlier), allow: 1, deny: 1, ask: 0 },
        { hour: hour(thisHour), allow: 1, deny: 2, ask: 1 },
      ]);
      assert.deepEqual(body.top_denied_rules, [
        { rule: 'credentials.ssh', denials: 3 },
        { rule: 'network.exfil', denials: 1 },
      ]);
      // carol's device never reported, so the fleet is not yet visible, and says which device work is missing.
      assert.equal(body.maturity.level, 0);
      const missing = body.maturity.next.missing.map((item: { id: string; detail: string }) => `${item.id}: ${item.detail}`);
      assert.deepEqual(missing, ['inventory: 1 device never reported an inventory']);
      const answers = Object.fromEntries(body.maturity.questions.map((q: { id: string; answer: string; answered: string }) => [q.id, q]));
      assert.match(answers.agents.answer, /3 agent installs on 2 devices: 2 governed by Writ, 1 ungoverned; 1 device never reported/);
      assert.equal(answers.access.answered, 'partly');
      assert.match(answers.access.answer, /2 MCP servers, 1 not approved/);

      const wider = await get(`/v1/overview?since=${new Date(now - 4 * 24 * HOUR).toISOString()}`);
      assert.equal(wider.body.denials, 4);
      assert.equal(wider.body.decisions_by_hour.length, 3);
      assert.deepEqual(wider.body.top_denied_rules.map((rule: { rule: string }) => rule.rule), ['credentials.ssh', 'network.exfil', 'old.rule']);
    });

    it('finds devices for the Fleet page by part of a hostname, any case, with % and _ taken literally', async () => {
      const hosts = async (q: string) => {
        const { status, body } = await get(`/v1/inventory/devices?q=${encodeURIComponent(q)}`);
        assert.equal(status, 200, JSON.stringify(body));
        return (body.items as { hostname: string }[]).map((item) => item.hostname).sort();
      };
      assert.deepEqual(await hosts('ALIC'), ['host-alice']);
      assert.deepEqual(await hosts('host-'), ['host-alice', 'host-bob']);
      assert.deepEqual(await hosts('%'), []);
      assert.deepEqual(await hosts('host_'), []);
    });

    it('lets an auditor read it, and refuses the unauthenticated, enrollers and bad windows', async () => {
      const make = async (role: string) => {
        const response = await fetch(`${server.url}/v1/tokens`, {
          method: 'POST',
          headers: { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/json' },
          body: JSON.stringify({ name: `${role}-${randomBytes(3).toString('hex')}`, role }),
        });
        return ((await response.json()) as { secret: string }).secret;
      };
      assert.equal((await get('/v1/overview', await make('auditor'))).status, 200);
      assert.equal((await get('/v1/overview', await make('enroller'))).status, 403);
      assert.equal((await get('/v1/overview', '')).status, 401);
      for (const since of ['yesterday', new Date(Date.now() + HOUR).toISOString(), new Date(Date.now() - 100 * 24 * HOUR).toISOString()]) {
        const answer = await get(`/v1/overview?since=${encodeURIComponent(since)}`);
        assert.equal(answer.status, 400, since);
        assert.match(answer.body.error.message, /since/);
      }
    });
  });
}

overviewSuite('SQLite', async () => ({ db: 'sqlite::memory:', drop: async () => {} }));

overviewSuite('PostgreSQL', async () => {
  const schema = `writ_overview_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
  await admin.query(`CREATE SCHEMA ${schema}`);
  const url = new URL(DATABASE_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return {
    db: url.toString(),
    async drop() {
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
    },
  };
});

describe('migration 4 on a store that already has events', () => {
  it('counts the decisions and denied rules logged before the hourly counts existed', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'writ-overview-migrate-'));
    const db = `sqlite:${join(dataDir, 'writ.db')}`;
    try {
      let server = await startTestServer({ dataDir, db });
      const device = new SimulatedDevice();
      await device.enroll(server, server.adminToken);
      // SimulatedDevice denies every fifth call under credentials.ssh: 10 calls, 2 denials.
      const ingested = await device.request(`${server.url}/v1/ingest`, 'POST', { events: device.events(10) });
      assert.equal(ingested.status, 200);
      const overview = async () => (await (await fetch(`${server.url}/v1/overview`, { headers: { authorization: `Bearer ${server.adminToken}` } })).json()) as any;
      const before = await overview();
      assert.deepEqual([before.decisions, before.denials, before.top_denied_rules], [10, 2, [{ rule: 'credentials.ssh', denials: 2 }]]);
      await server.close();

      // Back to schema version 3, as a store written by the Writ before this migration.
      const file = new Database(join(dataDir, 'writ.db'));
      file.exec('DROP TABLE decision_hours; DROP TABLE denied_rule_hours; DELETE FROM schema_migrations WHERE version = 4;');
      file.close();

      server = await startTestServer({ dataDir, db });
      const after = await overview();
      assert.deepEqual([after.decisions, after.denials, after.top_denied_rules, after.decisions_by_hour], [10, 2, before.top_denied_rules, before.decisions_by_hour]);
      await server.close();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
