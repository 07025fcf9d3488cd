// OTLP/HTTP export requests (logs and metrics; JSON or protobuf; plain or gzip) → TelemetryRecords.
// Encodings: opentelemetry-proto docs/specification.md, "OTLP/HTTP" and "JSON Protobuf Encoding".
// The body is untrusted: anyone holding a device telemetry token chooses every byte of it, so each
// field's shape is checked where it is read and the work is bounded (size, records, values, nesting).
import { gunzipSync } from 'node:zlib';
import protobuf from 'protobufjs';
import type { TelemetryRecord } from '../store/store.js';
import { otlpDescriptor } from './proto/otlp-descriptor.js';

export type OtlpErrorCode = 'UNSUPPORTED_MEDIA_TYPE' | 'UNSUPPORTED_ENCODING' | 'MALFORMED' | 'TOO_LARGE';

/** A request the receiver refuses; the server answers 400 and the exporter must not retry it. */
export class OtlpError extends Error {
  constructor(
    readonly code: OtlpErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'OtlpError';
  }
}

/** Bounds on the work one request may cause. */
export interface OtlpLimits {
  /** Records (log records, metric data points) in one request. */
  records: number;
  /** Attribute values produced, counting the resource's attributes once per record they are copied into. */
  attributeValues: number;
  /** Body size, before and after gzip inflation. */
  bodyBytes: number;
}

/** The default bounds: 100,000 records, 4,000,000 attribute values, 64 MiB. */
export const OTLP_LIMITS: Readonly<OtlpLimits> = { records: 100_000, attributeValues: 4_000_000, bodyBytes: 64 * 1024 * 1024 };

export interface OtlpDecodeOptions {
  /** The request's Content-Encoding: absent, `identity` or `gzip` (inflated here). */
  contentEncoding?: string;
  /** Time of records that carry none (OTLP leaves the observed time to the receiver); defaults to now. */
  receivedAt?: Date;
  limits?: Partial<OtlpLimits>;
}

/** Decodes an ExportLogsServiceRequest into one record per log record; throws OtlpError. */
export function decodeLogs(body: Buffer, contentType: string, options: OtlpDecodeOptions = {}): TelemetryRecord[] {
  const work = new Work(options);
  const request = readRequest(body, contentType, options, LOGS_REQUEST, work.limits);
  const records: TelemetryRecord[] = [];
  for (const [resourceLogs, resourcePath] of messages(request, 'resourceLogs', 'request')) {
    const resource = resourceAttributes(resourceLogs, resourcePath, work);
    for (const [scopeLogs, scopePath] of messages(resourceLogs, 'scopeLogs', resourcePath)) {
      const scope = scopeAttributes(scopeLogs, scopePath);
      for (const [logRecord, path] of messages(scopeLogs, 'logRecords', scopePath)) {
        const own = attributesOf(logRecord, path, work);
        const attributes = work.merge(resource, scope, own);
        const time = timeOf(logRecord, ['timeUnixNano', 'observedTimeUnixNano'], path, work.receivedAt);
        records.push(work.record({ signal: 'log', name: logName(logRecord, own, path, work), time, ...correlationIds(attributes), attributes }));
      }
    }
  }
  return records;
}

/** Decodes an ExportMetricsServiceRequest into one record per data point; throws OtlpError. */
export function decodeMetrics(body: Buffer, contentType: string, options: OtlpDecodeOptions = {}): TelemetryRecord[] {
  const work = new Work(options);
  const request = readRequest(body, contentType, options, METRICS_REQUEST, work.limits);
  const records: TelemetryRecord[] = [];
  for (const [resourceMetrics, resourcePath] of messages(request, 'resourceMetrics', 'request')) {
    const resource = resourceAttributes(resourceMetrics, resourcePath, work);
    for (const [scopeMetrics, scopePath] of messages(resourceMetrics, 'scopeMetrics', resourcePath)) {
      const scope = scopeAttributes(scopeMetrics, scopePath);
      for (const [metric, metricPath] of messages(scopeMetrics, 'metrics', scopePath)) {
        const name = optionalString(field(metric, 'name'), `${metricPath}.name`) ?? '';
        for (const kind of METRIC_KINDS) {
          const data = field(metric, kind);
          if (data === undefined || data === null) continue;
          for (const [point, path] of messages(asMessage(data, `${metricPath}.${kind}`), 'dataPoints', `${metricPath}.${kind}`)) {
            const attributes = work.merge(resource, scope, attributesOf(point, path, work));
            const value = kind === 'sum' || kind === 'gauge' ? numberPointValue(point, path) : optionalDouble(field(point, 'sum'), `${path}.sum`);
            const time = timeOf(point, ['timeUnixNano'], path, work.receivedAt);
            records.push(work.record({ signal: 'metric', name, time, ...correlationIds(attributes), attributes, ...(value === undefined ? {} : { value }) }));
          }
        }
      }
    }
  }
  return records;
}

/** The success response to an export request: an empty Export*ServiceResponse in the request's encoding. */
export function exportResponse(contentType: string): { contentType: string; body: Buffer } {
  // An empty message is `{}` in JSON and zero bytes in protobuf, for logs and metrics alike.
  return encodingOf(contentType) === 'json' ? { contentType: 'application/json', body: Buffer.from('{}') } : { contentType: 'application/x-protobuf', body: Buffer.alloc(0) };
}

type Encoding = 'json' | 'protobuf';
type Message = Record<string, unknown>;
type Attributes = Record<string, unknown>;

const MEDIA_TYPES = new Map<string, Encoding>([
  ['application/json', 'json'],
  ['application/x-protobuf', 'protobuf'],
]);

const ROOT = protobuf.Root.fromJSON(otlpDescriptor as protobuf.INamespace);
const LOGS_REQUEST = ROOT.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest');
const METRICS_REQUEST = ROOT.lookupType('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest');
// Protobuf messages are turned into the shape of their OTLP JSON form, so one reader serves both:
// int64 as exact decimal strings, bytes as base64 (trace and span ids, the hex exceptions, are not read).
const AS_JSON_SHAPE: protobuf.IConversionOptions = { longs: String, enums: Number, bytes: String };

const METRIC_KINDS = ['sum', 'gauge', 'histogram', 'exponentialHistogram', 'summary'] as const;
/** AnyValue nesting (arrays and key-value lists inside each other) deeper than this is refused. */
const MAX_VALUE_DEPTH = 32;
const UINT64_END = 2n ** 64n;
const INT64_END = 2n ** 63n;

function encodingOf(contentType: string | undefined): Encoding {
  const mediaType = (contentType ?? '').split(';')[0].trim().toLowerCase();
  const encoding = MEDIA_TYPES.get(mediaType);
  if (encoding) return encoding;
  throw new OtlpError('UNSUPPORTED_MEDIA_TYPE', `content type \`${contentType ?? ''}\` is not an OTLP encoding: hint: send application/json or application/x-protobuf`);
}

function readRequest(body: Buffer, contentType: string, options: OtlpDecodeOptions, type: protobuf.Type, limits: OtlpLimits): Message {
  const encoding = encodingOf(contentType);
  const bytes = inflate(body, options.contentEncoding, limits.bodyBytes);
  if (encoding === 'protobuf') {
    try {
      return type.toObject(type.decode(bytes), AS_JSON_SHAPE);
    } catch (error) {
      throw new OtlpError('MALFORMED', `body is not a protobuf ${type.name}: ${errorText(error)}`, { cause: error });
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new OtlpError('MALFORMED', `body is not JSON: ${errorText(error)}`, { cause: error });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw malformed(`request must be a JSON object, not ${describe(parsed)}`);
  return parsed as Message;
}

function inflate(body: Buffer, contentEncoding: string | undefined, maxBytes: number): Buffer {
  const tooLarge = () => new OtlpError('TOO_LARGE', `body is larger than ${maxBytes} bytes`);
  if (body.length > maxBytes) throw tooLarge();
  const coding = (contentEncoding ?? '').trim().toLowerCase();
  if (coding === '' || coding === 'identity') return body;
  if (coding !== 'gzip' && coding !== 'x-gzip') {
    throw new OtlpError('UNSUPPORTED_ENCODING', `content encoding \`${contentEncoding}\` is not supported: hint: send gzip or no Content-Encoding`);
  }
  try {
    // maxOutputLength stops a small body that inflates to gigabytes before it is in memory.
    return gunzipSync(body, { maxOutputLength: maxBytes });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge();
    throw new OtlpError('MALFORMED', `body is not valid gzip: ${errorText(error)}`, { cause: error });
  }
}

/** Counts what a request produces against the limits, and builds the merged attribute objects. */
class Work {
  readonly limits: OtlpLimits;
  /** `receivedAt` as RFC 3339, formatted once. */
  readonly receivedAt: string;
  #records = 0;
  #values = 0;

  constructor(options: OtlpDecodeOptions) {
    this.limits = { ...OTLP_LIMITS, ...options.limits };
    this.receivedAt = (options.receivedAt ?? new Date()).toISOString();
  }

  countValues(count: number): void {
    this.#values += count;
    if (this.#values > this.limits.attributeValues) throw new OtlpError('TOO_LARGE', `request holds more than ${this.limits.attributeValues} attribute values`);
  }

  /** Resource attributes, then scope, then the record's own: the more specific source wins a clash. */
  merge(resource: Attributes, scope: Attributes, own: Attributes): Attributes {
    // Object.assign is the faster copy, but it would set the prototype from a `__proto__` key; spread copies it as data.
    const merged = [resource, own].some((source) => Object.hasOwn(source, '__proto__')) ? { ...resource, ...scope, ...own } : Object.assign({}, resource, scope, own);
    this.countValues(Object.keys(merged).length);
    return merged;
  }

  record(record: TelemetryRecord): TelemetryRecord {
    if (++this.#records > this.limits.records) throw new OtlpError('TOO_LARGE', `request holds more than ${this.limits.records} records`);
    return record;
  }
}

function resourceAttributes(resourceEntry: Message, path: string, work: Work): Attributes {
  return attributesOf(asMessage(field(resourceEntry, 'resource'), `${path}.resource`), `${path}.resource`, work);
}

/** The instrumentation scope, under the semantic-convention names for it (`otel.scope.name`, `otel.scope.version`). */
function scopeAttributes(scopeEntry: Message, path: string): Attributes {
  const scope = asMessage(field(scopeEntry, 'scope'), `${path}.scope`);
  const name = optionalString(field(scope, 'name'), `${path}.scope.name`);
  const version = optionalString(field(scope, 'version'), `${path}.scope.version`);
  return { ...(name ? { 'otel.scope.name': name } : {}), ...(version ? { 'otel.scope.version': version } : {}) };
}

/**
 * A log record's name. Claude Code sends `body = "claude_code.tool_result"` and `event.name = "tool_result"`;
 * the namespaced body is kept when it names the same event. Otherwise `event.name`, then the OTLP
 * `eventName` field, then a string body, then ''.
 */
function logName(logRecord: Message, own: Attributes, path: string, work: Work): string {
  const eventName = nonEmpty(own['event.name']) ?? nonEmpty(optionalString(field(logRecord, 'eventName'), `${path}.eventName`));
  const body = anyValue(field(logRecord, 'body'), `${path}.body`, work, 0);
  if (typeof body === 'string' && body !== '' && (eventName === undefined || body === eventName || body.endsWith(`.${eventName}`))) return body;
  return eventName ?? '';
}

/** The ids Claude Code puts on its events and metric points, as in its hook payloads' session_id, prompt_id, tool_use_id. */
function correlationIds(attributes: Attributes): Pick<TelemetryRecord, 'sessionId' | 'promptId' | 'toolUseId'> {
  const ids: Pick<TelemetryRecord, 'sessionId' | 'promptId' | 'toolUseId'> = {};
  const sessionId = nonEmpty(attributes['session.id']);
  const promptId = nonEmpty(attributes['prompt.id']);
  const toolUseId = nonEmpty(attributes['tool_use_id']);
  if (sessionId) ids.sessionId = sessionId;
  if (promptId) ids.promptId = promptId;
  if (toolUseId) ids.toolUseId = toolUseId;
  return ids;
}

function timeOf(entry: Message, names: readonly string[], path: string, receivedAt: string): string {
  for (const name of names) {
    const nanos = unsignedNanos(field(entry, name), `${path}.${name}`);
    // 0 means "unknown" in OTLP. A uint64 of nanoseconds always fits a Date (it ends in the year 2554).
    if (nanos !== undefined && nanos !== 0n) return new Date(Number(nanos / 1_000_000n)).toISOString();
  }
  return receivedAt;
}

function unsignedNanos(value: unknown, path: string): bigint | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string' && /^\d{1,20}$/.test(value) && BigInt(value) < UINT64_END) return BigInt(value);
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value < 2 ** 64) return BigInt(value);
  throw malformed(`${path} must be nanoseconds as an unsigned 64-bit integer, not ${describe(value)}`);
}

function attributesOf(entry: Message, path: string, work: Work): Attributes {
  const attributes: Attributes = {};
  for (const [keyValue, itemPath] of messages(entry, 'attributes', path)) {
    const key = optionalString(field(keyValue, 'key'), `${itemPath}.key`) ?? '';
    setOwn(attributes, key, anyValue(field(keyValue, 'value'), `${itemPath}.value`, work, 0));
  }
  return attributes;
}

/** An OTLP AnyValue as plain JSON: int64 as a number when exact, else its decimal string; bytes as base64. */
function anyValue(value: unknown, path: string, work: Work, depth: number): unknown {
  if (value === undefined || value === null) return null;
  if (depth >= MAX_VALUE_DEPTH) throw malformed(`${path} nests values deeper than ${MAX_VALUE_DEPTH} levels`);
  work.countValues(1);
  const node = asMessage(value, path);
  let inner: unknown;
  if ((inner = field(node, 'stringValue')) !== undefined) return requireType(inner, 'string', `${path}.stringValue`);
  if ((inner = field(node, 'boolValue')) !== undefined) return requireType(inner, 'boolean', `${path}.boolValue`);
  if ((inner = field(node, 'intValue')) !== undefined) return int64(inner, `${path}.intValue`);
  if ((inner = field(node, 'doubleValue')) !== undefined) return double(inner, `${path}.doubleValue`);
  if ((inner = field(node, 'bytesValue')) !== undefined) return requireType(inner, 'string', `${path}.bytesValue`);
  if ((inner = field(node, 'arrayValue')) !== undefined) {
    const arrayPath = `${path}.arrayValue`;
    const values = asList(field(asMessage(inner, arrayPath), 'values'), `${arrayPath}.values`);
    return values.map((item, index) => anyValue(item, `${arrayPath}.values[${index}]`, work, depth + 1));
  }
  if ((inner = field(node, 'kvlistValue')) !== undefined) {
    const listPath = `${path}.kvlistValue`;
    const object: Attributes = {};
    for (const [keyValue, itemPath] of messages(asMessage(inner, listPath), 'values', listPath)) {
      const key = optionalString(field(keyValue, 'key'), `${itemPath}.key`) ?? '';
      setOwn(object, key, anyValue(field(keyValue, 'value'), `${itemPath}.value`, work, depth + 1));
    }
    return object;
  }
  return null; // an empty AnyValue, or a kind this receiver does not know (unknown fields are ignored)
}

function int64(value: unknown, path: string): number | string {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string' && /^-?\d{1,20}$/.test(value)) {
    const exact = BigInt(value);
    if (exact < -INT64_END || exact >= INT64_END) throw malformed(`${path} is out of the 64-bit range`);
    return Number.isSafeInteger(Number(exact)) ? Number(exact) : exact.toString();
  }
  throw malformed(`${path} must be an integer, not ${describe(value)}`);
}

/** A double; NaN and the infinities, which JSON cannot hold as numbers, stay the strings proto3 JSON uses. */
function double(value: unknown, path: string): number | string {
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (value === 'NaN' || value === 'Infinity' || value === '-Infinity') return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  throw malformed(`${path} must be a number, not ${describe(value)}`);
}

function numberPointValue(point: Message, path: string): number | undefined {
  const asDouble = field(point, 'asDouble');
  if (asDouble !== undefined && asDouble !== null) return finite(double(asDouble, `${path}.asDouble`));
  const asInt = field(point, 'asInt');
  if (asInt !== undefined && asInt !== null) return finite(Number(int64(asInt, `${path}.asInt`)));
  return undefined;
}

function optionalDouble(value: unknown, path: string): number | undefined {
  return value === undefined || value === null ? undefined : finite(double(value, path));
}

function finite(value: number | string): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

// ---- Reading messages in either key style, with the path of the field in every error ----

const PROTO_NAMES = new Map<string, string>();

/** A field by its JSON name (lowerCamelCase), else by its proto name (snake_case), which proto3 JSON parsers accept too. */
function field(message: Message, jsonName: string): unknown {
  if (Object.hasOwn(message, jsonName)) return message[jsonName];
  let protoName = PROTO_NAMES.get(jsonName);
  if (protoName === undefined) PROTO_NAMES.set(jsonName, (protoName = jsonName.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`)));
  return Object.hasOwn(message, protoName) ? message[protoName] : undefined;
}

function asMessage(value: unknown, path: string): Message {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw malformed(`${path} must be an object, not ${describe(value)}`);
  return value as Message;
}

function asList(value: unknown, path: string): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw malformed(`${path} must be an array, not ${describe(value)}`);
  return value;
}

/** The messages of a repeated field, each with its path. */
function messages(parent: Message, jsonName: string, parentPath: string): [Message, string][] {
  return asList(field(parent, jsonName), `${parentPath}.${jsonName}`).map((item, index) => {
    const path = `${parentPath}.${jsonName}[${index}]`;
    return [asMessage(item, path), path];
  });
}

function optionalString(value: unknown, path: string): string | undefined {
  return value === undefined || value === null ? undefined : requireType(value, 'string', path);
}

function requireType<T extends 'string' | 'boolean'>(value: unknown, type: T, path: string): T extends 'string' ? string : boolean {
  if (typeof value !== type) throw malformed(`${path} must be a ${type}, not ${describe(value)}`);
  return value as T extends 'string' ? string : boolean;
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Sets an own property even for keys such as `__proto__`: attribute keys are chosen by the sender. */
function setOwn(object: Attributes, key: string, value: unknown): void {
  // Only `__proto__` needs defineProperty; using it for every key would make each object a slow dictionary.
  if (key === '__proto__') Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
  else object[key] = value;
}

function malformed(message: string): OtlpError {
  return new OtlpError('MALFORMED', message);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `the string \`${value.slice(0, 40)}\``;
  return `\`${String(value)}\``;
}

function errorText(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0];
}
