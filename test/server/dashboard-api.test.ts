// The dashboard's server API with a real enrolled daemon: the live stream carries what the daemon uploads, filtered
// on the server; one event opens with its signature and a receipt that verifies; approving an MCP server publishes a
// bundle the daemon takes in force; auditors are refused every action; a candidate policy replays recorded calls.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { canonicalBytes } from '../../src/core/canonical-json.js';
import { openPolicyBundle } from '../../src/core/policy-bundle.js';
import { readPolicyDir } from '../../src/home/policy-files.js';
import { buildServer } from '../../src/server/app.js';
import { parseVerifierKey } from '../../src/ledger/note.js';
import { verifyTlogProof } from '../../src/ledger/tlog-proof.js';
import { startControlPlane, startEnrolledDaemon, waitFor, type EnrolledDaemon, type TestControlPlane } from '../support/control-plane.js';
import { preToolUse } from '../support/daemon.js';
import { SimulatedDevice } from '../support/server.js';
import { inventory, mcp } from '../store/inventory-suite.js';

const FINGERPRINT = `sha256:${'ab'.repeat(32)}`;

interface Row {
  index: number;
  device_id: string;
  seq: number;
  kind: string;
  decision?: string;
  rules: string[];
  tool?: string;
}

/** An open /v1/stream/events: every row received so far, until closed. */
async function openStream(plane: TestControlPlane, query: string, token = plane.adminToken) {
  const abort = new AbortController();
  const response = await fetch(`${plane.url}/v1/stream/events${query}`, { headers: { authorization: `Bearer ${token}` }, signal: abort.signal });
  const rows: Row[] = [];
  const done = (async () => {
    if (!response.body) return;
    const decoder = new TextDecoder();
    let buffered = '';
    try {
      for await (const chunk of response.body) {
        buffered += decoder.decode(chunk as Uint8Array, { stream: true });
        let end: number;
        while ((end = buffered.indexOf('\n\n')) >= 0) {
          const message = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          const data = /^data: (.*)$/m.exec(message);
          if (/^event: events$/m.test(message) && data) rows.push(...(JSON.parse(data[1]) as Row[]));
        }
      }
    } catch {
      // aborted
    }
  })();
  return {
    status: response.status,
    rows,
    async close() {
      abort.abort();
      await done;
    },
  };
}

describe('dashboard API with an enrolled daemon', () => {
  let plane: TestControlPlane;
  let device: EnrolledDaemon;
  let auditor: string;

  before(async () => {
    plane = await startControlPlane();
    device = await startEnrolledDaemon(plane);
    const created = await plane.admin('POST', '/v1/tokens', { name: 'auditor', role: 'auditor' });
    auditor = created.body.secret;
  });
  after(async () => {
    await device.daemon.close();
    await plane.close();
  });

  const as = (token: string, method: string, path: string, body?: unknown) =>
    fetch(plane.url + path, { method, headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { 'content-type': 'application/json' }) }, ...(body !== undefined && { body: JSON.stringify(body) }) });

  test('the stream delivers newly ingested events as the daemon uploads them, filtered on the server', async () => {
    assert.equal((await fetch(`${plane.url}/v1/stream/events`)).status, 401, 'no stream without a token');
    assert.equal((await as(auditor, 'GET', '/v1/stream/events?decision=maybe')).status, 400);
    const killed = await plane.admin('POST', '/v1/kills', { target: 'tool:WebFetch', reason: 'dashboard test' });
    assert.equal(killed.status, 201);
    await waitFor(() => device.daemon.killSwitches().includes('tool:WebFetch'), 'the kill switch on the device');

    const everything = await openStream(plane, '', auditor);
    const denials = await openStream(plane, '?decision=deny&rule=writ.kill-switch');
    const otherDevice = await openStream(plane, '?device=dev_someone_else');
    const thisDevice = await openStream(plane, `?device=${device.enrollment.device_id}&decision=allow`);
    assert.equal(everything.status, 200);
    try {
      await device.post(preToolUse('Read', { file_path: `${process.cwd()}/package.json` }));
      await device.post(preToolUse('WebFetch', { url: 'https://example.com/', prompt: 'read' }));
      await device.daemon.uploadNow();
      await waitFor(() => denials.rows.length >= 1 && thisDevice.rows.length >= 1, 'the denied and the allowed call on their streams');

      assert.ok(everything.rows.some((row) => row.decision === 'deny') && everything.rows.some((row) => row.decision === 'allow'));
      assert.deepEqual(
        denials.rows.map((row) => [row.kind, row.tool, row.decision, row.rules]),
        [['hook.PreToolUse', 'WebFetch', 'deny', ['writ.kill-switch']]],
      );
      assert.ok(thisDevice.rows.every((row) => row.decision === 'allow' && row.device_id === device.enrollment.device_id));
      assert.ok(thisDevice.rows.some((row) => row.tool === 'Read'));
      assert.deepEqual(otherDevice.rows, []);
    } finally {
      await Promise.all([everything, denials, otherDevice, thisDevice].map((stream) => stream.close()));
    }
    await waitFor(() => plane.context.events.listeners === 0, 'closed streams unsubscribed');

    // A new stream can start with the latest matching events already logged.
    const late = await openStream(plane, '?recent=5&decision=deny', auditor);
    try {
      await waitFor(() => late.rows.length >= 1, 'the latest denial sent first');
      assert.deepEqual(late.rows.map((row) => row.index), denials.rows.map((row) => row.index));
    } finally {
      await late.close();
    }

    const denied = denials.rows[0];
    await plane.publishCheckpoint();
    const detail = await as(auditor, 'GET', `/v1/events/${denied.device_id}/${denied.seq}/detail`);
    assert.equal(detail.status, 200);
    const opened = (await detail.json()) as any;
    assert.equal(opened.signature.valid, true);
    assert.equal(opened.body.data.tool, 'WebFetch');
    const verified = verifyTlogProof(opened.receipt.tlog_proof, Buffer.from(canonicalBytes(opened.event.envelope)), parseVerifierKey(opened.receipt.org_key), plane.org.origin);
    assert.equal(verified.index, denied.index);
    assert.equal((await as(auditor, 'GET', `/v1/events/${denied.device_id}/999999/detail`)).status, 404);
  });

  test('a replica that shares the store streams events ingested through another, by polling the store', { timeout: 30_000 }, async () => {
    const { app: replica } = await buildServer({ store: plane.store, org: plane.org, streamPollMs: 50 });
    await replica.listen({ port: 0, host: '127.0.0.1' });
    const abort = new AbortController();
    try {
      const { port } = replica.server.address() as { port: number };
      const response = await fetch(`http://127.0.0.1:${port}/v1/stream/events?decision=deny`, { headers: { authorization: `Bearer ${plane.adminToken}` }, signal: abort.signal });
      assert.equal(response.status, 200);
      const reader = response.body!.getReader();
      await reader.read(); // ': connected'
      await device.post(preToolUse('WebFetch', { url: 'https://example.net/', prompt: 'read' }));
      await device.daemon.uploadNow();
      let text = '';
      while (!text.includes('event: events')) text += new TextDecoder().decode((await reader.read()).value);
      const rows = JSON.parse(/^data: (.*)$/m.exec(text)![1]) as Row[];
      assert.deepEqual(rows.map((row) => [row.tool, row.decision]), [['WebFetch', 'deny']]);
    } finally {
      abort.abort();
      await replica.close();
    }
  });

  test('approving an MCP server publishes a signed bundle the device takes in force; rejecting takes it out again', async () => {
    const files = readPolicyDir(device.home.policy);
    const refused = await as(auditor, 'POST', '/v1/dashboard/mcp-register/approve', { name: 'github', fingerprint: FINGERPRINT });
    assert.equal(refused.status, 403);
    const noPolicy = await plane.admin('POST', '/v1/dashboard/mcp-register/approve', { name: 'github', fingerprint: FINGERPRINT });
    assert.equal(noPolicy.status, 409, 'no register without a policy in force');

    const first = await plane.admin('POST', '/v1/policy/bundles', { files });
    assert.equal(first.status, 201);
    await waitFor(() => device.daemon.bundleHash() === first.body.hash, 'the first bundle on the device');

    const approved = await plane.admin('POST', '/v1/dashboard/mcp-register/approve', {
      name: 'github',
      fingerprint: FINGERPRINT,
      trust: 'internal',
      owner: 'platform@acme.test',
      purpose: 'issues',
      access: 'read-only',
    });
    assert.equal(approved.status, 201, JSON.stringify(approved.body));
    assert.notEqual(approved.body.hash, first.body.hash);
    await waitFor(() => device.daemon.bundleHash() === approved.body.hash, 'the approved register on the device');

    const active = await plane.admin('GET', '/v1/policy/bundles/active');
    const { bundle } = openPolicyBundle(active.body.envelope, plane.org.publicKey);
    const settings = JSON.parse(bundle.files.find((file) => file.name === 'settings.json')!.text);
    assert.deepEqual(settings.mcp_servers.github, { trust: 'internal', fingerprint: FINGERPRINT, owner: 'platform@acme.test', purpose: 'issues', access: 'read-only' });
    assert.deepEqual(
      bundle.files.filter((file) => file.name.endsWith('.cedar')),
      files.filter((file) => file.name.endsWith('.cedar')),
      'the rules are published unchanged',
    );

    const register = await as(auditor, 'GET', '/v1/dashboard/mcp-register');
    assert.equal(register.status, 200);
    const listed = (await register.json()) as any;
    assert.equal(listed.policy_hash, approved.body.hash);
    assert.deepEqual(listed.registered_only.map((entry: { name: string }) => entry.name), ['github']);

    // Once a device reports the server, its row carries the register entry and whether it is killed.
    const reporter = new SimulatedDevice();
    await reporter.enroll(plane, plane.enrollToken);
    const events = reporter.events(1, { kind: 'inventory.reported', session_id: undefined, tool_use_id: undefined, data: inventory({ mcp_servers: [mcp('github', 'approved', FINGERPRINT), mcp('scraper', 'unapproved')] }) as unknown as Record<string, unknown> });
    assert.equal((await reporter.request(`${plane.url}/v1/ingest`, 'POST', { events })).status, 200);
    assert.equal((await plane.admin('POST', '/v1/kills', { target: 'mcp:scraper' })).status, 201);
    const joined = (await (await as(auditor, 'GET', '/v1/dashboard/mcp-register')).json()) as any;
    const row = (name: string) => joined.items.find((item: { name: string }) => item.name === name);
    assert.deepEqual([row('github').register?.owner, row('github').killed, row('github').approved], ['platform@acme.test', false, 1]);
    assert.deepEqual([row('scraper').register, row('scraper').killed, row('scraper').unapproved], [undefined, true, 1]);
    assert.deepEqual(joined.registered_only, []);

    const rejected = await plane.admin('POST', '/v1/dashboard/mcp-register/reject', { name: 'github' });
    assert.equal(rejected.status, 201);
    await waitFor(() => device.daemon.bundleHash() === rejected.body.hash, 'the rejection on the device');
    assert.equal((await plane.admin('POST', '/v1/dashboard/mcp-register/reject', { name: 'github' })).status, 409);
    assert.equal((await plane.admin('POST', '/v1/dashboard/mcp-register/reject', { name: 'toString' })).status, 409, 'an inherited property is no entry');
    assert.equal((await plane.admin('POST', '/v1/dashboard/mcp-register/approve', { name: '__proto__', fingerprint: FINGERPRINT })).status, 400);
    assert.equal((await plane.admin('POST', '/v1/dashboard/mcp-register/approve', { name: 'github', fingerprint: 'sha256:short' })).status, 400);
  });

  test('auditors read but are refused approve, deny, publish, kill, run review and MCP approve and reject', async () => {
    const files = readPolicyDir(device.home.policy);
    const refusals: [string, string, unknown][] = [
      ['POST', '/v1/approvals/apr_AAAAAAAAAAAAAAAAAAAAAA/approve', {}],
      ['POST', '/v1/approvals/apr_AAAAAAAAAAAAAAAAAAAAAA/deny', { comment: 'no' }],
      ['POST', '/v1/policy/bundles', { files }],
      ['POST', '/v1/kills', { target: 'mcp:github' }],
      ['POST', '/v1/runs/session-1/review', { decision: 'accept' }],
      ['POST', '/v1/dashboard/mcp-register/approve', { name: 'github', fingerprint: FINGERPRINT }],
      ['POST', '/v1/dashboard/mcp-register/reject', { name: 'github' }],
    ];
    for (const [method, path, body] of refusals) {
      assert.equal((await as(auditor, method, path, body)).status, 403, `${method} ${path}`);
    }
    for (const path of ['/v1/dashboard/policy', '/v1/dashboard/evidence', '/v1/dashboard/mcp-register', '/v1/approvals?status=pending', '/v1/sessions']) {
      assert.equal((await as(auditor, 'GET', path)).status, 200, path);
    }
  });

  test('the policy page lists each rule in force; a candidate replays the recorded calls and shows what changes', async () => {
    const policy = (await (await as(auditor, 'GET', '/v1/dashboard/policy')).json()) as any;
    assert.ok(policy.active.rules.length > 0);
    assert.ok(policy.active.rules.every((rule: { id: string; effect: string; mode: string }) => rule.id && ['allow', 'deny', 'ask'].includes(rule.effect) && ['monitor', 'enforce'].includes(rule.mode)));

    // The Read of package.json was allowed; a candidate that forbids every Read turns it into a denial.
    const files = readPolicyDir(device.home.policy);
    const candidate = [
      ...files,
      { name: 'no-reads.cedar', text: '@id("test.no-reads")\n@reason("no reads")\nforbid (principal, action == Writ::Action::"read", resource);\n' },
    ];
    const replay = await as(auditor, 'POST', '/v1/dashboard/policy/replay', { files: candidate, limit: 10 });
    const report = (await replay.json()) as any;
    assert.equal(replay.status, 200, JSON.stringify(report));
    assert.ok(report.replayed >= 1);
    assert.ok(report.changes.some((change: { after: { rules: string[] }; direction: string }) => change.direction === 'allow→deny' && change.after.rules.includes('test.no-reads')));

    const unchanged = (await (await as(auditor, 'POST', '/v1/dashboard/policy/replay', { files, limit: 10 })).json()) as any;
    assert.equal(unchanged.total_changes, 0, JSON.stringify(unchanged.changes));
    const broken = await as(auditor, 'POST', '/v1/dashboard/policy/replay', { files: [{ name: 'bad.cedar', text: 'forbid (' }] });
    assert.equal(broken.status, 400);
  });

  test('evidence shows the latest signed checkpoint and the log size', async () => {
    // The daemon may upload more meanwhile, so sizes are compared as they only grow.
    const signed = (await plane.context.log.publishCheckpoint())!;
    const evidence = (await (await as(auditor, 'GET', '/v1/dashboard/evidence')).json()) as any;
    assert.ok(evidence.checkpoint.size >= signed.size && evidence.log_size >= evidence.checkpoint.size && evidence.log_size <= (await plane.store.logSize()));
    assert.match(evidence.checkpoint.note, new RegExp(`^${plane.org.origin}\\n${evidence.checkpoint.size}\\n`));
    assert.deepEqual(evidence.device_alarms, { total: 0, recent: [] });
  });
});
