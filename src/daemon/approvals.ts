// Asks that go to a named reviewer instead of the local prompt (docs/policy.md, "Approvals by a reviewer").
// When the deciding rule names `@reviewers("group")` and the device is enrolled, the call is bound to a digest of
// its exact arguments and sent to `writ server`, which holds the request open for a short while in case a reviewer
// decides at once. Approved (org-signed, for this device and digest, unexpired): allow. Denied, still pending, or
// no answer from the server: deny, naming the approval so the agent can retry the same call once it is approved.
//
// The whole exchange stays inside the hook shim's own 800 ms deadline (native/writ-hook.c), so nothing about the
// shim or Claude Code's hook timeout changes: the first call is normally denied with the approval id, and the
// retry after a reviewer approved is allowed at once.
import type { KeyObject } from 'node:crypto';
import { approvalDigest, openApprovalDecision, parseDurationMs, type ApprovalDecision } from '../core/approval.js';
import type { Envelope } from '../core/dsse.js';
import type { EventDraft } from '../core/event.js';
import { eventData, type HookPayload } from '../agents/claude-code/hook-contract.js';
import type { Decision, PreparedPolicy, Rule } from '../policy/index.js';
import type { Journal } from './journal.js';
import { ServerError, type ServerClient } from './server-client.js';

export const APPROVALS_PATH = '/v1/approvals';
/** How long the server holds the request for a decision: short, so the round trip fits the shim's 800 ms. */
export const APPROVAL_WAIT_MS = 200;
/** The whole request, connection included; the shim's deadline is 800 ms from the hook's start. */
export const APPROVAL_REQUEST_TIMEOUT_MS = 500;
export const DEFAULT_APPROVAL_EXPIRY = 'PT1H';

/** Rule ids of the decisions this module makes on its own. */
export const APPROVAL_RULES = {
  unavailable: 'writ.approval-unavailable',
  invalid: 'writ.approval-invalid',
} as const;

export interface ApprovalGateOptions {
  client: ServerClient;
  /** The org key pinned at enrolment: only decisions it signed count. */
  orgKey: KeyObject;
  deviceId: string;
  journal: Journal;
  actor: EventDraft['actor'];
  /** Called after each journal append (the uploader sends it on). */
  notify(): void;
  now(): Date;
  waitMs?: number;
  requestTimeoutMs?: number;
}

/** What the server answers about an approval (docs/protocol.md, "Approvals"). */
interface ApprovalAnswer {
  id: string;
  status: 'pending' | 'approved' | 'denied' | 'expired';
  reviewers: string;
  expires_at: string;
  decision?: Envelope;
}

interface Granted {
  id: string;
  decision: ApprovalDecision;
}

export class ApprovalGate {
  readonly #options: ApprovalGateOptions;
  /** Verified approvals by call digest, so a retry is allowed even if the server is briefly away. Owned by settle(). */
  readonly #granted = new Map<string, Granted>();
  /** Approval ids whose request or decision is already in the journal. */
  readonly #recorded = new Set<string>();

  constructor(options: ApprovalGateOptions) {
    this.#options = options;
  }

  /** The rule that sends this ask to a reviewer; undefined when it stays the local prompt. */
  reviewRule(decision: Decision, policy: PreparedPolicy): Rule | undefined {
    if (decision.decision !== 'ask') return undefined;
    return decision.rules.map((id) => policy.rules.get(id)).find((rule) => rule?.reviewers !== undefined);
  }

  /** Settles an ask that `rule` sends to a reviewer: allow (approved) or deny (anything else). Never rejects. */
  async settle(payload: HookPayload, decision: Decision, rule: Rule): Promise<Decision> {
    const reviewers = rule.reviewers!;
    try {
      const digest = approvalDigest({
        device: this.#options.deviceId,
        session: payload.session_id ?? '',
        tool: payload.tool_name!,
        tool_input: payload.tool_input,
        cwd: payload.cwd!,
      });
      const cached = this.#granted.get(digest);
      if (cached && Date.parse(cached.decision.expires_at) > this.#options.now().getTime()) return approved(decision, cached);
      const expires = rule.approvalExpiry ?? DEFAULT_APPROVAL_EXPIRY;
      try {
        parseDurationMs(expires);
      } catch (error) {
        return denied(decision, APPROVAL_RULES.invalid, `Writ denied this call: rule ${rule.id} has an invalid @expires (${(error as Error).message}). Report this to your Writ administrator.`);
      }
      let answer: ApprovalAnswer;
      let created: boolean;
      try {
        ({ answer, created } = await this.#ask(payload, decision, reviewers, digest, expires));
      } catch (error) {
        const why = error instanceof ServerError ? error.message : String(error);
        return denied(decision, APPROVAL_RULES.unavailable, `${decision.reason} It needs a reviewer of \`${reviewers}\`, but the Writ server could not be asked (${why}), so Writ denied it. Try again when the server is reachable.`);
      }
      // Once per approval this daemon hears of, even if the answer that created it was lost to a timeout.
      this.#record(`${answer.id}:requested`, 'approval.requested', payload, { id: answer.id, created, digest, reviewers, rules: decision.rules, expires_at: answer.expires_at });
      return this.#conclude(payload, decision, digest, answer);
    } catch (error) {
      return denied(decision, APPROVAL_RULES.invalid, `Writ denied this call: its approval could not be settled (${(error as Error).message}).`);
    }
  }

  async #ask(payload: HookPayload, decision: Decision, reviewers: string, digest: string, expires: string): Promise<{ answer: ApprovalAnswer; created: boolean }> {
    const body = {
      digest,
      ...(payload.session_id && { session_id: payload.session_id }),
      tool: payload.tool_name,
      // The journal's redacted summary: reviewers see paths and commands, never file contents or known secrets.
      summary: eventData(payload),
      rules: decision.rules,
      reviewers,
      reason: decision.reason,
      expires,
      wait_ms: this.#options.waitMs ?? APPROVAL_WAIT_MS,
    };
    const { status, body: answer } = await this.#options.client.request<ApprovalAnswer>('POST', APPROVALS_PATH, body, {
      timeoutMs: this.#options.requestTimeoutMs ?? APPROVAL_REQUEST_TIMEOUT_MS,
    });
    if (typeof answer?.id !== 'string' || typeof answer.status !== 'string') throw new Error('the server answered something that is not an approval');
    return { answer, created: status === 201 };
  }

  #conclude(payload: HookPayload, decision: Decision, digest: string, answer: ApprovalAnswer): Decision {
    if (answer.decision === undefined) {
      const retry = answer.status === 'pending' ? ` Retry the same call once it is approved (it can be approved until ${answer.expires_at}).` : '';
      return denied(
        decision,
        decision.rules,
        `${decision.reason} It went to a reviewer of \`${answer.reviewers}\`: approval ${answer.id} is ${answer.status}, and a reviewer ` +
          `can run \`writ approvals approve ${answer.id}\`.${retry}`,
      );
    }
    // Only what the org key signed for this device and this exact call counts; the rest of the answer is the server's word.
    const signed = openApprovalDecision(answer.decision, this.#options.orgKey);
    if (signed.device !== this.#options.deviceId || signed.digest !== digest || signed.id !== answer.id) {
      return denied(decision, APPROVAL_RULES.invalid, `Writ denied this call: the server sent approval ${answer.id} signed for another call.`);
    }
    const kind = signed.decision === 'approved' ? 'approval.granted' : 'approval.denied';
    this.#record(`${signed.id}:decided`, kind, payload, { id: signed.id, decision: signed.decision, reviewer: signed.reviewer, reviewers: signed.reviewers, envelope: answer.decision });
    if (signed.decision === 'denied') {
      const comment = signed.comment ? `: ${signed.comment}` : '';
      return denied(decision, decision.rules, `Writ denied this call: ${signed.reviewer.name} (reviewer for \`${signed.reviewers}\`) denied approval ${signed.id}${comment}.`);
    }
    if (Date.parse(signed.expires_at) <= this.#options.now().getTime()) {
      return denied(decision, decision.rules, `Writ denied this call: approval ${signed.id} expired at ${signed.expires_at}; make the call again to ask anew.`);
    }
    const granted = { id: signed.id, decision: signed };
    const now = this.#options.now().getTime();
    for (const [key, held] of this.#granted) if (Date.parse(held.decision.expires_at) <= now) this.#granted.delete(key);
    this.#granted.set(digest, granted);
    return approved(decision, granted);
  }

  // An approval's evidence is in the journal before the answer that depends on it leaves (as for every decision).
  #record(key: string, kind: string, payload: HookPayload, data: Record<string, unknown>): void {
    if (this.#recorded.has(key)) return;
    this.#options.journal.append({
      time: this.#options.now().toISOString(),
      actor: this.#options.actor,
      agent: { name: 'writ' },
      kind,
      ...(payload.session_id && { session_id: payload.session_id }),
      ...(payload.tool_use_id && { tool_use_id: payload.tool_use_id }),
      data,
    });
    this.#recorded.add(key);
    this.#options.notify();
  }
}

function approved(decision: Decision, granted: Granted): Decision {
  const { reviewer, reviewers, expires_at: until } = granted.decision;
  const reason = `Approved by ${reviewer.name} (reviewer for \`${reviewers}\`) in approval ${granted.id}, valid until ${until}.`;
  return { ...decision, decision: 'allow', explicitAllow: true, reason };
}

function denied(decision: Decision, rules: string | string[], reason: string): Decision {
  return { ...decision, decision: 'deny', explicitAllow: false, rules: typeof rules === 'string' ? [rules] : rules, reason };
}
