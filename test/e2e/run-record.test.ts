// A run record of a real Claude Code session: a scripted model reads a file, edits another, runs the tests,
// is denied ~/.ssh/id_rsa and commits. `writ runs show` then lists exactly that, from the signed journal, and
// --verify checks every linked event.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { resolveWritHome, type WritHome } from '../../src/home/writ-home.js';
import type { RunRecord } from '../../src/runs/index.js';
import { createClaudeWorkspace, runClaude, type ClaudeWorkspace } from '../support/claude.js';
import { startScriptedModel } from '../support/scripted-model.js';
import { startWritDaemon, stopWritDaemon, writ } from '../support/writ-process.js';

describe('the run record of a real Claude Code session', () => {
  let workspace: ClaudeWorkspace;
  let writHome: WritHome;
  let daemon: ChildProcess | undefined;

  before(async () => {
    workspace = createClaudeWorkspace();
    writHome = resolveWritHome(join(workspace.home, '.writ'));
    mkdirSync(join(workspace.home, '.ssh'));
    writeFileSync(join(workspace.home, '.ssh', 'id_rsa'), '-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-real-key\n');
    const git = (...args: string[]) => execFileSync('git', ['-C', workspace.cwd, ...args], { env: { ...process.env, HOME: workspace.home } });
    git('init', '-q', '-b', 'main');
    git('config', 'user.email', 'dev@example.com');
    git('config', 'user.name', 'Dev');
    writeFileSync(join(workspace.cwd, 'NOTES.md'), 'round prices to cents\n');
    writeFileSync(join(workspace.cwd, 'price.js'), 'export const price = (x) => Math.floor(x);\n');
    writeFileSync(join(workspace.cwd, 'price.test.js'), "import test from 'node:test';\nimport assert from 'node:assert';\nimport { price } from './price.js';\ntest('cents', () => assert.equal(price(1.239), 1.24));\n");
    writeFileSync(join(workspace.cwd, 'package.json'), '{"type":"module"}\n');
    git('add', '.');
    git('commit', '-q', '-m', 'start');
    daemon = await startWritDaemon(workspace.home, writHome);
    const installed = writ(['install', 'claude-code', '--scope', 'user'], workspace.home);
    assert.equal(installed.status, 0, installed.stderr);
  });

  after(async () => {
    if (daemon) await stopWritDaemon(daemon);
    workspace.remove();
  });

  test('files, commands, the denial, the test and the commit, each from the signed events; --verify passes', async () => {
    const notes = join(workspace.cwd, 'NOTES.md');
    const price = join(workspace.cwd, 'price.js');
    const key = join(workspace.home, '.ssh', 'id_rsa');
    const model = await startScriptedModel([
      [{ name: 'Read', input: { file_path: notes }, id: 'toolu_read' }],
      [{ name: 'Read', input: { file_path: price }, id: 'toolu_read_price' }],
      [{ name: 'Edit', input: { file_path: price, old_string: 'Math.floor(x)', new_string: 'Math.round(x * 100) / 100' }, id: 'toolu_edit' }],
      [{ name: 'Bash', input: { command: 'node --test', description: 'run the tests' }, id: 'toolu_test' }],
      [{ name: 'Read', input: { file_path: key }, id: 'toolu_ssh' }],
      [{ name: 'Bash', input: { command: 'git commit -am "Round prices to cents"', description: 'commit' }, id: 'toolu_commit' }],
      'Rounded prices to cents. I assumed prices are never negative. Risk: the rounding of halves is not tested.',
    ]);
    let sessionId: string;
    try {
      const run = await runClaude({ prompt: 'round prices to cents', cwd: workspace.cwd, home: workspace.home, model, permissionMode: 'bypassPermissions', env: { WRIT_HOME: writHome.root } });
      assert.equal(run.exitCode, 0, run.stderr);
      sessionId = run.result!.session_id;
      assert.equal(model.toolResults().get('toolu_test')!.is_error, false, model.toolResults().get('toolu_test')!.content);
      assert.equal(model.toolResults().get('toolu_ssh')!.is_error, true);
    } finally {
      await model.close();
    }
    const commit = execFileSync('git', ['-C', workspace.cwd, 'log', '-1', '--format=%h'], { encoding: 'utf8' }).trim();

    const listed = writ(['runs', 'list', '--json'], workspace.home);
    assert.equal(listed.status, 0, listed.stderr);
    assert.ok((JSON.parse(listed.stdout) as { session_id: string }[]).some((run) => run.session_id === sessionId));

    const shown = writ(['runs', 'show', sessionId, '--format', 'json'], workspace.home);
    assert.equal(shown.status, 0, shown.stderr);
    const record = JSON.parse(shown.stdout) as RunRecord;
    assert.equal(record.status, 'ended');
    assert.deepEqual(record.request.prompts.map((prompt) => prompt.text), ['round prices to cents']);
    assert.equal(record.agent.name, 'claude-code');
    assert.deepEqual(record.agent.permission_modes, ['bypassPermissions']);
    assert.deepEqual(record.files_inspected.map((file) => file.path).sort(), [notes, price].sort());
    assert.deepEqual(record.files_changed.map(({ path, edits, lines_added, lines_removed }) => ({ path, edits, lines_added, lines_removed })), [{ path: price, edits: 1, lines_added: 1, lines_removed: 1 }]);
    assert.deepEqual(record.commands.map((command) => [command.command, command.outcome]), [
      ['node --test', 'succeeded'],
      ['git commit -am "Round prices to cents"', 'succeeded'],
    ]);
    assert.deepEqual(record.denials.map((denial) => [denial.tool, denial.target]), [['Read', key]]);
    assert.ok(record.denials[0].rules.some((rule) => rule.startsWith('credentials.ssh')), record.denials[0].rules.join(', '));
    assert.deepEqual(record.tests.map((run) => [run.command, run.framework, run.outcome, run.exit_code]), [['node --test', 'node:test', 'succeeded', 0]]);
    assert.deepEqual(record.test_gaps, [], 'the edit was followed by a test run');
    assert.deepEqual(record.commits.map((made) => [made.branch, made.id]), [['main', commit]]);
    assert.equal(record.claims?.source, 'agent');
    assert.deepEqual(record.claims?.assumptions, ['I assumed prices are never negative.']);

    const verified = writ(['runs', 'show', sessionId, '--verify'], workspace.home);
    assert.equal(verified.status, 0, verified.stderr);
    assert.match(verified.stderr, /signatures OK, journal chain OK/);
    assert.match(verified.stdout, /Assumption \(agent's claim\)/);
  });
});
