// Session state in a real daemon: calls that ran mark their session, the lethal-trifecta rule asks once a
// session took in untrusted content and private data, the flags survive a restart and are recorded as
// signed events; the device's posture file feeds posture conditions.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { parseEnvelope } from '../../src/core/dsse.js';
import { openEvent, type EventBody } from '../../src/core/event.js';
import { startDaemon, HOOK_PATH, type RunningDaemon } from '../../src/daemon/daemon.js';
import { resolveWritHome, type WritHome } from '../../src/home/writ-home.js';
import { request } from 'node:http';

const project = mkdtempSync(join(tmpdir(), 'writ-session-project-'));
mkdirSync(join(project, 'src'));
writeFileSync(join(project, 'src', 'billing.ts'), 'export const rate = 0.2;\n');
execFileSync('git', ['init', '-q', '-b', 'feature/login', project]);
execFileSync('git', ['-C', project, 'remote', 'add', 'origin', 'https://github.com/acme/app.git']);

const home = resolveWritHome(mkdtempSync(join(tmpdir(), 'writ-session-home-')));
let daemon: RunningDaemon;

function post(body: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: home.socket, method: 'POST', path: HOOK_PATH, headers: { 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    });
    req.on('error', reject);
    req.end(body);
  });
}

let calls = 0;
function hook(event: 'PreToolUse' | 'PostToolUse', session: string, tool: string, input: unknown): Promise<string> {
  const payload = { hook_event_name: event, session_id: session, cwd: project, permission_mode: 'default', tool_name: tool, tool_input: input, tool_use_id: `toolu_${++calls}` };
  return post(JSON.stringify(event === 'PostToolUse' ? { ...payload, tool_response: { ok: true } } : payload));
}

/** The hook's answer: 'silent' when Writ has no objection, else the permission decision it printed. */
async function decisionOf(session: string, tool: string, input: unknown): Promise<string> {
  const output = await hook('PreToolUse', session, tool, input);
  return output === '' ? 'silent' : (JSON.parse(output).hookSpecificOutput.permissionDecision as string);
}

function journalEvents(): EventBody[] {
  const db = new Database(home.journal, { readonly: true });
  try {
    return (db.prepare('SELECT envelope FROM events ORDER BY seq').all() as { envelope: string }[]).map((row) => openEvent(parseEnvelope(row.envelope)));
  } finally {
    db.close();
  }
}

const webFetch = { url: 'https://blog.example.net/post', prompt: 'summarise' };
const readBilling = { file_path: join(project, 'src', 'billing.ts') };
const push = { command: 'git push origin feature/login' };

// The collector reports nothing here, so posture.json says only what each test writes, whatever this machine's disk is.
const start = () => startDaemon({ home, log: () => {}, posture: { collect: async () => ({ collected_at: new Date().toISOString(), checks: [] }) } });

describe('session state in the daemon', () => {
  before(async () => {
    mkdirSync(home.policy, { recursive: true });
    daemon = await start();
  });
  after(async () => {
    await daemon?.close();
  });

  it('a push is fine in a clean session and asks once untrusted content and private data were read', async () => {
    assert.equal(await decisionOf('clean', 'Bash', push), 'silent');
    assert.equal(await decisionOf('tainted', 'WebFetch', webFetch), 'silent');
    assert.equal(await decisionOf('tainted', 'Bash', push), 'silent', 'untrusted content alone is not enough');
    assert.equal(await decisionOf('tainted', 'Read', readBilling), 'silent');
    assert.equal(await decisionOf('tainted', 'Bash', push), 'ask');
    assert.equal(await decisionOf('clean', 'Bash', push), 'silent', 'another session is unaffected');
  });

  it('a PostToolUse marks the session even when Writ never allowed the call (a person approved it)', async () => {
    await hook('PostToolUse', 'approved-locally', 'WebFetch', webFetch);
    await hook('PostToolUse', 'approved-locally', 'Read', readBilling);
    assert.equal(await decisionOf('approved-locally', 'Bash', push), 'ask');
  });

  it('each change is a signed session.touched event, and decisions record the flags they saw', () => {
    const events = journalEvents();
    const changes = events.filter((event) => event.kind === 'session.touched' && (event.data as { session_id: string }).session_id === 'tainted');
    assert.deepEqual(changes.map((event) => (event.data as { added: string[] }).added), [['untrusted'], ['private_data']]);
    const asked = events.filter((event) => event.kind === 'hook.PreToolUse' && event.session_id === 'tainted' && (event.data as { decision: { decision: string } }).decision.decision === 'ask');
    assert.equal(asked.length, 1);
    assert.deepEqual((asked[0]!.data as { decision: { touched: unknown } }).decision.touched, { secrets: false, untrusted: true, private_data: true, production: false });
  });

  it('a restarted daemon still knows the session is tainted', async () => {
    await daemon.close();
    daemon = await start();
    assert.equal(await decisionOf('tainted', 'Bash', push), 'ask');
    assert.equal(await decisionOf('clean', 'Bash', push), 'silent');
  });

  it('posture from posture.json: unknown, then unencrypted, then encrypted', async () => {
    writeFileSync(
      join(home.policy, '80-posture.cedar'),
      '@id("posture.disk")\n@reason("customer data needs an encrypted disk")\nforbid (principal, action == Writ::Action::"read", resource)\n' +
        'when { resource.name like "*.csv" && !(context.device has disk_encrypted && context.device.disk_encrypted) };\n',
    );
    await daemon.close();
    daemon = await start();
    const csv = { file_path: join(project, 'customers.csv') };
    assert.equal(await decisionOf('posture', 'Read', csv), 'deny', 'unknown posture is not encrypted');
    writeFileSync(home.posture, JSON.stringify({ collected_at: new Date().toISOString(), os: 'linux', disk_encrypted: false }));
    assert.equal(await decisionOf('posture', 'Read', csv), 'deny');
    writeFileSync(home.posture, JSON.stringify({ collected_at: new Date().toISOString(), os: 'linux', disk_encrypted: true, firewall: true }));
    assert.equal(await decisionOf('posture', 'Read', csv), 'silent');
    writeFileSync(home.posture, '{"disk_encrypted": "yes"');
    assert.equal(await decisionOf('posture', 'Read', csv), 'deny', 'a malformed posture file is unknown posture');
  });
});
