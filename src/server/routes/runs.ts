// GET /v1/runs/:session: the run record of a session, built from the events in the org log (auditor).
// POST /v1/runs/:session/review: a reviewer's decision, signed by the org key and kept (admin token or OIDC; not auditors).
import type { FastifyInstance } from 'fastify';
import { openEvent } from '../../core/event.js';
import { parseEnvelope, type Envelope } from '../../core/dsse.js';
import { buildRunRecord, SELF_TEST_SESSION, type RunRecord } from '../../runs/index.js';
import { addOrgReviews, readRunReview, reviewInputProblem, signRunReview, type RunReview, type SignedRunReview } from '../../runs/review.js';
import type { Store, StoredEvent } from '../../store/store.js';
import type { ServerContext } from '../app.js';
import { authenticateReviewer } from '../approvals.js';
import { authenticateUser } from '../auth.js';
import { badRequest, forbidden, notFound } from '../http-error.js';

const PAGE = 2000;
// A session's reviews live in the store's meta table, one key each, numbered from 0 (set-if-absent makes each slot once).
const REVIEW_KEY = 'run.reviewed:';
const MAX_REVIEWS = 1000;

const sessionParams = { type: 'object', required: ['session'], properties: { session: { type: 'string', minLength: 1, maxLength: 200 } } } as const;

export function runRoutes(context: ServerContext) {
  const { store, org, now } = context;
  return async (app: FastifyInstance) => {
    app.get(
      '/v1/runs/:session',
      { schema: { summary: 'The run record of one session, every line linked to its signed events (auditor)', tags: ['evidence'], security: [{ bearer: [] }], params: sessionParams } },
      async (request) => {
        await authenticateUser(request, store, context.oidc, 'auditor');
        const { session } = request.params as { session: string };
        const events = session === SELF_TEST_SESSION ? [] : await sessionEvents(store, session);
        if (events.length === 0) throw notFound(`no run ${session}`);
        const reviews = await storedReviews(store, session);
        return { record: runRecordOf(session, events, reviews), log: events.map((event) => ({ device: event.deviceId, seq: event.seq, index: event.index })), reviews };
      },
    );
    app.post(
      '/v1/runs/:session/review',
      {
        schema: {
          summary: "Record a reviewer's decision on a run: accept, reject or needs-changes, signed by the org key",
          tags: ['evidence'],
          security: [{ bearer: [] }],
          params: sessionParams,
          body: { type: 'object', required: ['decision'], additionalProperties: false, properties: { decision: { type: 'string' }, comment: { type: 'string' } } },
        },
      },
      async (request, reply) => {
        const who = await authenticateReviewer(request, context);
        if (who.reviewer.via === 'oidc' && !who.admin && who.groups.some((group) => context.oidc?.auditorGroups.includes(group))) {
          throw forbidden(`${who.reviewer.name} is an auditor; auditors may read runs but not review them`);
        }
        const { session } = request.params as { session: string };
        const { decision, comment = '' } = request.body as { decision: string; comment?: string };
        const problem = reviewInputProblem(decision, comment);
        if (problem) throw badRequest(problem);
        const events = session === SELF_TEST_SESSION ? [] : await store.events({ sessionId: session, limit: 1 });
        if (events.length === 0) throw notFound(`no run ${session}`);
        const review: SignedRunReview = {
          v: 1,
          kind: 'run.reviewed',
          session_id: session,
          device_id: events[0].deviceId,
          decision: decision as RunReview['decision'],
          comment,
          reviewer: who.reviewer.via === 'oidc' ? { subject: who.reviewer.sub ?? who.reviewer.name, ...(who.reviewer.name.includes('@') && { email: who.reviewer.name }), via: 'oidc' } : { subject: who.reviewer.name, via: 'admin-token' },
          reviewed_at: now().toISOString(),
        };
        const envelope = signRunReview(review, org.signer);
        const text = JSON.stringify(envelope);
        for (let slot = 0; slot < MAX_REVIEWS; slot++) {
          if ((await store.metaSetIfAbsent(`${REVIEW_KEY}${session}:${slot}`, text)) === text) return reply.code(201).send({ review, envelope });
        }
        throw badRequest(`run ${session} already has ${MAX_REVIEWS} reviews`);
      },
    );
  };
}

/** The record, with the org-signed reviews in it. */
export function runRecordOf(session: string, events: StoredEvent[], reviews: Envelope[]): RunRecord {
  const record = buildRunRecord(events.map((event) => ({ body: openEvent(parseEnvelope(event.envelope)), hash: event.hash })), session);
  return addOrgReviews(record, reviews, readRunReview);
}

export async function sessionEvents(store: Store, sessionId: string): Promise<StoredEvent[]> {
  const events: StoredEvent[] = [];
  for (let after = -1; ; ) {
    const page = await store.events({ sessionId, afterIndex: after, limit: PAGE, order: 'asc' });
    events.push(...page);
    if (page.length < PAGE) return events;
    after = page[page.length - 1].index;
  }
}

export async function storedReviews(store: Store, session: string): Promise<Envelope[]> {
  const reviews: Envelope[] = [];
  for (let slot = 0; slot < MAX_REVIEWS; slot++) {
    const text = await store.metaGet(`${REVIEW_KEY}${session}:${slot}`);
    if (text === undefined) break;
    reviews.push(parseEnvelope(text));
  }
  return reviews;
}
