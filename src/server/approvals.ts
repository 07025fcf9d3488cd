// Approvals on the server: who may decide one (a member of the reviewer group the rule named, or an admin), the
// org-signed decision that names them, and the waiting device requests that a decision wakes. A decision taken
// through another replica is found by polling the store while a device waits, so replicas need no bus.
import { randomBytes } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { signApprovalDecision, type Reviewer } from '../core/approval.js';
import type { Approval } from '../store/store.js';
import type { ServerContext } from './app.js';
import { authenticateUser, bearerToken, TOKEN_PREFIX, verifyIdentity } from './auth.js';
import { forbidden, HttpError, notFound, unauthorized } from './http-error.js';
import { personId } from './routes/enroll.js';

/** How often a waiting device request looks at the store for a decision taken through another replica. */
const STORE_POLL_MS = 250;

/** A reviewer as the server authenticated them, with the groups that entitle them. */
export interface AuthenticatedReviewer {
  reviewer: Reviewer;
  /** Set for an OIDC reviewer: the person id their identity maps to (to refuse approving one's own call). */
  personId?: string;
  groups: string[];
  admin: boolean;
}

/** The caller of a decide request: an admin token, or an OIDC ID token (any group; membership is checked per approval). */
export async function authenticateReviewer(request: FastifyRequest, context: ServerContext): Promise<AuthenticatedReviewer> {
  const token = bearerToken(request);
  if (!token && request.browserSession) return sessionReviewer(request, context);
  if (!token) throw unauthorized('deciding an approval needs an admin token or an OIDC bearer token naming the reviewer');
  if (token.startsWith(TOKEN_PREFIX)) {
    const caller = await authenticateUser(request, context.store, context.oidc, 'admin');
    return { reviewer: { name: caller.name, via: 'token' }, groups: [], admin: true };
  }
  if (!context.oidc) throw unauthorized('this server has no OIDC issuer configured; use an admin token');
  return reviewerFromIdToken(context, token);
}

/** A dashboard reviewer: only an admin session decides (an auditor's is refused, 403), named as the IdP named them. */
async function sessionReviewer(request: FastifyRequest, context: ServerContext): Promise<AuthenticatedReviewer> {
  const caller = await authenticateUser(request, context.store, context.oidc, 'admin');
  const session = request.browserSession!;
  if (session.via !== 'oidc' || !session.iss || !session.sub) return { reviewer: { name: caller.name, via: 'token' }, groups: [], admin: true };
  return {
    reviewer: { name: caller.name, via: 'oidc', iss: session.iss, sub: session.sub },
    personId: personId(session.iss, session.sub),
    groups: [],
    admin: true,
  };
}

/** Verifies an ID token and says who it names as a reviewer. */
export async function reviewerFromIdToken(context: ServerContext, idToken: string): Promise<AuthenticatedReviewer> {
  const identity = await verifyIdentity(context.oidc!, idToken, 'token');
  const name = identity.emailVerified && identity.email ? identity.email : identity.sub;
  return {
    reviewer: { name, via: 'oidc', iss: identity.iss, sub: identity.sub },
    personId: personId(identity.iss, identity.sub),
    groups: identity.groups,
    admin: identity.groups.some((group) => context.oidc!.adminGroups.includes(group)),
  };
}

/** Whether an approval is still pending at `now` ('expired' once its time is past). */
export function effectiveStatus(approval: Approval, now: Date): Approval['status'] | 'expired' {
  return approval.status === 'pending' && Date.parse(approval.expiresAt) <= now.getTime() ? 'expired' : approval.status;
}

export class ApprovalHub {
  readonly #waiters = new Map<string, Set<() => void>>();

  constructor(private readonly context: ServerContext) {}

  /** A new approval id: 128 random bits, since approve/deny links carry it. */
  static newId(): string {
    return `apr_${randomBytes(16).toString('base64url')}`;
  }

  /**
   * Decides a pending approval as `who`, signing the decision with the org key. Refuses (403) a reviewer outside the
   * approval's group who is not an admin, and one deciding their own call; (409) an approval already decided or expired.
   */
  async decide(id: string, who: AuthenticatedReviewer, decision: 'approved' | 'denied', comment?: string): Promise<Approval> {
    const { store, org, now } = this.context;
    const approval = await store.getApproval(id);
    if (!approval) throw notFound(`no approval ${id}`);
    if (!who.admin && !who.groups.includes(approval.reviewers)) {
      throw forbidden(`${who.reviewer.name} is not in the reviewer group \`${approval.reviewers}\` of ${id}`);
    }
    if (who.personId !== undefined && who.personId === approval.personId) throw forbidden(`${who.reviewer.name} cannot decide an approval for their own call`);
    const at = now();
    refuseUnlessPending(approval, at);
    const decidedAt = at.toISOString();
    const envelope = signApprovalDecision(
      {
        v: 1,
        id,
        device: approval.deviceId,
        digest: approval.digest,
        decision,
        reviewer: who.reviewer,
        reviewers: approval.reviewers,
        rules: approval.rules,
        ...(comment && { comment }),
        decided_at: decidedAt,
        expires_at: approval.expiresAt,
      },
      org.signer,
    );
    const decided = await store.decideApproval(id, { status: decision, decidedAt, decidedBy: who.reviewer.name, ...(comment && { comment }), decision: JSON.stringify(envelope) });
    if (!decided) {
      // Someone else decided it (or it expired) between our read and our write.
      refuseUnlessPending((await store.getApproval(id))!, now());
      throw new HttpError(409, 'approval_conflict', `${id} changed while it was being decided; try again`);
    }
    this.#wake(id);
    return decided;
  }

  /** Resolves with the approval once it is no longer pending, or as it is after `waitMs`. */
  async waitForDecision(approval: Approval, waitMs: number): Promise<Approval> {
    const deadline = Date.now() + waitMs;
    let current = approval;
    while (current.status === 'pending' && Date.now() < deadline) {
      await this.#sleep(current.id, Math.min(STORE_POLL_MS, deadline - Date.now()));
      current = (await this.context.store.getApproval(current.id)) ?? current;
    }
    return current;
  }

  #sleep(id: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const waiters = this.#waiters.get(id) ?? new Set();
      this.#waiters.set(id, waiters);
      const done = () => {
        clearTimeout(timer);
        waiters.delete(done);
        if (waiters.size === 0) this.#waiters.delete(id);
        resolve();
      };
      const timer = setTimeout(done, ms);
      waiters.add(done);
    });
  }

  #wake(id: string): void {
    for (const wake of [...(this.#waiters.get(id) ?? [])]) wake();
  }
}

function refuseUnlessPending(approval: Approval, now: Date): void {
  const status = effectiveStatus(approval, now);
  if (status === 'expired') throw new HttpError(409, 'approval_expired', `${approval.id} expired at ${approval.expiresAt}; the call must be asked for again`);
  if (status !== 'pending') throw new HttpError(409, 'approval_decided', `${approval.id} was already ${status} by ${approval.decidedBy} at ${approval.decidedAt}`);
}
