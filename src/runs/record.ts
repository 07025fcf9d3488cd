// A run record: what one agent session did, built only from the signed events the daemon observed.
// Every entry names the events behind it (device, seq, hash), so a reviewer can check each line; the agent's
// own words appear once, in `claims`, marked as its claim. Pure: events in, record out.
import type { EventBody } from '../core/event.js';
import { testFramework } from './test-commands.js';

/** The session id self-test calls use; it is never a run. */
export const SELF_TEST_SESSION = 'writ-self-test';

export interface RunEvent {
  body: EventBody;
  hash: string;
}

/** Where a line of the record comes from: one signed journal event. */
export interface EventRef {
  device: string;
  seq: number;
  hash: string;
}

export type RunStatus = 'ended' | 'turn-ended' | 'interrupted';
export type CallOutcome = 'succeeded' | 'failed' | 'denied' | 'no-result';

export interface RunRecord {
  v: 1;
  session_id: string;
  status: RunStatus;
  started_at?: string;
  last_event_at?: string;
  events: number;
  request: { prompts: { text: string; ref: EventRef }[] };
  delegator?: { os_user: string; assurance: string; device_id: string; ref: EventRef };
  agent: { name?: string; versions: string[]; permission_modes: string[]; policy_hashes: string[]; bundles: string[] };
  files_inspected: { path: string; refs: EventRef[] }[];
  files_changed: { path: string; edits: number; lines_added: number; lines_removed: number; stats_complete: boolean; refs: EventRef[] }[];
  commits: { id: string; branch: string; ref: EventRef }[];
  tools: { name: string; calls: number }[];
  mcp_servers: { server: string; tools: string[]; calls: number }[];
  commands: { command: string; programs: string[]; outcome: CallOutcome; exit_code?: number; ref: EventRef; result_ref?: EventRef }[];
  denials: { tool: string; target: string; rules: string[]; reason: string; ref: EventRef }[];
  approvals: { via: 'reviewer' | 'agent-prompt'; tool?: string; id?: string; reviewers?: string; outcome: 'granted' | 'denied' | 'pending' | 'unknown'; by?: string; ref: EventRef; decided_ref?: EventRef }[];
  tests: { command: string; framework: string; outcome: CallOutcome; exit_code?: number; ref: EventRef; result_ref?: EventRef }[];
  test_gaps: { path: string; changed_ref: EventRef }[];
  /** The agent's own words from its final message: its claim, not evidence. */
  claims?: { source: 'agent'; final_message: string; assumptions: string[]; risks: string[]; ref: EventRef };
  contract?: {
    hash: string;
    source?: string;
    contract: unknown;
    ref: EventRef;
    checks: { outcome: string; clause: string; tool?: string; ref: EventRef }[];
    stops: { condition: string; reason: string; ref: EventRef }[];
  };
  rollback?: string;
  reviews: { decision: string; comment: string; reviewer: { subject: string; email?: string; via: string }; at: string; ref: EventRef }[];
  /** Events the shim spooled while the daemon was away, recorded after the fact. */
  late_events: { spooled_at: string; kind: string; ref: EventRef }[];
  malformed_events: EventRef[];
}

// Files whose change a test run should follow; documentation and configuration are not.
const SOURCE_FILE = /\.(?:[cm]?[jt]sx?|py|go|rs|java|kt|kts|scala|rb|php|cs|fs|swift|m|mm|c|cc|cpp|cxx|h|hh|hpp|ex|exs|erl|hs|clj|dart|lua|pl|sh|sql|vue|svelte)$/;
const ASSUMPTION = /\bassum/i;
const RISK = /\b(?:risk|caveat|not (?:yet )?(?:tested|verified|covered)|untested|limitation|todo|follow[- ]up|may break|might break)/i;
const MAX_CLAIM_LINES = 20;

interface Call {
  pre?: RunEvent;
  post?: RunEvent;
}

/** Builds the record of one session from its events (any order; sorted here by device and seq). */
export function buildRunRecord(events: readonly RunEvent[], sessionId: string): RunRecord {
  const sorted = [...events].sort((a, b) => (a.body.device.id === b.body.device.id ? a.body.seq - b.body.seq : a.body.device.id < b.body.device.id ? -1 : 1));
  const record: RunRecord = {
    v: 1,
    session_id: sessionId,
    status: 'interrupted',
    events: sorted.length,
    request: { prompts: [] },
    agent: { versions: [], permission_modes: [], policy_hashes: [], bundles: [] },
    files_inspected: [],
    files_changed: [],
    commits: [],
    tools: [],
    mcp_servers: [],
    commands: [],
    denials: [],
    approvals: [],
    tests: [],
    test_gaps: [],
    reviews: [],
    late_events: [],
    malformed_events: [],
  };
  if (sorted.length === 0) return record;
  record.started_at = sorted[0].body.time;
  record.last_event_at = sorted[sorted.length - 1].body.time;

  const calls = new Map<string, Call>();
  const callOf = (id: string) => calls.get(id) ?? (calls.set(id, {}), calls.get(id)!);
  const versions = new Set<string>();
  const modes = new Set<string>();
  const policies = new Set<string>();
  const bundles = new Set<string>();
  let lastHook: string | undefined;
  let ended = false;

  for (const event of sorted) {
    const { body } = event;
    const data = body.data;
    const ref = refOf(event);
    if (typeof data.spooled_at === 'string') record.late_events.push({ spooled_at: data.spooled_at, kind: body.kind, ref });
    if (body.kind.startsWith('hook.')) {
      lastHook = body.kind;
      if (!record.delegator) record.delegator = { os_user: body.actor.os_user, assurance: body.actor.assurance, device_id: body.device.id, ref };
      record.agent.name ??= body.agent.name;
      if (body.agent.version) versions.add(body.agent.version);
      if (typeof data.permission_mode === 'string') modes.add(data.permission_mode);
    }
    switch (body.kind) {
      case 'hook.UserPromptSubmit':
        if (typeof data.prompt === 'string') record.request.prompts.push({ text: data.prompt, ref });
        break;
      case 'hook.PreToolUse':
      case 'hook.PostToolUse':
      case 'hook.PostToolUseFailure':
        if (body.tool_use_id) callOf(body.tool_use_id)[body.kind === 'hook.PreToolUse' ? 'pre' : 'post'] = event;
        else if (body.kind === 'hook.PreToolUse') callOf(`#${body.seq}`).pre = event;
        break;
      case 'hook.SessionEnd':
        ended = true;
        break;
      case 'hook.Stop':
        if (typeof data.last_assistant_message === 'string') record.claims = claimsFrom(data.last_assistant_message, ref);
        break;
      case 'hook.malformed':
        record.malformed_events.push(ref);
        break;
      case 'approval.requested':
        record.approvals.push({ via: 'reviewer', id: text(data.id), reviewers: text(data.reviewers), outcome: 'pending', ref });
        break;
      case 'approval.granted':
      case 'approval.denied': {
        const asked = record.approvals.find((approval) => approval.via === 'reviewer' && approval.id === data.id);
        const by = text((data.reviewer as { name?: unknown } | undefined)?.name);
        const decided = { outcome: body.kind === 'approval.granted' ? ('granted' as const) : ('denied' as const), by, decided_ref: ref };
        if (asked) Object.assign(asked, decided);
        else record.approvals.push({ via: 'reviewer', id: text(data.id), reviewers: text(data.reviewers), ref, ...decided });
        break;
      }
      case 'contract.attached':
        record.contract ??= { hash: text(data.contract_hash) ?? '', ...(typeof data.source === 'string' && { source: data.source }), contract: data.contract, ref, checks: [], stops: [] };
        record.rollback ??= rollbackOf(data.contract);
        break;
      case 'contract.stopped':
        record.contract?.stops.push({ condition: text(data.condition) ?? '', reason: text(data.reason) ?? '', ref });
        break;
      case 'run.reviewed':
        record.reviews.push(reviewOf(data, body.time, ref));
        break;
    }
  }
  record.status = ended ? 'ended' : lastHook === 'hook.Stop' ? 'turn-ended' : 'interrupted';
  for (const call of calls.values()) {
    const decision = call.pre?.body.data.decision as Record<string, unknown> | undefined;
    if (typeof decision?.policy_hash === 'string') policies.add(decision.policy_hash);
    if (typeof decision?.bundle === 'string') bundles.add(decision.bundle);
  }
  record.agent.versions = [...versions];
  record.agent.permission_modes = [...modes];
  record.agent.policy_hashes = [...policies];
  record.agent.bundles = [...bundles];
  addCalls(record, [...calls.values()].sort((a, b) => seqOf(a) - seqOf(b)));
  return record;
}

function addCalls(record: RunRecord, calls: Call[]): void {
  const tools = new Map<string, number>();
  const mcp = new Map<string, { tools: Set<string>; calls: number }>();
  const inspected = new Map<string, EventRef[]>();
  const changed = new Map<string, RunRecord['files_changed'][number] & { lastSeq: number; lastRef: EventRef }>();
  let lastTestSeq = 0;

  for (const call of calls) {
    const anchor = call.pre ?? call.post!;
    const data = anchor.body.data;
    const ref = refOf(anchor);
    const tool = text(data.tool) ?? 'unknown';
    tools.set(tool, (tools.get(tool) ?? 0) + 1);
    const decision = call.pre?.body.data.decision as { decision?: unknown; rules?: unknown; reason?: unknown; answer?: unknown; contract?: Record<string, unknown> } | undefined;
    const actions = records(call.pre?.body.data.actions);
    const denied = decision !== undefined && decision.decision === 'deny';
    const outcome = outcomeOf(call, denied);
    const postData = call.post?.body.data;
    const exitCode = typeof postData?.exit_code === 'number' ? postData.exit_code : outcome === 'succeeded' && tool === 'Bash' ? 0 : undefined;
    const resultRef = call.post ? refOf(call.post) : undefined;
    const ran = outcome === 'succeeded' || outcome === 'failed';

    if (decision?.contract && record.contract) {
      record.contract.checks.push({ outcome: text(decision.contract.outcome) ?? '', clause: text(decision.contract.clause) ?? '', tool, ref });
    }
    if (denied) {
      record.denials.push({ tool, target: targetOf(data, actions), rules: strings(decision!.rules), reason: text(decision!.reason) ?? '', ref });
    }
    if (decision?.decision === 'ask') {
      // Claude Code asked its user; a result afterwards means the person let it run.
      record.approvals.push({ via: 'agent-prompt', tool, outcome: call.post ? 'granted' : 'unknown', ...(call.post && { by: 'the person at the agent prompt', decided_ref: resultRef }), ref });
    }
    for (const action of actions) {
      if (action.kind === 'mcp_call' && typeof action.server === 'string') {
        const server = mcp.get(action.server) ?? (mcp.set(action.server, { tools: new Set(), calls: 0 }), mcp.get(action.server)!);
        server.calls++;
        if (typeof action.tool === 'string') server.tools.add(action.tool);
      }
      if (denied || typeof action.path !== 'string') continue;
      if (action.kind === 'read') pushRef(inspected, action.path, ref);
      if ((action.kind === 'write' || action.kind === 'delete') && ran) {
        const entry = changed.get(action.path) ?? { path: action.path, edits: 0, lines_added: 0, lines_removed: 0, stats_complete: true, refs: [], lastSeq: 0, lastRef: ref };
        changed.set(action.path, entry);
        entry.edits++;
        entry.refs.push(ref);
        entry.lastSeq = (call.post ?? anchor).body.seq;
        entry.lastRef = ref;
        const stats = lineStats(tool, data.tool_input);
        if (stats && action.kind === 'write') {
          entry.lines_added += stats.added;
          entry.lines_removed += stats.removed;
        } else entry.stats_complete = false;
      }
    }
    for (const commit of records(postData?.commits)) {
      if (typeof commit.id === 'string') record.commits.push({ id: commit.id, branch: text(commit.branch) ?? '', ref: resultRef! });
    }
    const execs = actions.filter((action) => action.kind === 'exec');
    const command = text((data.tool_input as { command?: unknown } | undefined)?.command);
    if (tool === 'Bash' && command !== undefined) {
      record.commands.push({ command, programs: execs.map((action) => String(action.program)), outcome, ...(exitCode !== undefined && { exit_code: exitCode }), ref, ...(resultRef && { result_ref: resultRef }) });
    }
    const framework = execs.map((action) => testFramework(String(action.program), strings(action.args))).find((name) => name !== undefined);
    if (framework) {
      record.tests.push({ command: command ?? execs.map((action) => String(action.line)).join(' | '), framework, outcome, ...(exitCode !== undefined && { exit_code: exitCode }), ref, ...(resultRef && { result_ref: resultRef }) });
      if (ran) lastTestSeq = Math.max(lastTestSeq, call.post!.body.seq);
    }
  }
  record.tools = [...tools].map(([name, count]) => ({ name, calls: count }));
  record.mcp_servers = [...mcp].map(([server, entry]) => ({ server, tools: [...entry.tools], calls: entry.calls }));
  record.files_inspected = [...inspected].map(([path, refs]) => ({ path, refs }));
  record.files_changed = [...changed.values()].map(({ lastSeq: _seq, lastRef: _ref, ...entry }) => entry);
  record.test_gaps = [...changed.values()].filter((entry) => SOURCE_FILE.test(entry.path) && entry.lastSeq > lastTestSeq).map((entry) => ({ path: entry.path, changed_ref: entry.lastRef }));
}

function outcomeOf(call: Call, denied: boolean): CallOutcome {
  if (denied) return 'denied';
  if (!call.post) return 'no-result';
  return call.post.body.kind === 'hook.PostToolUseFailure' ? 'failed' : 'succeeded';
}

// Edit: old lines out, new lines in; Write: the file's new lines (what it replaced is not known).
function lineStats(tool: string, input: unknown): { added: number; removed: number } | undefined {
  const fields = input as Record<string, { lines?: unknown } | undefined> | undefined;
  const lines = (name: string) => (typeof fields?.[name]?.lines === 'number' ? (fields[name]!.lines as number) : undefined);
  if (tool === 'Edit') {
    const removed = lines('old_string');
    const added = lines('new_string');
    return removed === undefined || added === undefined ? undefined : { added, removed };
  }
  if (tool === 'Write') {
    const added = lines('content');
    return added === undefined ? undefined : { added, removed: 0 };
  }
  if (tool === 'NotebookEdit') {
    const added = lines('new_source');
    return added === undefined ? undefined : { added, removed: 0 };
  }
  return undefined;
}

function targetOf(data: Record<string, unknown>, actions: Record<string, unknown>[]): string {
  const input = data.tool_input as Record<string, unknown> | undefined;
  for (const key of ['command', 'file_path', 'url', 'path', 'pattern']) if (typeof input?.[key] === 'string') return input[key] as string;
  const action = actions[0];
  return text(action?.path) ?? text(action?.url) ?? text(action?.line) ?? '';
}

function claimsFrom(message: string, ref: EventRef): NonNullable<RunRecord['claims']> {
  const lines = message.split(/\n+|(?<=[.!?])\s+/).map((line) => line.trim()).filter(Boolean);
  return {
    source: 'agent',
    final_message: message,
    assumptions: lines.filter((line) => ASSUMPTION.test(line)).slice(0, MAX_CLAIM_LINES),
    risks: lines.filter((line) => RISK.test(line)).slice(0, MAX_CLAIM_LINES),
    ref,
  };
}

function rollbackOf(contract: unknown): string | undefined {
  const rollback = (contract as { rollback?: unknown } | undefined)?.rollback;
  if (typeof rollback === 'string') return rollback;
  // A contract's rollback is fields (change, undo, data_risk, trigger, owner): one line each, in its order.
  if (typeof rollback === 'object' && rollback !== null && !Array.isArray(rollback)) {
    const lines = Object.entries(rollback).filter(([, value]) => typeof value === 'string').map(([field, value]) => `${field}: ${value}`);
    return lines.length > 0 ? lines.join('\n') : undefined;
  }
  return undefined;
}

function reviewOf(data: Record<string, unknown>, time: string, ref: EventRef): RunRecord['reviews'][number] {
  const reviewer = (data.reviewer ?? {}) as Record<string, unknown>;
  return {
    decision: text(data.decision) ?? '',
    comment: text(data.comment) ?? '',
    reviewer: { subject: text(reviewer.subject) ?? '', ...(typeof reviewer.email === 'string' && { email: reviewer.email }), via: text(reviewer.via) ?? '' },
    at: time,
    ref,
  };
}

function seqOf(call: Call): number {
  return (call.pre ?? call.post!).body.seq;
}

function pushRef(map: Map<string, EventRef[]>, key: string, ref: EventRef): void {
  const refs = map.get(key);
  if (refs) refs.push(ref);
  else map.set(key, [ref]);
}

/** Every link in a record (any `ref`, `refs`, `result_ref`, `decided_ref`, `changed_ref`), from any JSON: a bundle's record is untrusted. */
export function runRecordLinks(record: unknown): EventRef[] {
  const links: EventRef[] = [];
  const walk = (value: unknown, key: string): void => {
    if (Array.isArray(value)) value.forEach((item) => walk(item, key));
    else if (typeof value === 'object' && value !== null) {
      const ref = value as Partial<EventRef>;
      if (/(?:^|_)refs?$/.test(key) && typeof ref.seq === 'number' && typeof ref.device === 'string' && typeof ref.hash === 'string') links.push(ref as EventRef);
      else for (const [name, child] of Object.entries(value)) walk(child, name);
    }
  };
  walk(record, '');
  return links;
}

export function refOf(event: RunEvent): EventRef {
  return { device: event.body.device.id, seq: event.body.seq, hash: event.hash };
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function records(value: unknown): Record<string, unknown>[] {
  return Array.isArray(value) ? value.filter((item): item is Record<string, unknown> => typeof item === 'object' && item !== null && !Array.isArray(item)) : [];
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}
