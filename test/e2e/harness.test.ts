// Proves the e2e harness itself: real Claude Code, driven by the scripted model, with no Writ involved.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import { createClaudeWorkspace, runClaude, writeProjectSettings, type ClaudeWorkspace } from '../support/claude.js';
import { SCRIPT_EXHAUSTED_TEXT, startScriptedModel, type ScriptedModel, type ScriptedTurn } from '../support/scripted-model.js';

describe('scripted model', () => {
  test('streams a tool_use turn as SSE events whose input_json_delta pieces join to the input', async () => {
    const input = { command: 'echo "a b"', description: 'quoting survives the split' };
    const model = await startScriptedModel([[{ name: 'Bash', input, id: 'toolu_fixed' }]]);
    try {
      const response = await fetch(`${model.url}/v1/messages?beta=true`, {
        method: 'POST',
        body: JSON.stringify({ model: 'claude-test', stream: true, messages: [{ role: 'user', content: 'go' }] }),
      });
      assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
      const events = (await response.text())
        .split('\n\n')
        .filter(Boolean)
        .map((frame) => {
          const [eventLine, dataLine] = frame.split('\n');
          const data = JSON.parse(dataLine.replace(/^data: /, ''));
          assert.equal(eventLine, `event: ${data.type}`, 'the SSE event name must repeat the data type: the SDK dispatches on it');
          return data;
        });
      assert.deepEqual(
        events.map((event) => event.type),
        ['message_start', 'ping', 'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop'],
      );
      assert.deepEqual(events[2].content_block, { type: 'tool_use', id: 'toolu_fixed', name: 'Bash', input: {} });
      const json = events.filter((event) => event.delta?.type === 'input_json_delta').map((event) => event.delta.partial_json).join('');
      assert.deepEqual(JSON.parse(json), input);
      assert.equal(events[6].delta.stop_reason, 'tool_use');
    } finally {
      await model.close();
    }
  });

  test('ends the turn with text once the script is exhausted, also without streaming', async () => {
    const model = await startScriptedModel([]);
    try {
      const response = await fetch(`${model.url}/v1/messages`, {
        method: 'POST',
        body: JSON.stringify({ model: 'claude-test', messages: [{ role: 'user', content: 'go' }] }),
      });
      const message = await response.json();
      assert.equal(message.stop_reason, 'end_turn');
      assert.deepEqual(message.content, [{ type: 'text', text: SCRIPT_EXHAUSTED_TEXT }]);
    } finally {
      await model.close();
    }
  });
});

describe('real Claude Code driven by the scripted model', () => {
  let workspace: ClaudeWorkspace;
  let model: ScriptedModel;
  const start = async (script: ScriptedTurn[]) => {
    workspace = createClaudeWorkspace();
    model = await startScriptedModel(script);
  };
  afterEach(async () => {
    await model?.close();
    workspace?.remove();
  });

  test('runs a scripted Bash call for real and branches on the tool_result it sent back', async () => {
    await start([
      [{ name: 'Bash', input: { command: 'echo hello > out.txt', description: 'write out.txt' }, id: 'toolu_write' }],
      // Claude Code's answer to the first call decides the second turn, as a real model would.
      ({ toolResults }) =>
        toolResults.get('toolu_write')?.is_error === false
          ? [{ name: 'Bash', input: { command: 'cat out.txt', description: 'read it back' }, id: 'toolu_read' }]
          : 'the write failed',
      'finished',
    ]);
    const run = await runClaude({ prompt: 'write hello', cwd: workspace.cwd, home: workspace.home, model, permissionMode: 'bypassPermissions' });

    assert.equal(run.exitCode, 0, run.stderr);
    assert.equal(readFileSync(join(workspace.cwd, 'out.txt'), 'utf8'), 'hello\n');
    assert.deepEqual(model.toolResults().get('toolu_read'), { content: 'hello', is_error: false });
    assert.equal(run.result?.result, 'finished');
    assert.deepEqual(run.result?.permission_denials, []);
    assert.equal(model.remainingTurns, 0);
    assert.match(run.result?.session_id ?? '', /^[0-9a-f-]{36}$/);
  });

  test('a project PreToolUse hook that denies blocks the call, and the model gets the reason as an error', async () => {
    await start([[{ name: 'Bash', input: { command: 'echo hello > out.txt', description: 'write out.txt' }, id: 'toolu_denied' }], 'stopped']);
    const hook = join(workspace.cwd, '.claude', 'deny.sh');
    writeProjectSettings(workspace.cwd, { hooks: { PreToolUse: [{ matcher: 'Bash', hooks: [{ type: 'command', command: `sh ${hook}` }] }] } });
    writeFileSync(
      hook,
      `cat >/dev/null\nprintf '%s' '{"hookSpecificOutput":{"hookEventName":"PreToolUse","permissionDecision":"deny","permissionDecisionReason":"nope"}}'\n`,
    );
    const run = await runClaude({ prompt: 'write hello', cwd: workspace.cwd, home: workspace.home, model, permissionMode: 'acceptEdits', outputFormat: 'stream-json' });

    assert.equal(run.exitCode, 0, run.stderr);
    assert.deepEqual(run.result?.permission_denials, [
      { tool_name: 'Bash', tool_use_id: 'toolu_denied', tool_input: { command: 'echo hello > out.txt', description: 'write out.txt' } },
    ]);
    assert.deepEqual(model.toolResults().get('toolu_denied'), { content: 'nope', is_error: true });
    assert.equal(existsSync(join(workspace.cwd, 'out.txt')), false);
    // stream-json with --include-hook-events shows the hook itself ran and answered.
    const hookResponse = run.events.find((event) => event.subtype === 'hook_response' && event.hook_name === 'PreToolUse:Bash');
    assert.equal(hookResponse?.outcome, 'success');
  });

  test('parallel tool_use blocks each get a result; a trusted project’s allow rule applies', async () => {
    await start([
      [
        { name: 'Bash', input: { command: 'touch allowed.txt', description: 'allowed by the project rule' }, id: 'toolu_allowed' },
        { name: 'Bash', input: { command: 'touch refused.txt', description: 'no rule allows it' }, id: 'toolu_refused' },
      ],
      'done',
    ]);
    // runClaude marks the project trusted; without that, -p drops project-scoped allow rules.
    writeProjectSettings(workspace.cwd, { permissions: { allow: ['Bash(touch allowed.txt)'] } });
    const run = await runClaude({ prompt: 'touch both', cwd: workspace.cwd, home: workspace.home, model, permissionMode: 'default' });

    assert.equal(run.exitCode, 0, run.stderr);
    assert.equal(model.messagesRequests.length, 2, 'both calls must be answered within one round trip');
    const results = model.toolResults();
    assert.deepEqual(results.get('toolu_allowed'), { content: '(Bash completed with no output)', is_error: false });
    assert.equal(results.get('toolu_refused')?.is_error, true);
    assert.equal(existsSync(join(workspace.cwd, 'allowed.txt')), true);
    assert.equal(existsSync(join(workspace.cwd, 'refused.txt')), false);
    assert.deepEqual(run.result?.permission_denials.map((denial) => denial.tool_use_id), ['toolu_refused']);
  });

  test('on timeout, kills Claude Code and a hung hook in its own process group', async () => {
    await start([[{ name: 'Bash', input: { command: 'true', description: 'never runs' } }]]);
    const pidFile = join(workspace.cwd, 'hook.pid');
    const hook = join(workspace.cwd, 'hang.sh');
    writeFileSync(hook, `echo $$ > ${pidFile}\nexec sleep 120\n`);
    chmodSync(hook, 0o755);
    writeProjectSettings(workspace.cwd, { hooks: { PreToolUse: [{ matcher: 'Bash', hooks: [{ type: 'command', command: hook }] }] } });
    const run = await runClaude({ prompt: 'hang', cwd: workspace.cwd, home: workspace.home, model, permissionMode: 'acceptEdits', timeoutMs: 4_000 });

    assert.equal(run.timedOut, true);
    assert.equal(run.signal, 'SIGKILL');
    const hookPid = Number(readFileSync(pidFile, 'utf8'));
    assert.equal(isRunning(hookPid), false, `hook process ${hookPid} survived the timeout`);
  });
});

/** True while `pid` exists and is not a zombie waiting to be reaped. */
function isRunning(pid: number): boolean {
  try {
    return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
