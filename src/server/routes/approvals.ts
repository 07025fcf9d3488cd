// Approvals by a named reviewer (docs/protocol.md, "Approvals"). A device asks, signed with its key, and holds
// the request open while it waits; reviewers list and decide with an admin token or their OIDC ID token; every
// decision is signed by the org key and names the reviewer. The approve/deny links of the webhook open a confirm
// page that never decides on a GET.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { APPROVAL_DIGEST, APPROVAL_ID, parseDurationMs } from '../../core/approval.js';
import type { Approval, ApprovalStatus } from '../../store/store.js';
import type { ServerContext } from '../app.js';
import { authenticateDevice, authenticateUser } from '../auth.js';
import { ApprovalHub, authenticateReviewer, effectiveStatus } from '../approvals.js';
import { approvalPage } from '../approval-page.js';
import { postApprovalWebhook } from '../approval-webhook.js';
import { badRequest, notFound } from '../http-error.js';

/** The longest a device request may wait for a decision; a daemon waits far less (it answers a hook). */
const MAX_WAIT_MS = 25_000;
/** The longest an approval may live: a week. */
const MAX_EXPIRY_MS = 7 * 24 * 3600 * 1000;

export interface ApprovalOptions {
  /** Incoming-webhook URL (Slack-compatible) told of each new approval. */
  webhook?: string;
  /** The URL reviewers reach this server at, for the webhook's links; default: the URL the device used. */
  publicUrl?: string;
  log?(line: string): void;
}

/** An approval as the API shows it. */
export function approvalJson(approval: Approval, now: Date) {
  return {
    id: approval.id,
    status: effectiveStatus(approval, now),
    device_id: approval.deviceId,
    person_id: approval.personId,
    digest: approval.digest,
    ...(approval.sessionId && { session_id: approval.sessionId }),
    tool: approval.tool,
    summary: approval.summary,
    rules: approval.rules,
    reviewers: approval.reviewers,
    reason: approval.reason,
    created_at: approval.createdAt,
    expires_at: approval.expiresAt,
    ...(approval.decidedAt && { decided_at: approval.decidedAt, decided_by: approval.decidedBy }),
    ...(approval.comment && { comment: approval.comment }),
    ...(approval.decision && { decision: JSON.parse(approval.decision) as unknown }),
  };
}

interface ApprovalAsk {
  digest: string;
  session_id?: string;
  tool: string;
  summary: Record<string, unknown>;
  rules: string[];
  reviewers: string;
  reason: string;
  expires: string;
  wait_ms?: number;
}

const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: APPROVAL_ID.source } } } as const;
const decideBody = { type: 'object', additionalProperties: false, properties: { comment: { type: 'string', maxLength: 2000 } } } as const;

export function approvalRoutes(context: ServerContext, options: ApprovalOptions = {}) {
  const { store, now } = context;
  const hub = new ApprovalHub(context);
  const log = options.log ?? (() => {});

  const decideRoute = (decision: 'approved' | 'denied') => async (request: FastifyRequest) => {
    const who = await authenticateReviewer(request, context);
    const { id } = request.params as { id: string };
    const { comment } = (request.body ?? {}) as { comment?: string };
    return approvalJson(await hub.decide(id, who, decision, comment), now());
  };

  return async (app: FastifyInstance) => {
    app.post(
      '/v1/approvals',
      {
        schema: {
          summary: 'Ask a reviewer to approve one exact tool call, or find the approval that covers it; waits up to wait_ms for a decision (device-signed request)',
          tags: ['approvals'],
          security: [{ deviceSignature: [] }],
          body: {
            type: 'object',
            required: ['digest', 'tool', 'summary', 'rules', 'reviewers', 'reason', 'expires'],
            additionalProperties: false,
            properties: {
              digest: { type: 'string', pattern: APPROVAL_DIGEST.source },
              session_id: { type: 'string', maxLength: 200 },
              tool: { type: 'string', minLength: 1, maxLength: 200 },
              summary: { type: 'object' },
              rules: { type: 'array', minItems: 1, maxItems: 100, items: { type: 'string', maxLength: 200 } },
              reviewers: { type: 'string', minLength: 1, maxLength: 200 },
              reason: { type: 'string', maxLength: 4000 },
              expires: { type: 'string', maxLength: 40, description: 'ISO 8601 duration, from the rule’s @expires' },
              wait_ms: { type: 'integer', minimum: 0, maximum: MAX_WAIT_MS },
            },
          },
        },
      },
      async (request, reply) => {
        const device = await authenticateDevice(request, store, now);
        const ask = request.body as ApprovalAsk;
        if (JSON.stringify(ask.summary).length > 64 * 1024) throw badRequest('the call summary is larger than 64 KiB');
        let expiresMs: number;
        try {
          expiresMs = parseDurationMs(ask.expires);
        } catch (error) {
          throw badRequest((error as Error).message);
        }
        if (expiresMs <= 0 || expiresMs > MAX_EXPIRY_MS) throw badRequest(`an approval lives from 1 second to 7 days, not \`${ask.expires}\``);
        const at = now();
        const { approval, created } = await store.requestApproval(
          {
            id: ApprovalHub.newId(),
            deviceId: device.id,
            personId: device.personId,
            digest: ask.digest,
            ...(ask.session_id && { sessionId: ask.session_id }),
            tool: ask.tool,
            summary: ask.summary,
            rules: ask.rules,
            reviewers: ask.reviewers,
            reason: ask.reason,
            createdAt: at.toISOString(),
            expiresAt: new Date(at.getTime() + expiresMs).toISOString(),
          },
          at.toISOString(),
        );
        if (created && options.webhook) {
          const baseUrl = options.publicUrl ?? `${request.protocol}://${request.host}`;
          void postApprovalWebhook(options.webhook, approval, baseUrl, log);
        }
        const settled = ask.wait_ms ? await hub.waitForDecision(approval, ask.wait_ms) : approval;
        return reply.status(created ? 201 : 200).send(approvalJson(settled, now()));
      },
    );

    app.get(
      '/v1/approvals',
      {
        schema: {
          summary: 'Approvals, newest first (auditor)',
          tags: ['approvals'],
          security: [{ bearer: [] }],
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: {
              status: { type: 'string', enum: ['pending', 'approved', 'denied', 'expired'] },
              device: { type: 'string', maxLength: 100 },
              limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
            },
          },
        },
      },
      async (request) => {
        await authenticateUser(request, store, context.oidc, 'auditor');
        const { status, device, limit } = request.query as { status?: ApprovalStatus | 'expired'; device?: string; limit: number };
        const stored = status === 'expired' ? 'pending' : status;
        const at = now();
        // Expired is pending past its time: read more than asked and filter, as pending and expired share the column.
        const items = await store.listApprovals({ ...(stored && { status: stored }), ...(device && { deviceId: device }), limit: stored === 'pending' ? 10_000 : limit });
        return { items: items.filter((approval) => status === undefined || effectiveStatus(approval, at) === status).slice(0, limit).map((approval) => approvalJson(approval, at)) };
      },
    );

    app.get('/v1/approvals/:id', { schema: { summary: 'One approval (auditor)', tags: ['approvals'], security: [{ bearer: [] }], params: idParams } }, async (request) => {
      await authenticateUser(request, store, context.oidc, 'auditor');
      const approval = await store.getApproval((request.params as { id: string }).id);
      if (!approval) throw notFound('no such approval');
      return approvalJson(approval, now());
    });

    const decideSchema = (what: string) => ({
      schema: { summary: `${what} a pending approval (a member of its reviewer group, or an admin); signed by the org key, naming the reviewer`, tags: ['approvals'], security: [{ bearer: [] }], params: idParams, body: decideBody },
    });
    app.post('/v1/approvals/:id/approve', decideSchema('Approve'), decideRoute('approved'));
    app.post('/v1/approvals/:id/deny', decideSchema('Deny'), decideRoute('denied'));

    // The webhook's links: a page to confirm from, never a decision (link unfurlers follow GETs).
    app.get('/approvals/:id', { schema: { hide: true, params: { type: 'object', properties: { id: { type: 'string', maxLength: 100 } } } } }, async (request, reply) => {
      const { id } = request.params as { id: string };
      const { decision } = request.query as { decision?: string };
      const approval = APPROVAL_ID.test(id) ? await store.getApproval(id) : undefined;
      const page = approvalPage(approval, id, decision === 'deny' ? 'deny' : 'approve', now());
      return reply
        .status(approval ? 200 : 404)
        .header('content-type', 'text/html; charset=utf-8')
        .header('cache-control', 'no-store')
        .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'")
        .header('x-frame-options', 'DENY')
        .send(page);
    });
  };
}
