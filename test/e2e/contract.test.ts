// A task contract with real Claude Code: `writ run --contract FILE -- claude …` runs a scripted session that
// edits a file inside the box (it runs, and the file changes), tries a migration (denied, the tool result
// quoting the contract), then changes the schema, a stop_if: Claude Code stops, and the call planned after it
// never runs. The journal holds contract.attached, the contract verdict on every PreToolUse and
// contract.stopped, and `writ runs show` lists the contract, the denial and the stop.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { resolveWritHome, type WritHome } from '../../src/home/writ-home.js';
import { contractHash } from '../../src/daemon/contracts.js';
import { CLAUDE_BIN, createClaudeWorkspace, trustProject, type ClaudeResult, type ClaudeWorkspace } from '../support/claude.js';
import { journalEvents } from '../support/journal.js';
import { startScriptedModel, type ScriptedModel } from '../support/scripted-model.js';
import { startWritDaemon, stopWritDaemon, writ, WRIT_BIN } from '../support/writ-process.js';
import type { ChildProcess } from 'node:child_process';

const CONTRACT = `task: tighten the export filter for EU invoice rows
allowed:
  read_edit: [billing/export/**, migrations/**, prisma/**]
  commands: [npm test -- billing/export, npm run lint]
blocked: [migrations, customer data, production logs, secrets, deploy config, write-capable MCP tools]
stop_if: [schema change, wider service boundary, access to production examples]
rollback:
  undo: revert the patch in billing/export/** and redeploy the worker
  owner: billing on-call
`;

/** `writ run --contract FILE -- claude -p …` as a user types it, offline against the scripted model. */
function runUnderContract(workspace: ClaudeWorkspace, writHome: WritHome, contractFile: string, model: ScriptedModel): Promise<{ code: number | null; stdout: string; stderr: string }> {
  trustProject(workspace.home, workspace.cwd);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: workspace.home,
    WRIT_HOME: writHome.root,
    ANTHROPIC_BASE_URL: model.url,
    ANTHROPIC_API_KEY: 'sk-test',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_TELEMETRY: '1',
    DISABLE_AUTOUPDATER: '1',
    DISABLE_ERROR_REPORTING: '1',
    IS_SANDBOX: '1',
  };
  const args = [WRIT_BIN, 'run', '--contract', contractFile, '--', CLAUDE_BIN, '-p', 'tighten the EU export filter', '--output-format', 'json', '--permission-mode', 'bypassPermissions'];
  return new Promise((resolve) => {
    // Its own process group, so a hung run is killed whole.
    const child = spawn(process.execPath, args, { cwd: workspace.cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }, 150_000);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('a task contract with real Claude Code', () => {
  let workspace: ClaudeWorkspace;
  let writHome: WritHome;
  let daemon: ChildProcess | undefined;

  before(async () => {
    workspace = createClaudeWorkspace();
    writHome = resolveWritHome(join(workspace.home, '.writ'));
    mkdirSync(join(workspace.cwd, 'billing', 'export'), { recursive: true });
    writeFileSync(join(workspace.cwd, 'billing', 'export', 'filter.ts'), "export const regions = ['EU', 'US'];\n");
    daemon = await startWritDaemon(workspace.home, writHome);
    const installed = writ(['install', 'claude-code', '--scope', 'user'], workspace.home);
    assert.equal(installed.status, 0, installed.stderr);
  });

  after(async () => {
    if (daemon) await stopWritDaemon(daemon);
    workspace?.remove();
  });

  test('inside the box runs, a migration is denied quoting the contract, a schema change stops the session', async () => {
    const contractFile = join(workspace.home, 'task.yaml');
    writeFileSync(contractFile, CONTRACT);
    const filter = join(workspace.cwd, 'billing', 'export', 'filter.ts');
    // Inside the box: only the stop keeps it from running.
    const afterStop = join(workspace.cwd, 'billing', 'export', 'after-stop.ts');
    const model = await startScriptedModel([
      [{ name: 'Read', input: { file_path: filter }, id: 'toolu_read' }],
      [{ name: 'Edit', input: { file_path: filter, old_string: "['EU', 'US']", new_string: "['EU']" }, id: 'toolu_edit' }],
      [{ name: 'Write', input: { file_path: join(workspace.cwd, 'migrations', '001.sql'), content: 'ALTER TABLE invoices ADD COLUMN eu boolean;\n' }, id: 'toolu_migration' }],
      [{ name: 'Write', input: { file_path: join(workspace.cwd, 'prisma', 'schema.prisma'), content: 'model Invoice { id Int @id }\n' }, id: 'toolu_schema' }],
      [{ name: 'Write', input: { file_path: afterStop, content: 'should never be written\n' }, id: 'toolu_after_stop' }],
      'done',
    ]);
    let run: Awaited<ReturnType<typeof runUnderContract>>;
    try {
      run = await runUnderContract(workspace, writHome, contractFile, model);
    } finally {
      await model.close();
    }
    const results = model.toolResults();
    const result = JSON.parse(run.stdout) as ClaudeResult;

    // 1. Inside the box: allowed, and the file really changed.
    assert.equal(results.get('toolu_edit')?.is_error, false, JSON.stringify(results.get('toolu_edit')));
    assert.equal(readFileSync(filter, 'utf8'), "export const regions = ['EU'];\n");

    // 2. The migration: denied, the tool result quoting the contract; nothing written.
    const migration = results.get('toolu_migration');
    assert.equal(migration?.is_error, true);
    assert.match(migration!.content, /blocked by the task contract \("blocked: migrations"\)/);
    assert.equal(existsSync(join(workspace.cwd, 'migrations', '001.sql')), false);

    // 3. The schema change: the session stops. The schema is not written, Claude Code reports the stop, and the
    // call planned after it never runs. (Claude Code 2.1.197 reads continue:false next to a deny as a deny
    // only, so the daemon holds the stop: every later call of the session is denied with the stop's reason.)
    assert.equal(existsSync(join(workspace.cwd, 'prisma', 'schema.prisma')), false);
    assert.equal(results.get('toolu_schema')?.is_error, true);
    assert.match(results.get('toolu_schema')!.content, /Writ stopped the session: the task contract says to stop on \("stop_if: schema change"\)/);
    assert.equal(existsSync(afterStop), false, 'the call planned after the stop never ran');
    assert.match(results.get('toolu_after_stop')?.content ?? '', /Writ stopped the session: .*stop_if: schema change/);
    const denied = result.permission_denials.map((denial) => denial.tool_use_id);
    assert.deepEqual(denied, ['toolu_migration', 'toolu_schema', 'toolu_after_stop'], `Claude Code reports each denial: ${run.stdout}`);

    // The journal, in the shared formats.
    const events = journalEvents(writHome);
    const hash = `sha256:${contractHash(CONTRACT)}`;
    const attached = events.filter((event) => event.kind === 'contract.attached');
    assert.equal(attached.length, 1);
    assert.equal(attached[0]!.session_id, result.session_id);
    assert.equal((attached[0]!.data as { contract_hash: string }).contract_hash, hash);
    assert.equal((attached[0]!.data as { contract: { task: string } }).contract.task, 'tighten the export filter for EU invoice rows');
    const pre = events.filter((event) => event.kind === 'hook.PreToolUse' && event.session_id === result.session_id);
    assert.ok(pre.length >= 5);
    for (const event of pre) assert.equal((event.data as { decision: { contract?: { hash: string } } }).decision.contract?.hash, hash, `every PreToolUse carries the contract: ${event.tool_use_id}`);
    const verdictOf = (id: string) => (pre.find((event) => event.tool_use_id === id)!.data as { decision: { decision: string; contract: Record<string, string> } }).decision;
    assert.deepEqual([verdictOf('toolu_edit').decision, verdictOf('toolu_edit').contract.outcome], ['allow', 'inside']);
    assert.deepEqual([verdictOf('toolu_migration').decision, verdictOf('toolu_migration').contract.outcome, verdictOf('toolu_migration').contract.clause], ['deny', 'outside', 'blocked: migrations']);
    assert.deepEqual([verdictOf('toolu_schema').contract.outcome, verdictOf('toolu_schema').contract.clause], ['stop', 'stop_if: schema change']);
    assert.deepEqual([verdictOf('toolu_after_stop').decision, verdictOf('toolu_after_stop').contract.outcome], ['deny', 'stop']);
    const stops = events.filter((event) => event.kind === 'contract.stopped');
    assert.equal(stops.length, 1, 'the stop is recorded once, when its condition is met');
    const stopped = stops[0]!;
    assert.deepEqual([stopped.session_id, stopped.tool_use_id], [result.session_id, 'toolu_schema']);
    assert.deepEqual([(stopped.data as { contract_hash: string }).contract_hash, (stopped.data as { condition: string }).condition], [hash, 'schema change']);

    // The run record lists the contract, the denial and the stop.
    const shown = writ(['runs', 'show', result.session_id, '--format', 'json'], workspace.home);
    assert.equal(shown.status, 0, shown.stderr);
    const record = JSON.parse(shown.stdout) as { contract?: { hash: string; checks: { outcome: string; clause: string }[]; stops: { condition: string }[] } };
    assert.equal(record.contract?.hash, hash);
    assert.ok(record.contract!.checks.some((check) => check.outcome === 'outside' && check.clause === 'blocked: migrations'));
    assert.deepEqual(record.contract!.stops.map((stop) => stop.condition), ['schema change']);
  });
});
