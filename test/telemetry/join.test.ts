// joinToolCalls: hook events and Claude Code's telemetry, per tool_use_id, and the calls no PreToolUse saw.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TelemetryRecord } from '../../src/store/store.js';
import { joinToolCalls } from '../../src/telemetry/join.js';

const event = (name: string, toolUseId: string | undefined, attributes: Record<string, unknown>): TelemetryRecord => ({
  signal: 'log',
  name,
  time: '2026-07-28T10:00:00.000Z',
  sessionId: 's1',
  ...(toolUseId ? { toolUseId } : {}),
  attributes,
});

test('each call carries what the hooks and the telemetry saw of it', () => {
  const joined = joinToolCalls(
    [
      { kind: 'hook.UserPromptSubmit', index: 1 },
      { kind: 'hook.PreToolUse', toolUseId: 'toolu_a', decision: 'allow', index: 2 },
      { kind: 'hook.PostToolUse', toolUseId: 'toolu_a', index: 3 },
      { kind: 'hook.PreToolUse', toolUseId: 'toolu_b', decision: 'deny', index: 4 },
      { kind: 'PreToolUse', toolUseId: 'toolu_c', index: 5 },
      { kind: 'PostToolUseFailure', toolUseId: 'toolu_c', index: 6 },
    ],
    [
      event('claude_code.user_prompt', undefined, { 'event.name': 'user_prompt' }),
      event('claude_code.tool_decision', 'toolu_a', { tool_name: 'Bash', decision: 'accept', source: 'config' }),
      event('claude_code.tool_result', 'toolu_a', { tool_name: 'Bash', success: 'true', duration_ms: '45' }),
      event('claude_code.tool_decision', 'toolu_b', { tool_name: 'Read', decision: 'reject', source: 'hook' }),
      event('tool_decision', 'toolu_c', { tool_name: 'Bash', decision: 'accept' }),
      event('tool_result', 'toolu_c', { tool_name: 'Bash', success: false, duration_ms: 12 }),
      { signal: 'metric', name: 'claude_code.cost.usage', time: '2026-07-28T10:00:00.000Z', toolUseId: 'toolu_a', attributes: {}, value: 1 },
    ],
  );
  assert.deepEqual(joined, {
    calls: [
      { toolUseId: 'toolu_a', toolName: 'Bash', hook: { pre: true, post: true, decision: 'allow' }, telemetry: { decision: 'accept', success: true, durationMs: 45, names: ['claude_code.tool_decision', 'claude_code.tool_result'] } },
      { toolUseId: 'toolu_b', toolName: 'Read', hook: { pre: true, post: false, decision: 'deny' }, telemetry: { decision: 'reject', names: ['claude_code.tool_decision'] } },
      { toolUseId: 'toolu_c', toolName: 'Bash', hook: { pre: true, post: true }, telemetry: { decision: 'accept', success: false, durationMs: 12, names: ['tool_decision', 'tool_result'] } },
    ],
    unguarded: [],
  });
});

test('calls the telemetry shows accepted or run without a PreToolUse event are unguarded', () => {
  const joined = joinToolCalls(
    [{ kind: 'hook.PostToolUse', toolUseId: 'toolu_ran', index: 9 }],
    [
      event('claude_code.tool_result', 'toolu_ran', { success: 'true' }),
      event('claude_code.tool_decision', 'toolu_accepted', { decision: 'accept' }),
      event('claude_code.tool_decision', 'toolu_refused', { decision: 'reject', source: 'config' }),
    ],
  );
  assert.deepEqual(joined.unguarded, ['toolu_ran', 'toolu_accepted']);
  assert.deepEqual(joined.calls.find((call) => call.toolUseId === 'toolu_refused')!.hook, { pre: false, post: false });
});

test('of several PreToolUse events for one call, the one latest in the log decides', () => {
  const joined = joinToolCalls(
    [
      { kind: 'hook.PreToolUse', toolUseId: 'toolu_a', decision: 'allow', index: 7 },
      { kind: 'hook.PreToolUse', toolUseId: 'toolu_a', decision: 'deny', index: 3 },
    ],
    [],
  );
  assert.deepEqual(joined.calls, [{ toolUseId: 'toolu_a', hook: { pre: true, post: false, decision: 'allow' }, telemetry: { names: [] } }]);
});

test('values Claude Code sends as strings that are not booleans or numbers are left out', () => {
  const [call] = joinToolCalls([], [event('claude_code.tool_result', 'toolu_a', { success: 'maybe', duration_ms: 'soon' })]).calls;
  assert.deepEqual(call.telemetry, { names: ['claude_code.tool_result'] });
});
