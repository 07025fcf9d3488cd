// Whether Writ's guard is on for Claude Code, read from the settings files Claude Code loads, with the hooks
// written by the real installer (planInstall) so the check recognises exactly what `writ install` writes.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { claudeCodeGuardState } from '../../../src/agents/claude-code/guard.js';
import { planInstall, writHookCommands } from '../../../src/agents/claude-code/settings.js';

const writSettings = (extra: Record<string, unknown> = {}) => {
  const text = planInstall(undefined, writHookCommands({ transport: 'command', shimPath: '/opt/writ/writ-hook', writHome: '/home/dev/.writ' }));
  return JSON.stringify({ ...JSON.parse(text), ...extra }, null, 2);
};

function layout(files: Record<string, string>): { home: string; projectDir: string; managedDir: string } {
  const root = mkdtempSync(join(tmpdir(), 'writ-guard-'));
  const dirs = { home: join(root, 'home'), projectDir: join(root, 'project'), managedDir: join(root, 'etc-claude-code') };
  for (const dir of Object.values(dirs)) mkdirSync(dir, { recursive: true });
  for (const [path, text] of Object.entries(files)) {
    const full = join(root, path);
    mkdirSync(join(full, '..'), { recursive: true });
    writeFileSync(full, text);
  }
  return dirs;
}

describe('claudeCodeGuardState', () => {
  test('no settings anywhere: not installed, and the problem says what to run', () => {
    const state = claudeCodeGuardState(layout({}));
    assert.equal(state.hooks_installed, false);
    assert.match(state.problems.join('\n'), /writ install claude-code/);
  });

  test('user settings with Writ hooks: installed; the files are listed highest precedence first', () => {
    const state = claudeCodeGuardState(layout({ 'home/.claude/settings.json': writSettings() }));
    assert.equal(state.hooks_installed, true);
    assert.deepEqual(state.settings.map((file) => file.scope), ['managed', 'local', 'project', 'user']);
    assert.deepEqual(state.settings.map((file) => file.has_writ_hooks), [false, false, false, true]);
    assert.deepEqual(state.problems, []);
  });

  test('with CLAUDE_CONFIG_DIR the user settings are read there, not in ~/.claude', () => {
    const dirs = layout({ 'config/settings.json': writSettings() });
    assert.equal(claudeCodeGuardState(dirs).hooks_installed, false);
    const state = claudeCodeGuardState({ ...dirs, configDir: join(dirs.home, '..', 'config') });
    assert.equal(state.hooks_installed, true);
  });

  test('a lookalike hook that is not Writ\'s does not count', () => {
    const fake = JSON.stringify({ hooks: { PreToolUse: [{ matcher: '*', hooks: [{ type: 'command', command: 'echo writ-hook enforce' }] }] } });
    assert.equal(claudeCodeGuardState(layout({ 'home/.claude/settings.json': fake })).hooks_installed, false);
  });

  test('disableAllHooks in project settings turns user hooks off; settings.local.json can turn it back on', () => {
    const off = claudeCodeGuardState(layout({ 'home/.claude/settings.json': writSettings(), 'project/.claude/settings.json': '{"disableAllHooks": true}' }));
    assert.equal(off.hooks_installed, false);
    assert.match(off.problems.join('\n'), /disableAllHooks/);
    const back = claudeCodeGuardState(layout({ 'home/.claude/settings.json': writSettings(), 'project/.claude/settings.json': '{"disableAllHooks": true}', 'project/.claude/settings.local.json': '{"disableAllHooks": false}' }));
    assert.equal(back.hooks_installed, true);
  });

  test('allowManagedHooksOnly makes user and project hooks not count; managed hooks still do', () => {
    const managedOnly = '{"allowManagedHooksOnly": true}';
    const blocked = claudeCodeGuardState(layout({ 'etc-claude-code/managed-settings.json': managedOnly, 'project/.claude/settings.json': writSettings() }));
    assert.equal(blocked.hooks_installed, false);
    assert.match(blocked.problems.join('\n'), /allowManagedHooksOnly.*--scope managed/);
    const dropIn = claudeCodeGuardState(layout({ 'etc-claude-code/managed-settings.json': managedOnly, 'etc-claude-code/managed-settings.d/50-writ.json': writSettings() }));
    assert.equal(dropIn.hooks_installed, true);
    assert.equal(dropIn.settings.find((file) => file.file.endsWith('50-writ.json'))?.has_writ_hooks, true);
  });

  test('an invalid allowManagedHooksOnly counts as true, as Claude Code fails closed', () => {
    const state = claudeCodeGuardState(layout({ 'etc-claude-code/managed-settings.json': '{"allowManagedHooksOnly": "yes"}', 'home/.claude/settings.json': writSettings() }));
    assert.equal(state.hooks_installed, false);
  });

  test('a user disableAllHooks cannot turn managed hooks off; a managed one turns everything off', () => {
    const userOff = claudeCodeGuardState(layout({ 'etc-claude-code/managed-settings.d/50-writ.json': writSettings(), 'home/.claude/settings.json': '{"disableAllHooks": true}' }));
    assert.equal(userOff.hooks_installed, true);
    const managedOff = claudeCodeGuardState(layout({ 'etc-claude-code/managed-settings.d/50-writ.json': writSettings(), 'etc-claude-code/managed-settings.d/90-off.json': '{"disableAllHooks": true}' }));
    assert.equal(managedOff.hooks_installed, false);
    assert.match(managedOff.problems.join('\n'), /managed settings set "disableAllHooks"/);
  });

  test('drop-ins are read in name order, dot files and other endings ignored', () => {
    const state = claudeCodeGuardState(layout({ 'etc-claude-code/managed-settings.d/20-b.json': '{}', 'etc-claude-code/managed-settings.d/10-a.json': '{}', 'etc-claude-code/managed-settings.d/.hidden.json': writSettings(), 'etc-claude-code/managed-settings.d/writ.json.bak': writSettings() }));
    assert.deepEqual(state.settings.filter((file) => file.scope === 'managed').map((file) => file.file.split('/').pop()), ['managed-settings.json', '10-a.json', '20-b.json']);
    assert.equal(state.hooks_installed, false);
  });

  test('hooks on other events without PreToolUse enforce nothing, and say so', () => {
    const parsed = JSON.parse(writSettings()) as { hooks: Record<string, unknown> };
    delete parsed.hooks.PreToolUse;
    const state = claudeCodeGuardState(layout({ 'home/.claude/settings.json': JSON.stringify(parsed) }));
    assert.equal(state.hooks_installed, false);
    assert.match(state.settings.at(-1)!.problem!, /not on PreToolUse/);
  });

  test('broken and hostile settings files are problems, never a crash', () => {
    const dirs = layout({ 'home/.claude/settings.json': '{"hooks": ', 'project/.claude/settings.local.json': '\u0000\u0001binary' });
    mkdirSync(join(dirs.projectDir, '.claude', 'settings.json'));
    symlinkSync('loop-b', join(dirs.managedDir, 'loop-a'));
    symlinkSync('loop-a', join(dirs.managedDir, 'loop-b'));
    symlinkSync('loop-a', join(dirs.managedDir, 'managed-settings.json'));
    const state = claudeCodeGuardState(dirs);
    assert.equal(state.hooks_installed, false);
    const problems = Object.fromEntries(state.settings.map((file) => [file.scope, file.problem ?? '']));
    assert.match(problems.user!, /not JSON/);
    assert.match(problems.project!, /a directory where a file was expected/);
    assert.match(problems.local!, /binary/);
    assert.match(problems.managed!, /symbolic link loop/);
  });
});
