// Claude Code's hook contract (2.1.x): what a hook receives on stdin and what it must print.
import { sha256Hex } from '../../core/digest.js';
import { redactSecrets } from '../../detect/secrets.js';
import type { Decision } from '../../policy/index.js';

export const AGENT = 'claude-code';

/** Hooks Writ registers: PreToolUse enforces, the others record. */
export const ENFORCING_HOOK = 'PreToolUse';
export const RECORDING_HOOKS = ['PostToolUse', 'PostToolUseFailure', 'UserPromptSubmit', 'SessionStart', 'SessionEnd', 'Stop', 'ConfigChange'] as const;

export interface HookPayload {
  hook_event_name: string;
  session_id?: string;
  transcript_path?: string;
  cwd?: string;
  prompt_id?: string;
  permission_mode?: string;
  tool_name?: string;
  tool_input?: unknown;
  tool_use_id?: string;
  tool_response?: unknown;
  [key: string]: unknown;
}

export class MalformedPayload extends Error {}

/** Parses a hook's stdin; every field Writ relies on is type-checked. */
export function parsePayload(body: string): HookPayload {
  if (body.trim() === '') throw new MalformedPayload('the hook payload is empty');
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (error) {
    throw new MalformedPayload(`the hook payload is not valid JSON (${(error as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new MalformedPayload('the hook payload is not a JSON object');
  const payload = value as Record<string, unknown>;
  if (typeof payload.hook_event_name !== 'string') throw new MalformedPayload('the hook payload has no hook_event_name string');
  for (const field of ['session_id', 'transcript_path', 'cwd', 'prompt_id', 'permission_mode', 'tool_name', 'tool_use_id']) {
    if (payload[field] !== undefined && typeof payload[field] !== 'string') throw new MalformedPayload(`the hook payload's ${field} is not a string`);
  }
  if (payload.hook_event_name === ENFORCING_HOOK) {
    if (typeof payload.tool_name !== 'string') throw new MalformedPayload('a PreToolUse payload needs a tool_name string');
    if (typeof payload.cwd !== 'string' || !payload.cwd.startsWith('/')) throw new MalformedPayload('a PreToolUse payload needs an absolute cwd');
  }
  return payload as HookPayload;
}

/** What Claude Code must print for a PreToolUse decision: nothing when Writ has no objection. */
export function preToolUseOutput(decision: Pick<Decision, 'decision' | 'explicitAllow' | 'reason'>): string {
  if (decision.decision === 'allow' && !decision.explicitAllow) return '';
  const hookSpecificOutput: Record<string, string> = { hookEventName: ENFORCING_HOOK, permissionDecision: decision.decision };
  if (decision.reason) hookSpecificOutput.permissionDecisionReason = decision.reason;
  return JSON.stringify({ hookSpecificOutput });
}

export function denyOutput(reason: string): string {
  return preToolUseOutput({ decision: 'deny', explicitAllow: false, reason });
}

/** Stops Claude Code entirely (`continue: false`, §1.5 of the reference) and denies the call that met the stop condition. */
export function stopOutput(stopReason: string, denyReason: string): string {
  return JSON.stringify({ continue: false, stopReason, hookSpecificOutput: { hookEventName: ENFORCING_HOOK, permissionDecision: 'deny', permissionDecisionReason: denyReason } });
}

const MAX_TEXT = 4096;
const MAX_EXCERPT = 2000;
const EDIT_STRINGS = ['content', 'old_string', 'new_string', 'new_source'];
const GIT_COMMIT = /\bgit\b[^|;&]*\bcommit\b/;
// `git commit` prints `[main 1a2b3c4] subject`, `[main (root-commit) 1a2b3c4] …` or `[detached HEAD 1a2b3c4] …`.
const COMMIT_SUMMARY = /^\[(.+?)(?: \(root-commit\))? ([0-9a-f]{7,40})\] /gm;

/** What of a payload goes into the journal: ids and shapes always, contents only as digests; secrets redacted. */
export function eventData(payload: HookPayload): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  if (payload.cwd) data.cwd = payload.cwd;
  if (payload.permission_mode) data.permission_mode = payload.permission_mode;
  if (payload.tool_name) data.tool = payload.tool_name;
  if (payload.tool_input !== undefined) data.tool_input = summariseInput(payload.tool_name ?? '', payload.tool_input);
  if (payload.tool_response !== undefined) data.tool_response = digestOf(payload.tool_response);
  for (const field of ['source', 'reason', 'model', 'is_interrupt', 'duration_ms', 'agent_type', 'agent_id', 'file_path']) {
    if (payload[field] !== undefined) data[field] = payload[field];
  }
  // Where the agent's own record of the session is, for the guard's coverage check (src/daemon/coverage.ts).
  if (payload.hook_event_name === 'SessionStart' && payload.transcript_path) data.transcript_path = payload.transcript_path;
  if (typeof payload.prompt === 'string') data.prompt = clip(redactSecrets(payload.prompt));
  if (typeof payload.error === 'string') data.error = clip(redactSecrets(payload.error));
  // Run records (src/runs) need an outcome, the commits made and the agent's closing words; none of it keeps contents.
  if (payload.hook_event_name === 'PostToolUse' || payload.hook_event_name === 'PostToolUseFailure') data.failed = payload.hook_event_name === 'PostToolUseFailure';
  const exitCode = typeof payload.error === 'string' ? /^Exit code (\d+)/.exec(payload.error) : null;
  if (exitCode) data.exit_code = Number(exitCode[1]);
  const commits = payload.hook_event_name === 'PostToolUse' ? commitsMade(payload) : [];
  if (commits.length > 0) data.commits = commits;
  if (typeof payload.last_assistant_message === 'string') data.last_assistant_message = clip(redactSecrets(payload.last_assistant_message), MAX_EXCERPT);
  if (typeof payload.tool_response === 'object' && payload.tool_response !== null) {
    const response = payload.tool_response as Record<string, unknown>;
    if (typeof response.interrupted === 'boolean') data.interrupted = response.interrupted;
  }
  return data;
}

/** Paths, commands, URLs and MCP argument names are kept; file contents and edit strings only as digests. */
function summariseInput(tool: string, input: unknown): unknown {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return digestOf(input);
  const summary: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input as Record<string, unknown>)) {
    if (typeof value === 'string' && EDIT_STRINGS.includes(key)) summary[key] = { ...digestOf(value), lines: lineCount(value) };
    else if (typeof value === 'string') summary[key] = clip(redactSecrets(value));
    else if (tool.startsWith('mcp__') || Array.isArray(value) || (typeof value === 'object' && value !== null)) summary[key] = digestOf(value);
    else summary[key] = value;
  }
  return summary;
}

function digestOf(value: unknown): { sha256: string; bytes: number } {
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? 'null';
  return { sha256: sha256Hex(text), bytes: Buffer.byteLength(text) };
}

/** Lines as diff counts them: a final line without a newline still counts. */
function lineCount(text: string): number {
  if (text === '') return 0;
  return text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
}

/** Commit ids a Bash `git commit` printed; only the branch and the id are kept, never the subject. */
function commitsMade(payload: HookPayload): { branch: string; id: string }[] {
  const command = (payload.tool_input as { command?: unknown } | undefined)?.command;
  const stdout = (payload.tool_response as { stdout?: unknown } | undefined)?.stdout;
  if (payload.tool_name !== 'Bash' || typeof command !== 'string' || !GIT_COMMIT.test(command) || typeof stdout !== 'string') return [];
  return [...stdout.matchAll(COMMIT_SUMMARY)].slice(0, 100).map((match) => ({ branch: redactSecrets(match[1]), id: match[2] }));
}

function clip(text: string, max = MAX_TEXT): string {
  return text.length > max ? `${text.slice(0, max)}… [${text.length - max} more characters]` : text;
}
