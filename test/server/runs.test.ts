// Run records on a real server: GET /v1/runs/:session from the org log, and reviews signed by the org key naming
// the reviewer (admin token or OIDC person; not an auditor), shown in the record and through `writ runs --server`.
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openRunReview } from '../../src/runs/review.js';
import { verifyBundleLines } from '../../src/ledger/bundle.js';
import type { RunRecord } from '../../src/runs/index.js';
import { DEFAULT_ACCOUNTS, startOidcProvider, type TestOidcProvider } from '../support/oidc-provider.js';
import { SimulatedDevice, startTestServer, uploadAll, type TestServer } from '../support/server.js';
import { WRIT_BIN } from '../support/writ-process.js';

let idp: TestOidcProvider;
let server: TestServer;
let orgKeyPem: string;
let orgVerifierKey: string;

before(async () => {
  idp = await startOidcProvider({ accounts: [...DEFAULT_ACCOUNTS, { accountId: 'carol', email: 'carol@example.com', emailVerified: true, name: 'Carol', groups: ['release-managers'] }] });
  server = await startTestServer({ oidc: { issuer: idp.issuer, audience: idp.clientId, adminGroups: ['writ-admins'], auditorGroups: ['writ-auditors'] } });
  const device = new SimulatedDevice();
  const enrolled = await device.enroll(server, server.adminToken);
  orgKeyPem = (enrolled.org as { public_key_pem: string }).public_key_pem;
  orgVerifierKey = (enrolled.org as { verifier_key: string }).verifier_key;
  // Ten calls in session-1 (every fifth denied), two in writ-self-test.
  await uploadAll(device, () => server.url, [...device.events(10), ...device.events(2, { session_id: 'writ-self-test' })], 50);
});
after(async () => {
  await server.close();
  await idp.close();
});

const call = async (method: string, path: string, token: string, body?: unknown) => {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as any };
};

describe('runs API', () => {
  it('builds the record of a session from the org log, each line linked to a logged event', async () => {
    const { status, body } = await call('GET', '/v1/runs/session-1', server.adminToken);
    assert.equal(status, 200);
    const record = body.record as RunRecord;
    assert.deepEqual(record.tools, [{ name: 'Bash', calls: 10 }]);
    assert.deepEqual(record.denials.map((denial) => denial.ref.seq), [5, 10]);
    assert.equal(record.status, 'interrupted');
    assert.deepEqual(body.log.map((entry: { seq: number }) => entry.seq), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.equal((await call('GET', '/v1/runs/writ-self-test', server.adminToken)).status, 404);
    assert.equal((await call('GET', '/v1/runs/nothing-here', server.adminToken)).status, 404);
    assert.equal((await call('GET', '/v1/runs/session-1', 'writ_not-a-token')).status, 401);
  });

  it('signs a review with the org key naming an admin token or an OIDC person; auditors and bad input are refused', async () => {
    const byToken = await call('POST', '/v1/runs/session-1/review', server.adminToken, { decision: 'needs-changes', comment: 'add tests' });
    assert.equal(byToken.status, 201);
    const signed = openRunReview(byToken.body.envelope, createPublicKey(orgKeyPem));
    assert.deepEqual([signed.decision, signed.comment, signed.reviewer.via, signed.session_id], ['needs-changes', 'add tests', 'admin-token', 'session-1']);
    const byCarol = await call('POST', '/v1/runs/session-1/review', await idp.issueIdToken({ accountId: 'carol' }), { decision: 'accept', comment: 'fine now' });
    assert.equal(byCarol.status, 201);
    assert.deepEqual(byCarol.body.review.reviewer, { subject: 'carol', email: 'carol@example.com', via: 'oidc' });

    assert.equal((await call('POST', '/v1/runs/session-1/review', await idp.issueIdToken({ accountId: 'bob' }), { decision: 'accept' })).status, 403, 'an OIDC auditor');
    const auditorToken = await call('POST', '/v1/tokens', server.adminToken, { name: 'audit-bot', role: 'auditor' });
    assert.equal((await call('POST', '/v1/runs/session-1/review', auditorToken.body.secret, { decision: 'accept' })).status, 403, 'an auditor token');
    assert.equal((await call('POST', '/v1/runs/session-1/review', server.adminToken, { decision: 'maybe' })).status, 400);
    assert.equal((await call('POST', '/v1/runs/session-1/review', server.adminToken, { decision: 'accept', comment: 'x'.repeat(5000) })).status, 400);
    assert.equal((await call('POST', '/v1/runs/nothing-here/review', server.adminToken, { decision: 'accept' })).status, 404);

    // Auditors read the record, reviews included, in the order given.
    const record = (await call('GET', '/v1/runs/session-1', auditorToken.body.secret)).body.record as RunRecord;
    assert.deepEqual(record.reviews.map((review) => [review.decision, review.reviewer.subject]), [['needs-changes', signed.reviewer.subject], ['accept', 'carol']]);
  });

  it('an evidence bundle of one session carries its run record, and writ verify checks each of its links', async () => {
    const response = await fetch(`${server.url}/v1/export?format=bundle&session=session-1`, { headers: { authorization: `Bearer ${server.adminToken}` } });
    assert.equal(response.status, 200);
    const lines = (await response.text()).trim().split('\n');
    const header = JSON.parse(lines[0]);
    assert.deepEqual((header.run_record as RunRecord).denials.map((denial) => denial.ref.seq), [5, 10]);
    assert.equal((await verifyBundleLines(lines)).ok, true);
    header.run_record.denials[0].ref.hash = '0'.repeat(64);
    const forged = await verifyBundleLines([JSON.stringify(header), ...lines.slice(1)]);
    assert.equal(forged.ok, false);
    assert.match(forged.problems.join('\n'), /the run record links .* seq 5 \(0{64}\), which is not an event of this bundle/);
    const whole = await fetch(`${server.url}/v1/export?format=bundle`, { headers: { authorization: `Bearer ${server.adminToken}` } });
    assert.equal(JSON.parse((await whole.text()).split('\n')[0]).run_record, undefined, 'only a one-session bundle has a record');
  });

  it('writ runs show and review --server use the same routes', async () => {
    const home = mkdtempSync(join(tmpdir(), 'writ-runs-'));
    // Asynchronous, so that the in-process server keeps answering.
    const writ = (args: string[]) =>
      new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [WRIT_BIN, ...args, '--server', server.url, '--token', server.adminToken], { env: { ...process.env, WRIT_HOME: home } });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (chunk) => (stdout += chunk));
        child.stderr.on('data', (chunk) => (stderr += chunk));
        child.on('close', (status) => resolve({ status, stdout, stderr }));
      });
    const reviewed = await writ(['runs', 'review', 'session-1', '--decision', 'reject', '--comment', 'too risky']);
    assert.equal(reviewed.status, 0, reviewed.stderr);
    assert.match(reviewed.stdout, /reject: run session-1, signed by the org/);
    const shown = await writ(['runs', 'show', 'session-1']);
    assert.equal(shown.status, 0, shown.stderr);
    assert.match(shown.stdout, /\*\*reject\*\* by token:.* \(admin-token\) .*“too risky”/);
    // --verify: the session's evidence bundle checked against the pinned org key, the record rebuilt from its events.
    const verified = await writ(['runs', 'show', 'session-1', '--format', 'json', '--verify', '--org-key', orgVerifierKey]);
    assert.equal(verified.status, 0, verified.stderr);
    assert.match(verified.stderr, /10 events of run session-1 from the org log .*: signatures, chains and inclusion OK; 3 org-signed reviews/);
    const rebuilt = JSON.parse(verified.stdout) as RunRecord;
    assert.deepEqual(rebuilt.denials.map((denial) => denial.ref.seq), [5, 10]);
    assert.deepEqual(rebuilt.reviews.map((review) => review.decision), ['needs-changes', 'accept', 'reject']);
    const otherKey = 'other.example/org+00000000+AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
    const wrongKey = await writ(['runs', 'show', 'session-1', '--verify', '--org-key', otherKey]);
    assert.notEqual(wrongKey.status, 0, 'a bundle signed by another org key fails');
  });
});
