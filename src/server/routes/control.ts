// Policy distribution and the kill switch. Admins publish; daemons listen on a server-sent event stream
// (or long-poll) and receive the signed control state the moment it changes.
import type { FastifyInstance } from 'fastify';
import { KILL_TARGET, signPolicyBundle, type PolicyFile } from '../../core/policy-bundle.js';
import { checkPolicy } from '../../policy/index.js';
import type { ServerContext } from '../app.js';
import { authenticateDevice, authenticateUser } from '../auth.js';
import type { ControlMessage } from '../control-hub.js';
import { badRequest, notFound } from '../http-error.js';

const KEEPALIVE_MS = 15_000;

/** The policy files of a request body: Cedar files and settings.json, by name. */
export const policyFilesSchema = {
  type: 'array',
  minItems: 1,
  maxItems: 500,
  items: {
    type: 'object',
    required: ['name', 'text'],
    additionalProperties: false,
    properties: { name: { type: 'string', pattern: '^([A-Za-z0-9._-]{1,100}\\.cedar|settings\\.json)$' }, text: { type: 'string', maxLength: 1_000_000 } },
  },
} as const;

/** Checks policy files, signs them as a bundle with the org key, stores it and tells connected daemons: the one publish path. */
export async function publishPolicy(context: ServerContext, publishedBy: string, files: PolicyFile[], comment?: string) {
  const names = new Set(files.map((file) => file.name));
  if (names.size !== files.length) throw badRequest('two policy files have the same name');
  const problems = checkPolicy(files);
  if (problems.length > 0) {
    throw badRequest('the policy does not validate', { problems: problems.map((p) => `${p.file}:${p.line}:${p.column}: ${p.message}`) });
  }
  const publishedAt = context.now().toISOString();
  const { hash, envelope } = signPolicyBundle({ v: 1, files, published_by: publishedBy, published_at: publishedAt, ...(comment && { comment }) }, context.org.signer);
  await context.store.addPolicyBundle({ hash, envelope: JSON.stringify(envelope), publishedBy, publishedAt });
  await context.control.refresh();
  return { hash, published_by: publishedBy, published_at: publishedAt };
}

export function controlRoutes(context: ServerContext) {
  const { store, control, now } = context;
  return async (app: FastifyInstance) => {
    app.get(
      '/v1/control/stream',
      { schema: { summary: 'Server-sent control state (device-signed request)', tags: ['devices'], security: [{ deviceSignature: [] }] } },
      async (request, reply) => {
        await authenticateDevice(request, store, now);
        const first = await control.current();
        reply.hijack();
        const response = reply.raw;
        response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
        const send = (message: ControlMessage) => response.write(`event: control\nid: ${message.version}\ndata: ${JSON.stringify(message)}\n\n`);
        send(first);
        const unsubscribe = control.subscribe(send);
        const keepalive = setInterval(() => response.write(': keepalive\n\n'), KEEPALIVE_MS);
        request.raw.on('close', () => {
          clearInterval(keepalive);
          unsubscribe();
        });
      },
    );

    app.get(
      '/v1/control',
      {
        schema: {
          summary: 'Control state, long-polling for a version newer than `after` (device-signed request)',
          tags: ['devices'],
          security: [{ deviceSignature: [] }],
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: { after: { type: 'integer', minimum: -1 }, wait: { type: 'integer', minimum: 0, maximum: 60 } },
          },
        },
      },
      async (request) => {
        await authenticateDevice(request, store, now);
        const { after = -1, wait = 0 } = request.query as { after?: number; wait?: number };
        return control.waitForChange(after, wait * 1000);
      },
    );

    app.post(
      '/v1/policy/bundles',
      {
        schema: {
          summary: 'Publish a policy bundle (admin); the server checks it against the schema and signs it',
          tags: ['policy'],
          security: [{ bearer: [] }],
          body: {
            type: 'object',
            required: ['files'],
            additionalProperties: false,
            properties: {
              files: policyFilesSchema,
              comment: { type: 'string', maxLength: 2000 },
            },
          },
        },
      },
      async (request, reply) => {
        const caller = await authenticateUser(request, store, context.oidc, 'admin');
        const { files, comment } = request.body as { files: { name: string; text: string }[]; comment?: string };
        return reply.status(201).send(await publishPolicy(context, caller.name, files, comment));
      },
    );

    app.get('/v1/policy/bundles/active', { schema: { summary: 'The policy bundle in force', tags: ['policy'], security: [{ bearer: [] }] } }, async (request) => {
      await authenticateUser(request, store, context.oidc, 'auditor');
      const bundle = await store.activePolicyBundle();
      if (!bundle) throw notFound('no policy bundle has been published; daemons enforce their local policy');
      return { hash: bundle.hash, published_by: bundle.publishedBy, published_at: bundle.publishedAt, envelope: JSON.parse(bundle.envelope) };
    });

    app.get('/v1/kills', { schema: { summary: 'Active kill switches', tags: ['policy'], security: [{ bearer: [] }] } }, async (request) => {
      await authenticateUser(request, store, context.oidc, 'auditor');
      return { kills: await store.activeKills() };
    });

    app.post(
      '/v1/kills',
      {
        schema: {
          summary: 'Block an MCP server or a tool on every device (admin)',
          tags: ['policy'],
          security: [{ bearer: [] }],
          body: {
            type: 'object',
            required: ['target'],
            additionalProperties: false,
            properties: { target: { type: 'string', pattern: KILL_TARGET.source }, reason: { type: 'string', maxLength: 2000 } },
          },
        },
      },
      async (request, reply) => {
        const caller = await authenticateUser(request, store, context.oidc, 'admin');
        const { target, reason } = request.body as { target: string; reason?: string };
        const kill = await store.addKill({ target, ...(reason && { reason }), createdBy: caller.name, createdAt: now().toISOString() });
        const message = await control.refresh();
        return reply.status(201).send({ kill, version: message.version, connected_devices: control.connections });
      },
    );

    app.delete(
      '/v1/kills/:target',
      {
        schema: {
          summary: 'Lift a kill switch (admin)',
          tags: ['policy'],
          security: [{ bearer: [] }],
          params: { type: 'object', required: ['target'], properties: { target: { type: 'string', pattern: KILL_TARGET.source } } },
        },
      },
      async (request) => {
        await authenticateUser(request, store, context.oidc, 'admin');
        const { target } = request.params as { target: string };
        if (!(await store.liftKill(target, now().toISOString()))) throw notFound(`no active kill switch for ${target}`);
        const message = await control.refresh();
        return { lifted: target, version: message.version };
      },
    );
  };
}
