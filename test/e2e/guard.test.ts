// "Is the guard really on?" with real Claude Code: `writ guard check` passes while Writ's hooks are in the
// user settings; a session run after they were removed shows as not guarded, and its tool calls, read from
// Claude Code's own transcript, as uncovered. A session that removes the hooks itself is stopped by ConfigChange.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { planUninstall } from '../../src/agents/claude-code/settings.js';
import { resolveWritHome, type WritHome } from '../../src/home/writ-home.js';
import { createClaudeWorkspace, runClaude, type ClaudeWorkspace } from '../support/claude.js';
import { journalEvents } from '../support/journal.js';
import { startScriptedModel, type ScriptedTurn } from '../support/scripted-model.js';
import { startWritDaemon, stopWritDaemon, writ } from '../support/writ-process.js';

interface GuardJson {
  on: boolean;
  problems: string[];
  agents: { agent: string; hooks_installed: boolean }[];
  self_test?: { passed: boolean; outcome: string; detail: string; duration_ms: number };
  uncovered_calls: { session_id: string; tool_use_id: string; tool?: string; source: string }[];
}

describe('writ guard with real Claude Code', () => {
  let workspace: ClaudeWorkspace;
  let writHome: WritHome;
  let daemon: ChildProcess | undefined;
  let settingsFile: string;

  const session = async (script: ScriptedTurn[]) => {
    const model = await startScriptedModel(script);
    try {
      const run = await runClaude({ prompt: 'do the task', cwd: workspace.cwd, home: workspace.home, model, permissionMode: 'acceptEdits', env: { WRIT_HOME: writHome.root } });
      assert.equal(run.exitCode, 0, run.stderr);
      return run;
    } finally {
      await model.close();
    }
  };
  const guardCheck = (): { status: number | null; report: GuardJson } => {
    const run = writ(['guard', 'check', '--json'], workspace.home);
    return { status: run.status, report: JSON.parse(run.stdout) as GuardJson };
  };

  before(async () => {
    workspace = createClaudeWorkspace();
    writHome = resolveWritHome(join(workspace.home, '.writ'));
    daemon = await startWritDaemon(workspace.home, writHome);
    const installed = writ(['install', 'claude-code', '--scope', 'user'], workspace.home);
    assert.equal(installed.status, 0, installed.stderr);
    settingsFile = join(workspace.home, '.claude', 'settings.json');
  });
  after(async () => {
    if (daemon) await stopWritDaemon(daemon);
    workspace.remove();
  });

  test('with the hooks installed, a governed session leaves nothing uncovered and the check passes', async () => {
    await session([[{ name: 'Bash', input: { command: 'echo governed > governed.txt', description: 'work' }, id: 'toolu_governed' }], 'done']);
    const { status, report } = guardCheck();
    assert.equal(report.self_test?.outcome, 'passed', report.self_test?.detail);
    assert.equal(report.agents[0].hooks_installed, true);
    assert.deepEqual(report.uncovered_calls, []);
    assert.equal(status, 0);
  });

  test('removing Writ\'s hooks while a session runs is blocked by ConfigChange and recorded signed; the session stays governed', async () => {
    const installedText = readFileSync(settingsFile, 'utf8');
    await session([
      // Someone edits the user settings while the agent works (the agent itself may not: the policy denies it).
      () => {
        writeFileSync(settingsFile, planUninstall(installedText)!);
        return [{ name: 'Bash', input: { command: 'sleep 3', description: 'wait' }, id: 'toolu_wait' }];
      },
      [{ name: 'Bash', input: { command: 'echo after > after.txt', description: 'more work' }, id: 'toolu_after' }],
      'done',
    ]);
    writeFileSync(settingsFile, installedText);
    const changed = journalEvents(writHome).filter((event) => event.kind === 'guard.changed');
    assert.equal(changed.length, 1);
    assert.equal(changed[0].data.file, settingsFile);
    assert.equal(changed[0].data.source, 'user_settings');
    assert.equal(changed[0].data.blocked, true);
    // The change was refused for this session: its next call was still decided by Writ.
    assert.ok(journalEvents(writHome).some((event) => event.kind === 'hook.PreToolUse' && event.tool_use_id === 'toolu_after'));
  });

  test('after the hooks are removed, the guard is not on and the next session\'s calls show as uncovered', async () => {
    writeFileSync(settingsFile, planUninstall(readFileSync(settingsFile, 'utf8'))!);
    const run = await session([[{ name: 'Bash', input: { command: 'echo bare > bare.txt', description: 'work' }, id: 'toolu_bare' }], 'done']);
    const { status, report } = guardCheck();
    assert.equal(status, 1);
    assert.equal(report.on, false);
    assert.equal(report.agents[0].hooks_installed, false);
    assert.equal(report.self_test?.passed, false);
    const uncovered = report.uncovered_calls.filter((call) => call.tool_use_id === 'toolu_bare');
    assert.equal(uncovered.length, 1);
    assert.equal(uncovered[0].session_id, run.result!.session_id);
    assert.equal(uncovered[0].tool, 'Bash');
    assert.ok(!report.uncovered_calls.some((call) => call.tool_use_id === 'toolu_governed'));
  });
});
