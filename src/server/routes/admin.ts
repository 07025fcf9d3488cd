// The REST API for people: devices, people, agents, sessions, events, decisions, checkpoints and tokens.
// Auditors read; only admins change anything. Lists are paginated on the server.
import type { FastifyInstance } from 'fastify';
import type { EventFilter, Role, StoredEvent } from '../../store/store.js';
import { joinToolCalls } from '../../telemetry/join.js';
import type { ServerContext } from '../app.js';
import { authenticateUser, newSecretToken } from '../auth.js';
import { notFound } from '../http-error.js';

const page = {
  offset: { type: 'integer', minimum: 0, default: 0 },
  limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
} as const;

const eventQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    after: { type: 'integer', minimum: -1, description: 'only events with a log index above this' },
    before: { type: 'integer', minimum: 0 },
    since: { type: 'string', format: 'date-time' },
    until: { type: 'string', format: 'date-time' },
    device: { type: 'string', maxLength: 100 },
    person: { type: 'string', maxLength: 100 },
    session: { type: 'string', maxLength: 200 },
    kind: { type: 'string', maxLength: 100 },
    decision: { type: 'string', enum: ['allow', 'deny', 'ask'] },
    rule: { type: 'string', maxLength: 200 },
    order: { type: 'string', enum: ['asc', 'desc'] },
    limit: page.limit,
  },
} as const;

interface EventQuery {
  after?: number;
  before?: number;
  since?: string;
  until?: string;
  device?: string;
  person?: string;
  session?: string;
  kind?: string;
  decision?: string;
  rule?: string;
  order?: 'asc' | 'desc';
  limit?: number;
}

export function eventFilter(query: EventQuery): EventFilter {
  return {
    ...(query.after !== undefined && { afterIndex: query.after }),
    ...(query.before !== undefined && { beforeIndex: query.before }),
    ...(query.since && { since: query.since }),
    ...(query.until && { until: query.until }),
    ...(query.device && { deviceId: query.device }),
    ...(query.person && { personId: query.person }),
    ...(query.session && { sessionId: query.session }),
    ...(query.kind && { kind: query.kind }),
    ...(query.decision && { decision: query.decision }),
    ...(query.rule && { rule: query.rule }),
    ...(query.order && { order: query.order }),
    limit: query.limit ?? 100,
  };
}

export function eventJson(event: StoredEvent) {
  return {
    index: event.index,
    device_id: event.deviceId,
    person_id: event.personId,
    seq: event.seq,
    hash: event.hash,
    time: event.time,
    kind: event.kind,
    session_id: event.sessionId,
    tool_use_id: event.toolUseId,
    prompt_id: event.promptId,
    agent: { name: event.agentName, version: event.agentVersion },
    decision: event.decision,
    rules: event.rules,
    policy_hash: event.policyHash,
    received_at: event.receivedAt,
    envelope: JSON.parse(event.envelope),
  };
}

export function adminRoutes(context: ServerContext) {
  const { store, now } = context;
  const user = (request: Parameters<typeof authenticateUser>[0], role: Role) => authenticateUser(request, store, context.oidc, role);
  const read = (summary: string, querystring?: object) => ({
    schema: { summary, tags: ['fleet'], security: [{ bearer: [] }], ...(querystring && { querystring }) },
  });
  const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 200 } } } as const;

  return async (app: FastifyInstance) => {
    app.get('/v1/devices', read('Enrolled devices', { type: 'object', additionalProperties: false, properties: { ...page, search: { type: 'string', maxLength: 200 } } }), async (request) => {
      await user(request, 'auditor');
      const { offset, limit, search } = request.query as { offset: number; limit: number; search?: string };
      return store.listDevices(offset, limit, search);
    });
    app.get('/v1/devices/:id', { schema: { ...read('One device').schema, params: idParams } }, async (request) => {
      await user(request, 'auditor');
      const device = await store.getDevice((request.params as { id: string }).id);
      if (!device) throw notFound('no such device');
      return device;
    });
    app.post('/v1/devices/:id/revoke', { schema: { summary: 'Revoke a device (admin); its next batch is refused', tags: ['fleet'], security: [{ bearer: [] }], params: idParams } }, async (request) => {
      await user(request, 'admin');
      const { id } = request.params as { id: string };
      if (!(await store.revokeDevice(id, now().toISOString()))) throw notFound('no such device, or already revoked');
      return { revoked: id };
    });
    app.get('/v1/people', read('People with enrolled devices', { type: 'object', additionalProperties: false, properties: page }), async (request) => {
      await user(request, 'auditor');
      const { offset, limit } = request.query as { offset: number; limit: number };
      return store.listPeople(offset, limit);
    });
    app.post('/v1/people/:id/revoke', { schema: { summary: 'Revoke a person (admin): all their devices are refused', tags: ['fleet'], security: [{ bearer: [] }], params: idParams } }, async (request) => {
      await user(request, 'admin');
      const { id } = request.params as { id: string };
      if (!(await store.revokePerson(id, now().toISOString()))) throw notFound('no such person, or already revoked');
      return { revoked: id };
    });
    app.get('/v1/agents', read('Agents seen per device'), async (request) => {
      await user(request, 'auditor');
      return { items: await store.agents() };
    });
    app.get('/v1/sessions', read('Agent sessions', { type: 'object', additionalProperties: false, properties: { ...page, device: { type: 'string' }, person: { type: 'string' } } }), async (request) => {
      await user(request, 'auditor');
      const { offset, limit, device, person } = request.query as { offset: number; limit: number; device?: string; person?: string };
      return store.sessions({ offset, limit, ...(device && { deviceId: device }), ...(person && { personId: person }) });
    });
    app.get('/v1/sessions/:id', { schema: { ...read('One session: its events, joined to the agent’s own telemetry').schema, params: idParams } }, async (request) => {
      await user(request, 'auditor');
      const sessionId = (request.params as { id: string }).id;
      const [events, telemetry] = await Promise.all([
        store.events({ sessionId, limit: 10_000 }),
        store.telemetry({ sessionId, limit: 10_000 }),
      ]);
      if (events.length === 0 && telemetry.length === 0) throw notFound('no events for this session');
      const join = joinToolCalls(events.map((event) => ({ toolUseId: event.toolUseId, kind: event.kind, decision: event.decision, index: event.index })), telemetry);
      return { session_id: sessionId, events: events.map(eventJson), telemetry, tool_calls: join };
    });
    app.get('/v1/events', read('Events, filtered, in log order', eventQuery), async (request) => {
      await user(request, 'auditor');
      const filter = eventFilter(request.query as EventQuery);
      const [items, total] = await Promise.all([store.events(filter), store.countEvents({ ...filter, limit: undefined })]);
      return { items: items.map(eventJson), total };
    });
    app.get('/v1/decisions', read('Policy decisions (events that carry one)', eventQuery), async (request) => {
      await user(request, 'auditor');
      const query = request.query as EventQuery;
      const filter = { ...eventFilter(query), kind: query.kind ?? 'hook.PreToolUse' };
      const items = await store.events(filter);
      return { items: items.map(eventJson) };
    });
    app.get('/v1/checkpoints', read('Signed checkpoints, newest first', { type: 'object', additionalProperties: false, properties: page }), async (request) => {
      await user(request, 'auditor');
      const { offset, limit } = request.query as { offset: number; limit: number };
      const { items, total } = await store.listCheckpoints(offset, limit);
      return { total, items: items.map((c) => ({ size: c.size, root: c.root.toString('base64'), note: c.note, created_at: c.createdAt })) };
    });
    app.get('/v1/tokens', read('API and enrolment tokens (admin)'), async (request) => {
      await user(request, 'admin');
      return { items: await store.listAdminTokens() };
    });
    app.post(
      '/v1/tokens',
      {
        schema: {
          summary: 'Create a token (admin); the secret is shown once',
          tags: ['fleet'],
          security: [{ bearer: [] }],
          body: {
            type: 'object',
            required: ['name', 'role'],
            additionalProperties: false,
            properties: { name: { type: 'string', minLength: 1, maxLength: 100 }, role: { type: 'string', enum: ['admin', 'auditor', 'enroller'] } },
          },
        },
      },
      async (request, reply) => {
        await user(request, 'admin');
        const { name, role } = request.body as { name: string; role: Role };
        const { secret, hash } = newSecretToken();
        const token = { id: `tok_${hash.slice(0, 12)}`, name, role, createdAt: now().toISOString() };
        await store.createAdminToken(token, hash);
        return reply.status(201).send({ ...token, secret });
      },
    );
    app.post('/v1/tokens/:id/revoke', { schema: { summary: 'Revoke a token (admin)', tags: ['fleet'], security: [{ bearer: [] }], params: idParams } }, async (request) => {
      await user(request, 'admin');
      const { id } = request.params as { id: string };
      if (!(await store.revokeAdminToken(id, now().toISOString()))) throw notFound('no such token, or already revoked');
      return { revoked: id };
    });
  };
}
