// The server's OTLP receiver with the OpenTelemetry JS SDK's real exporters: telemetry authenticated by a
// device's telemetry token lands beside that device's hook events and joins them on tool_use_id.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { OTLPLogExporter as JsonLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as ProtobufLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import { SimulatedDevice, startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
before(async () => (server = await startTestServer()));
after(async () => server.close());

async function emit(exporter: JsonLogExporter | ProtobufLogExporter, sessionId: string, toolUseId: string) {
  const provider = new LoggerProvider({ processors: [new BatchLogRecordProcessor({ exporter })] });
  provider.getLogger('com.anthropic.claude_code.events').emit({
    body: 'claude_code.tool_result',
    attributes: { 'event.name': 'tool_result', 'session.id': sessionId, tool_use_id: toolUseId, tool_name: 'Bash', success: 'true' },
  });
  await provider.forceFlush();
  await provider.shutdown();
}

describe('OTLP receiver', () => {
  it('takes JSON and gzipped protobuf exports with a telemetry token and joins them to hook events', async () => {
    const device = new SimulatedDevice();
    const enrolled = (await device.enroll(server, server.adminToken)) as { telemetry_token: string };
    const events = device.events(2, { session_id: 'otlp-session' });
    assert.equal((await device.request(`${server.url}/v1/ingest`, 'POST', { events })).status, 200);
    const headers = { authorization: `Bearer ${enrolled.telemetry_token}` };
    await emit(new JsonLogExporter({ url: `${server.url}/v1/logs`, headers }), 'otlp-session', 'toolu_1');
    await emit(new ProtobufLogExporter({ url: `${server.url}/v1/logs`, headers, compression: 'gzip' as never }), 'otlp-session', 'toolu_2');

    const session = (await (await fetch(`${server.url}/v1/sessions/otlp-session`, { headers: { authorization: `Bearer ${server.adminToken}` } })).json()) as any;
    assert.equal(session.telemetry.length, 2);
    assert.ok(session.telemetry.every((record: any) => record.deviceId === device.id));
    const calls = new Map(session.tool_calls.calls.map((call: any) => [call.toolUseId, call]));
    for (const id of ['toolu_1', 'toolu_2']) {
      const call = calls.get(id) as any;
      assert.equal(call.hook.pre, true, `${id} has its PreToolUse`);
      assert.deepEqual(call.telemetry.names, ['claude_code.tool_result']);
    }
    assert.deepEqual(session.tool_calls.unguarded, []);
  });

  it('refuses exports without a valid telemetry token and malformed bodies, storing nothing', async () => {
    const plain = await fetch(`${server.url}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(plain.status, 401);
    const device = new SimulatedDevice();
    const { telemetry_token: token } = (await device.enroll(server, server.adminToken)) as { telemetry_token: string };
    const bad = await fetch(`${server.url}/v1/logs`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{"resourceLogs": 7}' });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as any).error.message, /resourceLogs/);
    const wrongType = await fetch(`${server.url}/v1/logs`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' }, body: 'hello' });
    assert.equal(wrongType.status, 415);
  });
});
