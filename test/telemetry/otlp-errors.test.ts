// Requests the receiver refuses: each is an OtlpError with a code the server maps to a status, and a
// message that says which field is wrong.
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { describe, test } from 'node:test';
import { decodeLogs, decodeMetrics, exportResponse, OtlpError, type OtlpErrorCode } from '../../src/telemetry/otlp.js';

const JSON_TYPE = 'application/json';
const PROTOBUF_TYPE = 'application/x-protobuf';
const body = (value: unknown) => Buffer.from(JSON.stringify(value));
const oneRecord = (record: unknown) => body({ resourceLogs: [{ scopeLogs: [{ logRecords: [record] }] }] });

function refuses(decode: () => unknown, code: OtlpErrorCode, message: RegExp): void {
  assert.throws(decode, (error: unknown) => {
    assert.ok(error instanceof OtlpError, `an OtlpError, not ${String(error)}`);
    assert.equal(error.code, code);
    assert.match(error.message, message);
    assert.doesNotMatch(error.message, /\.$/, 'messages end without a period');
    return true;
  });
}

describe('malformed requests', () => {
  test('a body that is not JSON, or not a JSON object', () => {
    refuses(() => decodeLogs(Buffer.from('{"resourceLogs": ['), JSON_TYPE), 'MALFORMED', /^body is not JSON: /);
    refuses(() => decodeLogs(Buffer.from(''), JSON_TYPE), 'MALFORMED', /^body is not JSON/);
    refuses(() => decodeLogs(body([]), JSON_TYPE), 'MALFORMED', /^request must be a JSON object, not an array$/);
    refuses(() => decodeMetrics(body(null), JSON_TYPE), 'MALFORMED', /^request must be a JSON object, not null$/);
  });

  test('fields of the wrong shape name their path', () => {
    refuses(() => decodeLogs(body({ resourceLogs: {} }), JSON_TYPE), 'MALFORMED', /^request\.resourceLogs must be an array, not an object$/);
    refuses(() => decodeLogs(body({ resourceLogs: [{ scopeLogs: [{ logRecords: ['x'] }] }] }), JSON_TYPE), 'MALFORMED', /^request\.resourceLogs\[0\]\.scopeLogs\[0\]\.logRecords\[0\] must be an object, not the string `x`$/);
    refuses(() => decodeLogs(oneRecord({ attributes: [{ key: 'k', value: { stringValue: 5 } }] }), JSON_TYPE), 'MALFORMED', /logRecords\[0\]\.attributes\[0\]\.value\.stringValue must be a string, not `5`$/);
    refuses(() => decodeLogs(oneRecord({ attributes: [{ key: 7, value: {} }] }), JSON_TYPE), 'MALFORMED', /attributes\[0\]\.key must be a string/);
    refuses(() => decodeLogs(oneRecord({ attributes: [{ key: 'k', value: { intValue: '1.5' } }] }), JSON_TYPE), 'MALFORMED', /intValue must be an integer, not the string `1\.5`$/);
    refuses(() => decodeLogs(oneRecord({ attributes: [{ key: 'k', value: { intValue: '99999999999999999999' } }] }), JSON_TYPE), 'MALFORMED', /intValue is out of the 64-bit range$/);
    refuses(() => decodeLogs(oneRecord({ attributes: [{ key: 'k', value: { doubleValue: 'lots' } }] }), JSON_TYPE), 'MALFORMED', /doubleValue must be a number/);
    refuses(() => decodeLogs(oneRecord({ attributes: [{ key: 'k', value: { boolValue: 'true' } }] }), JSON_TYPE), 'MALFORMED', /boolValue must be a boolean/);
    refuses(() => decodeLogs(oneRecord({ timeUnixNano: 'yesterday' }), JSON_TYPE), 'MALFORMED', /timeUnixNano must be nanoseconds as an unsigned 64-bit integer, not the string `yesterday`$/);
    refuses(() => decodeLogs(oneRecord({ timeUnixNano: -1 }), JSON_TYPE), 'MALFORMED', /timeUnixNano must be nanoseconds/);
    refuses(() => decodeLogs(oneRecord({ timeUnixNano: '18446744073709551616' }), JSON_TYPE), 'MALFORMED', /timeUnixNano must be nanoseconds/);
    refuses(() => decodeMetrics(body({ resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: 'm', sum: { dataPoints: [{ asInt: true }] } }] }] }] }), JSON_TYPE), 'MALFORMED', /dataPoints\[0\]\.asInt must be an integer, not `true`$/);
    refuses(() => decodeMetrics(body({ resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: 3 }] }] }] }), JSON_TYPE), 'MALFORMED', /metrics\[0\]\.name must be a string/);
  });

  test('values nested deeper than 32 levels', () => {
    let value: unknown = { stringValue: 'bottom' };
    for (let level = 0; level < 40; level++) value = { arrayValue: { values: [value] } };
    refuses(() => decodeLogs(oneRecord({ attributes: [{ key: 'deep', value }] }), JSON_TYPE), 'MALFORMED', /nests values deeper than 32 levels$/);
  });

  test('bytes that are not a protobuf message', () => {
    // Field 1 (resource_logs), length-delimited, announcing 255 bytes where none follow.
    refuses(() => decodeLogs(Buffer.from([0x0a, 0xff, 0x01]), PROTOBUF_TYPE), 'MALFORMED', /^body is not a protobuf ExportLogsServiceRequest: /);
    refuses(() => decodeMetrics(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), PROTOBUF_TYPE), 'MALFORMED', /^body is not a protobuf ExportMetricsServiceRequest: /);
    // JSON sent with the protobuf content type.
    refuses(() => decodeLogs(body({ resourceLogs: [] }), PROTOBUF_TYPE), 'MALFORMED', /^body is not a protobuf/);
  });

  test('a gzip Content-Encoding over bytes that are not gzip', () => {
    refuses(() => decodeLogs(body({}), JSON_TYPE, { contentEncoding: 'gzip' }), 'MALFORMED', /^body is not valid gzip: /);
  });
});

describe('unsupported requests', () => {
  test('content types other than application/json and application/x-protobuf', () => {
    for (const contentType of ['text/plain', '', 'application/grpc', 'application/protobuf', 'application/jsonx']) {
      refuses(() => decodeLogs(body({}), contentType), 'UNSUPPORTED_MEDIA_TYPE', /is not an OTLP encoding: hint: send application\/json or application\/x-protobuf$/);
    }
    refuses(() => exportResponse('text/html'), 'UNSUPPORTED_MEDIA_TYPE', /^content type `text\/html` is not an OTLP encoding/);
  });

  test('content encodings other than gzip', () => {
    refuses(() => decodeMetrics(body({}), JSON_TYPE, { contentEncoding: 'br' }), 'UNSUPPORTED_ENCODING', /^content encoding `br` is not supported: hint: send gzip or no Content-Encoding$/);
    assert.deepEqual(decodeLogs(body({}), JSON_TYPE, { contentEncoding: 'identity' }), []);
  });
});

describe('oversized requests', () => {
  test('more than 100,000 records', () => {
    const records = Array.from({ length: 100_001 }, () => ({}));
    const request = body({ resourceLogs: [{ scopeLogs: [{ logRecords: records }] }] });
    refuses(() => decodeLogs(request, JSON_TYPE), 'TOO_LARGE', /^request holds more than 100000 records$/);
    assert.equal(decodeLogs(body({ resourceLogs: [{ scopeLogs: [{ logRecords: records.slice(1) }] }] }), JSON_TYPE).length, 100_000);
  });

  test('more attribute values than the limit, counting resource attributes once per record', () => {
    const resource = { attributes: Array.from({ length: 10 }, (_, index) => ({ key: `r${index}`, value: { stringValue: 'x' } })) };
    const request = body({ resourceLogs: [{ resource, scopeLogs: [{ logRecords: Array.from({ length: 10 }, () => ({})) }] }] });
    assert.equal(decodeLogs(request, JSON_TYPE, { limits: { attributeValues: 200 } }).length, 10);
    refuses(() => decodeLogs(request, JSON_TYPE, { limits: { attributeValues: 50 } }), 'TOO_LARGE', /^request holds more than 50 attribute values$/);
  });

  test('a body, or what it inflates to, larger than the byte limit', () => {
    refuses(() => decodeLogs(Buffer.alloc(2_000, 0x20), JSON_TYPE, { limits: { bodyBytes: 1_000 } }), 'TOO_LARGE', /^body is larger than 1000 bytes$/);
    // 1 MiB of spaces is valid JSON padding and compresses to about 1 KiB.
    const bomb = gzipSync(Buffer.concat([Buffer.from('{}'), Buffer.alloc(1024 * 1024, 0x20)]));
    assert.ok(bomb.length < 2_000);
    refuses(() => decodeLogs(bomb, JSON_TYPE, { contentEncoding: 'gzip', limits: { bodyBytes: 64 * 1024 } }), 'TOO_LARGE', /^body is larger than 65536 bytes$/);
    assert.deepEqual(decodeLogs(bomb, JSON_TYPE, { contentEncoding: 'gzip' }), []);
  });
});
