import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AgentFinding, DeviceInventory, McpServerFinding, PostureReport } from '../../src/core/inventory.js';
import { assessMaturity, type EvidenceFacts } from '../../src/detect/maturity.js';

const NOW = '2026-11-22T03:00:00.000Z';

function agent(id: string, governance: AgentFinding['governance'], running = false): AgentFinding {
  return { id, name: id, kind: 'cli', version: '1.0.0', governance, governance_reason: governance === 'governed' ? 'Writ hooks in user settings' : 'no Writ hooks', running, evidence: [{ source: 'binary', path: `/usr/bin/${id}` }] };
}

function server(name: string, approval: McpServerFinding['approval']): McpServerFinding {
  return { agent: 'claude-code', scope: 'user', file: '/home/u/.claude.json', name, transport: 'stdio', command: 'npx', args: ['-y', name], env_names: ['API_TOKEN'], header_names: [], fingerprint: `fp-${name}`, approval };
}

const posture: PostureReport = {
  collected_at: '2026-11-22T02:59:00.000Z',
  checks: [
    { name: 'disk_encrypted', status: 'pass', value: true, checked_at: NOW },
    { name: 'firewall', status: 'fail', value: false, source: '/usr/sbin/nft list ruleset', checked_at: NOW },
    { name: 'endpoint_protection', status: 'unknown', reason: 'needs root', checked_at: NOW },
  ],
};

function inventory(overrides: Partial<DeviceInventory> = {}): DeviceInventory {
  return { v: 1, collected_at: NOW, agents: [agent('claude-code', 'governed', true)], mcp_servers: [server('github', 'approved')], posture, guard: { agents: [], uncovered_calls: [], self_test: { at: '2026-11-22T02:00:00.000Z', passed: true, detail: 'denied the probe' } }, findings: [], ...overrides };
}

const provableFacts: EvidenceFacts = {
  now: NOW,
  os_user: 'dev',
  scan_ms: 412,
  enrollment: { server: 'https://writ.example', device_id: 'dev_1', assurance: 'oidc', person: { id: 'per_1', email: 'ana@example.com', iss: 'https://idp.example' } },
  journal: { events: 120, verified: true },
  checkpoint: { size: 900, witnessed: true, included_seq: 118 },
  policy: { hash: 'sha256:abc', org_bundle: true },
};

function missingIds(inv: DeviceInventory, facts: EvidenceFacts): string[] {
  return assessMaturity(inv, facts).next?.missing.map((item) => item.id) ?? [];
}

test('everything in place is level 3, provable, with nothing missing', () => {
  const assessment = assessMaturity(inventory(), provableFacts);
  assert.equal(assessment.level, 3);
  assert.equal(assessment.level_name, 'provable');
  assert.equal(assessment.next, undefined);
  assert.ok(assessment.requirements.every((item) => item.met && item.fix === undefined));
});

test('a device with agents and no Writ at all is blind, and the fix names the commands', () => {
  const inv = inventory({ agents: [agent('claude-code', 'ungoverned'), agent('codex-cli', 'ungoverned', true)], posture: undefined, guard: undefined });
  const assessment = assessMaturity(inv, { now: NOW, scan_ms: 80 });
  assert.equal(assessment.level, 0);
  assert.equal(assessment.level_name, 'blind');
  assert.deepEqual(assessment.next?.missing.map((item) => item.id), ['tool-calls-seen', 'journal', 'posture']);
  assert.equal(assessment.next?.missing[0].fix, 'writ install claude-code --scope user');
  assert.match(assessment.next?.missing[1].fix ?? '', /writ daemon --detach/);
});

test('an unreadable configuration keeps the device blind: an unseen MCP server is not visibility', () => {
  const inv = inventory({ findings: [{ severity: 'error', subject: 'codex-cli', message: 'config.toml is not valid TOML', path: '/home/u/.codex/config.toml' }] });
  const assessment = assessMaturity(inv, provableFacts);
  assert.equal(assessment.level, 0);
  assert.deepEqual(missingIds(inv, provableFacts), ['inventory']);
  assert.match(assessment.next?.missing[0].detail ?? '', /config\.toml/);
  assert.equal(assessment.questions.find((question) => question.id === 'agents')?.answered, 'partly');
});

test('an ungoverned agent or an unapproved MCP server stops the device at visible, naming what to fix', () => {
  const inv = inventory({ agents: [agent('claude-code', 'governed'), agent('gemini-cli', 'ungoverned')], mcp_servers: [server('github', 'approved'), server('scraper', 'unapproved')] });
  const assessment = assessMaturity(inv, provableFacts);
  assert.equal(assessment.level, 1);
  assert.deepEqual(assessment.next?.missing.map((item) => item.id), ['agents-governed', 'mcp-approved']);
  assert.match(assessment.next?.missing[0].detail ?? '', /gemini-cli/);
  assert.match(assessment.next?.missing[1].fix ?? '', /writ kill mcp:scraper/);
  const access = assessment.questions.find((question) => question.id === 'access');
  assert.equal(access?.answered, 'partly');
  assert.match(access?.answer ?? '', /1 not approved/);
});

test('a refused MCP server is governed: the policy blocks it', () => {
  const inv = inventory({ mcp_servers: [server('scraper', 'denied')] });
  assert.equal(assessMaturity(inv, provableFacts).level, 3);
});

test('a stale or failed self-test and stale posture are not governance', () => {
  const staleSelfTest = inventory({ guard: { agents: [], uncovered_calls: [], self_test: { at: '2026-11-20T00:00:00.000Z', passed: true, detail: 'ok' } } });
  assert.deepEqual(missingIds(staleSelfTest, provableFacts), ['guard-self-test']);
  const failed = inventory({ guard: { agents: [], uncovered_calls: [], self_test: { at: NOW, passed: false, detail: 'the probe was allowed' } } });
  assert.match(assessMaturity(failed, provableFacts).next?.missing[0].detail ?? '', /the probe was allowed/);
  const stalePosture = inventory({ posture: { ...posture, collected_at: '2026-11-01T00:00:00.000Z' } });
  assert.deepEqual(missingIds(stalePosture, provableFacts), ['posture-continuous']);
});

test('an OS-user enrolment, an unwitnessed journal and a local policy are governed, not provable', () => {
  const facts: EvidenceFacts = { ...provableFacts, enrollment: { ...provableFacts.enrollment!, assurance: 'local-os-user' }, checkpoint: undefined, policy: { hash: 'sha256:abc', org_bundle: false } };
  const assessment = assessMaturity(inventory(), facts);
  assert.equal(assessment.level, 2);
  assert.deepEqual(assessment.next?.missing.map((item) => item.id), ['verified-identity', 'log-witnessed', 'org-policy']);
  assert.match(assessment.next?.missing[0].fix ?? '', /^writ enroll /);
  assert.equal(assessment.questions.find((question) => question.id === 'identity')?.answered, 'partly');
});

test('a journal that does not verify cannot prove anything', () => {
  const facts: EvidenceFacts = { ...provableFacts, journal: { events: 120, verified: false, problem: 'event 7: signature does not verify' } };
  const assessment = assessMaturity(inventory(), facts);
  assert.equal(assessment.level, 2);
  assert.match(assessment.next?.missing[0].fix ?? '', /writ verify/);
  const proof = assessment.questions.find((question) => question.id === 'proof');
  assert.equal(proof?.answered, 'no');
  assert.match(proof?.answer ?? '', /event 7/);
});

test('the six questions are answered in order from the data, with the scan duration as the speed', () => {
  const assessment = assessMaturity(inventory(), provableFacts);
  assert.deepEqual(assessment.questions.map((question) => question.id), ['agents', 'access', 'identity', 'health', 'proof', 'speed']);
  const [agents, access, identity, health, proof, speed] = assessment.questions;
  assert.match(agents.evidence[0], /claude-code 1\.0\.0: running, governed/);
  assert.match(access.evidence[0], /env API_TOKEN/);
  assert.match(identity.answer, /ana@example\.com/);
  assert.equal(health.answered, 'partly');
  assert.match(health.answer, /firewall failing/);
  assert.match(health.answer, /unknown: endpoint_protection/);
  assert.equal(proof.answered, 'yes');
  assert.match(speed.answer, /^0\.41 s/);
  assert.deepEqual(speed.evidence, ['scan took 412 ms']);
});

test('not enrolled: the identity is only an OS user', () => {
  const identity = assessMaturity(inventory(), { ...provableFacts, enrollment: undefined }).questions[2];
  assert.equal(identity.answered, 'no');
  assert.match(identity.answer, /the OS user dev/);
});
