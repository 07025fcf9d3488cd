// Coverage: which tool calls the agent's own record shows that no Writ PreToolUse decision saw. Claude Code's
// session transcript (JSONL) keeps every `tool_use` block with the id its hooks receive as `tool_use_id`; the
// comparison is the server's telemetry join (src/telemetry/join.ts), fed with the transcript instead of OTLP.
// Pure: lines in, calls and findings out; the daemon does the reading (src/daemon/coverage.ts).
import type { Finding, GuardReport } from '../core/inventory.js';
import { joinToolCalls, type HookEventRef } from '../telemetry/join.js';

export type UncoveredCall = GuardReport['uncovered_calls'][number];

/** One tool call in a transcript. Only answered calls count: a `tool_use` still waiting may not have reached its hook yet. */
export interface TranscriptToolCall {
  toolUseId: string;
  tool?: string;
  /** A `tool_result` for it is in the transcript: it ran, or was refused. */
  answered: boolean;
}

export interface TranscriptReading {
  calls: TranscriptToolCall[];
  findings: Finding[];
}

/** Bounds what one transcript can cost and report, whatever it holds. */
const MAX_LINE_CHARS = 8 * 1024 * 1024;
const MAX_CALLS = 100_000;

/**
 * The tool calls in transcript lines (Claude Code's `assistant` messages carry `tool_use` blocks, `user` messages
 * the `tool_result` blocks that answer them). Malformed lines become one finding per transcript, never an error.
 * `partialFirstLine`: the lines start mid-file, so a broken first line is expected and not reported.
 */
export function readTranscriptLines(lines: Iterable<string>, source: string, { partialFirstLine = false } = {}): TranscriptReading {
  const calls = new Map<string, TranscriptToolCall>();
  const callFor = (id: string): TranscriptToolCall | undefined => {
    let call = calls.get(id);
    if (!call && calls.size < MAX_CALLS) calls.set(id, (call = { toolUseId: id, answered: false }));
    return call;
  };
  let malformed = 0;
  let firstMalformed = 0;
  let number = 0;
  for (const line of lines) {
    number += 1;
    if (line.trim() === '') continue;
    const entry = line.length > MAX_LINE_CHARS ? undefined : parseLine(line);
    if (entry === undefined) {
      if (number === 1 && partialFirstLine) continue;
      malformed += 1;
      firstMalformed ||= number;
      continue;
    }
    for (const block of contentBlocks(entry)) {
      if (block.type === 'tool_use' && typeof block.id === 'string') {
        const call = callFor(block.id);
        if (call && typeof block.name === 'string') call.tool = block.name;
      } else if (block.type === 'tool_result' && typeof block.tool_use_id === 'string') {
        const call = callFor(block.tool_use_id);
        if (call) call.answered = true;
      }
    }
  }
  const findings: Finding[] = [];
  if (malformed > 0) {
    findings.push({ severity: 'warning', subject: 'transcript', path: source, message: `${malformed} line(s) are not JSON objects (first at line ${firstMalformed}); their tool calls, if any, could not be checked` });
  }
  if (calls.size >= MAX_CALLS) findings.push({ severity: 'warning', subject: 'transcript', path: source, message: `more than ${MAX_CALLS} tool calls; the rest were not checked` });
  return { calls: [...calls.values()], findings };
}

/** Answered calls in the transcript that have no PreToolUse event in the journal, by the telemetry join's rule. */
export function uncoveredCalls(sessionId: string, hookEvents: readonly HookEventRef[], calls: readonly TranscriptToolCall[], source: string): UncoveredCall[] {
  const answered = calls.filter((call) => call.answered);
  // The join takes a run tool call as telemetry's `tool_result`; a transcript tool_result says the same.
  const records = answered.map((call) => ({ signal: 'log' as const, name: 'tool_result', time: '', sessionId, toolUseId: call.toolUseId, attributes: call.tool ? { tool_name: call.tool } : {} }));
  const tools = new Map(answered.map((call) => [call.toolUseId, call.tool]));
  return joinToolCalls(hookEvents, records).unguarded.map((id) => ({ session_id: sessionId, tool_use_id: id, ...(tools.get(id) && { tool: tools.get(id) }), source }));
}

type Block = Record<string, unknown>;

function parseLine(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function contentBlocks(entry: Record<string, unknown>): Block[] {
  const message = entry.message;
  if (typeof message !== 'object' || message === null) return [];
  const content = (message as { content?: unknown }).content;
  if (!Array.isArray(content)) return [];
  return content.filter((block): block is Block => typeof block === 'object' && block !== null);
}
