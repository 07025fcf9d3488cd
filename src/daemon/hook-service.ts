// Answers Claude Code's hooks: PreToolUse is decided and recorded before the answer leaves; every other
// hook is recorded. Any failure on the enforcing path answers deny.
import { sha256Hex } from '../core/digest.js';
import type { EventDraft } from '../core/event.js';
import { redactSecrets } from '../detect/secrets.js';
import {
  AGENT,
  ENFORCING_HOOK,
  MalformedPayload,
  denyOutput,
  eventData,
  parsePayload,
  preToolUseOutput,
  type HookPayload,
} from '../agents/claude-code/hook-contract.js';
import {
  decide,
  touchedBy,
  TOUCHED_FLAGS,
  UNTOUCHED,
  type Action,
  type CallEnvironment,
  type Decision,
  type Posture,
  type PreparedPolicy,
  type Principal,
  type ShellParser,
  type Touched,
} from '../policy/index.js';
import type { SessionTracker } from './session-tracker.js';
import type { ApprovalGate } from './approvals.js';
import type { Journal } from './journal.js';
import { KILL_SWITCH_RULE, killReason, matchKill } from './kill-switch.js';
import type { ContractBook, DecisionContract } from './contracts.js';
import type { GuardAgentState } from '../core/inventory.js';
import { configChangeVerdict } from './guard-reporter.js';

export type HookMode = 'enforce' | 'record';

export interface HookAnswer {
  /** 200 with the text the hook prints; 500 tells a recording shim to spool the payload. */
  status: number;
  body: string;
}

export interface HookRequest {
  body: string;
  mode: HookMode;
  /** CLAUDE_PROJECT_DIR as the shim saw it. */
  projectDir?: string;
  /** Set when the payload comes from the spool rather than live. */
  spooledAt?: string;
  /** The task contract `writ run --contract` gave the session (X-Writ-Contract: its sha256). */
  contract?: string;
}

/** What deciding a PreToolUse needs; the CLI's `policy eval` passes the same. */
export interface DecisionDeps {
  policy(): PreparedPolicy;
  parser: ShellParser;
  principal: Principal;
  writHome: string;
  agentVersion(): string | undefined;
  environment(cwd: string, projectDir?: string): CallEnvironment;
  /** Kill-switch targets in force (`tool:<name>`, `mcp:<server>`); a match is denied before the policy is asked. */
  kills?(): readonly string[];
  /** Hash of the org policy bundle in force, recorded with each decision; undefined while the local policy rules. */
  bundle?(): string | undefined;
  /** What the session already touched; every session is fresh when absent. */
  touched?(session: string): Touched;
  /** The device's posture; unknown when absent. */
  posture?(): Posture | undefined;
}

export interface HookServiceDeps extends DecisionDeps {
  journal: Journal;
  /** Keeps each session's flags; without it no session is ever tainted. */
  sessions?: SessionTracker;
  now(): Date;
  /** Sends asks whose rule names `@reviewers` to the server; undefined while the device is not enrolled. */
  approvals?(): ApprovalGate | undefined;
  /** Task contracts bound to sessions; without it no contract narrows a decision. */
  contracts?: ContractBook;
  /** Claude Code's guard state as its settings now stand, re-read on ConfigChange; without it ConfigChange is only recorded. */
  guardState?(projectDir: string | undefined): GuardAgentState;
}

export interface HookDecision {
  decision: Decision;
  /** Where the call happens; absent when deciding failed before it was known. */
  env?: CallEnvironment;
  /** Exactly what the hook prints: '' when Writ has no objection. */
  output: string;
  /** The session's task contract's verdict, when it has one. */
  contract?: DecisionContract;
}

/** Decides one PreToolUse payload; malformed input and internal failures are decided as deny. */
export function decidePreToolUse(payload: HookPayload, deps: DecisionDeps, projectDir?: string): HookDecision {
  let decision: Decision;
  try {
    const killed = matchKill(deps.kills?.() ?? [], payload.tool_name!);
    if (killed !== undefined) {
      decision = denial(KILL_SWITCH_RULE, killReason(killed, payload.tool_name!), deps.policy().hash);
      return { decision, output: preToolUseOutput(decision) };
    }
    const env = deps.environment(payload.cwd!, projectDir);
    decision = decideCall(payload, deps, env);
    return { decision, output: preToolUseOutput(decision), env };
  } catch (error) {
    const reason = `Writ denied this call because deciding it failed (${(error as Error).message}). Report this to your Writ administrator.`;
    decision = denial('writ.internal-error', reason, deps.policy().hash);
  }
  return { decision, output: preToolUseOutput(decision) };
}

/** The policy's decision on one call, with what the session already touched and the device's posture. */
function decideCall(payload: HookPayload, deps: DecisionDeps, env: CallEnvironment): Decision {
  const session = payload.session_id ?? '';
  const posture = deps.posture?.();
  return decide(deps.policy(), deps.parser, deps.principal, { tool: payload.tool_name!, input: payload.tool_input }, env, {
    agent: AGENT,
    agentVersion: deps.agentVersion() ?? 'unknown',
    session,
    permissionMode: payload.permission_mode ?? '',
    writHome: deps.writHome,
    touched: deps.touched?.(session) ?? UNTOUCHED,
    ...(posture && { posture }),
  });
}

export function malformedDecision(reason: string, policyHash: string): HookDecision {
  const decision = denial('writ.malformed-payload', `Writ denied this call: ${reason}.`, policyHash);
  return { decision, output: preToolUseOutput(decision) };
}

function denial(rule: string, reason: string, policyHash: string): Decision {
  return { decision: 'deny', explicitAllow: false, rules: [rule], reason, actions: [], verdicts: [], policyHash };
}

export class HookService {
  constructor(private readonly deps: HookServiceDeps) {}

  /** Answers at once, except a PreToolUse that waits for a reviewer's approval (src/daemon/approvals.ts). */
  handle(request: HookRequest): HookAnswer | Promise<HookAnswer> {
    let payload: HookPayload;
    try {
      payload = parsePayload(request.body);
    } catch (error) {
      const reason = error instanceof MalformedPayload ? error.message : String(error);
      return this.malformed(request, reason);
    }
    if (!request.spooledAt) this.deps.contracts?.meet(payload.session_id, request.contract);
    if (payload.hook_event_name === ENFORCING_HOOK) return this.enforce(payload, request);
    try {
      this.deps.journal.append(this.draft(payload, eventData(payload), request));
      if (payload.hook_event_name === 'PostToolUse') this.observeRanCall(payload, request.projectDir);
      if (payload.hook_event_name === 'ConfigChange' && this.deps.guardState && !request.spooledAt) return this.configChanged(payload, request);
      return { status: 200, body: '' };
    } catch (error) {
      return { status: 500, body: `Writ could not record the ${payload.hook_event_name} event: ${(error as Error).message}` };
    }
  }

  /** Events for payloads the shim spooled while the daemon was away, to be appended in one transaction. */
  draftsFor(requests: HookRequest[]): EventDraft[] {
    return requests.map((request) => {
      try {
        const payload = parsePayload(request.body);
        const data = eventData(payload);
        // A PreToolUse found in the spool was never answered by Writ: the shim denied it.
        if (payload.hook_event_name === ENFORCING_HOOK) data.decision = { decision: 'deny', answer: 'deny', rules: ['writ.daemon-unreachable'], reason: 'the Writ daemon did not answer' };
        return this.draft(payload, data, request);
      } catch (error) {
        return this.malformedDraft(request, (error as Error).message);
      }
    });
  }

  private enforce(payload: HookPayload, request: HookRequest): HookAnswer | Promise<HookAnswer> {
    const policyDecided = decidePreToolUse(payload, this.deps, request.projectDir);
    const decided = this.deps.contracts ? { ...policyDecided, ...this.deps.contracts.narrow(payload.session_id ?? '', request.contract, payload.tool_use_id, policyDecided) } : policyDecided;
    const gate = this.deps.approvals?.();
    const rule = gate?.reviewRule(decided.decision, this.deps.policy());
    if (!gate || !rule) return this.answer(payload, request, decided);
    return gate.settle(payload, decided.decision, rule).then((decision) => this.answer(payload, request, { ...decided, decision, output: preToolUseOutput(decision) }));
  }

  private answer(payload: HookPayload, request: HookRequest, { decision, output, env, contract }: HookDecision): HookAnswer {
    const answer = decision.decision === 'allow' ? (decision.explicitAllow ? 'allow' : 'silent') : decision.decision;
    const touched = this.deps.touched?.(payload.session_id ?? '');
    try {
      const bundle = this.deps.bundle?.();
      // Recorded before the answer is sent: once the agent acts, its evidence already exists.
      this.deps.journal.append(
        this.draft(payload, {
          ...eventData(payload),
          actions: decision.actions.map(redactAction),
          decision: {
            decision: decision.decision,
            answer,
            rules: decision.rules,
            reason: decision.reason,
            policy_hash: decision.policyHash,
            ...(bundle && { bundle }),
            ...(decision.monitored && { monitored: decision.monitored }),
            ...(touched && TOUCHED_FLAGS.some((flag) => touched[flag]) && { touched }),
            ...(contract && { contract }),
          },
        }, request),
      );
      // A call about to run marks its session now, so the very next call already sees it.
      if (decision.decision === 'allow' && env) this.deps.sessions?.add(payload.session_id ?? '', touchedBy(decision, this.deps.policy().rules, env, this.deps.policy().settings), payload.tool_use_id);
    } catch (error) {
      return { status: 200, body: denyOutput(`Writ denied this call because it could not record it (${(error as Error).message}).`) };
    }
    return { status: 200, body: output };
  }

  /** A settings file changed: if Writ's hooks are no longer in force, record it signed and block the change where Claude Code allows. */
  private configChanged(payload: HookPayload, request: HookRequest): HookAnswer {
    const verdict = configChangeVerdict(payload, this.deps.guardState!(request.projectDir ?? payload.cwd));
    if (!verdict) return { status: 200, body: '' };
    this.deps.journal.append(this.draft(payload, verdict.event, request, 'guard.changed'));
    return { status: 200, body: verdict.output };
  }

  /** A PostToolUse says the call ran, whatever Writ answered (a person may have approved an ask): the session takes its flags. */
  private observeRanCall(payload: HookPayload, projectDir?: string): void {
    if (!this.deps.sessions || !payload.session_id || !payload.tool_name || !payload.cwd) return;
    try {
      const env = this.deps.environment(payload.cwd, projectDir);
      const policy = this.deps.policy();
      const decision = decideCall(payload, this.deps, env);
      this.deps.sessions.add(payload.session_id, touchedBy(decision, policy.rules, env, policy.settings), payload.tool_use_id);
    } catch {
      // The event is recorded; a call Writ cannot analyse sets no flag, and its PreToolUse was denied anyway.
    }
  }

  private malformed(request: HookRequest, reason: string): HookAnswer {
    try {
      this.deps.journal.append(this.malformedDraft(request, reason));
    } catch {
      // Nothing more to do: the answer below still denies.
    }
    if (request.mode === 'enforce') return { status: 200, body: malformedDecision(reason, this.deps.policy().hash).output };
    return { status: 200, body: '' };
  }

  private malformedDraft(request: HookRequest, reason: string): EventDraft {
    return {
      time: this.deps.now().toISOString(),
      actor: this.actor(),
      agent: { name: AGENT, version: this.deps.agentVersion() },
      kind: 'hook.malformed',
      data: { mode: request.mode, problem: reason, payload: { sha256: sha256Hex(request.body), bytes: Buffer.byteLength(request.body) }, ...(request.spooledAt ? { spooled_at: request.spooledAt } : {}) },
    };
  }

  private draft(payload: HookPayload, data: Record<string, unknown>, request: HookRequest, kind = `hook.${payload.hook_event_name}`): EventDraft {
    return {
      time: this.deps.now().toISOString(),
      actor: this.actor(),
      agent: { name: AGENT, version: this.deps.agentVersion() },
      kind,
      ...(payload.session_id ? { session_id: payload.session_id } : {}),
      ...(payload.tool_use_id ? { tool_use_id: payload.tool_use_id } : {}),
      ...(payload.prompt_id ? { prompt_id: payload.prompt_id } : {}),
      data: request.spooledAt ? { ...data, spooled_at: request.spooledAt } : data,
    };
  }

  private actor(): EventDraft['actor'] {
    return { os_user: this.deps.principal.user, assurance: this.deps.principal.assurance };
  }
}

/** Command lines and URLs can carry tokens; the journal keeps them redacted. */
function redactAction(action: Action): Action {
  if (action.kind === 'exec') return { ...action, line: redactSecrets(action.line), args: action.args.map(redactSecrets) };
  if (action.kind === 'fetch' || action.kind === 'send') return { ...action, url: redactSecrets(action.url) };
  if (action.kind === 'mcp_call') return { ...action, args: { sha256: sha256Hex(JSON.stringify(action.args) ?? '') } };
  return action;
}
