// writ scan's evidence: a real journal (signed with a real device key), enrollment.json and the org log
// checkpoint the daemon keeps; broken inputs become findings and the scan still answers (exit 0).
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { ed25519Signer } from '../../src/core/dsse.js';
import type { DeviceInventory } from '../../src/core/inventory.js';
import { issueDeviceCertificate } from '../../src/core/certificate.js';
import { assessMaturity } from '../../src/detect/maturity.js';
import { renderScan, scanDevice } from '../../src/cli/commands/scan.js';
import { writeEnrollment } from '../../src/daemon/enrollment.js';
import { Journal } from '../../src/daemon/journal.js';
import { loadOrCreateDeviceKey } from '../../src/daemon/keys.js';
import { INCLUDED_SEQ_KEY, LOG_CHECKPOINT_KEY } from '../../src/daemon/uploader.js';
import { signLogCheckpoint } from '../../src/ledger/log-checkpoint.js';
import { ed25519NoteSigner, verifierKeyFor } from '../../src/ledger/note.js';
import { resolveWritHome, type WritHome } from '../../src/home/writ-home.js';
import { writ } from '../support/writ-process.js';

const ORIGIN = 'writ.example/log';
const NOW = new Date('2026-11-22T03:00:00.000Z');

function orgKey() {
  return generateKeyPairSync('ed25519');
}

/** A device as a daemon leaves it: key, journal with a start event and a heartbeat, and enrolled to `org`. */
function enrolledDevice(org: ReturnType<typeof orgKey>, options: { bundle?: string } = {}): { userHome: string; home: WritHome } {
  const userHome = mkdtempSync(join(tmpdir(), 'writ-scan-'));
  const home = resolveWritHome(join(userHome, '.writ'));
  const key = loadOrCreateDeviceKey(home.root);
  const person = { id: 'per_ana', iss: 'https://idp.example', sub: 'ana', email: 'ana@example.com' };
  const certificate = issueDeviceCertificate({ origin: ORIGIN, device_id: key.deviceId, key_id: key.keyId, public_key: key.publicKey.export({ type: 'spki', format: 'der' }).toString('base64'), person, assurance: 'oidc', issued_at: NOW.toISOString() }, ed25519Signer(org.privateKey));
  writeEnrollment(home.enrollment, {
    server: 'https://writ.example',
    enrolled_at: NOW.toISOString(),
    device_id: key.deviceId,
    assurance: 'oidc',
    person,
    certificate,
    org: { origin: ORIGIN, verifier_key: verifierKeyFor(ORIGIN, org.publicKey), public_key_pem: org.publicKey.export({ type: 'spki', format: 'pem' }) as string },
    telemetry_token: 'telemetry-token',
  });
  const journal = Journal.open(home.journal, key);
  const actor = { os_user: 'ana', assurance: 'oidc' as const };
  journal.append({ time: '2026-11-22T02:00:00.000Z', actor, agent: { name: 'writ' }, kind: 'daemon.start', data: { policy_hash: 'sha256:policy-one', ...(options.bundle && { bundle: options.bundle }) } });
  journal.append({ time: '2026-11-22T02:30:00.000Z', actor, agent: { name: 'writ' }, kind: 'guard.heartbeat', data: { self_test: { at: '2026-11-22T02:30:00.000Z', passed: true, detail: 'the probe call was denied' } } });
  journal.close();
  return { userHome, home };
}

function storeCheckpoint(home: WritHome, note: string, includedSeq: number): void {
  const db = new Database(home.journal);
  db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)').run(LOG_CHECKPOINT_KEY, note);
  db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)').run(INCLUDED_SEQ_KEY, String(includedSeq));
  db.close();
}

const checkpointNote = (signer: ReturnType<typeof orgKey>, size: number) => signLogCheckpoint({ origin: ORIGIN, size, root: Buffer.alloc(32, 7), extensions: [] }, ed25519NoteSigner(ORIGIN, signer.privateKey));

describe('writ scan evidence', () => {
  test('the journal, the enrolment and a checkpoint verified against the pinned org key are read as evidence', async () => {
    const org = orgKey();
    const { userHome, home } = enrolledDevice(org, { bundle: 'sha256:bundle-one' });
    storeCheckpoint(home, checkpointNote(org, 42), 2);
    const { facts, assessment } = await scanDevice({ home, env: { HOME: userHome }, pathEnv: '', now: () => NOW });
    assert.deepEqual(facts.journal, { events: 2, verified: true, last_event_at: '2026-11-22T02:30:00.000Z' });
    assert.deepEqual(facts.policy, { hash: 'sha256:policy-one', org_bundle: true, loaded_at: '2026-11-22T02:00:00.000Z' });
    assert.deepEqual(facts.self_test, { at: '2026-11-22T02:30:00.000Z', passed: true, detail: 'the probe call was denied' });
    assert.deepEqual(facts.checkpoint, { size: 42, witnessed: true, included_seq: 2 });
    assert.equal(facts.enrollment?.assurance, 'oidc');
    assert.equal(facts.enrollment?.person.email, 'ana@example.com');
    const provable = new Map(assessment.requirements.filter((item) => item.level === 3).map((item) => [item.id, item.met]));
    assert.deepEqual(Object.fromEntries(provable), { 'verified-identity': true, 'journal-verifies': true, 'log-witnessed': true, 'org-policy': true });
    assert.equal(assessment.questions.find((question) => question.id === 'proof')?.answered, 'yes');
  });

  test('a checkpoint the pinned org key did not sign is not witnessed', async () => {
    const { userHome, home } = enrolledDevice(orgKey());
    storeCheckpoint(home, checkpointNote(orgKey(), 42), 2);
    const { facts } = await scanDevice({ home, env: { HOME: userHome }, pathEnv: '', now: () => NOW });
    assert.equal(facts.checkpoint?.witnessed, false);
    assert.equal(facts.policy?.org_bundle, false);
  });

  test('an altered journal is reported as not verifying, and the scan still answers', async () => {
    const { userHome, home } = enrolledDevice(orgKey());
    const db = new Database(home.journal);
    db.prepare("UPDATE events SET kind = 'policy.loaded' WHERE seq = 1").run();
    db.close();
    const { facts, assessment } = await scanDevice({ home, env: { HOME: userHome }, pathEnv: '', now: () => NOW });
    assert.equal(facts.journal?.verified, false);
    assert.match(facts.journal?.problem ?? '', /^event 1: column kind/);
    assert.equal(assessment.requirements.find((item) => item.id === 'journal-verifies')?.met, false);
  });

  test('broken enrollment.json and journal are findings; writ scan --json still exits 0 with one document', () => {
    const userHome = mkdtempSync(join(tmpdir(), 'writ-scan-broken-'));
    const home = resolveWritHome(join(userHome, '.writ'));
    loadOrCreateDeviceKey(home.root);
    writeFileSync(home.enrollment, '{"server": "https://x", "assurance":');
    writeFileSync(home.journal, 'this is not a database');
    const run = writ(['scan', '--json'], userHome);
    assert.equal(run.status, 0, run.stderr);
    const report = JSON.parse(run.stdout) as DeviceInventory & { assessment: { level: number }; evidence: { enrollment_problem?: string } };
    assert.equal(report.v, 1);
    const subjects = report.findings.filter((finding) => finding.severity === 'error').map((finding) => finding.subject);
    assert.ok(subjects.includes('enrollment') && subjects.includes('journal'), JSON.stringify(report.findings));
    assert.match(report.evidence.enrollment_problem ?? '', /not valid JSON/);
    assert.equal(report.assessment.level, 0);
  });

  test('writ scan rejects arguments it does not know', () => {
    const run = writ(['scan', 'everything'], mkdtempSync(join(tmpdir(), 'writ-scan-args-')));
    assert.equal(run.status, 2);
    assert.match(run.stderr, /scan takes no arguments/);
  });
});

test('the text report puts what is ungoverned, unapproved or failing first, and ends with the level and its fixes', () => {
  const inventory: DeviceInventory = {
    v: 1,
    collected_at: NOW.toISOString(),
    agents: [
      { id: 'claude-code', name: 'Claude Code', kind: 'cli', version: '2.1.197', governance: 'governed', governance_reason: 'Writ hooks in user settings', running: false, evidence: [] },
      { id: 'codex-cli', name: 'Codex CLI', kind: 'cli', version: '0.169.0', governance: 'ungoverned', governance_reason: 'Writ has no hooks in Codex', running: true, evidence: [] },
    ],
    mcp_servers: [
      { agent: 'claude-code', scope: 'user', file: '/h/.claude.json', name: 'approved-one', transport: 'stdio', command: 'npx', args: ['a'], env_names: [], header_names: [], fingerprint: 'f1', approval: 'approved' },
      { agent: 'codex-cli', scope: 'user', file: '/h/.codex/config.toml', name: 'postgres', transport: 'stdio', command: 'npx', args: ['pg'], env_names: ['DB_PASSWORD'], header_names: [], fingerprint: 'f2', approval: 'unapproved' },
    ],
    findings: [],
  };
  const facts = { now: NOW.toISOString(), scan_ms: 150, os_user: 'ana' };
  const text = renderScan({ inventory, facts, assessment: assessMaturity(inventory, facts) }, 'laptop');
  const attention = text.indexOf('Needs attention');
  assert.ok(attention >= 0 && attention < text.indexOf('Agents (2)'));
  assert.match(text, /! agent codex-cli 0\.169\.0 is ungoverned: Writ has no hooks in Codex/);
  assert.match(text, /! MCP server postgres \(codex-cli, user\) is not approved/);
  assert.ok(text.indexOf('  codex-cli') < text.indexOf('  claude-code'), 'the ungoverned agent is listed first');
  assert.ok(text.indexOf('  postgres') < text.indexOf('  approved-one'), 'the unapproved server is listed first');
  assert.match(text, /env: DB_PASSWORD/);
  assert.match(text, /6\. How fast can we answer these questions\?\n {5}YES: 0\.15 s/);
  assert.match(text, /Maturity: level 0, blind\n {2}For level 1 \(visible\):/);
  assert.match(text, /fix: writ daemon --detach/);
});
