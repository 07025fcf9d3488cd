// The self-test sends a synthetic forbidden PreToolUse through the hook as installed (the C shim, the socket,
// a real daemon and its policy) and passes only when the daemon denies it.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { bundledShimPath } from '../../src/agents/claude-code/install.js';
import { planInstall, planUninstall, writHookCommands } from '../../src/agents/claude-code/settings.js';
import type { GuardAgentState } from '../../src/core/inventory.js';
import { callEnvironment } from '../../src/daemon/call-environment.js';
import { SELF_TEST_SESSION } from '../../src/daemon/coverage.js';
import { decidePreToolUse } from '../../src/daemon/hook-service.js';
import { runSelfTest } from '../../src/daemon/self-test.js';
import { readPolicyDir } from '../../src/home/policy-files.js';
import { resolveWritHome } from '../../src/home/writ-home.js';
import { loadShellParser, preparePolicy, type PreparedPolicy, type ShellParser } from '../../src/policy/index.js';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { journalEvents } from '../support/journal.js';

const principal = { user: 'tester', assurance: 'local-os-user', groups: [] };

describe('guard self-test', () => {
  let writ: TestDaemon;
  let root: string;
  let policy: PreparedPolicy;
  let parser: ShellParser;
  const decide = (payload: Parameters<typeof decidePreToolUse>[0]) => decidePreToolUse(payload, { policy: () => policy, parser, principal, writHome: writ.home.root, agentVersion: () => undefined, environment: callEnvironment }).decision;

  /** A user settings file holding Writ's hooks for `writHome`, as `writ install` writes them, and the guard state saying so. */
  const installedFor = (writHome: string, name: string): { state: GuardAgentState; file: string } => {
    const file = join(root, name, '.claude', 'settings.json');
    mkdirSync(join(root, name, '.claude'), { recursive: true });
    writeFileSync(file, planInstall(undefined, writHookCommands({ transport: 'command', shimPath: bundledShimPath(), writHome })));
    return { file, state: { agent: 'claude-code', hooks_installed: true, settings: [{ file, scope: 'user', has_writ_hooks: true }], problems: [] } };
  };

  before(async () => {
    writ = await startTestDaemon();
    root = mkdtempSync(join(tmpdir(), 'writ-self-test-'));
    policy = preparePolicy(readPolicyDir(writ.home.policy));
    parser = await loadShellParser();
  });
  after(async () => {
    await writ.daemon.close();
    rmSync(root, { recursive: true, force: true });
  });

  test('passes when the installed hook reaches the daemon and the policy denies the canary; the call is journalled under the reserved session', async () => {
    const { state } = installedFor(writ.home.root, 'good');
    const result = await runSelfTest({ guard: state, decide, home: root });
    assert.equal(result.outcome, 'passed', result.detail);
    assert.equal(result.passed, true);
    assert.match(result.canary!, /^Read .*\.ssh\/id_rsa/);
    const recorded = journalEvents(writ.home).filter((event) => event.session_id === SELF_TEST_SESSION);
    assert.equal(recorded.length, 1);
    assert.equal((recorded[0].data.decision as { decision: string }).decision, 'deny');
  });

  test('fails when Writ\'s hook was removed from the settings file, even if the last known state said it was there', async () => {
    const { state, file } = installedFor(writ.home.root, 'removed');
    writeFileSync(file, planUninstall(planInstall('{"model":"x"}\n', writHookCommands({ transport: 'command', shimPath: bundledShimPath(), writHome: writ.home.root })))!);
    const result = await runSelfTest({ guard: state, decide, home: root });
    assert.equal(result.outcome, 'failed');
    assert.match(result.detail, /no Writ PreToolUse hook was found/);
  });

  test('fails when the guard state says the hooks are not in force, naming why', async () => {
    const state: GuardAgentState = { agent: 'claude-code', hooks_installed: false, settings: [], problems: ['disableAllHooks is true in ~/.claude/settings.json'] };
    const result = await runSelfTest({ guard: state, decide, home: root });
    assert.equal(result.passed, false);
    assert.match(result.detail, /disableAllHooks/);
  });

  describe('against a daemon that answers allow to everything', () => {
    let fake: Server;
    let fakeHome: string;
    before(async () => {
      fakeHome = mkdtempSync(join(tmpdir(), 'writ-fake-'));
      fake = createServer((req, res) => {
        req.resume();
        req.on('end', () => res.writeHead(200, { 'content-type': 'text/plain', connection: 'close' }).end(''));
      });
      await new Promise<void>((resolve) => fake.listen(resolveWritHome(fakeHome).socket, resolve));
    });
    after(async () => {
      await new Promise((resolve) => fake.close(resolve));
      rmSync(fakeHome, { recursive: true, force: true });
    });

    test('the self-test fails: the hook answered allow for a call the policy denies', async () => {
      const { state } = installedFor(fakeHome, 'fake');
      const result = await runSelfTest({ guard: state, decide, home: root });
      assert.equal(result.outcome, 'failed');
      assert.match(result.detail, /answered nothing \(allow\)/);
    });
  });

  test('is inconclusive when the policy in force denies none of the canaries', async () => {
    const { state } = installedFor(writ.home.root, 'lenient');
    const result = await runSelfTest({ guard: state, decide: () => ({ decision: 'allow' }), home: root });
    assert.equal(result.outcome, 'inconclusive');
    assert.equal(result.passed, false);
    assert.match(result.detail, /denies none/);
  });
});
