// A minimal OTLP/HTTP receiver for tests: it decodes with src/telemetry/otlp.ts as Writ's server does
// and keeps every request (path, headers, raw body) together with what it decoded to.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TelemetryRecord } from '../../src/store/store.js';
import { decodeLogs, decodeMetrics, exportResponse, OtlpError } from '../../src/telemetry/otlp.js';

/** One export request as received. */
export interface ReceivedExport {
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  status: number;
  records: TelemetryRecord[];
  error?: OtlpError;
}

export interface OtlpReceiver {
  /** Base URL for `OTEL_EXPORTER_OTLP_ENDPOINT`; the exporters append `/v1/logs` and `/v1/metrics`. */
  url: string;
  exports: ReceivedExport[];
  /** Every decoded record of one signal, in the order received. */
  records(signal: TelemetryRecord['signal']): TelemetryRecord[];
  close(): Promise<void>;
}

/** Starts a receiver on 127.0.0.1 with a free port. */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const exports: ReceivedExport[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      const path = (request.url ?? '').split('?')[0];
      const contentType = request.headers['content-type'] ?? '';
      const received: ReceivedExport = { path, headers: request.headers, body, status: 200, records: [] };
      exports.push(received);
      const decode = path === '/v1/logs' ? decodeLogs : path === '/v1/metrics' ? decodeMetrics : undefined;
      if (!decode) return void response.writeHead((received.status = 404)).end();
      try {
        received.records = decode(body, contentType, { contentEncoding: request.headers['content-encoding'] });
        const answer = exportResponse(contentType);
        response.writeHead(200, { 'content-type': answer.contentType }).end(answer.body);
      } catch (error) {
        if (!(error instanceof OtlpError)) throw error;
        received.error = error;
        response.writeHead((received.status = 400), { 'content-type': 'application/json' }).end(JSON.stringify({ code: 3, message: error.message }));
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    exports,
    records: (signal) => exports.flatMap((received) => received.records.filter((record) => record.signal === signal)),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
