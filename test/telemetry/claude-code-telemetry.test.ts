// Real Claude Code 2.1.197 exports its OpenTelemetry logs and metrics (http/json; http/protobuf with gzip)
// to a local receiver using src/telemetry/otlp.ts, while a plain hook script records the hook payloads.
// The decoded events carry the hooks' session_id, prompt_id and tool_use_id, and the join finds every
// call hooked. WRIT_WRITE_FIXTURES=1 refreshes the recorded request bodies in fixtures/.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { joinToolCalls } from '../../src/telemetry/join.js';
import { createClaudeWorkspace, runClaude, type ClaudeWorkspace } from '../support/claude.js';
import { startScriptedModel } from '../support/scripted-model.js';
import { startOtlpReceiver, type OtlpReceiver } from './otlp-receiver.js';

const FIXTURES = new URL('./fixtures/', import.meta.url);
const TOKEN = 'wt_telemetry_test_token';

interface HookPayload {
  hook_event_name: string;
  session_id: string;
  prompt_id?: string;
  tool_use_id?: string;
  tool_name?: string;
}

/** Appends every payload to a file, and blocks (exit 2) any PreToolUse whose payload mentions `forbidden-command`. */
function hookScript(log: string): string {
  return [
    'input=$(cat)',
    `printf '%s\\n' "$input" >> '${log}'`,
    'case "$input" in *\'"PreToolUse"\'*forbidden-command*) echo "blocked by the test hook" >&2; exit 2;; esac',
    'exit 0',
    '',
  ].join('\n');
}

const RUNS = [
  { protocol: 'http/json', contentType: 'application/json', gzip: false },
  { protocol: 'http/protobuf', contentType: 'application/x-protobuf', gzip: true },
] as const;

describe('real Claude Code telemetry through the OTLP receiver', () => {
  let workspace: ClaudeWorkspace;
  before(() => (workspace = createClaudeWorkspace()));
  after(() => workspace.remove());

  for (const { protocol, contentType, gzip } of RUNS) {
    test(`${protocol}${gzip ? ' + gzip' : ''}: events carry the hooks' ids and every tool call joins to its hook`, async (t) => {
      const receiver: OtlpReceiver = await startOtlpReceiver();
      const tag = protocol.replace('/', '-');
      const hookLog = join(workspace.home, `hooks-${tag}.jsonl`);
      const hookFile = join(workspace.home, `hook-${tag}.sh`);
      writeFileSync(hookFile, hookScript(hookLog));
      const hook = [{ matcher: '*', hooks: [{ type: 'command' as const, command: `sh '${hookFile}'` }] }];
      const ids = { first: `toolu_${tag}_1`, cat: `toolu_${tag}_2`, read: `toolu_${tag}_3`, denied: `toolu_${tag}_4` };
      const model = await startScriptedModel([
        [{ name: 'Bash', input: { command: 'echo one > one.txt', description: 'write a file' }, id: ids.first }],
        [
          { name: 'Bash', input: { command: 'cat one.txt', description: 'read it back' }, id: ids.cat },
          { name: 'Read', input: { file_path: join(workspace.cwd, 'one.txt') }, id: ids.read },
        ],
        [{ name: 'Bash', input: { command: 'echo forbidden-command', description: 'the hook blocks this' }, id: ids.denied }],
        'done',
      ]);
      try {
        const run = await runClaude({
          prompt: 'do the task',
          cwd: workspace.cwd,
          home: workspace.home,
          model,
          permissionMode: 'acceptEdits',
          settings: { hooks: { UserPromptSubmit: hook, PreToolUse: hook, PostToolUse: hook, PostToolUseFailure: hook } },
          env: {
            CLAUDE_CODE_ENABLE_TELEMETRY: '1',
            OTEL_LOGS_EXPORTER: 'otlp',
            OTEL_METRICS_EXPORTER: 'otlp',
            OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
            OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
            OTEL_EXPORTER_OTLP_HEADERS: `Authorization=Bearer ${TOKEN}`,
            OTEL_LOG_TOOL_DETAILS: '1',
            OTEL_LOGS_EXPORT_INTERVAL: '200',
            OTEL_METRIC_EXPORT_INTERVAL: '500',
            ...(gzip ? { OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip' } : {}),
          },
        });
        assert.equal(run.exitCode, 0, run.stderr);
        t.diagnostic(`claude ran for ${Math.round(run.durationMs)} ms`);
        const sessionId = run.result!.session_id;
        assert.deepEqual(run.result!.permission_denials.map((denial) => denial.tool_use_id), [ids.denied]);

        // Claude Code flushes on exit; allow a moment for the last request to be read.
        const deadline = Date.now() + 5_000;
        const hasAll = () =>
          receiver.records('metric').length > 0 &&
          receiver.records('log').some((record) => record.name === 'claude_code.assistant_response') &&
          Object.values(ids).every((id) => receiver.records('log').some((record) => record.toolUseId === id && record.name === 'claude_code.tool_decision'));
        while (!hasAll() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));

        // What Claude Code sent: paths, encodings, the Authorization header from OTEL_EXPORTER_OTLP_HEADERS.
        assert.ok(receiver.exports.length >= 2);
        for (const received of receiver.exports) {
          assert.equal(received.status, 200, received.error?.message);
          assert.match(received.path, /^\/v1\/(logs|metrics)$/);
          assert.equal(received.headers['content-type'], contentType);
          assert.equal(received.headers['content-encoding'], gzip ? 'gzip' : undefined);
          assert.equal(received.headers.authorization, `Bearer ${TOKEN}`);
        }
        const framing = [...new Set(receiver.exports.map((received) => (received.headers['transfer-encoding'] ? `transfer-encoding: ${received.headers['transfer-encoding']}` : 'content-length')))];
        t.diagnostic(`${receiver.exports.length} requests (${framing.join(', ')}), user-agent ${receiver.exports[0].headers['user-agent']}`);
        if (process.env.WRIT_WRITE_FIXTURES === '1') writeFixtures(receiver, tag);

        const hooks = readFileSync(hookLog, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as HookPayload);
        const logs = receiver.records('log');
        assert.ok(logs.length > 0 && logs.every((record) => record.sessionId === sessionId), 'every event carries the session id');
        assert.ok(hooks.every((payload) => payload.session_id === sessionId));

        // prompt.id is the hooks' prompt_id.
        const promptId = hooks.find((payload) => payload.hook_event_name === 'UserPromptSubmit')!.prompt_id;
        const prompt = logs.find((record) => record.name === 'claude_code.user_prompt')!;
        assert.equal(prompt.promptId, promptId);
        assert.equal(prompt.attributes['event.name'], 'user_prompt');
        assert.equal(prompt.attributes.prompt, '<REDACTED>');
        assert.equal(prompt.attributes['service.name'], 'claude-code');
        assert.equal(prompt.attributes['otel.scope.name'], 'com.anthropic.claude_code.events');
        for (const name of ['claude_code.api_request', 'claude_code.hook_execution_complete', 'claude_code.assistant_response']) {
          assert.ok(logs.some((record) => record.name === name && record.promptId === promptId), `${name} is decoded`);
        }

        // tool_use_id is the hooks' tool_use_id, on tool_decision and tool_result.
        const pre = hooks.filter((payload) => payload.hook_event_name === 'PreToolUse');
        assert.deepEqual(pre.map((payload) => payload.tool_use_id).sort(), Object.values(ids).sort());
        for (const payload of pre) {
          const decision = logs.find((record) => record.name === 'claude_code.tool_decision' && record.toolUseId === payload.tool_use_id)!;
          assert.equal(decision.attributes.tool_name, payload.tool_name);
          assert.equal(decision.promptId, payload.prompt_id);
          const denied = payload.tool_use_id === ids.denied;
          assert.equal(decision.attributes.decision, denied ? 'reject' : 'accept');
          assert.equal(decision.attributes.source, denied ? 'hook' : 'config');
          const result = logs.find((record) => record.name === 'claude_code.tool_result' && record.toolUseId === payload.tool_use_id);
          if (denied) assert.equal(result, undefined, 'a blocked call has no tool_result');
          else assert.equal(result!.attributes.success, 'true');
        }
        const firstResult = logs.find((record) => record.name === 'claude_code.tool_result' && record.toolUseId === ids.first)!;
        assert.deepEqual(JSON.parse(String(firstResult.attributes.tool_parameters)), { bash_command: 'echo', full_command: 'echo one > one.txt', description: 'write a file' });

        // The join: every call was hooked; without its PreToolUse event a call shows up as unguarded.
        const hookEvents = hooks.map((payload, index) => ({
          toolUseId: payload.tool_use_id,
          kind: `hook.${payload.hook_event_name}`,
          decision: payload.hook_event_name === 'PreToolUse' ? (payload.tool_use_id === ids.denied ? 'deny' : 'allow') : undefined,
          index,
        }));
        const joined = joinToolCalls(hookEvents, logs);
        assert.deepEqual(joined.unguarded, []);
        const byId = new Map(joined.calls.map((call) => [call.toolUseId, call]));
        assert.deepEqual([...byId.keys()].sort(), Object.values(ids).sort());
        for (const id of [ids.first, ids.cat, ids.read]) {
          const call = byId.get(id)!;
          assert.deepEqual(call.hook, { pre: true, post: true, decision: 'allow' });
          assert.equal(call.telemetry.decision, 'accept');
          assert.equal(call.telemetry.success, true);
          assert.equal(typeof call.telemetry.durationMs, 'number');
        }
        assert.equal(byId.get(ids.read)!.toolName, 'Read');
        assert.deepEqual(byId.get(ids.denied)!.hook, { pre: true, post: false, decision: 'deny' });
        assert.deepEqual(byId.get(ids.denied)!.telemetry, { decision: 'reject', names: ['claude_code.tool_decision'] });
        const withoutOnePre = hookEvents.filter((event) => !(event.kind === 'hook.PreToolUse' && event.toolUseId === ids.cat));
        assert.deepEqual(joinToolCalls(withoutOnePre, logs).unguarded, [ids.cat]);

        // Metrics: one record per point, with the session id on each.
        const metrics = receiver.records('metric');
        const metricNames = new Set(metrics.map((record) => record.name));
        for (const name of ['claude_code.session.count', 'claude_code.cost.usage', 'claude_code.token.usage']) assert.ok(metricNames.has(name), `${name} is decoded`);
        assert.ok(metrics.every((record) => record.sessionId === sessionId && typeof record.value === 'number'));
        const sessions = metrics.filter((record) => record.name === 'claude_code.session.count');
        assert.equal(sessions.reduce((sum, record) => sum + record.value!, 0), 1);
        assert.equal(sessions[0].attributes.start_type, 'fresh');
      } finally {
        await model.close();
        await receiver.close();
      }
    });
  }
});

/** Keeps the largest logs and metrics request bodies as fixtures for the decoder's unit tests. */
function writeFixtures(receiver: OtlpReceiver, tag: string): void {
  for (const signal of ['logs', 'metrics']) {
    const received = receiver.exports.filter((entry) => entry.path === `/v1/${signal}`).sort((a, b) => b.records.length - a.records.length)[0];
    const extension = tag === 'http-json' ? 'json' : 'pb.gz';
    writeFileSync(new URL(`claude-code-2.1.197-${signal}.${extension}`, FIXTURES), received.body);
  }
}
