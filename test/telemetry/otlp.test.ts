// The OTLP decoders on bodies real Claude Code sent (fixtures/) and on hand-written requests that pin the
// OTLP JSON mapping: int64 as strings or numbers, proto field names, enums by name, every AnyValue kind.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe, test } from 'node:test';
import protobuf from 'protobufjs';
import { decodeLogs, decodeMetrics, exportResponse } from '../../src/telemetry/otlp.js';
import { otlpDescriptor } from '../../src/telemetry/proto/otlp-descriptor.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url));
const JSON_TYPE = 'application/json';
const PROTOBUF_TYPE = 'application/x-protobuf';
const RECEIVED_AT = new Date('2026-07-28T12:00:00.000Z');

const body = (value: unknown) => Buffer.from(JSON.stringify(value));
const text = (value: string) => ({ stringValue: value });
const logsRequest = (logRecords: unknown[], resourceAttributes: unknown[] = []) => ({
  resourceLogs: [{ resource: { attributes: resourceAttributes }, scopeLogs: [{ scope: { name: 'test.scope' }, logRecords }] }],
});
const metricsRequest = (metrics: unknown[]) => ({ resourceMetrics: [{ scopeMetrics: [{ metrics }] }] });

const root = protobuf.Root.fromJSON(otlpDescriptor as protobuf.INamespace);
const LOGS_REQUEST = root.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest');
const METRICS_REQUEST = root.lookupType('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest');
const LOGS_RESPONSE = root.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse');
const encode = (type: protobuf.Type, value: Record<string, unknown>) => Buffer.from(type.encode(type.fromObject(value)).finish());

const CLAUDE_RESOURCE = {
  'host.arch': 'amd64',
  'os.type': 'linux',
  'os.version': '6.18.44-fc-v669',
  'service.name': 'claude-code',
  'service.version': '2.1.197',
};

describe('bodies Claude Code 2.1.197 sent', () => {
  test('http/json logs: every event, named as Claude Code names it, with its session, prompt and tool_use ids', () => {
    const records = decodeLogs(fixture('claude-code-2.1.197-logs.json'), JSON_TYPE);
    assert.equal(records.length, 22);
    assert.ok(records.every((record) => record.signal === 'log' && record.sessionId === 'e096a05f-fac8-40cb-8394-2521606fa59a'));
    assert.ok(records.every((record) => record.name === `claude_code.${record.attributes['event.name']}`));
    const toolResults = records.filter((record) => record.name === 'claude_code.tool_result').map((record) => record.toolUseId);
    assert.deepEqual(toolResults, ['toolu_http-json_1', 'toolu_http-json_3', 'toolu_http-json_2']);
    assert.deepEqual(
      records.find((record) => record.toolUseId === 'toolu_http-json_1' && record.name === 'claude_code.tool_result'),
      {
        signal: 'log',
        name: 'claude_code.tool_result',
        time: '2026-11-22T00:13:03.918Z',
        sessionId: 'e096a05f-fac8-40cb-8394-2521606fa59a',
        promptId: 'abff2877-3964-470a-9b09-b2130097bd85',
        toolUseId: 'toolu_http-json_1',
        attributes: {
          ...CLAUDE_RESOURCE,
          'otel.scope.name': 'com.anthropic.claude_code.events',
          'otel.scope.version': '2.1.197',
          'user.id': '5e63d5017c6fd83a2309222d05b5397d096e17e42147774214537ef6a67c5df3',
          'session.id': 'e096a05f-fac8-40cb-8394-2521606fa59a',
          'terminal.type': 'non-interactive',
          'event.name': 'tool_result',
          'event.timestamp': '2026-11-22T00:13:03.918Z',
          'event.sequence': 11,
          'prompt.id': 'abff2877-3964-470a-9b09-b2130097bd85',
          tool_name: 'Bash',
          tool_use_id: 'toolu_http-json_1',
          success: 'true',
          duration_ms: '51',
          tool_parameters: '{"bash_command":"echo","full_command":"echo one > one.txt","description":"write a file"}',
          tool_input: '{"command":"echo one > one.txt","description":"write a file"}',
          tool_input_size_bytes: '61',
          tool_result_size_bytes: '0',
        },
      },
    );
  });

  test('http/protobuf with gzip logs: the same shapes, numbers staying numbers', () => {
    const records = decodeLogs(fixture('claude-code-2.1.197-logs.pb.gz'), PROTOBUF_TYPE, { contentEncoding: 'gzip' });
    assert.equal(records.length, 26);
    assert.deepEqual(records, decodeLogs(gunzipSync(fixture('claude-code-2.1.197-logs.pb.gz')), PROTOBUF_TYPE), 'inflating here or before gives the same');
    const decision = records.find((record) => record.name === 'claude_code.tool_decision' && record.toolUseId === 'toolu_http-protobuf_4')!;
    assert.equal(decision.attributes.decision, 'reject');
    assert.equal(decision.attributes.source, 'hook');
    const request = records.find((record) => record.name === 'claude_code.api_request')!;
    assert.equal(request.time, '2026-11-22T00:13:05.262Z');
    assert.equal(request.promptId, '151bbd30-0944-4252-b775-33ec73344f38');
    assert.equal(request.toolUseId, undefined);
    const { input_tokens, output_tokens, cost_usd, cost_usd_micros, duration_ms, 'event.sequence': sequence } = request.attributes;
    assert.deepEqual({ input_tokens, output_tokens, cost_usd, cost_usd_micros, duration_ms, sequence }, { input_tokens: 1652, output_tokens: 34, cost_usd: 0.00911, cost_usd_micros: 9110, duration_ms: 49, sequence: 8 });
  });

  test('metrics in both encodings: one record per data point, delta sums as values', () => {
    const fromJson = decodeMetrics(fixture('claude-code-2.1.197-metrics.json'), JSON_TYPE);
    const fromProtobuf = decodeMetrics(fixture('claude-code-2.1.197-metrics.pb.gz'), PROTOBUF_TYPE, { contentEncoding: 'gzip' });
    const summary = (records: typeof fromJson) => records.map((record) => [record.name, record.attributes.type ?? record.attributes.start_type ?? null, record.value]);
    assert.deepEqual(summary(fromJson), [
      ['claude_code.session.count', 'fresh', 1],
      ['claude_code.cost.usage', null, 0.03936],
      ['claude_code.token.usage', 'input', 7177],
      ['claude_code.token.usage', 'output', 139],
      ['claude_code.token.usage', 'cacheRead', 0],
      ['claude_code.token.usage', 'cacheCreation', 0],
      ['claude_code.active_time.total', 'cli', 0.387],
    ]);
    assert.deepEqual(fromProtobuf[0], {
      signal: 'metric',
      name: 'claude_code.session.count',
      time: '2026-11-22T00:13:05.488Z',
      sessionId: '79b379fd-5a32-4bf6-9f59-e59319c7625b',
      attributes: {
        ...CLAUDE_RESOURCE,
        'otel.scope.name': 'com.anthropic.claude_code',
        'otel.scope.version': '2.1.197',
        'user.id': '5e63d5017c6fd83a2309222d05b5397d096e17e42147774214537ef6a67c5df3',
        'session.id': '79b379fd-5a32-4bf6-9f59-e59319c7625b',
        'terminal.type': 'non-interactive',
        start_type: 'fresh',
      },
      value: 1,
    });
  });
});

describe('the OTLP JSON mapping', () => {
  test('int64 as a string or a number; exact beyond 2^53 as a decimal string', () => {
    const [record] = decodeLogs(
      body(logsRequest([{ timeUnixNano: 1785250000123000000, attributes: [
        { key: 'small', value: { intValue: '42' } },
        { key: 'number', value: { intValue: 42 } },
        { key: 'negative', value: { intValue: '-7' } },
        { key: 'large', value: { intValue: '9007199254740993' } },
      ] }])),
      JSON_TYPE,
    );
    assert.equal(record.time, '2026-07-28T14:46:40.123Z');
    assert.deepEqual(record.attributes, { 'otel.scope.name': 'test.scope', small: 42, number: 42, negative: -7, large: '9007199254740993' });
  });

  test('proto field names (snake_case) are accepted as well as lowerCamelCase', () => {
    const camel = logsRequest([{ timeUnixNano: '1785250000000000000', body: text('claude_code.user_prompt'), attributes: [{ key: 'event.name', value: text('user_prompt') }] }], [{ key: 'service.name', value: text('claude-code') }]);
    const snake = {
      resource_logs: [{
        resource: { attributes: [{ key: 'service.name', value: { string_value: 'claude-code' } }] },
        scope_logs: [{ scope: { name: 'test.scope' }, log_records: [{ time_unix_nano: '1785250000000000000', body: { string_value: 'claude_code.user_prompt' }, attributes: [{ key: 'event.name', value: { string_value: 'user_prompt' } }] }] }],
      }],
    };
    assert.deepEqual(decodeLogs(body(snake), JSON_TYPE), decodeLogs(body(camel), JSON_TYPE));
  });

  test('every AnyValue kind becomes plain JSON; unknown fields are ignored; a `__proto__` key stays a key', () => {
    const [record] = decodeLogs(
      body(logsRequest([{ unknownField: { anything: 1 }, attributes: [
        { key: 'string', value: text('s') },
        { key: 'bool', value: { boolValue: true } },
        { key: 'double', value: { doubleValue: 1.5 } },
        { key: 'doubleString', value: { doubleValue: '2.5' } },
        { key: 'nan', value: { doubleValue: 'NaN' } },
        { key: 'bytes', value: { bytesValue: 'AQID' } },
        { key: 'array', value: { arrayValue: { values: [text('a'), { intValue: '1' }, {}] } } },
        { key: 'kvlist', value: { kvlistValue: { values: [{ key: 'inner', value: { kvlistValue: { values: [{ key: 'deep', value: { boolValue: false } }] } } }] } } },
        { key: 'empty', value: {} },
        { key: 'missing' },
        { key: '__proto__', value: text('not a prototype') },
      ] }])),
      JSON_TYPE,
      { receivedAt: RECEIVED_AT },
    );
    assert.equal(record.time, RECEIVED_AT.toISOString(), 'a record without a time gets the time it was received');
    assert.equal(Object.getPrototypeOf(record.attributes), Object.prototype);
    assert.equal(Object.getOwnPropertyDescriptor(record.attributes, '__proto__')?.value, 'not a prototype');
    assert.deepEqual(JSON.parse(JSON.stringify(record.attributes)), {
      'otel.scope.name': 'test.scope',
      string: 's',
      bool: true,
      double: 1.5,
      doubleString: 2.5,
      nan: 'NaN',
      bytes: 'AQID',
      array: ['a', 1, null],
      kvlist: { inner: { deep: false } },
      empty: null,
      missing: null,
      ['__proto__']: 'not a prototype', // computed, so an own key rather than the prototype
    });
  });

  test('log names: the namespaced body when it names the event.name, else event.name, eventName, body', () => {
    const names = decodeLogs(
      body(logsRequest([
        { body: text('claude_code.tool_result'), attributes: [{ key: 'event.name', value: text('tool_result') }] },
        { body: text('claude_code.tool_result'), attributes: [{ key: 'event.name', value: text('claude_code.tool_result') }] },
        { body: text('something else'), attributes: [{ key: 'event.name', value: text('tool_decision') }] },
        { eventName: 'exception', body: text('stack trace') },
        { body: text('a plain line') },
        { body: { kvlistValue: { values: [] } } },
      ])),
      JSON_TYPE,
      { receivedAt: RECEIVED_AT },
    ).map((record) => record.name);
    assert.deepEqual(names, ['claude_code.tool_result', 'claude_code.tool_result', 'tool_decision', 'exception', 'a plain line', '']);
  });

  test('times: timeUnixNano, else observedTimeUnixNano, else the receive time; 0 means unset', () => {
    const times = decodeLogs(
      body(logsRequest([{ timeUnixNano: '1785250000000000000', observedTimeUnixNano: '1785250001000000000' }, { timeUnixNano: '0', observedTimeUnixNano: '1785250001999999999' }, {}])),
      JSON_TYPE,
      { receivedAt: RECEIVED_AT },
    ).map((record) => record.time);
    assert.deepEqual(times, ['2026-07-28T14:46:40.000Z', '2026-07-28T14:46:41.999Z', '2026-07-28T12:00:00.000Z']);
  });

  test('record attributes win over scope and resource attributes', () => {
    const [record] = decodeLogs(
      body(logsRequest([{ attributes: [{ key: 'who', value: text('record') }, { key: 'otel.scope.name', value: text('record scope') }] }], [{ key: 'who', value: text('resource') }, { key: 'host.arch', value: text('amd64') }])),
      JSON_TYPE,
      { receivedAt: RECEIVED_AT },
    );
    assert.deepEqual(record.attributes, { who: 'record', 'host.arch': 'amd64', 'otel.scope.name': 'record scope' });
  });

  test('metrics: sums and gauges (asDouble, asInt), histograms and summaries (value = sum), enums by number or name', () => {
    const point = (extra: Record<string, unknown>) => ({ timeUnixNano: '1785250000000000000', attributes: [{ key: 'session.id', value: text('s1') }], ...extra });
    const records = decodeMetrics(
      body(metricsRequest([
        { name: 'sum.double', sum: { aggregationTemporality: 1, isMonotonic: true, dataPoints: [point({ asDouble: 0.25 }), point({ asDouble: '0.5' })] } },
        { name: 'sum.int', sum: { aggregationTemporality: 'AGGREGATION_TEMPORALITY_CUMULATIVE', dataPoints: [point({ asInt: '5' }), point({ as_int: 6 })] } },
        { name: 'gauge', gauge: { dataPoints: [point({ asDouble: -1 }), point({})] } },
        { name: 'histogram', histogram: { aggregationTemporality: 2, dataPoints: [point({ count: '2', sum: 8, bucketCounts: ['1', '1'], explicitBounds: [4] }), point({ count: '0' })] } },
        { name: 'exponential', exponentialHistogram: { dataPoints: [point({ sum: 3, scale: 1 })] } },
        { name: 'summary', summary: { dataPoints: [point({ sum: 9, count: '3' })] } },
        { name: 'nothing' },
      ])),
      JSON_TYPE,
    );
    assert.deepEqual(
      records.map((record) => [record.name, record.value, record.sessionId, record.time]),
      [
        ['sum.double', 0.25, 's1', '2026-07-28T14:46:40.000Z'],
        ['sum.double', 0.5, 's1', '2026-07-28T14:46:40.000Z'],
        ['sum.int', 5, 's1', '2026-07-28T14:46:40.000Z'],
        ['sum.int', 6, 's1', '2026-07-28T14:46:40.000Z'],
        ['gauge', -1, 's1', '2026-07-28T14:46:40.000Z'],
        ['gauge', undefined, 's1', '2026-07-28T14:46:40.000Z'],
        ['histogram', 8, 's1', '2026-07-28T14:46:40.000Z'],
        ['histogram', undefined, 's1', '2026-07-28T14:46:40.000Z'],
        ['exponential', 3, 's1', '2026-07-28T14:46:40.000Z'],
        ['summary', 9, 's1', '2026-07-28T14:46:40.000Z'],
      ],
    );
    assert.ok(!('value' in records[5]), 'a point without a value has no value key');
  });
});

describe('protobuf', () => {
  test('int64 stays exact, bytes become base64, NaN the string JSON uses', () => {
    const request = encode(LOGS_REQUEST, logsRequest([{
      timeUnixNano: '1785250000123456789',
      attributes: [
        { key: 'large', value: { intValue: '9007199254740993' } },
        { key: 'small', value: { intValue: '-3' } },
        { key: 'bytes', value: { bytesValue: Buffer.from([1, 2, 3]) } },
        { key: 'nan', value: { doubleValue: NaN } },
        { key: 'zero', value: { doubleValue: 0 } },
        { key: 'empty', value: { stringValue: '' } },
      ],
    }]));
    const [record] = decodeLogs(request, `${PROTOBUF_TYPE}; charset=binary`);
    assert.equal(record.time, '2026-07-28T14:46:40.123Z');
    assert.deepEqual(record.attributes, { 'otel.scope.name': 'test.scope', large: '9007199254740993', small: -3, bytes: 'AQID', nan: 'NaN', zero: 0, empty: '' });
  });

  test('metrics decode the same from protobuf as from JSON', () => {
    const request = metricsRequest([{ name: 'claude_code.cost.usage', sum: { aggregationTemporality: 1, dataPoints: [{ timeUnixNano: '1785250000000000000', asDouble: 0.5, attributes: [{ key: 'model', value: text('m') }] }] } }]);
    assert.deepEqual(decodeMetrics(encode(METRICS_REQUEST, request), PROTOBUF_TYPE), decodeMetrics(body(request), JSON_TYPE));
  });
});

describe('exportResponse', () => {
  test('an empty Export*ServiceResponse in the encoding of the request', () => {
    assert.deepEqual(exportResponse('application/json; charset=utf-8'), { contentType: JSON_TYPE, body: Buffer.from('{}') });
    const response = exportResponse('Application/X-Protobuf');
    assert.equal(response.contentType, PROTOBUF_TYPE);
    assert.equal(response.body.length, 0);
    assert.deepEqual(LOGS_RESPONSE.toObject(LOGS_RESPONSE.decode(response.body)), {});
  });
});
