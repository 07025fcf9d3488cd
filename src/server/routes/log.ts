// The transparency log's read side. Checkpoints, hash tiles and proofs are public: they reveal nothing but
// hashes. Entry bundles hold the events themselves, so they need an auditor.
import type { FastifyInstance } from 'fastify';
import { parseTilePath, TILE_HEIGHT } from '../../ledger/tiles.js';
import type { ServerContext } from '../app.js';
import { authenticateUser } from '../auth.js';
import { badRequest, notFound } from '../http-error.js';

const TILE_WIDTH = 2 ** TILE_HEIGHT;

export function logRoutes(context: ServerContext) {
  const { store, log } = context;
  return async (app: FastifyInstance) => {
    const checkpoint = async (_request: unknown, reply: import('fastify').FastifyReply) => {
      const latest = await store.latestCheckpoint();
      if (!latest) throw notFound('the log is empty; no checkpoint yet');
      return reply.type('text/plain; charset=utf-8').header('cache-control', 'no-cache').send(latest.note);
    };
    app.get('/log/checkpoint', { schema: { summary: 'Latest signed checkpoint (C2SP tlog-checkpoint)', tags: ['log'] } }, checkpoint);
    app.get('/v1/log/checkpoint', { schema: { summary: 'Latest signed checkpoint (C2SP tlog-checkpoint)', tags: ['log'] } }, checkpoint);

    app.get('/log/tile/*', { schema: { summary: 'C2SP tlog-tiles: hash tiles (public) and entry bundles (auditor)', tags: ['log'] } }, async (request, reply) => {
      const path = `tile/${(request.params as { '*': string })['*']}`;
      let tile;
      try {
        tile = parseTilePath(path);
      } catch (error) {
        throw badRequest((error as Error).message);
      }
      const width = tile.width ?? TILE_WIDTH;
      const from = tile.index * TILE_WIDTH;
      if (tile.kind === 'entries') {
        await authenticateUser(request, store, context.oidc, 'auditor');
        const events = await store.eventsByIndex(from, width);
        if (events.length !== width) throw notFound(`entry bundle ${path} does not exist yet`);
        const parts = events.flatMap((event) => {
          const entry = Buffer.from(event.envelope, 'utf8');
          if (entry.length > 0xffff) throw new Error(`entry ${event.index} is longer than a tlog-tiles entry can be`);
          const length = Buffer.alloc(2);
          length.writeUInt16BE(entry.length);
          return [length, entry];
        });
        return reply.type('application/octet-stream').header('cache-control', 'public, max-age=31536000, immutable').send(Buffer.concat(parts));
      }
      const hashes = await store.nodeRange(tile.level * TILE_HEIGHT, from, width);
      if (hashes.length !== width) throw notFound(`tile ${path} does not exist yet`);
      return reply.type('application/octet-stream').header('cache-control', 'public, max-age=31536000, immutable').send(Buffer.concat(hashes));
    });

    app.get(
      '/v1/log/receipts/:index',
      {
        schema: {
          summary: 'C2SP tlog-proof receipt for one entry, against the latest checkpoint',
          tags: ['log'],
          params: { type: 'object', required: ['index'], properties: { index: { type: 'integer', minimum: 0 } } },
        },
      },
      async (request, reply) => {
        const { index } = request.params as { index: number };
        return reply.type('text/plain; charset=utf-8').send(await log.receipt(index));
      },
    );

    app.get(
      '/v1/log/consistency',
      {
        schema: {
          summary: 'Consistency proof between two tree sizes',
          tags: ['log'],
          querystring: {
            type: 'object',
            required: ['from', 'to'],
            additionalProperties: false,
            properties: { from: { type: 'integer', minimum: 0 }, to: { type: 'integer', minimum: 0 } },
          },
        },
      },
      async (request) => {
        const { from, to } = request.query as { from: number; to: number };
        const proof = await log.consistencyProof(from, to);
        return { from, to, proof: proof.map((hash) => hash.toString('base64')) };
      },
    );

    app.get(
      '/v1/log/inclusion',
      {
        schema: {
          summary: 'Inclusion proof of one entry in a tree of a given size',
          tags: ['log'],
          querystring: {
            type: 'object',
            required: ['index', 'size'],
            additionalProperties: false,
            properties: { index: { type: 'integer', minimum: 0 }, size: { type: 'integer', minimum: 1 } },
          },
        },
      },
      async (request) => {
        const { index, size } = request.query as { index: number; size: number };
        const proof = await log.inclusionProof(index, size);
        return { index, size, proof: proof.map((hash) => hash.toString('base64')) };
      },
    );
  };
}
