// OTLP/HTTP receiver: Claude Code's own OpenTelemetry logs and metrics, authenticated by the device's
// telemetry token (exporters can only send static headers), stored for joining to hook events.
import { gunzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { decodeLogs, decodeMetrics, exportResponse, OtlpError } from '../../telemetry/otlp.js';
import type { ServerContext } from '../app.js';
import { bearerToken, hashSecret } from '../auth.js';
import { HttpError, unauthorized } from '../http-error.js';

const MAX_INFLATED_BYTES = 64 * 1024 * 1024;

export function otlpRoutes(context: ServerContext) {
  const { store } = context;
  return async (app: FastifyInstance) => {
    const receive = (decode: typeof decodeLogs) => async (request: FastifyRequest, reply: import('fastify').FastifyReply) => {
      const token = bearerToken(request);
      const deviceId = token ? await store.deviceForTelemetryToken(hashSecret(token)) : undefined;
      if (!deviceId) throw unauthorized('OTLP export needs "Authorization: Bearer <device telemetry token>" (see docs/telemetry.md)');
      const contentType = String(request.headers['content-type'] ?? '').split(';')[0].trim();
      let body = request.rawBody ?? Buffer.alloc(0);
      try {
        if (request.headers['content-encoding'] === 'gzip') body = gunzipSync(body, { maxOutputLength: MAX_INFLATED_BYTES });
        const records = decode(body, contentType).map((record) => ({ ...record, deviceId }));
        await store.addTelemetry(records);
      } catch (error) {
        if (error instanceof OtlpError || (error as NodeJS.ErrnoException).code?.startsWith('Z_')) {
          throw new HttpError(400, 'bad_otlp', (error as Error).message);
        }
        throw error;
      }
      const response = exportResponse(contentType);
      return reply.type(response.contentType).send(response.body);
    };
    const schema = (summary: string) => ({ schema: { summary, tags: ['telemetry'], security: [{ bearer: [] }] } });
    app.post('/v1/logs', schema('OTLP/HTTP logs (JSON or protobuf)'), receive(decodeLogs));
    app.post('/v1/metrics', schema('OTLP/HTTP metrics (JSON or protobuf)'), receive(decodeMetrics));
  };
}
