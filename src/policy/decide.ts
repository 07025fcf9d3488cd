// A tool call → its actions → one Cedar request each → one decision: deny beats ask beats allow.
import type { PostureFields } from '../core/inventory.js';
import type { Action, CallEnvironment } from './actions.js';
import type { AuthorizationRequest, AuthorizationResult, EntityJson, PreparedPolicy, Rule } from './engine.js';
import { MalformedCall, normaliseToolCall, type ToolCall } from './normalise.js';
import { mcpToolEntity } from './mcp.js';
import { baseName, homeRelative, isUnder } from './paths.js';
import { observe, touchedByActions } from './session.js';
import { DEFAULT_SETTINGS, type PolicySettings } from './settings.js';
import type { ShellParser } from './shell/parse.js';

export type DecisionKind = 'allow' | 'deny' | 'ask';

export interface Principal {
  user: string;
  assurance: string;
  groups: string[];
  /** Only when an IdP verified it. */
  email?: string;
}

/** What a session has done so far (see session.ts); every flag false for a fresh session. */
export interface Touched {
  secrets: boolean;
  untrusted: boolean;
  private_data: boolean;
  production: boolean;
}

export const UNTOUCHED: Touched = { secrets: false, untrusted: false, private_data: false, production: false };

/** The device's posture as last collected; absent fields are unknown, and rules must test them with `has`. */
export interface Posture extends PostureFields {
  age_seconds?: number;
}

export interface CallContext {
  agent: string;
  agentVersion: string;
  session: string;
  permissionMode: string;
  /** Writ's own state directory: writes into it are tampering. */
  writHome: string;
  /** What the session already did; a fresh session when absent. */
  touched?: Touched;
  /** The device's posture; unknown when absent. */
  posture?: Posture;
}

export interface ActionVerdict {
  action: Action;
  decision: DecisionKind;
  rules: string[];
  /** Rules in monitor mode that matched: what they would have done is recorded, not enforced. */
  monitored?: string[];
}

export interface Decision {
  decision: DecisionKind;
  /** Every policy rule explicitly allowed every action: only then may an agent be told `allow`. */
  explicitAllow: boolean;
  /** The determining rules of the decision (the denying ones on deny, the asking ones on ask). */
  rules: string[];
  reason: string;
  actions: Action[];
  verdicts: ActionVerdict[];
  policyHash: string;
  /** Monitor-mode rules that would have denied or asked: the rollout's evidence. */
  monitored?: string[];
}

const RANK: Record<DecisionKind, number> = { allow: 0, ask: 1, deny: 2 };

export function decide(policy: PreparedPolicy, parser: ShellParser, principal: Principal, call: ToolCall, env: CallEnvironment, context: CallContext): Decision {
  let actions: Action[];
  try {
    actions = normaliseToolCall(call, env, parser);
  } catch (error) {
    const reason = error instanceof MalformedCall ? error.message : `Writ could not analyse the call (${(error as Error).message})`;
    return { decision: 'deny', explicitAllow: false, rules: ['writ.malformed-call'], reason: `Writ denied this call: ${reason}.`, actions: [], verdicts: [], policyHash: policy.hash };
  }
  // The session as it will be once this call has run: a call that itself reads private data and sends it
  // out is judged with both flags.
  const touched = observe(context.touched ?? UNTOUCHED, touchedByActions(actions, env, policy.settings, 'before-running'));
  const verdicts = actions.map((action) => judge(policy, principal, action, call.tool, env, { ...context, touched }));
  const worst = verdicts.reduce<ActionVerdict | undefined>((top, verdict) => (!top || RANK[verdict.decision] > RANK[top.decision] ? verdict : top), undefined);
  const decision = worst?.decision ?? 'allow';
  const rules = decision === 'allow' ? [...new Set(verdicts.flatMap((verdict) => verdict.rules))] : [...new Set(verdicts.filter((verdict) => verdict.decision === decision).flatMap((verdict) => verdict.rules))];
  const explicitAllow = decision === 'allow' && verdicts.length > 0 && verdicts.every((verdict) => verdict.rules.some((id) => policy.rules.get(id)?.answersAllow));
  const monitored = [...new Set(verdicts.flatMap((verdict) => verdict.monitored ?? []))];
  return {
    decision,
    explicitAllow,
    rules,
    reason: decision === 'allow' ? '' : explainVerdict(worst!, policy.rules, call.tool),
    actions,
    verdicts,
    policyHash: policy.hash,
    ...(monitored.length > 0 && { monitored }),
  };
}

function judge(policy: PreparedPolicy, principal: Principal, action: Action, tool: string, env: CallEnvironment, context: CallContext): ActionVerdict {
  const request = toRequest(principal, action, tool, env, context, policy.attributes, policy.settings);
  const verdict = verdictOf(policy, action, policy.authorize(request));
  if (verdict.decision === 'allow' || !policy.monitoredActions.has(request.action.id)) return verdict;
  const monitored = verdict.rules.filter((id) => policy.rules.get(id)?.mode === 'monitor');
  if (monitored.length === 0) return verdict;
  // A monitored rule matched: the call gets the answer of the enforced rules alone.
  return { ...verdictOf(policy, action, policy.authorize(request, { enforcedOnly: true })), monitored };
}

function verdictOf(policy: PreparedPolicy, action: Action, result: AuthorizationResult): ActionVerdict {
  if (result.errors.length > 0) return { action, decision: 'deny', rules: ['writ.policy-error'] };
  if (result.allowed) return { action, decision: 'allow', rules: result.rules };
  const denying = result.rules.filter((id) => policy.rules.get(id)?.effect !== 'ask');
  if (result.rules.length === 0) return { action, decision: 'deny', rules: ['writ.no-permit'] };
  return denying.length > 0 ? { action, decision: 'deny', rules: denying } : { action, decision: 'ask', rules: result.rules };
}

/** The Cedar request for one action; with `used`, only the attributes some rule reads are sent. */
export function toRequest(principal: Principal, action: Action, tool: string, env: CallEnvironment, context: CallContext, used?: ReadonlySet<string>, settings: PolicySettings = DEFAULT_SETTINGS): AuthorizationRequest {
  const only = (attrs: Record<string, unknown>) => (used ? Object.fromEntries(Object.entries(attrs).filter(([name]) => used.has(name))) : attrs);
  const user = { type: 'Writ::User', id: principal.user };
  const userEntity = { uid: user, attrs: only({ assurance: principal.assurance, ...(principal.email && { email: principal.email }) }), parents: principal.groups.map((group) => ({ type: 'Writ::Group', id: group })) };
  const entities: EntityJson[] = Object.keys(userEntity.attrs).length > 0 || userEntity.parents.length > 0 ? [userEntity] : [];
  const callContext = only({
    tool,
    via: action.via,
    agent: context.agent,
    agent_version: context.agentVersion,
    session: context.session,
    permission_mode: context.permissionMode,
    cwd: env.cwd,
    project_dir: env.projectDir,
    repository: env.repository ?? '',
    branch: env.gitBranch ?? '',
    touched: context.touched ?? UNTOUCHED,
    device: context.posture ?? {},
  });
  const request = (actionId: string, resource: EntityJson): AuthorizationRequest => {
    entities.push({ ...resource, attrs: only(resource.attrs) });
    return { principal: user, action: { type: 'Writ::Action', id: actionId }, resource: resource.uid, context: callContext, entities };
  };
  switch (action.kind) {
    case 'read':
    case 'write':
    case 'delete':
      return request(action.kind, {
        uid: { type: 'Writ::File', id: action.path },
        attrs: {
          path: action.path,
          name: baseName(action.path),
          home_path: homeRelative(action.path, env.home),
          in_project: isUnder(action.path, env.projectDir),
          in_temp: env.tempDirs.some((dir) => isUnder(action.path, dir)),
          in_writ_home: isUnder(action.path, context.writHome),
          recursive: action.recursive,
        },
        parents: [],
      });
    case 'exec':
      return request('exec', {
        uid: { type: 'Writ::Command', id: action.line },
        attrs: {
          program: action.program,
          line: action.line,
          args: action.args,
          facts: action.facts ?? [],
          remote_code: action.remoteCode,
          opaque: action.opaque !== '',
          opaque_reason: action.opaque,
        },
        parents: [],
      });
    case 'fetch':
    case 'send':
      return request(action.kind, {
        uid: { type: 'Writ::Host', id: action.url },
        attrs: {
          host: action.host,
          // A name, never an IP literal: `domain like "*.example.com"` cannot be met by a number.
          domain: action.ip === action.host ? '' : action.host,
          ...(action.ip !== undefined && { ip: { __extn: { fn: 'ip', arg: action.ip } } }),
          port: action.port,
          scheme: action.scheme,
          method: action.method,
          url: action.url,
          project_remote: action.projectRemote,
          loopback: isLoopback(action.host) || (action.ip !== undefined && isLoopback(action.ip)),
        },
        parents: [],
      });
    case 'mcp_call':
      return request('mcp_call', mcpToolEntity(action, settings));
    case 'search':
      return request('search', { uid: { type: 'Writ::Query', id: action.query }, attrs: { text: action.query }, parents: [] });
    case 'delegate':
      return request('delegate', { uid: { type: 'Writ::Task', id: action.description }, attrs: { subagent: action.subagent }, parents: [] });
  }
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host.endsWith('.localhost') || /^127\.\d+\.\d+\.\d+$/.test(host) || host === '::1' || host === '0:0:0:0:0:0:0:1';
}

/** "Writ denied Bash: cat reads ~/.ssh/id_rsa. SSH private keys … (rule credentials.ssh). To get an exception: …" */
function explainVerdict(verdict: ActionVerdict, rules: Map<string, Rule>, tool: string): string {
  const rule = rules.get(verdict.rules[0]!);
  const verb = verdict.decision === 'deny' ? 'denied' : 'needs approval for';
  const what = describeAction(verdict.action);
  const why = rule?.reason || internalReason(verdict.rules[0]!);
  const exception = rule?.exception ? ` ${rule.exception}` : '';
  return `Writ ${verb} ${tool}: ${what}. ${capitalise(why)} (rule ${verdict.rules.join(', ')}).${exception}`;
}

export function describeAction(action: Action): string {
  switch (action.kind) {
    case 'read':
    case 'write':
    case 'delete': {
      const verb = { read: 'reads', write: 'writes', delete: 'deletes' }[action.kind];
      return `${action.via} ${verb} ${action.path}${action.recursive ? ' (recursively)' : ''}`;
    }
    case 'exec':
      if (action.opaque) return `${action.via}: ${action.opaque}`;
      if (action.remoteCode) return action.via;
      return `runs ${truncate(action.line, 120)}`;
    case 'fetch':
      return `${action.via} fetches from ${action.host}`;
    case 'send':
      return `${action.via} sends data to ${action.host}${action.port ? `:${action.port}` : ''}`;
    case 'mcp_call':
      return `calls tool ${action.tool} of MCP server ${action.server}`;
    case 'search':
      return `searches the web for "${truncate(action.query, 60)}"`;
    case 'delegate':
      return `starts a ${action.subagent} subagent`;
  }
}

function internalReason(id: string): string {
  if (id === 'writ.policy-error') return 'a policy rule failed to evaluate, so Writ fails closed';
  if (id === 'writ.no-permit') return 'no policy rule permits this';
  return 'policy';
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function truncate(text: string, max: number): string {
  return text.length > max ? text.slice(0, max - 1) + '…' : text;
}
