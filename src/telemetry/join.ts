// Joins Writ's hook events to the agent's own telemetry on tool_use_id: what each side saw of one tool
// call, and which calls ran without Writ's PreToolUse hook having seen them (ARCHITECTURE.md, decision 6).
// Claude Code's `tool_decision` and `tool_result` events carry the same `tool_use_id` as its hook payloads
// (docs/telemetry.md). Pure: data in, data out.
import type { TelemetryRecord } from '../store/store.js';

/** The parts of a hook event the join reads; `kind` is the journal's (`hook.PreToolUse`) or the bare hook event name. */
export interface HookEventRef {
  toolUseId?: string;
  kind: string;
  decision?: string;
  /** Position in the log; orders several events of one call (the latest PreToolUse decision counts). */
  index?: number;
}

/** One tool call as the hooks and the telemetry saw it. */
export interface ToolCallJoin {
  toolUseId: string;
  /** From the telemetry's `tool_name`. */
  toolName?: string;
  hook: { pre: boolean; post: boolean; decision?: string };
  /** `decision` from `tool_decision` (`accept`/`reject`); `success` and `durationMs` from `tool_result`. */
  telemetry: { decision?: string; success?: boolean; durationMs?: number; names: string[] };
}

export interface ToolCallJoinResult {
  /** One entry per tool_use_id, in the order first seen: hook events first, then telemetry. */
  calls: ToolCallJoin[];
  /** Calls the telemetry shows accepted or run, for which no PreToolUse hook event exists. */
  unguarded: string[];
}

/** Joins hook events and telemetry records per tool_use_id and lists the calls no PreToolUse hook saw. */
export function joinToolCalls(hookEvents: readonly HookEventRef[], records: readonly TelemetryRecord[]): ToolCallJoinResult {
  const calls = new Map<string, ToolCallJoin>();
  const ran = new Set<string>();
  const callFor = (toolUseId: string): ToolCallJoin => {
    let call = calls.get(toolUseId);
    if (!call) calls.set(toolUseId, (call = { toolUseId, hook: { pre: false, post: false }, telemetry: { names: [] } }));
    return call;
  };

  // A stable sort: events without an index keep the order they came in.
  const ordered = [...hookEvents].sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
  for (const event of ordered) {
    if (!event.toolUseId) continue;
    const call = callFor(event.toolUseId);
    const kind = event.kind.replace(/^hook\./, '');
    if (kind === 'PreToolUse') {
      call.hook.pre = true;
      if (event.decision !== undefined) call.hook.decision = event.decision;
    } else if (kind === 'PostToolUse' || kind === 'PostToolUseFailure') {
      call.hook.post = true;
    }
  }

  for (const record of records) {
    if (record.signal !== 'log' || !record.toolUseId) continue;
    const call = callFor(record.toolUseId);
    call.telemetry.names.push(record.name);
    const { tool_name: toolName, decision, success, duration_ms: durationMs } = record.attributes;
    if (typeof toolName === 'string' && call.toolName === undefined) call.toolName = toolName;
    // Claude Code names events `claude_code.<name>` in the body and `<name>` in `event.name`; accept either.
    const event = record.name.replace(/^claude_code\./, '');
    if (event === 'tool_decision' && typeof decision === 'string') {
      call.telemetry.decision = decision;
      if (decision === 'accept') ran.add(call.toolUseId);
    } else if (event === 'tool_result') {
      ran.add(call.toolUseId);
      // Claude Code sends most values as strings ("true", "45"); parse them defensively.
      const parsedSuccess = toBoolean(success);
      const parsedDuration = toNumber(durationMs);
      if (parsedSuccess !== undefined) call.telemetry.success = parsedSuccess;
      if (parsedDuration !== undefined) call.telemetry.durationMs = parsedDuration;
    }
  }

  const all = [...calls.values()];
  return { calls: all, unguarded: all.filter((call) => ran.has(call.toolUseId) && !call.hook.pre).map((call) => call.toolUseId) };
}

function toBoolean(value: unknown): boolean | undefined {
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  return undefined;
}

function toNumber(value: unknown): number | undefined {
  const number = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  return Number.isFinite(number) ? number : undefined;
}
