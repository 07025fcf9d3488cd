import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { verifyJournal } from '../../src/daemon/journal.js';
import { loadPublicKey } from '../../src/daemon/keys.js';
import { openEvent } from '../../src/core/event.js';
import { parseEnvelope } from '../../src/core/dsse.js';
import { preToolUse, startTestDaemon, type TestDaemon } from '../support/daemon.js';

function events(daemon: TestDaemon) {
  const db = new Database(daemon.home.journal, { readonly: true });
  try {
    return (db.prepare('SELECT envelope FROM events ORDER BY seq').all() as { envelope: string }[]).map((row) => openEvent(parseEnvelope(row.envelope)));
  } finally {
    db.close();
  }
}

function decisionOf(body: string): { permissionDecision: string; permissionDecisionReason: string } {
  return JSON.parse(body).hookSpecificOutput;
}

describe('writ daemon', () => {
  let writ: TestDaemon;
  before(async () => {
    writ = await startTestDaemon();
  });
  after(async () => {
    await writ.daemon.close();
  });

  test('denies a credential read with a reason naming the rule, and journals it before answering', async () => {
    const answer = await writ.post(preToolUse('Bash', { command: 'cat ~/.aws/credentials' }, { tool_use_id: 'toolu_secret' }));
    assert.equal(answer.status, 200);
    const output = decisionOf(answer.body);
    assert.equal(output.permissionDecision, 'deny');
    assert.match(output.permissionDecisionReason, /credentials\.cloud/);
    assert.match(output.permissionDecisionReason, /exception/i);
    const recorded = events(writ).find((event) => event.tool_use_id === 'toolu_secret');
    assert.ok(recorded, 'the decision is in the journal as soon as the answer arrives');
    assert.equal((recorded.data.decision as { decision: string }).decision, 'deny');
    assert.deepEqual((recorded.data.decision as { rules: string[] }).rules, ['credentials.cloud']);
    assert.match((recorded.data.decision as { policy_hash: string }).policy_hash, /^[0-9a-f]{64}$/);
  });

  test('stays silent when the policy has no objection, so Claude Code keeps its own checks', async () => {
    const answer = await writ.post(preToolUse('Bash', { command: 'npm test' }));
    assert.equal(answer.status, 200);
    assert.equal(answer.body, '');
  });

  test('records recording hooks without content: a Write content becomes a digest', async () => {
    const secret = 'AKIAABCDEFGHIJKLMNOP';
    await writ.post(JSON.stringify({ hook_event_name: 'PostToolUse', session_id: 'session-1', cwd: '/tmp', tool_name: 'Write', tool_use_id: 'toolu_write', tool_input: { file_path: '/tmp/x', content: `key=${secret}` }, tool_response: { filePath: '/tmp/x' } }), { 'x-writ-mode': 'record' });
    await writ.post(JSON.stringify({ hook_event_name: 'UserPromptSubmit', session_id: 'session-1', cwd: '/tmp', prompt: `use token ${secret} please` }), { 'x-writ-mode': 'record' });
    const recorded = JSON.stringify(events(writ).filter((event) => event.session_id === 'session-1'));
    assert.ok(!recorded.includes(secret), 'no secret value reaches the journal');
    assert.match(recorded, /REDACTED:aws-access-key-id/);
    const write = events(writ).find((event) => event.tool_use_id === 'toolu_write')!;
    assert.deepEqual(Object.keys((write.data.tool_input as { content: object }).content).sort(), ['bytes', 'lines', 'sha256']);
  });

  const garbage: [string, string | Buffer][] = [
    ['empty', ''],
    ['truncated JSON', preToolUse('Bash', { command: 'ls' }).slice(0, 40)],
    ['a JSON array', '[1,2,3]'],
    ['a JSON string', '"PreToolUse"'],
    ['tool_name of the wrong type', JSON.stringify({ hook_event_name: 'PreToolUse', tool_name: 7, tool_input: {}, cwd: '/tmp' })],
    ['tool_input of the wrong type', preToolUse('Bash', 'ls -la')],
    ['a Bash command that is not a string', preToolUse('Bash', { command: ['rm', '-rf', '/'] })],
    ['a relative cwd', preToolUse('Bash', { command: 'ls' }, { cwd: 'project' })],
    ['10 MB of JSON', preToolUse('Write', { file_path: '/etc/passwd', content: 'x'.repeat(10 * 1024 * 1024) })],
    ['invalid UTF-8 bytes', Buffer.from([0x7b, 0xff, 0xfe, 0x7d])],
  ];
  for (const [name, body] of garbage) {
    test(`garbage in (${name}) is denied with a reason, and the daemon stays up`, async () => {
      const answer = await writ.post(body);
      assert.equal(answer.status, 200);
      const output = decisionOf(answer.body);
      assert.equal(output.permissionDecision, 'deny');
      assert.match(output.permissionDecisionReason, /^Writ denied/);
      assert.equal((await writ.health()).status, 200);
    });
  }

  test('a malformed recording payload is kept as a digest, answered without blocking', async () => {
    const before = events(writ).length;
    const answer = await writ.post('{"hook_event_name": 42}', { 'x-writ-mode': 'record' });
    assert.equal(answer.status, 200);
    assert.equal(answer.body, '');
    const last = events(writ).slice(before).find((event) => event.kind === 'hook.malformed');
    assert.ok(last);
    assert.equal((last.data.payload as { bytes: number }).bytes, 23);
  });

  test('payloads spooled while the daemon was away are taken in, in order, once', async () => {
    const payloads = ['SessionStart', 'UserPromptSubmit', 'PostToolUse'].map((hook, index) => JSON.stringify({ hook_event_name: hook, session_id: 'spooled-session', cwd: '/tmp', prompt: `prompt ${index}` }));
    payloads.forEach((payload, index) => writeFileSync(join(writ.home.spool, `${1000 + index}-1-a.json`), payload));
    assert.equal(writ.daemon.ingestSpool(), 3);
    assert.equal(writ.daemon.ingestSpool(), 0);
    assert.deepEqual(readdirSync(writ.home.spool).filter((name) => name.endsWith('.json')), []);
    const spooled = events(writ).filter((event) => event.session_id === 'spooled-session');
    assert.deepEqual(spooled.map((event) => event.kind), ['hook.SessionStart', 'hook.UserPromptSubmit', 'hook.PostToolUse']);
    assert.ok(spooled.every((event) => typeof event.data.spooled_at === 'string'));
  });

  test('the journal of all of the above verifies', () => {
    const verdict = verifyJournal(writ.home.journal, loadPublicKey(writ.home.root));
    assert.equal(verdict.ok, true, JSON.stringify(verdict));
  });
});

describe('writ daemon policy reload', () => {
  test('an invalid policy edit is refused and the last good policy keeps enforcing; a valid one takes over', async () => {
    const writ = await startTestDaemon();
    try {
      const original = writ.daemon.policyHash();
      writeFileSync(join(writ.home.policy, '99-broken.cedar'), 'forbid (principal, action, resource) when { resource.no_such_attribute };');
      await new Promise((resolve) => setTimeout(resolve, 600));
      assert.equal(writ.daemon.policyHash(), original);
      assert.equal(decisionOf((await writ.post(preToolUse('Read', { file_path: '/home/x/.ssh/id_ed25519' }))).body).permissionDecision, 'deny');
      writeFileSync(join(writ.home.policy, '99-broken.cedar'), '@id("local.no-make")\n@reason("no make here")\nforbid (principal, action == Writ::Action::"exec", resource) when { resource.program == "make" };\n');
      for (let i = 0; i < 30 && writ.daemon.policyHash() === original; i++) await new Promise((resolve) => setTimeout(resolve, 100));
      assert.notEqual(writ.daemon.policyHash(), original);
      const output = decisionOf((await writ.post(preToolUse('Bash', { command: 'make all' }))).body);
      assert.equal(output.permissionDecision, 'deny');
      assert.match(output.permissionDecisionReason, /local\.no-make/);
    } finally {
      await writ.daemon.close();
    }
  });

  test('a second daemon on the same WRIT_HOME refuses to start', async () => {
    const writ = await startTestDaemon();
    try {
      const { startDaemon } = await import('../../src/daemon/daemon.js');
      await assert.rejects(startDaemon({ home: writ.home, log: () => {} }), /already running/);
    } finally {
      await writ.daemon.close();
    }
  });
});

describe('writ daemon http transport', () => {
  test('answers http hooks on loopback only with the hook token, so a web page cannot post events', async () => {
    const writ = await startTestDaemon({ httpPort: 0 });
    try {
      const port = writ.daemon.httpPort()!;
      const { readFileSync } = await import('node:fs');
      const token = readFileSync(writ.home.hookToken, 'utf8').trim();
      const body = preToolUse('Read', { file_path: '/home/dev/project/.env' });
      const post = (headers: Record<string, string>) => fetch(`http://127.0.0.1:${port}/v1/hooks/claude-code`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
      assert.equal((await post({})).status, 401);
      assert.equal((await post({ 'x-writ-hook-token': token.slice(0, -1) + 'x' })).status, 401);
      const answer = await post({ 'x-writ-hook-token': token, 'x-writ-mode': 'enforce' });
      assert.equal(answer.status, 200);
      assert.equal(decisionOf(await answer.text()).permissionDecision, 'deny');
    } finally {
      await writ.daemon.close();
    }
  });
});
