// The native backstop round trip: `writ policy compile --target claude-code` emits managed settings, real
// Claude Code loads them from /etc/claude-code/managed-settings.d/, and with no Writ daemon running it still
// refuses the must-never calls from its own permission rules while ordinary work goes on.
//
// Claude Code 2.1.197 reads managed settings only from the system directory (no flag or variable points it
// elsewhere: `--managed-settings` is the SDK's parent tier, filtered to restrictive keys), so this test writes
// one uniquely named drop-in there for each run and removes it at once. It needs /etc/claude-code writable
// (CI runs as root) and skips otherwise. Every other Claude Code run on this machine sees the drop-in while
// a run is under way, so test files must not run in parallel with this one.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { STANDARD_POLICY_DIR } from '../../src/home/policy-files.js';
import { createClaudeWorkspace, runClaude, type ClaudeRun, type ClaudeSettings, type ClaudeWorkspace, type PermissionMode } from '../support/claude.js';
import { startScriptedModel, type ScriptedModel, type ScriptedToolUse } from '../support/scripted-model.js';
import { writ } from '../support/writ-process.js';

const MANAGED_DIR = '/etc/claude-code/managed-settings.d';
const SSH_KEY = 'SSH-PRIVATE-KEY-NOT-REAL';
const DOTENV = 'API_TOKEN=DOTENV-NOT-REAL';
// Claude Code's own refusal texts for deny rules (2.1.197), as opposed to a hook's reason.
const READ_RULE_DENIAL = /File is in a directory that is denied by your permission settings/;
const bashRuleDenial = (command: string) => `Permission to use Bash with command ${command} has been denied.`;

/** Why the managed directory cannot be written, or undefined when it can (or can be created). */
function managedDirProblem(): string | undefined {
  let dir = MANAGED_DIR;
  while (!existsSync(dir)) dir = dirname(dir);
  try {
    accessSync(dir, constants.W_OK);
    return undefined;
  } catch {
    return `${dir} is not writable by this user, so Claude Code's managed settings cannot be installed (run as root, as CI does)`;
  }
}

const skip = managedDirProblem();

describe('the native backstop: real Claude Code enforces the compiled managed settings with no Writ daemon', { skip }, () => {
  let workspace: ClaudeWorkspace;
  let backstop: string; // compiled with --hooks none: what holds when Writ's hook is gone
  let full: string; // compiled with Writ's hooks, as an organisation installs it
  const createdDirs: string[] = [];
  const dropIns = new Set<string>();

  // Permissive user settings: without the managed file every forbidden call below would run.
  const permissiveUser = (extra: ClaudeSettings = {}): ClaudeSettings => ({
    permissions: { allow: ['Read(//**)', 'Edit(//**)', 'Bash(cat *)', 'Bash(echo *)'] },
    ...extra,
  });

  const calls = (): ScriptedToolUse[] => [
    { name: 'Read', input: { file_path: join(workspace.home, '.ssh', 'id_rsa') }, id: 'toolu_read_key' },
    { name: 'Bash', input: { command: 'cat ~/.ssh/id_rsa', description: 'print the key' }, id: 'toolu_cat_key' },
    { name: 'Read', input: { file_path: join(workspace.cwd, 'api', '.env') }, id: 'toolu_dotenv' },
    // Not ~/.bashrc: Claude Code guards shell start-up files itself, so only the control could tell the rules apart.
    { name: 'Write', input: { file_path: join(workspace.home, '.writ', 'policy', '99-off.cedar'), content: 'permit (principal, action, resource);\n' }, id: 'toolu_writ_policy' },
    { name: 'Bash', input: { command: 'echo writ uninstall claude-code --scope user', description: 'switch off the guard' }, id: 'toolu_uninstall' },
    { name: 'Bash', input: { command: 'echo built > build.txt', description: 'ordinary work' }, id: 'toolu_ok' },
  ];

  /** Runs Claude Code once with `managedText` installed as a drop-in, which is removed again before this returns. */
  const session = async (managedText: string | undefined, options: { settings: ClaudeSettings; permissionMode?: PermissionMode }): Promise<{ run: ClaudeRun; model: ScriptedModel }> => {
    // Each run starts from the same files: what an earlier run was allowed to write is gone.
    rmSync(join(workspace.cwd, 'build.txt'), { force: true });
    rmSync(join(workspace.home, '.writ'), { recursive: true, force: true });
    const model = await startScriptedModel([calls(), 'done']);
    const dropIn = join(MANAGED_DIR, `zz-writ-test-${randomUUID()}.json`);
    try {
      // `wx`: never clobber a file this test did not create.
      if (managedText !== undefined) writeFileSync(dropIn, managedText, { flag: 'wx', mode: 0o644 });
      dropIns.add(dropIn);
      const run = await runClaude({
        prompt: 'do the task',
        cwd: workspace.cwd,
        home: workspace.home,
        model,
        settings: options.settings,
        permissionMode: options.permissionMode ?? 'acceptEdits',
        outputFormat: 'stream-json',
      });
      assert.equal(run.exitCode, 0, run.stderr);
      return { run, model };
    } finally {
      rmSync(dropIn, { force: true });
      dropIns.delete(dropIn);
      await model.close();
    }
  };

  const hookEvents = (run: ClaudeRun) => run.events.filter((event) => event.type === 'system' && String(event.subtype).startsWith('hook_'));
  const initMode = (run: ClaudeRun) => run.events.find((event) => event.type === 'system' && event.subtype === 'init')?.permissionMode;

  before(() => {
    for (let dir = MANAGED_DIR; !existsSync(dir); dir = dirname(dir)) createdDirs.push(dir);
    mkdirSync(MANAGED_DIR, { recursive: true, mode: 0o755 });
    workspace = createClaudeWorkspace();
    mkdirSync(join(workspace.home, '.ssh'));
    writeFileSync(join(workspace.home, '.ssh', 'id_rsa'), `${SSH_KEY}\n`);
    mkdirSync(join(workspace.cwd, 'api'));
    writeFileSync(join(workspace.cwd, 'api', '.env'), `${DOTENV}\n`);
    // The real command, as an administrator runs it; HOME has no enrolment, so no telemetry settings.
    const compile = (name: string, args: string[]) => {
      const out = join(workspace.home, name);
      const result = writ(['policy', 'compile', '--target', 'claude-code', '--policy', STANDARD_POLICY_DIR, '--out', out, ...args], workspace.home);
      assert.equal(result.status, 0, result.stderr);
      return readFileSync(out, 'utf8');
    };
    backstop = compile('backstop.json', ['--hooks', 'none']);
    full = compile('full.json', []);
  });

  after(() => {
    for (const dropIn of dropIns) rmSync(dropIn, { force: true });
    // Directories this test created go again, deepest first, if nothing else was put in them meanwhile.
    for (const dir of createdDirs) if (existsSync(dir) && readdirSync(dir).length === 0) rmdirSync(dir);
    workspace?.remove();
  });

  test('control: without the managed settings, the permissive user settings let every call run', async () => {
    const { run, model } = await session(undefined, { settings: permissiveUser() });
    const results = model.toolResults();
    assert.deepEqual(run.result!.permission_denials, []);
    assert.match(results.get('toolu_read_key')!.content, new RegExp(SSH_KEY));
    assert.match(results.get('toolu_cat_key')!.content, new RegExp(SSH_KEY));
    assert.match(results.get('toolu_dotenv')!.content, new RegExp(DOTENV));
    assert.equal(readFileSync(join(workspace.home, '.writ', 'policy', '99-off.cedar'), 'utf8'), 'permit (principal, action, resource);\n');
    assert.equal(results.get('toolu_uninstall')!.is_error, false);
  });

  test('with the backstop installed, Claude Code itself denies the must-never calls and runs the ordinary one', async () => {
    const { run, model } = await session(backstop, { settings: permissiveUser() });
    const results = model.toolResults();
    assert.match(results.get('toolu_read_key')!.content, READ_RULE_DENIAL);
    assert.equal(results.get('toolu_cat_key')!.content, bashRuleDenial('cat ~/.ssh/id_rsa'));
    assert.match(results.get('toolu_dotenv')!.content, READ_RULE_DENIAL);
    assert.match(results.get('toolu_writ_policy')!.content, READ_RULE_DENIAL);
    assert.equal(existsSync(join(workspace.home, '.writ')), false, "Writ's policy was not written");
    assert.equal(results.get('toolu_uninstall')!.content, bashRuleDenial('echo writ uninstall claude-code --scope user'));
    for (const id of ['toolu_read_key', 'toolu_cat_key', 'toolu_dotenv', 'toolu_writ_policy', 'toolu_uninstall']) {
      assert.equal(results.get(id)!.is_error, true, `${id} was refused`);
      assert.doesNotMatch(results.get(id)!.content, /NOT-REAL/, `${id}: no secret reached the model`);
    }
    assert.equal(results.get('toolu_ok')!.is_error, false);
    assert.equal(readFileSync(join(workspace.cwd, 'build.txt'), 'utf8'), 'built\n');
    // Nothing but Claude Code's permission rules can have refused them: no hook is configured anywhere, and none ran.
    assert.deepEqual(hookEvents(run), []);
    assert.deepEqual(run.result!.permission_denials.map((denial) => denial.tool_use_id).sort(), ['toolu_cat_key', 'toolu_uninstall']);
  });

  test('bypassPermissions is switched off by the managed settings, and the deny rules still hold', async () => {
    const { run, model } = await session(backstop, { settings: permissiveUser(), permissionMode: 'bypassPermissions' });
    assert.equal(initMode(run), 'default', 'Claude Code fell back from bypassPermissions');
    assert.match(model.toolResults().get('toolu_read_key')!.content, READ_RULE_DENIAL);
    assert.equal(model.toolResults().get('toolu_cat_key')!.content, bashRuleDenial('cat ~/.ssh/id_rsa'));
  });

  test("the full file's Writ hooks load as managed hooks: with no daemon they fail closed, and user hooks are shut out", async () => {
    const marker = join(workspace.home, 'user-hook-ran');
    const userHook = { hooks: { PreToolUse: [{ matcher: '*', hooks: [{ type: 'command' as const, command: `touch '${marker}'` }] }] } };
    const { run, model } = await session(full, { settings: permissiveUser(userHook) });
    const results = model.toolResults();
    assert.equal(existsSync(marker), false, 'allowManagedHooksOnly kept the user hook from running');
    assert.ok(hookEvents(run).some((event) => event.hook_name === 'PreToolUse:Bash'), "Writ's managed PreToolUse hook ran");
    // No daemon answers the shim, so Writ's hook blocks even the ordinary call: fail closed.
    assert.match(results.get('toolu_ok')!.content, /Writ denied this action: the Writ daemon did not answer/);
    assert.equal(existsSync(join(workspace.cwd, 'build.txt')), false);
    assert.match(results.get('toolu_read_key')!.content, /denied/);
    assert.doesNotMatch(results.get('toolu_read_key')!.content, new RegExp(SSH_KEY));
  });
});
