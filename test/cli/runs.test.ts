// `writ runs` against a real daemon's journal: list, show as Markdown and JSON, --verify, and a local review.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import Database from 'better-sqlite3';
import { after, before, describe, test } from 'node:test';
import { startTestDaemon, preToolUse, type TestDaemon } from '../support/daemon.js';
import { WRIT_BIN } from '../support/writ-process.js';
import type { RunRecord } from '../../src/runs/index.js';

// Async, so the in-process daemon keeps answering while the CLI talks to it.
function writ(daemon: TestDaemon, args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [WRIT_BIN, ...args], { env: { ...process.env, WRIT_HOME: daemon.home.root } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

const hook = (event: string, extra: Record<string, unknown>) => JSON.stringify({ hook_event_name: event, session_id: 'session-1', cwd: process.cwd(), ...extra });

describe('writ runs', () => {
  let daemon: TestDaemon;

  before(async () => {
    daemon = await startTestDaemon();
    const record = { 'x-writ-mode': 'record' };
    await daemon.post(hook('UserPromptSubmit', { prompt: 'update the readme' }), record);
    await daemon.post(preToolUse('Read', { file_path: `${process.cwd()}/README.md` }, { tool_use_id: 'toolu_read' }));
    await daemon.post(hook('PostToolUse', { tool_name: 'Read', tool_input: { file_path: `${process.cwd()}/README.md` }, tool_use_id: 'toolu_read', tool_response: { type: 'text' } }), record);
    await daemon.post(preToolUse('Read', { file_path: `${process.env.HOME}/.ssh/id_rsa` }, { tool_use_id: 'toolu_ssh' }));
    await daemon.post(preToolUse('Bash', { command: 'npm test' }, { tool_use_id: 'toolu_test' }));
    await daemon.post(hook('PostToolUseFailure', { tool_name: 'Bash', tool_input: { command: 'npm test' }, tool_use_id: 'toolu_test', error: 'Exit code 1\nfailing' }), record);
    await daemon.post(hook('Stop', { last_assistant_message: 'Tests fail; I assumed they were already broken.' }), record);
    await daemon.post(JSON.stringify({ hook_event_name: 'PreToolUse', session_id: 'writ-self-test', cwd: process.cwd(), tool_name: 'Read', tool_input: { file_path: '/etc/hostname' }, tool_use_id: 'toolu_self' }));
  });

  after(async () => daemon.daemon.close());

  test('list shows the session and leaves the self-test session out', async () => {
    const listed = await writ(daemon, ['runs', 'list', '--json']);
    assert.equal(listed.status, 0, listed.stderr);
    const runs = JSON.parse(listed.stdout) as { session_id: string; status: string; tool_calls: number; denied: number }[];
    assert.deepEqual(runs.map((run) => [run.session_id, run.status, run.tool_calls, run.denied]), [['session-1', 'turn-ended', 3, 1]]);
    const future = await writ(daemon, ['runs', 'list', '--since', '2999-01-01T00:00:00Z']);
    assert.equal(future.stdout, '');
    assert.equal((await writ(daemon, ['runs', 'show', 'writ-self-test'])).status, 2);
  });

  test('show --format json: the files, the denial, the failing test and the agent\'s claim', async () => {
    const shown = await writ(daemon, ['runs', 'show', 'session-1', '--format', 'json']);
    assert.equal(shown.status, 0, shown.stderr);
    const record = JSON.parse(shown.stdout) as RunRecord;
    assert.deepEqual(record.files_inspected.map((file) => file.path), [`${process.cwd()}/README.md`]);
    assert.deepEqual(record.denials.map((denial) => denial.target), [`${process.env.HOME}/.ssh/id_rsa`]);
    assert.deepEqual(record.tests.map((run) => [run.command, run.outcome, run.exit_code]), [['npm test', 'failed', 1]]);
    assert.equal(record.status, 'turn-ended');
    assert.deepEqual(record.claims?.assumptions, ['Tests fail; I assumed they were already broken.']);
  });

  test('show --verify passes on the real journal', async () => {
    const verified = await writ(daemon, ['runs', 'show', 'session-1', '--verify']);
    assert.equal(verified.status, 0, verified.stderr);
    assert.match(verified.stdout, /^# Run session-1/);
    assert.match(verified.stderr, /signatures OK, journal chain OK/);
    assert.match(verified.stderr, /not enrolled/);
  });

  test('review records a signed local decision that the record then shows; bad input is a usage error', async () => {
    const bad = await writ(daemon, ['runs', 'review', 'session-1', '--decision', 'maybe']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--decision must be one of accept, reject, needs-changes/);
    const missing = await writ(daemon, ['runs', 'review', 'no-such-session', '--decision', 'accept']);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /no run no-such-session/);
    const reviewed = await writ(daemon, ['runs', 'review', 'session-1', '--decision', 'needs-changes', '--comment', 'fix the test first']);
    assert.equal(reviewed.status, 0, reviewed.stderr);
    const record = JSON.parse((await writ(daemon, ['runs', 'show', 'session-1', '--format', 'json'])).stdout) as RunRecord;
    assert.deepEqual(record.reviews.map((review) => [review.decision, review.comment, review.reviewer.via]), [['needs-changes', 'fix the test first', 'local-os-user']]);
    const verified = await writ(daemon, ['runs', 'show', 'session-1', '--verify']);
    assert.equal(verified.status, 0, verified.stderr);
  });

  test('--verify fails when a stored event is altered', async () => {
    await daemon.daemon.close();
    const db = new Database(daemon.home.journal);
    const row = db.prepare("SELECT seq, envelope FROM events WHERE kind = 'hook.UserPromptSubmit'").get() as { seq: number; envelope: string };
    const envelope = JSON.parse(row.envelope);
    const body = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8'));
    body.data.prompt = 'something else';
    envelope.payload = Buffer.from(JSON.stringify(body)).toString('base64');
    db.prepare('UPDATE events SET envelope = ? WHERE seq = ?').run(JSON.stringify(envelope), row.seq);
    db.close();
    const verified = await writ(daemon, ['runs', 'show', 'session-1', '--verify']);
    assert.equal(verified.status, 1);
    assert.match(verified.stderr, /FAILED/);
  });
});
