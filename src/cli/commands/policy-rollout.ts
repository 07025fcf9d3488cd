// `writ policy replay | lint | explain`: the tools for rolling a policy change out safely. Each reads its
// input, calls one pure function of src/policy/ and renders the answer.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import Database from 'better-sqlite3';
import { MalformedPayload, parsePayload } from '../../agents/claude-code/hook-contract.js';
import { parseEnvelope, type Envelope } from '../../core/dsse.js';
import { openEvent } from '../../core/event.js';
import { callEnvironment } from '../../daemon/call-environment.js';
import { decidePreToolUse } from '../../daemon/hook-service.js';
import { BUNDLE_FORMAT } from '../../ledger/bundle.js';
import { PolicyDirError, readPolicyDir } from '../../home/policy-files.js';
import { resolveWritHome } from '../../home/writ-home.js';
import {
  describeAction,
  lintPolicy,
  loadShellParser,
  matchEachRule,
  observe,
  PolicyError,
  preparePolicy,
  replayDecisions,
  ruleForms,
  toRequest,
  touchedByActions,
  UNTOUCHED,
  type AuthorizationRequest,
  type PolicyFile,
  type ReplayEvent,
  type ReplayReport,
  type ReplayVerdict,
  type RuleForm,
} from '../../policy/index.js';
import { UsageError } from '../command.js';

/** Options the three subcommands add to `writ policy`. */
export const policyRolloutOptions = { since: { type: 'string' }, journal: { type: 'string' }, bundle: { type: 'string' }, json: { type: 'boolean' }, home: { type: 'string' } } as const;

export const POLICY_ROLLOUT_USAGE = 'policy replay [--policy DIR] [--since 7d|24h|RFC3339] [--journal PATH | --bundle FILE] [--json] | policy lint|explain [--policy DIR] [--json]';

type Values = Record<string, string | boolean | undefined>;

function noArguments(rest: string[], sub: string): void {
  if (rest.length > 0) throw new UsageError(`policy ${sub} takes no arguments (got "${rest.join(' ')}")`);
}

/** The policy files of DIR; a directory that cannot be read or does not validate is a bad argument. */
function readCandidate(dir: string): PolicyFile[] {
  try {
    return readPolicyDir(dir);
  } catch (error) {
    if (error instanceof PolicyDirError) throw new UsageError(error.message);
    throw error;
  }
}

function prepareCandidate(dir: string, files: PolicyFile[]) {
  try {
    return preparePolicy(files);
  } catch (error) {
    if (error instanceof PolicyError) throw new UsageError(`the policy in ${dir} does not validate (run writ policy lint --policy ${dir}): ${error.problems[0]!.file}:${error.problems[0]!.line}: ${error.problems[0]!.message}`);
    throw error;
  }
}

/** `7d`, `24h`, `90m` before now, or an RFC 3339 time. */
export function parseSince(value: string | boolean | undefined, now: Date): Date | undefined {
  if (value === undefined) return undefined;
  const text = String(value);
  const relative = /^(\d+)([dhm])$/.exec(text);
  if (relative) return new Date(now.getTime() - Number(relative[1]) * { d: 86_400_000, h: 3_600_000, m: 60_000 }[relative[2] as 'd' | 'h' | 'm']);
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(text) && !Number.isNaN(Date.parse(text))) return new Date(text);
  throw new UsageError(`--since takes a duration such as 7d, 24h or 90m, or an RFC 3339 time, not "${text}"`);
}

/** Re-decides recorded history with the candidate policy; exit 0 whether or not decisions change. */
export async function replayCommand(dir: string, values: Values, rest: string[]): Promise<number> {
  noArguments(rest, 'replay');
  if (values.journal !== undefined && values.bundle !== undefined) throw new UsageError('give --journal or --bundle, not both');
  const since = parseSince(values.since, new Date());
  const home = resolveWritHome(values.home as string | undefined);
  const policy = prepareCandidate(dir, readCandidate(dir));
  const parser = await loadShellParser();
  const history = typeof values.bundle === 'string' ? bundleEvents(values.bundle) : journalEvents(typeof values.journal === 'string' ? values.journal : home.journal);
  let report: ReplayReport;
  try {
    report = replayDecisions({
      policy,
      parser,
      principal: (event) => ({ user: event.actor?.os_user ?? userInfo().username, assurance: event.actor?.assurance ?? 'local-os-user', groups: [] }),
      environment: (cwd) => callEnvironment(cwd),
      writHome: home.root,
      ...(since && { since }),
      events: history.events,
    });
  } finally {
    history.close();
  }
  if (values.json) {
    for (const change of report.changes) process.stdout.write(`${JSON.stringify({ type: 'change', ...change })}\n`);
    for (const skipped of report.unreplayable) process.stdout.write(`${JSON.stringify({ type: 'unreplayable', ...skipped })}\n`);
    const { changes: _changes, unreplayable, ...totals } = report;
    process.stdout.write(`${JSON.stringify({ type: 'summary', policy: dir, policy_hash: policy.hash, ...(since && { since: since.toISOString() }), ...totals, unreplayable: unreplayable.length })}\n`);
    return 0;
  }
  for (const change of report.changes) {
    process.stdout.write(`${change.time}  ${change.session}  ${change.direction.padEnd(10)}  ${change.call}  (${formatVerdict(change.before)} → ${formatVerdict(change.after)})\n`);
  }
  for (const skipped of report.unreplayable) process.stdout.write(`${skipped.time}  ${skipped.session}  not replayed  ${skipped.call}: ${skipped.reason}\n`);
  const changed = report.changes.length;
  const directions = Object.entries(report.changedBy).map(([direction, count]) => `${direction} ${count}`).join(', ');
  const context = report.context > 0 ? ` (${report.context} earlier only rebuilt session flags)` : '';
  process.stdout.write(
    `${report.replayed} calls replayed against ${dir}${context}: ${report.unchanged} unchanged, ${changed} would change${directions ? ` (${directions})` : ''}, ${report.unreplayable.length} could not be replayed faithfully\n`,
  );
  return 0;
}

function formatVerdict(verdict: ReplayVerdict): string {
  const rules = verdict.rules.length > 0 ? ` ${verdict.rules.join(',')}` : '';
  const monitored = verdict.monitored?.length ? ` monitored:${verdict.monitored.join(',')}` : '';
  return `${verdict.decision}${rules}${monitored}`;
}

interface History {
  events: Iterable<ReplayEvent>;
  close(): void;
}

/** A device's journal, read-only and without its key, so it can be read while the daemon runs. */
function journalEvents(path: string): History {
  if (!existsSync(path)) throw new Error(`no journal at ${path}`);
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
  } catch (error) {
    throw new Error(`cannot read the journal at ${path}: ${(error as Error).message}`, { cause: error });
  }
  const rows = db.prepare('SELECT envelope FROM events ORDER BY seq').pluck();
  function* events(): Generator<ReplayEvent> {
    for (const envelope of rows.iterate() as Iterable<string>) yield openEvent(parseEnvelope(envelope));
  }
  return { events: events(), close: () => db.close() };
}

/** An evidence bundle from `writ export --bundle`: a header line, then one event per line in log order. */
function bundleEvents(path: string): History {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read the bundle ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
  }
  const [header, ...lines] = text.split('\n').filter((line) => line.trim() !== '');
  let format: unknown;
  try {
    format = (JSON.parse(header ?? '') as { format?: unknown }).format;
  } catch {
    format = undefined;
  }
  if (format !== BUNDLE_FORMAT) throw new Error(`${path} is not an evidence bundle (its first line must say format ${BUNDLE_FORMAT})`);
  const events = lines.map((line, index) => {
    try {
      return openEvent((JSON.parse(line) as { envelope: Envelope }).envelope);
    } catch (error) {
      throw new Error(`${path}: event line ${index + 2} cannot be read: ${(error as Error).message}`, { cause: error });
    }
  });
  return { events, close: () => {} };
}

/** Errors and warnings exit 1, information alone 0. */
export function lintCommand(dir: string, values: Values, rest: string[]): number {
  noArguments(rest, 'lint');
  const findings = lintPolicy(readCandidate(dir));
  for (const finding of findings) {
    if (values.json) process.stdout.write(`${JSON.stringify({ ...finding, file: join(dir, finding.file) })}\n`);
    else process.stdout.write(`${join(dir, finding.file)}:${finding.line}: ${finding.severity}: ${finding.rule ? `rule "${finding.rule}" ` : ''}${finding.message} [${finding.kind}]\n`);
  }
  const failing = findings.filter((finding) => finding.severity !== 'info').length;
  if (!values.json) process.stdout.write(failing === 0 ? `${dir}: clean${findings.length > 0 ? ` (${findings.length} notes)` : ''}\n` : `${dir}: ${failing} problem${failing === 1 ? '' : 's'}\n`);
  return failing === 0 ? 0 : 1;
}

/** One rule that matched an action, with the request values it reads: why it matched. */
interface MatchedRule {
  id: string;
  effect: string;
  mode: string;
  file: string;
  line: number;
  reason: string;
  reads: Record<string, unknown>;
  errors?: string[];
}

/** One PreToolUse payload from stdin → its actions, every rule each action satisfies, and the decision. */
export async function explainCommand(dir: string, values: Values, rest: string[]): Promise<number> {
  noArguments(rest, 'explain');
  const files = readCandidate(dir);
  const policy = prepareCandidate(dir, files);
  const parser = await loadShellParser();
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  let payload;
  try {
    payload = parsePayload(Buffer.concat(chunks).toString('utf8'));
  } catch (error) {
    if (error instanceof MalformedPayload) throw new UsageError(`stdin is not a hook payload: ${error.message}`);
    throw error;
  }
  if (payload.hook_event_name !== 'PreToolUse') throw new UsageError(`policy explain takes a PreToolUse payload, not ${payload.hook_event_name}`);
  const home = resolveWritHome(values.home as string | undefined);
  const principal = { user: userInfo().username, assurance: 'local-os-user', groups: [] };
  const { decision, env } = decidePreToolUse(payload, { policy: () => policy, parser, principal, writHome: home.root, agentVersion: () => undefined, environment: callEnvironment });
  const rules = ruleForms(files);
  const context = { agent: 'claude-code', agentVersion: 'unknown', session: payload.session_id ?? '', permissionMode: payload.permission_mode ?? '', writHome: home.root };
  // The flags decide() judges with: what the call itself reads counts before it runs.
  const touched = env ? observe(UNTOUCHED, touchedByActions(decision.actions, env, policy.settings, 'before-running')) : UNTOUCHED;
  const actions = env
    ? decision.actions.map((action) => {
        const request = toRequest(principal, action, payload.tool_name!, env, { ...context, touched }, undefined, policy.settings);
        const scoped = rules.filter((rule) => rule.actions === undefined || rule.actions.includes(request.action.id));
        const matched = matchEachRule(scoped, request).flatMap(({ id, matched, errors }): MatchedRule[] => {
          const rule = scoped.find((candidate) => candidate.id === id)!;
          if (!matched && errors.length === 0) return [];
          return [{ id, effect: rule.effect, mode: rule.mode, file: join(dir, rule.file), line: rule.line, reason: rule.reason, reads: readValues(rule, request), ...(errors.length > 0 && { errors }) }];
        });
        return { action: action.kind, description: describeAction(action), rules: matched };
      })
    : [];
  const answer = { decision: decision.decision, rules: decision.rules, reason: decision.reason, ...(decision.monitored && { monitored: decision.monitored }), actions, policy_hash: decision.policyHash };
  if (values.json) {
    process.stdout.write(`${JSON.stringify(answer)}\n`);
    return 0;
  }
  const lines = [`${payload.tool_name}: ${actions.length} action${actions.length === 1 ? '' : 's'}`];
  for (const action of actions) {
    lines.push(`  ${action.action}: ${action.description}`);
    if (action.rules.length === 0) lines.push('    no rule matches');
    for (const rule of action.rules) {
      lines.push(`    ${rule.errors ? 'error' : rule.effect} ${rule.id} [${rule.mode}] ${rule.file}:${rule.line}`);
      if (rule.reason) lines.push(`      reason: ${rule.reason}`);
      const why = Object.entries(rule.reads).map(([path, value]) => `${path} = ${value === undefined ? '(absent)' : JSON.stringify(value)}`);
      if (why.length > 0) lines.push(`      why: ${why.join(', ')}`);
      for (const error of rule.errors ?? []) lines.push(`      error: ${error}`);
    }
  }
  lines.push(`decision: ${decision.decision}${decision.rules.length ? ` (${decision.rules.join(', ')})` : ''}${decision.monitored ? `; monitored: ${decision.monitored.join(', ')}` : ''}`);
  if (decision.reason) lines.push(`reason: ${decision.reason}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

/** The request values a rule's conditions read (`resource.path`, `context.touched.secrets`, …), by path. */
function readValues(rule: RuleForm, request: AuthorizationRequest): Record<string, unknown> {
  const roots: Record<string, unknown> = {
    context: request.context,
    resource: request.entities.find((entity) => entity.uid.type === request.resource.type && entity.uid.id === request.resource.id)?.attrs ?? {},
    principal: request.entities.find((entity) => entity.uid.type === request.principal.type && entity.uid.id === request.principal.id)?.attrs ?? {},
  };
  const values: Record<string, unknown> = {};
  for (const path of attributePaths(rule.json?.conditions)) {
    const [root, ...names] = path.split('.');
    let value: unknown = roots[root!];
    for (const name of names) value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[name] : undefined;
    values[path] = value;
  }
  return values;
}

/** Paths of every attribute access and `has` test in a policy's JSON conditions, outermost first. */
function attributePaths(node: unknown, paths = new Set<string>()): Set<string> {
  if (Array.isArray(node)) node.forEach((child) => attributePaths(child, paths));
  else if (typeof node === 'object' && node !== null) {
    for (const [key, value] of Object.entries(node)) {
      const path = key === '.' || key === 'has' ? pathOf(value) : undefined;
      if (path) paths.add(path);
      attributePaths(value, paths);
    }
  }
  return paths;
}

function pathOf(node: unknown): string | undefined {
  const { left, attr } = (node ?? {}) as { left?: Record<string, unknown>; attr?: string };
  if (typeof attr !== 'string' || !left) return undefined;
  if (typeof left.Var === 'string') return `${left.Var}.${attr}`;
  const inner = pathOf(left['.']);
  return inner ? `${inner}.${attr}` : undefined;
}
