// The control plane's HTTP surface: one Fastify app per server process. Replicas share nothing but the
// store, so any number of them can serve one organisation.
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import type { Store } from '../store/store.js';
import type { OidcAccess } from './auth.js';
import { ControlHub } from './control-hub.js';
import { EventBroadcaster } from './event-broadcaster.js';
import { HttpError } from './http-error.js';
import { LogService } from './log-service.js';
import type { Org } from './org.js';
import { adminRoutes } from './routes/admin.js';
import { approvalRoutes, type ApprovalOptions } from './routes/approvals.js';
import { controlRoutes } from './routes/control.js';
import { enrollRoutes } from './routes/enroll.js';
import { exportRoutes } from './routes/export.js';
import { ingestRoutes } from './routes/ingest.js';
import { inventoryRoutes } from './routes/inventory.js';
import { logRoutes } from './routes/log.js';
import { otlpRoutes } from './routes/otlp.js';
import { runRoutes } from './routes/runs.js';
import { dashboardRoutes } from './routes/dashboard.js';
import { streamRoutes } from './routes/stream.js';
import { registerDashboard, sendDashboardFallback } from './routes/web.js';
import { browserAuthRoutes, readBrowserSessions } from './routes/browser-auth.js';
import { overviewRoutes } from './routes/overview.js';
import { BrowserSessions } from './browser-session.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The exact bytes received: device signatures cover them. */
    rawBody?: Buffer;
  }
}

export interface ServerOptions {
  store: Store;
  org: Org;
  oidc?: OidcAccess;
  now?: () => Date;
  /** How often a signed checkpoint is published when the log has grown. */
  checkpointIntervalMs?: number;
  /** How often this replica looks for policy and kill-switch changes made through other replicas. */
  controlPollMs?: number;
  logger?: boolean;
  /** Where new approvals are announced and the URL their links use. */
  approvals?: ApprovalOptions;
  /** With replicas on one database: how often the live stream looks for events logged through the others. */
  streamPollMs?: number;
}

export interface ServerContext {
  store: Store;
  org: Org;
  oidc?: OidcAccess;
  now: () => Date;
  log: LogService;
  control: ControlHub;
  /** Newly logged events, for the dashboard's live stream. */
  events: EventBroadcaster;
  /** Whether web/dist was there to serve at `/`. */
  dashboardBuilt?: boolean;
  /** Dashboard sign-in: session cookies and the one-time sign-in link. */
  sessions: BrowserSessions;
}

export const MAX_BODY_BYTES = 16 * 1024 * 1024;

export async function buildServer(options: ServerOptions): Promise<{ app: FastifyInstance; context: ServerContext }> {
  const now = options.now ?? (() => new Date());
  const context: ServerContext = {
    store: options.store,
    org: options.org,
    oidc: options.oidc,
    now,
    log: new LogService(options.store, options.org, now),
    control: new ControlHub(options.store, options.org, now),
    events: new EventBroadcaster(),
    sessions: new BrowserSessions(options.org, now),
  };
  const app = Fastify({ logger: options.logger ?? false, bodyLimit: MAX_BODY_BYTES, forceCloseConnections: true });

  for (const type of ['application/json', 'application/x-protobuf', 'application/octet-stream', 'text/plain']) {
    app.removeContentTypeParser(type);
  }
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request: FastifyRequest, body: Buffer, done) => {
    request.rawBody = body;
    if (body.length === 0) return done(null, undefined);
    // A compressed body (OTLP exporters gzip) is left for its route to inflate.
    const encoding = request.headers['content-encoding'];
    if (encoding && encoding !== 'identity') return done(null, body);
    try {
      done(null, JSON.parse(body.toString('utf8')));
    } catch {
      done(new HttpError(400, 'bad_json', 'the body is not valid JSON'), undefined);
    }
  });
  app.addContentTypeParser(['application/x-protobuf', 'text/plain'], { parseAs: 'buffer' }, (request: FastifyRequest, body: Buffer, done) => {
    request.rawBody = body;
    done(null, body);
  });

  app.setErrorHandler((error, request, reply) => {
    if (error instanceof HttpError) {
      return reply.status(error.status).send({ error: { code: error.code, message: error.message, ...error.details } });
    }
    const fastifyError = error as { statusCode?: number; code?: string; validation?: unknown; message: string };
    if (fastifyError.validation) {
      return reply.status(400).send({ error: { code: 'invalid_request', message: fastifyError.message } });
    }
    if (fastifyError.statusCode && fastifyError.statusCode < 500) {
      return reply.status(fastifyError.statusCode).send({ error: { code: fastifyError.code ?? 'bad_request', message: fastifyError.message } });
    }
    request.log.error(error);
    return reply.status(500).send({ error: { code: 'internal', message: 'internal error; the server log has the details' } });
  });
  app.setNotFoundHandler((request, reply) => {
    if (sendDashboardFallback(request, reply)) return;
    reply.status(404).send({ error: { code: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}` } });
  });

  await app.register(swagger, {
    openapi: {
      info: { title: 'Writ control plane', version: '1', description: 'Devices, people, events, the transparency log, policy and kill switches.' },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'An admin/auditor token (writ_…) or an OIDC ID token' },
          deviceSignature: { type: 'apiKey', in: 'header', name: 'writ-signature', description: 'Device-signed request; see docs/protocol.md' },
        },
      },
    },
  });
  app.get('/v1/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/v1/health', { schema: { summary: 'Liveness', tags: ['meta'] } }, async () => ({ ok: true, origin: options.org.origin }));

  readBrowserSessions(app, context.sessions);
  await app.register(browserAuthRoutes(context, context.sessions, { ...(options.approvals?.publicUrl && { publicUrl: options.approvals.publicUrl }) }));
  await app.register(enrollRoutes(context));
  await app.register(ingestRoutes(context));
  await app.register(logRoutes(context));
  await app.register(controlRoutes(context));
  await app.register(adminRoutes(context));
  await app.register(otlpRoutes(context));
  await app.register(exportRoutes(context));
  await app.register(approvalRoutes(context, options.approvals));
  await app.register(inventoryRoutes(context));
  await app.register(runRoutes(context));
  await app.register(overviewRoutes(context));
  await app.register(streamRoutes(context));
  await app.register(dashboardRoutes(context));
  // One process sees every ingest; replicas on one PostgreSQL database learn of each other's events by polling.
  if (options.streamPollMs !== undefined || options.store.kind === 'postgres') {
    await context.events.startPolling(options.store, options.streamPollMs ?? 1000, (error) => app.log.error(error));
  }
  app.addHook('onClose', async () => context.events.stop());
  context.dashboardBuilt = await registerDashboard(app);
  return { app, context };
}
