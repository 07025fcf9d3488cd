// The daemon's guard: signed heartbeats, inventory events on change, ConfigChange re-checks, and the guard
// endpoint `writ guard` asks. A real daemon, the C shim and Claude Code settings files in a temporary home.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { bundledShimPath } from '../../src/agents/claude-code/install.js';
import { planInstall, planUninstall, writHookCommands } from '../../src/agents/claude-code/settings.js';
import type { EventBody } from '../../src/core/event.js';
import type { GuardAgentState } from '../../src/core/inventory.js';
import { GUARD_PATH, HOOK_PATH, startDaemon, type RunningDaemon } from '../../src/daemon/daemon.js';
import { GuardReporter } from '../../src/daemon/guard-reporter.js';
import { verifyJournal } from '../../src/daemon/journal.js';
import { loadPublicKey } from '../../src/daemon/keys.js';
import { resolveWritHome, type WritHome } from '../../src/home/writ-home.js';
import { journalEvents } from '../support/journal.js';

function call(home: WritHome, method: string, path: string, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: home.socket, method, path, headers: { 'content-type': 'application/json', 'x-writ-mode': 'record' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const ofKind = (home: WritHome, kind: string): EventBody[] => journalEvents(home).filter((event) => event.kind === kind);

async function until<T>(probe: () => T | undefined, what: string): Promise<T> {
  for (let waited = 0; waited < 20_000; waited += 50) {
    const value = probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('the daemon reports its guard', () => {
  let root: string;
  let userHome: string;
  let home: WritHome;
  let daemon: RunningDaemon;
  let settingsFile: string;
  let installedText: string;

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'writ-guard-'));
    userHome = join(root, 'user');
    home = resolveWritHome(join(userHome, '.writ'));
    settingsFile = join(userHome, '.claude', 'settings.json');
    mkdirSync(join(userHome, '.claude', 'projects', '-repo'), { recursive: true });
    installedText = planInstall('{"model":"sonnet"}\n', writHookCommands({ transport: 'command', shimPath: bundledShimPath(), writHome: home.root }));
    writeFileSync(settingsFile, installedText);
    daemon = await startDaemon({ home, log: () => {}, guard: { intervalMs: 60 * 60 * 1000, firstInventoryDelayMs: 0, userHome, managedDir: join(root, 'managed'), discovery: false } });
  });
  after(async () => {
    await daemon.close();
    rmSync(root, { recursive: true, force: true });
  });

  test('reports its inventory once at start, with the guard state in it', async () => {
    const [reported] = await until(() => (ofKind(home, 'inventory.reported').length > 0 ? ofKind(home, 'inventory.reported') : undefined), 'inventory.reported');
    const guard = reported.data.guard as { agents: GuardAgentState[] };
    assert.equal(guard.agents[0].agent, 'claude-code');
    assert.equal(guard.agents[0].hooks_installed, true);
    assert.match(String(reported.data.inventory_hash), /^sha256:[0-9a-f]{64}$/);
  });

  test('a check on demand records a signed heartbeat: guard on, self-test passed, the policy in force, uncovered calls from a transcript', async () => {
    writeFileSync(
      join(userHome, '.claude', 'projects', '-repo', 'bare-session.jsonl'),
      [
        JSON.stringify({ type: 'assistant', message: { content: [{ type: 'tool_use', id: 'toolu_unseen', name: 'Bash', input: { command: 'ls' } }] } }),
        JSON.stringify({ type: 'user', message: { content: [{ type: 'tool_result', tool_use_id: 'toolu_unseen', content: 'x' }] } }),
      ].join('\n') + '\n',
    );
    const answer = await call(home, 'POST', GUARD_PATH);
    assert.equal(answer.status, 200, answer.body);
    const report = JSON.parse(answer.body);
    assert.equal(report.self_test.outcome, 'passed', report.self_test.detail);
    assert.deepEqual(report.uncovered_calls.map((c: { tool_use_id: string }) => c.tool_use_id), ['toolu_unseen']);

    const heartbeat = ofKind(home, 'guard.heartbeat').at(-1)!;
    assert.equal(heartbeat.data.policy_hash, daemon.policyHash());
    assert.deepEqual(heartbeat.data.kills, []);
    assert.equal((heartbeat.data.agents as GuardAgentState[])[0].hooks_installed, true);
    assert.deepEqual((heartbeat.data.uncovered_calls as { tool_use_id: string }[]).map((c) => c.tool_use_id), ['toolu_unseen']);
    assert.equal(verifyJournal(home.journal, loadPublicKey(home.root)).ok, true);

    // The self-test's own synthetic call never counts as a session's uncovered call, and a call already reported is not repeated.
    const again = JSON.parse((await call(home, 'POST', GUARD_PATH)).body);
    assert.deepEqual(again.uncovered_calls, []);
    // GET answers the last heartbeat without checking again.
    const heartbeats = ofKind(home, 'guard.heartbeat').length;
    assert.equal(JSON.parse((await call(home, 'GET', GUARD_PATH)).body).self_test.at, again.self_test.at);
    assert.equal(ofKind(home, 'guard.heartbeat').length, heartbeats);
  });

  test('ConfigChange while the hooks stay in force is only recorded', async () => {
    const answer = await call(home, 'POST', HOOK_PATH, JSON.stringify({ hook_event_name: 'ConfigChange', session_id: 's-cc', cwd: root, source: 'user_settings', file_path: settingsFile }));
    assert.deepEqual(answer, { status: 200, body: '' });
    assert.equal(ofKind(home, 'guard.changed').length, 0);
  });

  test('ConfigChange that removes Writ\'s hooks is recorded as guard.changed and blocked with a reason', async () => {
    writeFileSync(settingsFile, planUninstall(installedText)!);
    const answer = await call(home, 'POST', HOOK_PATH, JSON.stringify({ hook_event_name: 'ConfigChange', session_id: 's-cc', cwd: root, source: 'user_settings', file_path: settingsFile }));
    const output = JSON.parse(answer.body);
    assert.equal(output.decision, 'block');
    assert.match(output.reason, /removes Writ's hooks/);
    const [changed] = ofKind(home, 'guard.changed');
    assert.equal(changed.data.file, settingsFile);
    assert.equal((changed.data.state as GuardAgentState).hooks_installed, false);
    assert.equal(changed.data.blocked, true);
    assert.equal(changed.session_id, 's-cc');
  });

  test('disableAllHooks in policy settings is recorded but not blocked (Claude Code does not let a hook block it)', async () => {
    writeFileSync(settingsFile, JSON.stringify({ ...JSON.parse(installedText), disableAllHooks: true }));
    const answer = await call(home, 'POST', HOOK_PATH, JSON.stringify({ hook_event_name: 'ConfigChange', session_id: 's-cc', cwd: root, source: 'policy_settings', file_path: join(root, 'managed', 'managed-settings.json') }));
    assert.deepEqual(answer, { status: 200, body: '' });
    const changed = ofKind(home, 'guard.changed').at(-1)!;
    assert.equal(changed.data.blocked, false);
    assert.equal(changed.data.source, 'policy_settings');
  });

  test('with the hooks gone the heartbeat says so and the self-test fails', async () => {
    writeFileSync(settingsFile, planUninstall(installedText)!);
    const report = JSON.parse((await call(home, 'POST', GUARD_PATH)).body);
    assert.equal(report.agents[0].hooks_installed, false);
    assert.equal(report.self_test.passed, false);
    assert.match(report.self_test.detail, /not in force/);
  });
});

describe('GuardReporter', () => {
  const state = (installed: boolean): GuardAgentState => ({ agent: 'claude-code', hooks_installed: installed, settings: [], problems: [] });

  test('records a heartbeat every interval, and an inventory only when it changed', async () => {
    const recorded: { kind: string; data: Record<string, unknown> }[] = [];
    let installed = true;
    const reporter = new GuardReporter({
      record: (kind, data) => recorded.push({ kind, data }),
      guardStates: () => [state(installed)],
      selfTest: async () => ({ at: new Date().toISOString(), passed: installed, outcome: installed ? 'passed' : 'failed', detail: '', duration_ms: 0 }),
      coverage: async () => ({ uncovered_calls: [], findings: [], transcripts: 0 }),
      policyHash: () => 'sha256:p',
      bundle: () => undefined,
      kills: () => ['tool:Bash'],
      intervalMs: 30,
      firstInventoryDelayMs: 0,
      now: () => new Date(),
      log: () => {},
    });
    reporter.start();
    await until(() => (recorded.filter((r) => r.kind === 'guard.heartbeat').length >= 2 ? true : undefined), 'two heartbeats');
    assert.equal(recorded.filter((r) => r.kind === 'inventory.reported').length, 1);
    installed = false;
    await until(() => (recorded.filter((r) => r.kind === 'inventory.reported').length >= 2 ? true : undefined), 'a changed inventory');
    await reporter.stop();
    const last = recorded.filter((r) => r.kind === 'guard.heartbeat').at(-1)!;
    assert.deepEqual(last.data.kills, ['tool:Bash']);
    assert.equal(last.data.policy_hash, 'sha256:p');
  });

  test('a discovery that hangs is cut off at its bound and becomes a finding', async () => {
    const recorded: { kind: string; data: Record<string, unknown> }[] = [];
    const reporter = new GuardReporter({
      record: (kind, data) => recorded.push({ kind, data }),
      guardStates: () => [state(true)],
      selfTest: async () => ({ at: '', passed: true, outcome: 'passed', detail: '', duration_ms: 0 }),
      coverage: async () => ({ uncovered_calls: [], findings: [], transcripts: 0 }),
      inventory: () => new Promise(() => {}),
      discoveryTimeoutMs: 50,
      policyHash: () => 'sha256:p',
      bundle: () => undefined,
      kills: () => [],
      now: () => new Date(),
      log: () => {},
    });
    const inventory = await reporter.reportInventory();
    assert.match(inventory!.findings[0].message, /discovery took longer than 50 ms/);
    assert.equal(recorded[0].kind, 'inventory.reported');
  });
});
