// A real daemon enrolled with a real server: an ask whose rule names `@reviewers` goes to the server instead of the
// local prompt, is denied with the approval id while it waits, and the retried call is allowed once a reviewer
// approved it (through `writ approvals`, as its own process); a denial names the reviewer; an unreachable server
// denies. Every step stays inside the hook shim's 800 ms deadline.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openApprovalDecision } from '../../src/core/approval.js';
import { resolveWritHome, type WritHome } from '../../src/home/writ-home.js';
import { startControlPlane, startEnrolledDaemon, waitFor, type EnrolledDaemon, type TestControlPlane } from '../support/control-plane.js';
import { preToolUse, startTestDaemon } from '../support/daemon.js';

const REVIEW_POLICY = `
@id("release.deploy")
@effect("ask")
@reviewers("release-managers")
@expires("PT10M")
@reason("deploys need a release manager")
forbid (principal, action == Writ::Action::"exec", resource)
when { resource.program == "deploy" };

@id("local.shutdown")
@effect("ask")
@reason("shutting down asks the person at the keyboard")
forbid (principal, action == Writ::Action::"exec", resource)
when { resource.program == "shutdown" };
`;

const SHIM_DEADLINE_MS = 800;

let plane: TestControlPlane;
let device: EnrolledDaemon;

function homeWithPolicy(): WritHome {
  const home = resolveWritHome(mkdtempSync(join(tmpdir(), 'writ-home-')));
  mkdirSync(home.policy, { recursive: true });
  copyFileSync(join(import.meta.dirname, '../../policy/standard/00-baseline.cedar'), join(home.policy, '00-baseline.cedar'));
  writeFileSync(join(home.policy, '10-review.cedar'), REVIEW_POLICY);
  return home;
}

before(async () => {
  plane = await startControlPlane();
  device = await startEnrolledDaemon(plane, { home: homeWithPolicy() });
});
after(async () => {
  await device.daemon.close();
  await plane.close();
});

/** One PreToolUse through the daemon: what it answered and how long it took. */
async function call(command: string) {
  const started = performance.now();
  const answer = await device.post(preToolUse('Bash', { command }, { session_id: 'session-review', cwd: '/tmp' }));
  const elapsed = performance.now() - started;
  assert.equal(answer.status, 200);
  const output = answer.body === '' ? undefined : JSON.parse(answer.body).hookSpecificOutput;
  return { decision: output?.permissionDecision as string | undefined, reason: (output?.permissionDecisionReason ?? '') as string, elapsed };
}

/** `writ approvals …` as its own process (the source through tsx, so no build is needed). */
function writ(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const main = join(import.meta.dirname, '../../src/cli/main.ts');
  const script = `import { main } from ${JSON.stringify(main)}; process.exitCode = await main(${JSON.stringify(args)});`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { env: { ...process.env, WRIT_HOME: device.home.root } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve) => child.on('exit', (status) => resolve({ status, stdout, stderr })));
}

const approvalIdIn = (reason: string) => /approval (apr_[A-Za-z0-9_-]{22})/.exec(reason)?.[1];

describe('ask → a named reviewer', () => {
  it('denies with the approval id while pending, and allows the retried call once approved with the CLI', async (t) => {
    // A just-started daemon's first decision is slow (Cedar and tree-sitter warm up), approvals or not.
    t.diagnostic(`first plain call of a just-started daemon: ${(await call('echo warm-up')).elapsed.toFixed(0)} ms`);
    const first = await call('deploy prod');
    assert.equal(first.decision, 'deny');
    assert.match(first.reason, /^Writ needs approval for Bash: runs deploy prod\. Deploys need a release manager \(rule release\.deploy\)\. /);
    assert.match(first.reason, /It went to a reviewer of `release-managers`: approval apr_\S+ is pending, and a reviewer can run `writ approvals approve apr_/);
    assert.match(first.reason, /Retry the same call once it is approved/);
    assert.ok(first.elapsed < SHIM_DEADLINE_MS, `answered in ${first.elapsed.toFixed(0)} ms, inside the shim's deadline`);
    const id = approvalIdIn(first.reason)!;
    t.diagnostic(`first ask (new approval, pending): ${first.elapsed.toFixed(0)} ms`);
    const stored = await plane.store.getApproval(id);
    assert.equal(stored?.status, 'pending');
    assert.equal(stored?.deviceId, device.enrollment.device_id);
    assert.deepEqual(stored?.summary.tool_input, { command: 'deploy prod' }, 'the reviewer sees the redacted summary');

    const again = await call('deploy prod');
    assert.equal(approvalIdIn(again.reason), id, 'the same call reuses its pending approval');
    t.diagnostic(`same call again (still pending): ${again.elapsed.toFixed(0)} ms`);

    const usage = await writ(['approvals', 'approve', 'not-an-id', '--server', plane.url, '--token', plane.adminToken]);
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /approve takes an approval id/);
    const listed = await writ(['approvals', 'list', '--server', plane.url, '--token', plane.adminToken]);
    assert.equal(listed.status, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(`${id}  pending until .*release-managers  ${device.enrollment.device_id}  Bash: deploy prod`));
    const approved = await writ(['approvals', 'approve', id, '--comment', 'release 42', '--server', plane.url, '--token', plane.adminToken]);
    assert.equal(approved.status, 0, approved.stderr);
    assert.match(approved.stdout, new RegExp(`approved ${id} as token:test-admin`));

    const retried = await call('deploy prod');
    assert.equal(retried.decision, 'allow');
    assert.match(retried.reason, new RegExp(`Approved by token:test-admin \\(reviewer for \`release-managers\`\\) in approval ${id}`));
    assert.ok(retried.elapsed < SHIM_DEADLINE_MS);
    t.diagnostic(`retry after approval: ${retried.elapsed.toFixed(0)} ms`);

    const other = await call('deploy staging');
    assert.equal(other.decision, 'deny', 'an approval covers exactly one call');
    assert.notEqual(approvalIdIn(other.reason), id);

    // The device's journal names the reviewer, in the org's signed words, and reaches the server's log.
    await device.daemon.uploadNow();
    const events = await plane.admin('GET', `/v1/events?device=${device.enrollment.device_id}&limit=1000`);
    const kinds = events.body.items.map((event: any) => event.kind);
    assert.ok(kinds.includes('approval.requested') && kinds.includes('approval.granted'), kinds.join(' '));
    const granted = events.body.items.find((event: any) => event.kind === 'approval.granted');
    const data = JSON.parse(Buffer.from(granted.envelope.payload, 'base64').toString('utf8')).data;
    const signed = openApprovalDecision(data.envelope, plane.org.publicKey);
    assert.equal(signed.reviewer.name, 'token:test-admin');
    assert.equal(signed.comment, 'release 42');
    assert.equal(data.id, id);
  });

  it('allows the waiting call at once when a reviewer approves within the wait', async () => {
    const command = 'deploy prod --fast-review';
    const pending = call(command);
    let id: string | undefined;
    await waitFor(async () => {
      id = (await plane.store.listApprovals({ status: 'pending' })).find((approval) => (approval.summary.tool_input as any).command === command)?.id;
      return id !== undefined;
    }, 'the approval to be requested', 2000);
    const approved = await plane.admin('POST', `/v1/approvals/${id}/approve`, {});
    assert.equal(approved.status, 200);
    const answer = await pending;
    assert.equal(answer.decision, 'allow', answer.reason);
    assert.ok(answer.elapsed < SHIM_DEADLINE_MS, `answered in ${answer.elapsed.toFixed(0)} ms`);
  });

  it('denies a denied call, naming the reviewer and the approval', async () => {
    const first = await call('deploy prod --yolo');
    const id = approvalIdIn(first.reason)!;
    const denied = await plane.admin('POST', `/v1/approvals/${id}/deny`, { comment: 'not during the freeze' });
    assert.equal(denied.status, 200);
    const retried = await call('deploy prod --yolo');
    assert.equal(retried.decision, 'deny');
    assert.equal(retried.reason, `Writ denied this call: token:test-admin (reviewer for \`release-managers\`) denied approval ${id}: not during the freeze.`);
  });

  it('keeps an ask without reviewers at the local prompt', async () => {
    const before = (await plane.store.listApprovals({})).length;
    const answer = await call('shutdown now');
    assert.equal(answer.decision, 'ask');
    assert.match(answer.reason, /Shutting down asks the person at the keyboard/);
    assert.equal((await plane.store.listApprovals({})).length, before, 'no approval was requested');
  });

  it('denies when the server cannot be reached, and keeps a call it already approved allowed', async () => {
    await plane.stop();
    try {
      const answer = await call('deploy prod --while-down');
      assert.equal(answer.decision, 'deny');
      assert.match(answer.reason, /It needs a reviewer of `release-managers`, but the Writ server could not be asked .*, so Writ denied it/);
      assert.ok(answer.elapsed < SHIM_DEADLINE_MS);
      const approvedBefore = await call('deploy prod');
      assert.equal(approvedBefore.decision, 'allow', 'the org-signed approval the daemon holds is still valid');
    } finally {
      await plane.restart();
    }
  });
});

describe('ask on a device that is not enrolled', () => {
  it('stays the local prompt', async () => {
    const local = await startTestDaemon();
    try {
      writeFileSync(join(local.home.policy, '95-review.cedar'), REVIEW_POLICY);
      await waitFor(async () => {
        const answer = await local.post(preToolUse('Bash', { command: 'deploy prod' }));
        return answer.body.includes('"ask"');
      }, 'the reloaded policy to ask', 5000);
    } finally {
      await local.daemon.close();
    }
  });
});
