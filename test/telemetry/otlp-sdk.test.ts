// The real OpenTelemetry JS exporters (OTLP/HTTP: JSON and protobuf, plain and gzip) export logs and
// metrics to a local receiver that decodes them with src/telemetry/otlp.ts.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { OTLPLogExporter as JsonLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as ProtobufLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPMetricExporter as JsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtobufMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { startOtlpReceiver, type OtlpReceiver } from './otlp-receiver.js';

const RESOURCE = { 'service.name': 'claude-code', 'service.version': '2.1.197', 'host.arch': 'amd64', shared: 'from the resource' };
const LOG_SCOPE = { 'otel.scope.name': 'com.anthropic.claude_code.events', 'otel.scope.version': '2.1.197' };
const METER_SCOPE = { 'otel.scope.name': 'com.anthropic.claude_code', 'otel.scope.version': '2.1.197' };

type Encoding = 'json' | 'protobuf';
// The exporters' `compression` option is typed with an enum of a package Writ does not depend on directly.
type ExporterConfig = { url: string; headers: Record<string, string>; compression?: never };
const gzip = 'gzip' as never;

const VARIANTS: { encoding: Encoding; compressed: boolean }[] = [
  { encoding: 'json', compressed: false },
  { encoding: 'protobuf', compressed: false },
  { encoding: 'json', compressed: true },
  { encoding: 'protobuf', compressed: true },
];

describe('OTLP decoders against the OpenTelemetry JS SDK exporters', () => {
  let receiver: OtlpReceiver;
  before(async () => (receiver = await startOtlpReceiver()));
  after(() => receiver.close());

  for (const { encoding, compressed } of VARIANTS) {
    const label = `${encoding}${compressed ? ', gzip' : ''}`;

    test(`logs (${label}): names, ids, attributes and times come through exactly`, async () => {
      const config: ExporterConfig = { url: `${receiver.url}/v1/logs`, headers: { authorization: 'Bearer wt_sdk' }, ...(compressed ? { compression: gzip } : {}) };
      const exporter = encoding === 'json' ? new JsonLogExporter(config) : new ProtobufLogExporter(config);
      const provider = new LoggerProvider({ resource: resourceFromAttributes(RESOURCE), processors: [new BatchLogRecordProcessor({ exporter })] });
      const logger = provider.getLogger('com.anthropic.claude_code.events', '2.1.197');
      logger.emit({
        timestamp: [1785250000, 123_456_789],
        observedTimestamp: [1785250001, 0],
        body: 'claude_code.tool_result',
        attributes: {
          'event.name': 'tool_result',
          'session.id': 'sess-1',
          'prompt.id': 'prompt-1',
          tool_use_id: 'toolu_1',
          success: 'true',
          duration_ms: '45',
          'event.sequence': 7,
          ratio: 0.5,
          flag: false,
          list: ['a', 2],
          nested: { inner: 'value', deeper: { n: 1 } },
          shared: 'from the record',
        },
      });
      logger.emit({ timestamp: new Date('2026-07-28T10:00:00.5Z'), body: 'a plain log line' });
      logger.emit({ timestamp: 1785250000999, eventName: 'custom.event', body: { structured: true }, attributes: { 'session.id': 'sess-2' } });
      await provider.forceFlush();
      await provider.shutdown();

      const received = receiver.exports.at(-1)!;
      assert.equal(received.status, 200, received.error?.message);
      assert.equal(received.headers['content-type'], encoding === 'json' ? 'application/json' : 'application/x-protobuf');
      assert.equal(received.headers['content-encoding'], compressed ? 'gzip' : undefined);
      assert.equal(received.headers.authorization, 'Bearer wt_sdk');
      assert.deepEqual(received.records, [
        {
          signal: 'log',
          name: 'claude_code.tool_result',
          time: '2026-07-28T14:46:40.123Z',
          sessionId: 'sess-1',
          promptId: 'prompt-1',
          toolUseId: 'toolu_1',
          attributes: {
            ...RESOURCE,
            ...LOG_SCOPE,
            'event.name': 'tool_result',
            'session.id': 'sess-1',
            'prompt.id': 'prompt-1',
            tool_use_id: 'toolu_1',
            success: 'true',
            duration_ms: '45',
            'event.sequence': 7,
            ratio: 0.5,
            flag: false,
            list: ['a', 2],
            nested: { inner: 'value', deeper: { n: 1 } },
            shared: 'from the record',
          },
        },
        { signal: 'log', name: 'a plain log line', time: '2026-07-28T10:00:00.500Z', attributes: { ...RESOURCE, ...LOG_SCOPE } },
        { signal: 'log', name: 'custom.event', time: '2026-07-28T14:46:40.999Z', sessionId: 'sess-2', attributes: { ...RESOURCE, ...LOG_SCOPE, 'session.id': 'sess-2' } },
      ]);
    });

    test(`metrics (${label}): one record per data point, with its attributes and value`, async () => {
      const config: ExporterConfig = { url: `${receiver.url}/v1/metrics`, headers: { authorization: 'Bearer wt_sdk' }, ...(compressed ? { compression: gzip } : {}) };
      const exporter = encoding === 'json' ? new JsonMetricExporter(config) : new ProtobufMetricExporter(config);
      const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
      const provider = new MeterProvider({ resource: resourceFromAttributes(RESOURCE), readers: [reader] });
      const meter = provider.getMeter('com.anthropic.claude_code', '2.1.197');
      const started = Date.now();
      const cost = meter.createCounter('claude_code.cost.usage', { unit: 'USD' });
      cost.add(0.25, { 'session.id': 'sess-1', model: 'claude-opus-4-8' });
      cost.add(0.5, { 'session.id': 'sess-1', model: 'claude-opus-4-8' });
      cost.add(1, { 'session.id': 'sess-2', model: 'claude-opus-4-8' });
      meter.createCounter('claude_code.session.count').add(1, { 'session.id': 'sess-1', start_type: 'fresh' });
      meter.createHistogram('writ.test.duration', { unit: 'ms' }).record(3, { 'session.id': 'sess-1' });
      meter.createHistogram('writ.test.duration', { unit: 'ms' }).record(5, { 'session.id': 'sess-1' });
      meter.createGauge('writ.test.queue').record(-42, { shared: 'from the point' });
      await provider.forceFlush();
      const ended = Date.now();
      await provider.shutdown();

      const received = receiver.exports.filter((entry) => entry.path === '/v1/metrics' && entry.records.length > 0).at(-1)!;
      assert.equal(received.status, 200, received.error?.message);
      assert.equal(received.headers['content-type'], encoding === 'json' ? 'application/json' : 'application/x-protobuf');
      // The SDK stamps points from performance.timeOrigin + performance.now(), which drifts from Date.now()
      // by some milliseconds; exact time conversion is pinned by the logs test above.
      for (const record of received.records) {
        const time = Date.parse(record.time);
        assert.ok(time >= started - 5_000 && time <= ended + 5_000, `${record.name} time ${record.time} lies near the export window`);
      }
      const points = received.records.map(({ time: _time, ...rest }) => rest);
      const base = { ...RESOURCE, ...METER_SCOPE };
      assert.deepEqual(points, [
        { signal: 'metric', name: 'claude_code.cost.usage', sessionId: 'sess-1', attributes: { ...base, 'session.id': 'sess-1', model: 'claude-opus-4-8' }, value: 0.75 },
        { signal: 'metric', name: 'claude_code.cost.usage', sessionId: 'sess-2', attributes: { ...base, 'session.id': 'sess-2', model: 'claude-opus-4-8' }, value: 1 },
        { signal: 'metric', name: 'claude_code.session.count', sessionId: 'sess-1', attributes: { ...base, 'session.id': 'sess-1', start_type: 'fresh' }, value: 1 },
        { signal: 'metric', name: 'writ.test.duration', sessionId: 'sess-1', attributes: { ...base, 'session.id': 'sess-1' }, value: 8 },
        { signal: 'metric', name: 'writ.test.queue', attributes: { ...base, shared: 'from the point' }, value: -42 },
      ]);
    });
  }
});
