// GET /v1/stream/events: newly logged events as server-sent events, for the dashboard's live page (auditor).
// The filter is applied here, on the server; a client that cannot keep up is disconnected rather than buffered.
import type { FastifyInstance } from 'fastify';
import { openEvent } from '../../core/event.js';
import { parseEnvelope } from '../../core/dsse.js';
import { summariseCall } from '../../policy/index.js';
import type { StoredEvent } from '../../store/store.js';
import type { ServerContext } from '../app.js';
import { authenticateUser } from '../auth.js';
import type { StreamFilter } from '../event-broadcaster.js';
import { matchesStreamFilter } from '../event-broadcaster.js';
import { HttpError } from '../http-error.js';
import { eventJson } from './admin.js';

const KEEPALIVE_MS = 15_000;
/** Open streams per server process; each costs a socket and a filter test per event. */
const MAX_STREAMS = 500;
/** Unsent bytes after which a slow client is dropped (it reconnects and reloads the page of recent events). */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

const streamQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    person: { type: 'string', maxLength: 100 },
    device: { type: 'string', maxLength: 100 },
    agent: { type: 'string', maxLength: 200 },
    session: { type: 'string', maxLength: 200 },
    decision: { type: 'string', enum: ['allow', 'deny', 'ask'] },
    rule: { type: 'string', maxLength: 200 },
    recent: { type: 'integer', minimum: 0, maximum: 200, default: 0, description: 'first send up to this many of the latest matching events already logged' },
  },
} as const;

interface StreamQuery {
  person?: string;
  device?: string;
  agent?: string;
  session?: string;
  decision?: string;
  rule?: string;
  recent: number;
}

/** An event as a list row: the stored columns and, for a tool call, the tool and a one-line summary; no envelope. */
export function eventRowJson(event: StoredEvent) {
  const { envelope: _envelope, ...row } = eventJson(event);
  let tool: string | undefined;
  let call: string | undefined;
  try {
    const data = openEvent(parseEnvelope(event.envelope)).data;
    if (typeof data.tool === 'string') {
      tool = data.tool;
      call = summariseCall(data.tool, data.tool_input);
    }
  } catch {
    // The store holds only envelopes that verified at ingest; a row without a summary is still a row.
  }
  return { ...row, ...(tool && { tool }), ...(call && { call }) };
}

export function streamRoutes(context: ServerContext) {
  const { store, events } = context;
  return async (app: FastifyInstance) => {
    app.get(
      '/v1/stream/events',
      {
        schema: {
          summary: 'Newly logged events as server-sent events (`event: events`, data: a JSON array of rows), filtered on the server (auditor)',
          tags: ['evidence'],
          security: [{ bearer: [] }],
          querystring: streamQuery,
        },
      },
      async (request, reply) => {
        await authenticateUser(request, store, context.oidc, 'auditor');
        if (events.listeners >= MAX_STREAMS) throw new HttpError(503, 'too_many_streams', `this server already serves ${MAX_STREAMS} live streams; retry later`);
        const query = request.query as StreamQuery;
        const filter: StreamFilter = {
          ...(query.person && { personId: query.person }),
          ...(query.device && { deviceId: query.device }),
          ...(query.agent && { agentName: query.agent }),
          ...(query.session && { sessionId: query.session }),
          ...(query.decision && { decision: query.decision }),
          ...(query.rule && { rule: query.rule }),
        };
        reply.hijack();
        const response = reply.raw;
        response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
        response.write(': connected\n\n');
        const send = (matching: StoredEvent[]) => {
          if (matching.length === 0 || response.destroyed) return;
          if (response.writableLength > MAX_BUFFERED_BYTES) return void response.destroy();
          const rows = matching.map(eventRowJson);
          response.write(`event: events\nid: ${rows[rows.length - 1].index}\ndata: ${JSON.stringify(rows)}\n\n`);
        };
        const unsubscribe = events.subscribe((batch) => send(batch.filter((event) => matchesStreamFilter(event, filter))));
        const keepalive = setInterval(() => response.write(': keepalive\n\n'), KEEPALIVE_MS);
        const close = () => {
          clearInterval(keepalive);
          unsubscribe();
        };
        request.raw.on('close', close);
        response.on('close', close);
        if (query.recent > 0) {
          // Subscribed first, so nothing logged meanwhile is missed; a row sent twice keeps its index, which clients key by.
          try {
            const { agentName: _agentName, ...storeFilter } = filter; // the store has no agent filter; matchesStreamFilter applies it
            const latest = await store.events({ ...storeFilter, order: 'desc', limit: query.recent });
            send(latest.filter((event) => matchesStreamFilter(event, filter)).reverse());
          } catch (error) {
            request.log.error(error);
            response.destroy();
          }
        }
      },
    );
  };
}
