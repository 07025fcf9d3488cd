// Task contracts in a real daemon: bound to a session by the X-Writ-Contract header on its first hook or by
// the attach endpoint, kept across a restart, narrowing the policy's answers (deny quoting the contract, stop
// with continue:false), never widening them, and denying when the contract cannot be read.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startDaemon, HOOK_PATH, type RunningDaemon } from '../../src/daemon/daemon.js';
import { CONTRACT_ATTACH_PATH, contractsDir, storeContract } from '../../src/daemon/contracts.js';
import { resolveWritHome } from '../../src/home/writ-home.js';
import { journalEvents } from '../support/journal.js';

const project = mkdtempSync(join(tmpdir(), 'writ-contract-project-'));
mkdirSync(join(project, 'billing', 'export'), { recursive: true });
execFileSync('git', ['init', '-q', project]);
const home = resolveWritHome(mkdtempSync(join(tmpdir(), 'writ-contract-home-')));

const CONTRACT = `task: tighten the export filter for EU invoice rows
allowed:
  read_edit: [billing/export/**]
  commands: [npm test -- billing/export, npm run lint]
blocked: [migrations, secrets]
stop_if: [schema change, wider service boundary]
`;

let daemon: RunningDaemon;
let hash: string;
before(async () => {
  daemon = await startDaemon({ home, log: () => {} });
  hash = storeContract(home.root, CONTRACT);
});
after(async () => {
  await daemon?.close();
  rmSync(project, { recursive: true, force: true });
  rmSync(home.root, { recursive: true, force: true });
});

function call(path: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: home.socket, method: 'POST', path, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

let calls = 0;
async function preToolUse(session: string, tool: string, input: unknown, contract?: string): Promise<{ id: string; output: Record<string, any> | undefined }> {
  const id = `toolu_c${++calls}`;
  const payload = { hook_event_name: 'PreToolUse', session_id: session, cwd: project, permission_mode: 'default', tool_name: tool, tool_input: input, tool_use_id: id };
  const answer = await call(HOOK_PATH, JSON.stringify(payload), contract ? { 'x-writ-contract': contract } : {});
  return { id, output: answer.body === '' ? undefined : JSON.parse(answer.body) };
}

const edit = (path: string) => ({ file_path: join(project, path), old_string: 'a', new_string: 'b' });
const decisionEvent = (id: string) => journalEvents(home).find((event) => event.kind === 'hook.PreToolUse' && event.tool_use_id === id)!.data as { decision: { decision: string; rules: string[]; contract?: Record<string, string> } };

describe('a session under a task contract', () => {
  it('is bound on its first hook, records contract.attached once, and lets an edit inside the box through', async () => {
    const first = await preToolUse('run-1', 'Edit', edit('billing/export/filter.ts'), hash);
    assert.notEqual(first.output?.hookSpecificOutput?.permissionDecision, 'deny');
    assert.deepEqual(decisionEvent(first.id).decision.contract, { hash: `sha256:${hash}`, outcome: 'inside', clause: 'allowed', quote: 'task: tighten the export filter for EU invoice rows' });
    await preToolUse('run-1', 'Edit', edit('billing/export/filter.ts'), hash);
    const attached = journalEvents(home).filter((event) => event.kind === 'contract.attached');
    assert.equal(attached.length, 1);
    assert.equal(attached[0]!.session_id, 'run-1');
    const data = attached[0]!.data as { contract_hash: string; contract: { task: string; blocked: string[] } };
    assert.equal(data.contract_hash, `sha256:${hash}`);
    assert.deepEqual(data.contract.blocked, ['migrations', 'secrets']);
  });

  it('denies a migration quoting the contract', async () => {
    const { id, output } = await preToolUse('run-1', 'Write', { file_path: join(project, 'migrations', '001.sql'), content: 'drop table x;' }, hash);
    assert.equal(output?.hookSpecificOutput.permissionDecision, 'deny');
    assert.match(output!.hookSpecificOutput.permissionDecisionReason, /blocked by the task contract \("blocked: migrations"\)/);
    assert.deepEqual(decisionEvent(id).decision.rules, ['contract.outside']);
    assert.equal(decisionEvent(id).decision.contract?.clause, 'blocked: migrations');
  });

  it('denies a command outside allowed.commands, every exec of a compound counted', async () => {
    const { output } = await preToolUse('run-1', 'Bash', { command: 'npm run lint && git status' }, hash);
    assert.match(output!.hookSpecificOutput.permissionDecisionReason, /allowed\.commands: \[npm test -- billing\/export, npm run lint\]/);
  });

  it('stops the session on a stop_if with continue:false and records contract.stopped', async () => {
    const { id, output } = await preToolUse('run-1', 'Edit', edit('prisma/schema.prisma'), hash);
    assert.equal(output?.continue, false);
    assert.match(output!.stopReason, /stop_if: schema change/);
    assert.equal(output!.hookSpecificOutput.permissionDecision, 'deny');
    const stopped = journalEvents(home).find((event) => event.kind === 'contract.stopped' && event.tool_use_id === id);
    assert.ok(stopped);
    assert.deepEqual([stopped.session_id, (stopped.data as { condition: string }).condition, (stopped.data as { contract_hash: string }).contract_hash], ['run-1', 'schema change', `sha256:${hash}`]);
    assert.match((stopped.data as { reason: string }).reason, /schema\.prisma/);
    // The stop holds: a call inside the box is denied too, and the stop is not recorded again.
    const next = await preToolUse('run-1', 'Edit', edit('billing/export/filter.ts'), hash);
    assert.equal(next.output?.continue, false);
    assert.match(next.output!.hookSpecificOutput.permissionDecisionReason, /Writ stopped the session/);
    assert.equal(journalEvents(home).filter((event) => event.kind === 'contract.stopped').length, 1);
  });

  it('keeps a policy deny a deny, with the contract verdict recorded', async () => {
    const { id, output } = await preToolUse('run-6', 'Read', { file_path: join(project, 'billing', 'export', '.env') }, hash);
    assert.equal(output?.hookSpecificOutput.permissionDecision, 'deny');
    const { decision } = decisionEvent(id);
    assert.ok(!decision.rules.some((rule) => rule.startsWith('contract.')), `the policy's rule decided: ${decision.rules}`);
    assert.equal(decision.contract?.outcome, 'outside');
  });

  it('denies when the stored contract is gone, and when the header is no contract id', async () => {
    const other = storeContract(home.root, `${CONTRACT}# another copy\n`);
    await preToolUse('run-2', 'Edit', edit('billing/export/filter.ts'), other);
    rmSync(join(contractsDir(home.root), `${other}.yaml`));
    const gone = await preToolUse('run-2', 'Edit', edit('billing/export/filter.ts'), other);
    assert.equal(gone.output?.hookSpecificOutput.permissionDecision, 'deny');
    assert.match(gone.output!.hookSpecificOutput.permissionDecisionReason, /task contract cannot be used/);
    const bogus = await preToolUse('run-3', 'Edit', edit('billing/export/filter.ts'), 'not-a-hash');
    assert.equal(bogus.output?.hookSpecificOutput.permissionDecision, 'deny');
  });

  it('stores contracts owner-only', () => {
    assert.equal(statSync(contractsDir(home.root)).mode & 0o777, 0o700);
    assert.equal(statSync(join(contractsDir(home.root), `${hash}.yaml`)).mode & 0o777, 0o600);
  });

  it('attaches a contract to a running session by id, and refuses an unknown one', async () => {
    const before = await preToolUse('run-4', 'Write', { file_path: join(project, 'migrations', '002.sql'), content: 'x' });
    assert.notEqual(before.output?.hookSpecificOutput?.rules, 'contract.outside');
    const attached = await call(CONTRACT_ATTACH_PATH, JSON.stringify({ session_id: 'run-4', contract_hash: `sha256:${hash}`, source: '/tmp/task.yaml' }));
    assert.equal(attached.status, 200, attached.body);
    const after = await preToolUse('run-4', 'Write', { file_path: join(project, 'migrations', '002.sql'), content: 'x' });
    assert.match(after.output!.hookSpecificOutput.permissionDecisionReason, /blocked: migrations/);
    const event = journalEvents(home).filter((e) => e.kind === 'contract.attached' && e.session_id === 'run-4');
    assert.equal((event[0]!.data as { source: string }).source, '/tmp/task.yaml');
    const unknown = await call(CONTRACT_ATTACH_PATH, JSON.stringify({ session_id: 'run-4', contract_hash: 'a'.repeat(64) }));
    assert.equal(unknown.status, 400);
    assert.equal((await call(CONTRACT_ATTACH_PATH, '{not json')).status, 400);
  });

  it('a high-risk edit without a contract gets the standard policy answer: ask for one', async () => {
    const { id, output } = await preToolUse('run-5', 'Edit', edit('deploy/worker.yaml'));
    assert.equal(output?.hookSpecificOutput.permissionDecision, 'ask');
    assert.match(output!.hookSpecificOutput.permissionDecisionReason, /Attach a contract with a rollback note/);
    assert.deepEqual(decisionEvent(id).decision.rules, ['contract.required']);
    assert.equal(decisionEvent(id).decision.contract, undefined);
  });

  it('keeps the binding and the stop across a restart', async () => {
    await daemon.close();
    daemon = await startDaemon({ home, log: () => {} });
    const { output } = await preToolUse('run-4', 'Write', { file_path: join(project, 'migrations', '003.sql'), content: 'x' });
    assert.match(output!.hookSpecificOutput.permissionDecisionReason, /blocked: migrations/);
    const stopped = await preToolUse('run-1', 'Edit', edit('billing/export/filter.ts'));
    assert.equal(stopped.output?.continue, false, 'a stopped session stays stopped');
  });
});
