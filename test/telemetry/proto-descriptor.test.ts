// The protobuf descriptor that src/telemetry/otlp.ts decodes with is generated from the vendored
// opentelemetry-proto files; this test regenerates it and fails when the two differ.
// Regenerate after changing the .proto files: WRIT_WRITE_DESCRIPTOR=1 node --import tsx --test test/telemetry/proto-descriptor.test.ts
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import protobuf from 'protobufjs';
import { otlpDescriptor } from '../../src/telemetry/proto/otlp-descriptor.js';

const PROTO_DIR = fileURLToPath(new URL('../../src/telemetry/proto/', import.meta.url));
const DESCRIPTOR_FILE = fileURLToPath(new URL('../../src/telemetry/proto/otlp-descriptor.ts', import.meta.url));
const ENTRY_FILES = ['opentelemetry/proto/collector/logs/v1/logs_service.proto', 'opentelemetry/proto/collector/metrics/v1/metrics_service.proto'];

function descriptorFromProtoFiles(): protobuf.INamespace {
  const root = new protobuf.Root();
  // Imports in the .proto files are relative to the proto root ("opentelemetry/proto/common/v1/common.proto").
  root.resolvePath = (_origin, target) => PROTO_DIR + target;
  root.loadSync(ENTRY_FILES);
  root.resolveAll();
  return JSON.parse(JSON.stringify(root.toJSON())) as protobuf.INamespace;
}

function descriptorSource(descriptor: protobuf.INamespace): string {
  return [
    '// Generated from the opentelemetry-proto v1.11.0 files beside it by test/telemetry/proto-descriptor.test.ts',
    '// (run it with WRIT_WRITE_DESCRIPTOR=1); do not edit by hand. Apache-2.0, OpenTelemetry Authors.',
    '',
    "// Typed loosely: protobufjs 8 writes `protoName`, which its own IField type does not declare.",
    '/** protobufjs JSON descriptor of the OTLP logs and metrics export services and the messages they use. */',
    `export const otlpDescriptor: Record<string, unknown> = ${JSON.stringify(descriptor, null, 2)};`,
    '',
  ].join('\n');
}

test('the committed protobuf descriptor is the one the vendored .proto files produce', () => {
  const fresh = descriptorFromProtoFiles();
  if (process.env.WRIT_WRITE_DESCRIPTOR === '1') {
    // The module imported above is the old descriptor, so comparing now would fail; run again to check.
    writeFileSync(DESCRIPTOR_FILE, descriptorSource(fresh));
    return;
  }
  assert.deepEqual(JSON.parse(JSON.stringify(otlpDescriptor)), fresh, 'hint: regenerate with WRIT_WRITE_DESCRIPTOR=1 (see the top of this file)');
});
