// Replays recorded PreToolUse events against a candidate policy and lists every decision that would change:
// the evidence for rolling a rule out. Each session's flags are rebuilt as the events go, with the candidate's
// rules and settings, so a session rule sees what it would have seen.
import type { EventBody } from '../core/event.js';
import type { CallEnvironment } from './actions.js';
import { decide, UNTOUCHED, type Decision, type DecisionKind, type Principal, type Touched } from './decide.js';
import type { PreparedPolicy } from './engine.js';
import { observe, touchedBy } from './session.js';
import type { ShellParser } from './shell/parse.js';

/** The fields of a journal event that replay reads. */
export type ReplayEvent = Pick<EventBody, 'time' | 'kind' | 'data'> & Partial<Pick<EventBody, 'session_id' | 'tool_use_id' | 'agent' | 'actor'>>;

export interface ReplayInput {
  policy: PreparedPolicy;
  parser: ShellParser;
  /** Who made the calls: one principal, or one per event (a fleet's bundle has many people). */
  principal: Principal | ((event: ReplayEvent) => Principal);
  /** Where a call happened, from its recorded working directory. */
  environment(cwd: string): CallEnvironment;
  writHome: string;
  /** Events before this time only rebuild session flags; their decisions are not compared. */
  since?: Date;
  /** In recorded order (a device's journal order, or a bundle's log order). */
  events: Iterable<ReplayEvent>;
}

/** A decision as it was recorded, or as the candidate makes it. */
export interface ReplayVerdict {
  decision: DecisionKind;
  rules: string[];
  /** Monitor-mode rules that would have denied or asked. */
  monitored?: string[];
}

export interface ReplayChange {
  time: string;
  session: string;
  tool_use_id?: string;
  tool: string;
  /** One line saying what the call was (its command, path, URL, …). */
  call: string;
  before: ReplayVerdict;
  after: ReplayVerdict;
  /** `allow→deny`, `deny→allow`, …, or `monitored` when only the monitor-mode rules that would block differ. */
  direction: string;
}

export interface Unreplayable {
  time: string;
  session: string;
  tool: string;
  call: string;
  /** Why the recorded event cannot be decided again as it was. */
  reason: string;
}

export interface ReplayReport {
  /** PreToolUse events in the window that were decided again. */
  replayed: number;
  unchanged: number;
  /** Changes counted by direction. */
  changedBy: Record<string, number>;
  changes: ReplayChange[];
  unreplayable: Unreplayable[];
  /** PreToolUse events before the window, replayed only for their sessions' flags. */
  context: number;
}

/** Rules the daemon decides by outside the policy: replaying the policy says nothing about these calls. */
const OUTSIDE_POLICY = new Set(['writ.kill-switch', 'writ.daemon-unreachable', 'writ.internal-error', 'writ.malformed-payload', 'writ.approval-unavailable', 'writ.approval-invalid']);

interface Pending {
  decision: Decision;
  env: CallEnvironment;
  session: string;
}

/** Decides every recorded PreToolUse again with the candidate policy and reports what would change. */
export function replayDecisions(input: ReplayInput): ReplayReport {
  const report: ReplayReport = { replayed: 0, unchanged: 0, changedBy: {}, changes: [], unreplayable: [], context: 0 };
  const sessions = new Map<string, Touched>();
  const pending = new Map<string, Pending>();
  const applied = new Set<string>();
  const reviewed = new Set<string>();
  const environments = new Map<string, CallEnvironment>();
  const environment = (cwd: string) => environments.get(cwd) ?? environments.set(cwd, input.environment(cwd)).get(cwd)!;
  const since = input.since?.getTime();

  // A call that ran marks its session, as the daemon does (PreToolUse allowed, or a PostToolUse).
  const ran = (session: string, decision: Decision, env: CallEnvironment) => {
    const touched = sessions.get(session) ?? UNTOUCHED;
    sessions.set(session, observe(touched, touchedBy(decision, input.policy.rules, env, input.policy.settings)));
  };
  const decideAgain = (event: ReplayEvent, tool: string, toolInput: unknown, cwd: string) => {
    const session = event.session_id ?? '';
    const env = environment(cwd);
    const principal = typeof input.principal === 'function' ? input.principal(event) : input.principal;
    const decision = decide(input.policy, input.parser, principal, { tool, input: toolInput }, env, {
      agent: event.agent?.name ?? 'claude-code',
      agentVersion: event.agent?.version ?? 'unknown',
      session,
      permissionMode: typeof event.data.permission_mode === 'string' ? event.data.permission_mode : '',
      writHome: input.writHome,
      touched: sessions.get(session) ?? UNTOUCHED,
    });
    return { decision, env, session };
  };

  for (const event of input.events) {
    const data = event.data;
    const id = event.tool_use_id;
    if (event.kind.startsWith('approval.') && id) reviewed.add(id);
    const inWindow = since === undefined || Date.parse(event.time) >= since;
    const tool = typeof data.tool === 'string' ? data.tool : '';
    const cwd = typeof data.cwd === 'string' ? data.cwd : undefined;
    const call = summariseCall(tool, data.tool_input);
    const skip = (reason: string) => {
      if (inWindow) report.unreplayable.push({ time: event.time, session: event.session_id ?? '', tool, call, reason });
    };

    if (event.kind === 'hook.malformed') {
      skip('the payload was malformed; only its digest was recorded');
      continue;
    }
    if (event.kind === 'hook.PostToolUse') {
      if (id && applied.has(id)) continue;
      const earlier = id ? pending.get(id) : undefined;
      if (earlier) ran(earlier.session, earlier.decision, earlier.env);
      else if (tool && cwd && !unfaithfulInput(tool, data.tool_input)) {
        const again = decideAgain(event, tool, data.tool_input, cwd);
        ran(again.session, again.decision, again.env);
      }
      if (id) {
        applied.add(id);
        pending.delete(id);
      }
      continue;
    }
    if (event.kind !== 'hook.PreToolUse') continue;

    const recorded = recordedVerdict(data.decision);
    if (!recorded) {
      skip('no decision was recorded');
      continue;
    }
    const outside = recorded.rules.find((rule) => OUTSIDE_POLICY.has(rule));
    if (outside) {
      skip(`decided outside the policy (${outside})`);
      continue;
    }
    if (!tool || !cwd) {
      skip('the tool or working directory was not recorded');
      continue;
    }
    const again = decideAgain(event, tool, data.tool_input, cwd);
    if (recorded.decision === 'allow' && !reviewedCall(recorded, id, reviewed)) {
      ran(again.session, again.decision, again.env);
      if (id) applied.add(id);
    } else if (id) {
      pending.set(id, again);
    }
    if (!inWindow) {
      report.context++;
      continue;
    }
    const unfaithful = unfaithfulInput(tool, data.tool_input);
    if (unfaithful) {
      skip(unfaithful);
      continue;
    }
    report.replayed++;
    // An approved or pending review was the policy's ask; the reviewer's answer is not the policy's.
    const { reason: _reason, ...verdict } = recorded;
    const before: ReplayVerdict = reviewedCall(recorded, id, reviewed) ? { ...verdict, decision: 'ask' } : verdict;
    const after: ReplayVerdict = { decision: again.decision.decision, rules: again.decision.rules, ...(again.decision.monitored && { monitored: again.decision.monitored }) };
    const direction = directionOf(before, after);
    if (direction === undefined) {
      report.unchanged++;
      continue;
    }
    report.changedBy[direction] = (report.changedBy[direction] ?? 0) + 1;
    report.changes.push({ time: event.time, session: again.session, ...(id && { tool_use_id: id }), tool, call, before, after, direction });
  }
  return report;
}

/** `allow→deny` and the like; `monitored` when only the monitor-mode rules that would block differ; undefined when unchanged. */
function directionOf(before: ReplayVerdict, after: ReplayVerdict): string | undefined {
  if (before.decision !== after.decision) return `${before.decision}→${after.decision}`;
  const key = (verdict: ReplayVerdict) => [...(verdict.monitored ?? [])].sort().join('\n');
  return key(before) === key(after) ? undefined : 'monitored';
}

/** The recorded decision, read defensively: the journal is ours, but an old or foreign one may differ. */
function recordedVerdict(value: unknown): (ReplayVerdict & { reason: string }) | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { decision, rules, monitored, reason } = value as Record<string, unknown>;
  if (decision !== 'allow' && decision !== 'deny' && decision !== 'ask') return undefined;
  const strings = (list: unknown) => (Array.isArray(list) ? list.filter((item): item is string => typeof item === 'string') : []);
  return { decision, rules: strings(rules), ...(Array.isArray(monitored) && { monitored: strings(monitored) }), reason: typeof reason === 'string' ? reason : '' };
}

/** The call went to a reviewer: its approval events carry the same tool_use_id, or its reason says it was approved. */
function reviewedCall(recorded: { reason: string }, id: string | undefined, reviewed: ReadonlySet<string>): boolean {
  return (id !== undefined && reviewed.has(id)) || recorded.reason.startsWith('Approved by ');
}

const isDigest = (value: unknown): boolean => typeof value === 'object' && value !== null && typeof (value as { sha256?: unknown }).sha256 === 'string';

/**
 * Why the recorded input is not the input the agent sent, in a way the policy can see; undefined when it is.
 * The journal keeps paths, commands and URLs, but redacts secrets, clips long text, and keeps MCP arguments
 * that are not strings only as digests (src/agents/claude-code/hook-contract.ts summariseInput).
 */
export function unfaithfulInput(tool: string, input: unknown): string | undefined {
  if (typeof input !== 'object' || input === null || Array.isArray(input) || isDigest(input)) return 'the input was recorded only as a digest';
  for (const [key, value] of Object.entries(input)) {
    if (tool.startsWith('mcp__') && isDigest(value)) return `MCP argument \`${key}\` was recorded only as a digest`;
    if (typeof value !== 'string') continue;
    if (/\[REDACTED:[a-z-]+\]/.test(value)) return `a secret in \`${key}\` was redacted`;
    if (/… \[\d+ more characters\]$/.test(value)) return `\`${key}\` was clipped`;
  }
  return undefined;
}

const SUMMARY_FIELDS = ['command', 'file_path', 'notebook_path', 'url', 'query', 'path', 'pattern', 'description'];

/** One line saying what a call was: its command, path, URL or query, as recorded. */
export function summariseCall(tool: string, input: unknown): string {
  const fields = typeof input === 'object' && input !== null ? (input as Record<string, unknown>) : {};
  const field = SUMMARY_FIELDS.find((name) => typeof fields[name] === 'string');
  const text = field ? (fields[field] as string).replace(/\s+/g, ' ') : '';
  const line = text ? `${tool} ${text}` : tool;
  return line.length > 160 ? `${line.slice(0, 159)}…` : line;
}
