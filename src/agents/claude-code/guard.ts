// Is Writ's guard really on for Claude Code? Reads the settings files Claude Code loads, highest precedence
// first (agent-integration.md §1.1, §1.8, §2.1), and says whether Writ's PreToolUse hook is in one that
// counts: managed hooks always count unless managed settings disable all hooks; user, project and local
// hooks count unless managed settings allow managed hooks only, or the effective `disableAllHooks` is true.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { GuardAgentState } from '../../core/inventory.js';
import { CLAUDE_MANAGED_DIRS } from '../../detect/agent-catalogue.js';
import { readConfigFile } from '../../discovery/read-file.js';
import { isWritHandler } from './settings.js';

export interface ClaudeCodeGuardOptions {
  home: string;
  projectDir?: string;
  /** The managed settings directory; the platform's when absent. */
  managedDir?: string;
  /** `$CLAUDE_CONFIG_DIR`, when Claude Code runs with one: the user's settings.json lives there instead of ~/.claude. */
  configDir?: string;
}

type SettingsEntry = GuardAgentState['settings'][number];

interface LoadedSettings {
  entry: SettingsEntry;
  /** The parsed file, when Claude Code would use it. */
  value?: Record<string, unknown>;
}

export function claudeCodeGuardState(options: ClaudeCodeGuardOptions): GuardAgentState {
  const managedDir = options.managedDir ?? CLAUDE_MANAGED_DIRS[process.platform === 'darwin' || process.platform === 'win32' ? process.platform : 'linux'];
  const managed = managedFiles(managedDir).map((file) => load(file, 'managed'));
  const others = [
    ...(options.projectDir ? [load(join(options.projectDir, '.claude', 'settings.local.json'), 'local'), load(join(options.projectDir, '.claude', 'settings.json'), 'project')] : []),
    load(join(options.configDir ?? join(options.home, '.claude'), 'settings.json'), 'user'),
  ];
  const problems: string[] = [];
  for (const { entry } of [...managed, ...others]) if (entry.problem) problems.push(`${entry.file}: ${entry.problem}`);

  // Managed drop-ins merge, later files replacing single values: the last one that says wins.
  const managedSays = (key: string) => managed.map(({ value }) => value?.[key]).filter((value) => value !== undefined).at(-1);
  const managedDisablesAll = managedSays('disableAllHooks') === true;
  const managedOnlyValue = managedSays('allowManagedHooksOnly');
  // An invalid allowManagedHooksOnly counts as true (Claude Code fails closed).
  const managedOnly = managedOnlyValue !== undefined && managedOnlyValue !== false;
  // Single values come from the highest non-managed file that sets one (local, project, user).
  const othersDisableAll = others.map(({ value }) => value?.disableAllHooks).find((value) => value !== undefined) === true;

  const managedHooks = managed.some(({ entry }) => entry.has_writ_hooks);
  const otherHooks = others.some(({ entry }) => entry.has_writ_hooks);
  if (managedDisablesAll) problems.push('managed settings set "disableAllHooks": true, so no hook runs, Writ\'s included');
  if (otherHooks && managedOnly) problems.push('managed settings set "allowManagedHooksOnly", so Writ\'s user or project hooks do not run: install Writ in managed scope (writ install claude-code --scope managed)');
  if (otherHooks && !managedOnly && othersDisableAll && !managedHooks) problems.push('"disableAllHooks": true in user or project settings turns Writ\'s hooks off: remove it');
  const hooksInstalled = !managedDisablesAll && (managedHooks || (otherHooks && !managedOnly && !othersDisableAll));
  if (!managedHooks && !otherHooks) problems.push('Writ\'s PreToolUse hook is in none of the settings files Claude Code loads: run writ install claude-code');
  return { agent: 'claude-code', hooks_installed: hooksInstalled, settings: [...managed, ...others].map(({ entry }) => entry), problems };
}

/** managed-settings.json, then managed-settings.d/*.json in name order (dot files and other endings ignored). */
function managedFiles(dir: string): string[] {
  let dropIns: string[] = [];
  try {
    dropIns = readdirSync(join(dir, 'managed-settings.d'))
      .filter((name) => name.endsWith('.json') && !name.startsWith('.'))
      .sort()
      .map((name) => join(dir, 'managed-settings.d', name));
  } catch {
    // No drop-in directory: only the main file, if any.
  }
  return [join(dir, 'managed-settings.json'), ...dropIns];
}

function load(file: string, scope: string): LoadedSettings {
  const read = readConfigFile(file, 4 * 1024 * 1024);
  if (read.kind === 'missing') return { entry: { file, scope, has_writ_hooks: false } };
  if (read.kind === 'problem') return { entry: { file, scope, has_writ_hooks: false, problem: read.message } };
  let value: unknown;
  try {
    value = JSON.parse(read.text.replace(/^\uFEFF/, ''));
  } catch (error) {
    return { entry: { file, scope, has_writ_hooks: false, problem: `not JSON, so Claude Code ignores it: ${(error as Error).message.split('\n')[0]}` } };
  }
  if (!isObject(value)) return { entry: { file, scope, has_writ_hooks: false, problem: 'not a JSON object, so Claude Code ignores it' } };
  const events = writHookEvents(value);
  const entry: SettingsEntry = { file, scope, has_writ_hooks: events.includes('PreToolUse') };
  if (typeof value.disableAllHooks === 'boolean') entry.disable_all_hooks = value.disableAllHooks;
  if (events.length > 0 && !entry.has_writ_hooks) entry.problem = `Writ's hooks are here (${events.join(', ')}) but not on PreToolUse, so nothing is enforced`;
  return { entry, value };
}

/** The events under which a handler Writ wrote sits. */
function writHookEvents(settings: Record<string, unknown>): string[] {
  if (!isObject(settings.hooks)) return [];
  return Object.entries(settings.hooks)
    .filter(([, groups]) => Array.isArray(groups) && groups.some((group) => isObject(group) && Array.isArray(group.hooks) && group.hooks.some(isWritHandler)))
    .map(([event]) => event);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
