// Runs the real Claude Code CLI (`claude -p`) against a ScriptedModel, in a temporary HOME, and kills
// everything it started when it hangs. See test/support/README.md for the facts this relies on.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ScriptedModel } from './scripted-model.js';

/** The `claude` binary installed from `@anthropic-ai/claude-code` (a devDependency). */
export const CLAUDE_BIN = resolve(dirname(fileURLToPath(import.meta.url)), '../../node_modules/.bin/claude');

/** Claude Code's `--permission-mode` choices. */
export type PermissionMode = 'default' | 'acceptEdits' | 'bypassPermissions' | 'plan' | 'dontAsk' | 'auto';

/** A Claude Code settings file (user or project); only the parts tests usually write are typed. */
export interface ClaudeSettings {
  hooks?: Record<string, { matcher?: string; hooks: ({ type: 'command'; command: string } | { type: 'http'; url: string })[] }[]>;
  permissions?: { allow?: string[]; deny?: string[]; ask?: string[] };
  [key: string]: unknown;
}

export interface RunClaudeOptions {
  prompt: string;
  /** The project directory; Claude Code runs in it. */
  cwd: string;
  /** A temporary HOME: Claude Code reads `.claude.json` and `.claude/settings.json` from it. */
  home: string;
  model: ScriptedModel;
  /** Written to `HOME/.claude/settings.json` (user settings) before the run. */
  settings?: ClaudeSettings;
  /** Defaults to Claude Code's own default mode. */
  permissionMode?: PermissionMode;
  /** `stream-json` adds `--verbose --include-hook-events` and fills `events`. Defaults to `json`. */
  outputFormat?: 'json' | 'stream-json';
  extraArgs?: readonly string[];
  /** Added to the environment, after the harness's own variables (so they can override them). */
  env?: Record<string, string>;
  /** Wall-clock limit; the whole process tree is killed past it. Defaults to 60 s. */
  timeoutMs?: number;
}

/** One entry of the result's `permission_denials`. */
export interface PermissionDenial {
  tool_name: string;
  tool_use_id: string;
  tool_input: Record<string, unknown>;
}

/** The `type: "result"` object that `claude -p` prints (json) or ends its stream with (stream-json). */
export interface ClaudeResult {
  type: 'result';
  subtype: string;
  is_error: boolean;
  result: string;
  session_id: string;
  num_turns: number;
  stop_reason: string | null;
  terminal_reason: string;
  permission_denials: PermissionDenial[];
  [key: string]: unknown;
}

/** One line of `--output-format stream-json` (system/init, assistant, user, hook_started, result, …). */
export interface ClaudeStreamEvent {
  type: string;
  subtype?: string;
  [key: string]: unknown;
}

export interface ClaudeRun {
  /** Null when the process died from a signal (see `signal`, `timedOut`). */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  durationMs: number;
  stdout: string;
  stderr: string;
  /** Undefined when Claude Code printed no result (it crashed, or was killed). */
  result: ClaudeResult | undefined;
  /** Every stream-json line; empty for `json` output. */
  events: ClaudeStreamEvent[];
  /** Processes of this run still alive after `claude` ended, which the harness then killed. */
  strayProcessesKilled: number;
}

/** Name of the variable that marks every process of one run, so strays can be found and killed. */
export const RUN_MARKER_VARIABLE = 'WRIT_TEST_CLAUDE_RUN';

/** Variables that keep Claude Code offline and quiet (see the brief and claude-code-facts.md). */
const NO_TRAFFIC_ENV = {
  CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
  DISABLE_TELEMETRY: '1',
  DISABLE_AUTOUPDATER: '1',
  DISABLE_ERROR_REPORTING: '1',
};

/** Only these are taken from the test's own environment: a developer's ANTHROPIC_* or CLAUDE* must not leak in. */
const INHERITED_ENV = ['PATH', 'SHELL', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', 'USER', 'LOGNAME'];

/** Runs `claude -p PROMPT` against `model` and returns its parsed result and how it ended. */
export async function runClaude(options: RunClaudeOptions): Promise<ClaudeRun> {
  const outputFormat = options.outputFormat ?? 'json';
  trustProject(options.home, options.cwd);
  if (options.settings) writeUserSettings(options.home, options.settings);

  const args = ['-p', options.prompt, '--output-format', outputFormat];
  // --include-hook-events only works with stream-json, and stream-json requires --verbose in -p.
  if (outputFormat === 'stream-json') args.push('--verbose', '--include-hook-events');
  if (options.permissionMode) args.push('--permission-mode', options.permissionMode);
  args.push(...(options.extraArgs ?? []));

  const marker = randomUUID();
  const env: Record<string, string> = {};
  for (const name of INHERITED_ENV) if (process.env[name] !== undefined) env[name] = process.env[name]!;
  Object.assign(env, NO_TRAFFIC_ENV, {
    HOME: options.home,
    ANTHROPIC_BASE_URL: options.model.url,
    ANTHROPIC_API_KEY: 'sk-test',
    [RUN_MARKER_VARIABLE]: marker,
  });
  // As root, bypassPermissions exits at once unless IS_SANDBOX is exactly "1".
  if (options.permissionMode === 'bypassPermissions') env.IS_SANDBOX = '1';
  Object.assign(env, options.env);

  const started = performance.now();
  // detached: claude leads its own process group, so one kill(-pid) reaches it and what it forks directly.
  const child = spawn(CLAUDE_BIN, args, { cwd: options.cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));

  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killRunProcesses(child.pid!, marker);
  }, options.timeoutMs ?? 60_000);

  const { exitCode, signal } = await waitForExit(child);
  clearTimeout(timer);
  const durationMs = performance.now() - started;
  const strayProcessesKilled = killRunProcesses(undefined, marker);

  const events = outputFormat === 'stream-json' ? parseStreamEvents(stdout) : [];
  const result = outputFormat === 'stream-json' ? (events.filter((event) => event.type === 'result').at(-1) as ClaudeResult | undefined) : parseResult(stdout);
  return { exitCode, signal, timedOut, durationMs, stdout, stderr, result, events, strayProcessesKilled };
}

/** Writes `HOME/.claude/settings.json` (user settings), replacing what was there. */
export function writeUserSettings(home: string, settings: ClaudeSettings): void {
  writeJson(join(home, '.claude', 'settings.json'), settings);
}

/** Writes `PROJECT/.claude/settings.json` (project settings, the file a repository commits). */
export function writeProjectSettings(cwd: string, settings: ClaudeSettings): void {
  writeJson(join(cwd, '.claude', 'settings.json'), settings);
}

/**
 * Marks `cwd` as trusted in `HOME/.claude.json`, keeping whatever else the file holds. Without trust,
 * `-p` silently drops project-scoped `permissions.allow` rules (project hooks run either way).
 */
export function trustProject(home: string, cwd: string): void {
  const path = join(home, '.claude.json');
  const config = existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Record<string, any>) : {};
  // Claude Code keys projects by the real path of the working directory.
  const project = realpathSync(cwd);
  config.projects ??= {};
  config.projects[project] = { ...config.projects[project], hasTrustDialogAccepted: true };
  writeJson(path, config);
}

/** A fresh HOME and project directory under the system temp dir, with real paths. */
export interface ClaudeWorkspace {
  home: string;
  cwd: string;
  /** Deletes both directories. */
  remove(): void;
}

/** Creates a `ClaudeWorkspace`; call `remove()` when the test is done. */
export function createClaudeWorkspace(): ClaudeWorkspace {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'writ-claude-')));
  const home = join(root, 'home');
  const cwd = join(root, 'project');
  mkdirSync(home);
  mkdirSync(cwd);
  return { home, cwd, remove: () => rmSync(root, { recursive: true, force: true }) };
}

function writeJson(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
}

function parseResult(stdout: string): ClaudeResult | undefined {
  try {
    const parsed = JSON.parse(stdout) as ClaudeStreamEvent;
    return parsed.type === 'result' ? (parsed as ClaudeResult) : undefined;
  } catch {
    return undefined;
  }
}

function parseStreamEvents(stdout: string): ClaudeStreamEvent[] {
  return stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as ClaudeStreamEvent);
}

/** Grace period for stdout to close once `claude` has exited. */
const PIPE_CLOSE_GRACE_MS = 1_000;

/**
 * Resolves when claude has exited and its output is read. A grandchild that inherited the pipes
 * (a backgrounded Bash command) can keep them open forever, so after exit we wait only briefly.
 */
function waitForExit(child: ReturnType<typeof spawn>): Promise<{ exitCode: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolvePromise) => {
    let graceTimer: NodeJS.Timeout | undefined;
    const finish = (exitCode: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(graceTimer);
      resolvePromise({ exitCode, signal });
    };
    child.once('close', finish);
    child.once('exit', (exitCode, signal) => {
      graceTimer = setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
        finish(exitCode, signal);
      }, PIPE_CLOSE_GRACE_MS);
    });
  });
}

/**
 * SIGKILLs claude's process group and every process of this run: descendants of `rootPid` found
 * through /proc, and any process whose environment carries the run marker. Claude Code starts hooks
 * in process groups of their own, and they are reparented to init once claude dies, so neither the
 * group kill nor the parent links alone find them; the inherited marker does. Returns how many
 * processes were signalled besides the group. Linux only (/proc).
 */
function killRunProcesses(rootPid: number | undefined, marker: string): number {
  const targets = new Set<number>();
  const processes = listProcesses();
  if (rootPid !== undefined) {
    const children = new Map<number, number[]>();
    for (const { pid, ppid } of processes) children.set(ppid, [...(children.get(ppid) ?? []), pid]);
    const queue = [rootPid];
    while (queue.length > 0) {
      const pid = queue.pop()!;
      for (const child of children.get(pid) ?? []) {
        if (targets.has(child)) continue;
        targets.add(child);
        queue.push(child);
      }
    }
    signal(-rootPid);
  }
  const needle = `${RUN_MARKER_VARIABLE}=${marker}`;
  for (const { pid } of processes) if (pid !== process.pid && readEnviron(pid).includes(needle)) targets.add(pid);
  if (rootPid !== undefined) targets.delete(rootPid);
  for (const pid of targets) signal(pid);
  return targets.size;
}

function listProcesses(): { pid: number; ppid: number }[] {
  const processes: { pid: number; ppid: number }[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // /proc/PID/stat is "pid (comm) state ppid …"; comm may contain spaces and parentheses.
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      processes.push({ pid: Number(name), ppid });
    } catch {
      // The process ended while we were listing.
    }
  }
  return processes;
}

function readEnviron(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
  } catch {
    return [];
  }
}

function signal(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}
