// Approvals on a real server with a real OIDC provider: who may decide (a member of the reviewer group or an admin;
// not a device, an auditor, someone outside the group, or the person whose call it is), decisions signed by the org
// key naming the reviewer, expiry, replay, the device's wait for a decision, and the webhook with its confirm page.
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { approvalDigest, openApprovalDecision } from '../../src/core/approval.js';
import { DEFAULT_ACCOUNTS, startOidcProvider, type TestOidcProvider } from '../support/oidc-provider.js';
import { SimulatedDevice, startTestServer, type TestServer } from '../support/server.js';

let idp: TestOidcProvider;
let server: TestServer;
let receiver: Server;
const webhooks: { text: string; blocks: any[] }[] = [];
let device: SimulatedDevice;
let alicesDevice: SimulatedDevice;

const accounts = [
  ...DEFAULT_ACCOUNTS,
  { accountId: 'carol', email: 'carol@example.com', emailVerified: true, name: 'Carol', groups: ['release-managers'] },
  { accountId: 'dave', email: 'dave@example.com', emailVerified: true, name: 'Dave', groups: ['writ-auditors', 'support'] },
];

before(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      webhooks.push(JSON.parse(body));
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  idp = await startOidcProvider({ accounts });
  server = await startTestServer({
    oidc: { issuer: idp.issuer, audience: idp.clientId, adminGroups: ['writ-admins'], auditorGroups: ['writ-auditors'] },
    approvalWebhook: `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`,
  });
  device = new SimulatedDevice();
  await device.enroll(server, server.adminToken);
  // alice enrols her own device with her ID token: she may not approve its calls, admin though she is.
  alicesDevice = new SimulatedDevice();
  const enrolled = await alicesDevice.request(`${server.url}/v1/enroll`, 'POST', { public_key_pem: alicesDevice.publicKeyPem, id_token: await idp.issueIdToken({ accountId: 'alice' }) });
  assert.equal(enrolled.status, 200);
});
after(async () => {
  await server.close();
  await idp.close();
  await new Promise((resolve) => receiver.close(resolve));
});

let calls = 0;
/** A device asks for approval of a new call (or of `command` again). */
async function ask(options: { command?: string; expires?: string; wait_ms?: number; from?: SimulatedDevice } = {}) {
  const from = options.from ?? device;
  const command = options.command ?? `deploy prod --build ${(calls += 1)}`;
  const tool_input = { command };
  const body = {
    digest: approvalDigest({ device: from.id, session: 's1', tool: 'Bash', tool_input, cwd: '/work' }),
    session_id: 's1',
    tool: 'Bash',
    summary: { cwd: '/work', tool: 'Bash', tool_input },
    rules: ['release.deploy'],
    reviewers: 'release-managers',
    reason: 'deploys need a release manager',
    expires: options.expires ?? 'PT10M',
    ...(options.wait_ms !== undefined && { wait_ms: options.wait_ms }),
  };
  const response = await from.request(`${server.url}/v1/approvals`, 'POST', body);
  return { status: response.status, body: (await response.json()) as any };
}

async function decide(id: string, verb: 'approve' | 'deny', token: string, comment?: string) {
  const response = await fetch(`${server.url}/v1/approvals/${id}/${verb}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(comment ? { comment } : {}),
  });
  return { status: response.status, body: (await response.json()) as any };
}

const idToken = (accountId: string) => idp.issueIdToken({ accountId });

describe('approvals API', () => {
  it('creates one pending approval per call, and gives it back when the same call asks again', async () => {
    const first = await ask({ command: 'deploy prod --same' });
    assert.equal(first.status, 201);
    assert.match(first.body.id, /^apr_[A-Za-z0-9_-]{22}$/);
    assert.equal(first.body.status, 'pending');
    assert.equal(first.body.device_id, device.id);
    assert.deepEqual(first.body.summary.tool_input, { command: 'deploy prod --same' });
    const again = await ask({ command: 'deploy prod --same' });
    assert.equal(again.status, 200);
    assert.equal(again.body.id, first.body.id);
    assert.equal((await ask({ command: 'deploy prod --other' })).body.id !== first.body.id, true);
  });

  it('lets a member of the reviewer group approve, signed by the org key and naming them', async () => {
    const { body: pending } = await ask();
    const { status, body } = await decide(pending.id, 'approve', await idToken('carol'), 'release 42');
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.status, 'approved');
    assert.equal(body.decided_by, 'carol@example.com');
    const signed = openApprovalDecision(body.decision, server.context.org.publicKey);
    assert.equal(signed.decision, 'approved');
    assert.equal(signed.id, pending.id);
    assert.equal(signed.device, device.id);
    assert.equal(signed.digest, pending.digest);
    assert.deepEqual(signed.reviewer, { name: 'carol@example.com', via: 'oidc', iss: idp.issuer, sub: 'carol' });
    assert.equal(signed.comment, 'release 42');
    assert.equal(signed.expires_at, pending.expires_at);
    // The device's next ask for the same call finds the decision.
    assert.equal((await ask({ command: body.summary.tool_input.command })).body.decision.signatures[0].sig, body.decision.signatures[0].sig);
    assert.throws(() => openApprovalDecision(body.decision, createPublicKey(new SimulatedDevice().publicKeyPem)), /not signed by the org key/);
  });

  it('refuses a device, an auditor, someone outside the group, and the person whose call it is', async () => {
    const { body: pending } = await ask();
    const byDevice = await device.request(`${server.url}/v1/approvals/${pending.id}/approve`, 'POST', {});
    assert.equal(byDevice.status, 401, 'a device-signed request names no reviewer');
    const bob = await decide(pending.id, 'approve', await idToken('bob'));
    assert.equal(bob.status, 403, 'an auditor outside the group');
    assert.match(bob.body.error.message, /bob@example.com is not in the reviewer group `release-managers`/);
    assert.equal((await decide(pending.id, 'approve', await idToken('dave'))).status, 403, 'in other groups only');
    const auditorToken = await fetch(`${server.url}/v1/tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'audit-bot', role: 'auditor' }),
    }).then((response) => response.json() as Promise<{ secret: string }>);
    assert.equal((await decide(pending.id, 'deny', auditorToken.secret)).status, 403, 'an auditor token');
    assert.equal((await decide(pending.id, 'approve', 'not-a-token')).status, 401);

    const { body: alicesCall } = await ask({ from: alicesDevice });
    const own = await decide(alicesCall.id, 'approve', await idToken('alice'));
    assert.equal(own.status, 403);
    assert.match(own.body.error.message, /cannot decide an approval for their own call/);
    const byAdmin = await decide(pending.id, 'deny', await idToken('alice'), 'not today');
    assert.equal(byAdmin.status, 200, 'an admin may decide for any group');
    assert.equal(byAdmin.body.decided_by, 'alice@example.com');
    assert.equal((await server.store.getApproval(alicesCall.id))?.status, 'pending', 'refusals changed nothing');
  });

  it('refuses to decide an approval twice or after it expired', async () => {
    const { body: pending } = await ask();
    assert.equal((await decide(pending.id, 'approve', server.adminToken)).body.decided_by, 'token:bootstrap');
    for (const verb of ['approve', 'deny'] as const) {
      const replay = await decide(pending.id, verb, await idToken('carol'));
      assert.equal(replay.status, 409);
      assert.equal(replay.body.error.code, 'approval_decided');
    }
    const { body: short } = await ask({ expires: 'PT1S' });
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const late = await decide(short.id, 'approve', server.adminToken);
    assert.equal(late.status, 409);
    assert.equal(late.body.error.code, 'approval_expired');
    const expired = await fetch(`${server.url}/v1/approvals?status=expired`, { headers: { authorization: `Bearer ${server.adminToken}` } }).then((r) => r.json() as Promise<any>);
    assert.deepEqual(expired.items.map((a: any) => a.id), [short.id]);
    assert.equal((await ask({ command: short.summary.tool_input.command })).status, 201, 'the call asks anew once expired');
    assert.equal((await decide('apr_0000000000000000000000', 'approve', server.adminToken)).status, 404);
  });

  it('holds a device request open until a reviewer decides', async () => {
    const { body: pending } = await ask();
    const started = Date.now();
    const waiting = ask({ command: pending.summary.tool_input.command, wait_ms: 10_000 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await decide(pending.id, 'approve', await idToken('carol'));
    const { status, body } = await waiting;
    assert.equal(status, 200);
    assert.equal(body.status, 'approved');
    assert.equal(openApprovalDecision(body.decision, server.context.org.publicKey).reviewer.name, 'carol@example.com');
    assert.ok(Date.now() - started < 3000, 'woken by the decision, not by the end of the wait');
    const undecided = Date.now();
    assert.equal((await ask({ wait_ms: 300 })).body.status, 'pending');
    assert.ok(Date.now() - undecided >= 290, 'an undecided approval is answered when the wait is over');
  });

  it('lets auditors read approvals, and refuses bad requests', async () => {
    const bob = await idToken('bob');
    const list = await fetch(`${server.url}/v1/approvals?status=pending`, { headers: { authorization: `Bearer ${bob}` } });
    assert.equal(list.status, 200);
    const items = ((await list.json()) as any).items;
    assert.ok(items.length > 0 && items.every((a: any) => a.status === 'pending'));
    const one = await fetch(`${server.url}/v1/approvals/${items[0].id}`, { headers: { authorization: `Bearer ${bob}` } });
    assert.equal(((await one.json()) as any).id, items[0].id);
    assert.equal((await device.request(`${server.url}/v1/approvals`, 'GET')).status, 401, 'a device cannot list');
    assert.equal((await ask({ expires: 'P8D' })).status, 400);
    assert.equal((await ask({ expires: 'an hour' })).status, 400);
    const badDigest = await device.request(`${server.url}/v1/approvals`, 'POST', { digest: 'md5:x', tool: 'Bash', summary: {}, rules: ['r'], reviewers: 'g', reason: '', expires: 'PT1H' });
    assert.equal(badDigest.status, 400);
    assert.equal((await new SimulatedDevice().request(`${server.url}/v1/approvals`, 'POST', {})).status, 400);
  });
});

describe('approval webhook', () => {
  it('posts a Slack-compatible message whose links open a confirm page that decides nothing', async () => {
    const before = webhooks.length;
    const { body: pending } = await ask({ command: 'deploy prod <script>&' });
    await ask({ command: 'deploy prod <script>&' });
    for (let i = 0; i < 100 && webhooks.length === before; i += 1) await new Promise((resolve) => setTimeout(resolve, 20));
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(webhooks.length, before + 1, 'one message per new approval, none for the same call again');
    const message = webhooks.at(-1)!;
    assert.match(message.text, new RegExp(`needs approval from release-managers \\(${pending.id}\\)`));
    const [section, actions, context] = message.blocks;
    assert.equal(section.type, 'section');
    assert.match(section.text.text, /deploy prod &lt;script&gt;&amp;/, 'mrkdwn control characters escaped');
    assert.equal(actions.type, 'actions');
    const [approve, deny] = actions.elements;
    assert.deepEqual([approve.type, approve.style, approve.text.text], ['button', 'primary', 'Approve']);
    assert.equal(approve.url, `${server.url}/approvals/${pending.id}?decision=approve`);
    assert.equal(deny.url, `${server.url}/approvals/${pending.id}?decision=deny`);
    assert.match(context.elements[0].text, new RegExp(`writ approvals approve ${pending.id}`));

    for (const url of [approve.url, deny.url]) {
      const page = await fetch(url);
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-type') ?? '', /text\/html/);
      const html = await page.text();
      assert.match(html, new RegExp(`writ approvals (approve|deny) ${pending.id}`));
      assert.match(html, /deploy prod &#60;script&#62;&#38;/, 'HTML-escaped');
      assert.doesNotMatch(html, /<script>/);
    }
    assert.equal((await server.store.getApproval(pending.id))?.status, 'pending', 'following the links decided nothing');
    assert.equal((await fetch(`${server.url}/approvals/apr_nope`)).status, 404);
  });
});
