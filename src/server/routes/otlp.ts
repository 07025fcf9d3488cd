// OTLP/HTTP receiver: Claude Code's own OpenTelemetry logs and metrics, authenticated by the device's
// telemetry token (exporters can only send static headers), stored for joining to hook events.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { decodeLogs, decodeMetrics, exportResponse, OtlpError } from '../../telemetry/otlp.js';
import type { ServerContext } from '../app.js';
import { bearerToken, hashSecret } from '../auth.js';
import { HttpError, unauthorized } from '../http-error.js';

export function otlpRoutes(context: ServerContext) {
  const { store } = context;
  return async (app: FastifyInstance) => {
    const receive = (decode: typeof decodeLogs) => async (request: FastifyRequest, reply: import('fastify').FastifyReply) => {
      const token = bearerToken(request);
      const deviceId = token ? await store.deviceForTelemetryToken(hashSecret(token)) : undefined;
      if (!deviceId) throw unauthorized('OTLP export needs "Authorization: Bearer <device telemetry token>" (see docs/telemetry.md)');
      const contentType = String(request.headers['content-type'] ?? '').split(';')[0].trim();
      let records;
      try {
        const encoding = request.headers['content-encoding'];
        records = decode(request.rawBody ?? Buffer.alloc(0), contentType, { ...(typeof encoding === 'string' && { contentEncoding: encoding }) });
      } catch (error) {
        if (!(error instanceof OtlpError)) throw error;
        const status = error.code === 'UNSUPPORTED_MEDIA_TYPE' ? 415 : error.code === 'TOO_LARGE' ? 413 : 400;
        throw new HttpError(status, 'bad_otlp', error.message);
      }
      await store.addTelemetry(records.map((record) => ({ ...record, deviceId })));
      const response = exportResponse(contentType);
      return reply.type(response.contentType).send(response.body);
    };
    const schema = (summary: string) => ({ schema: { summary, tags: ['telemetry'], security: [{ bearer: [] }] } });
    app.post('/v1/logs', schema('OTLP/HTTP logs (JSON or protobuf)'), receive(decodeLogs));
    app.post('/v1/metrics', schema('OTLP/HTTP metrics (JSON or protobuf)'), receive(decodeMetrics));
  };
}
