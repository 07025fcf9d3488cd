// Kill switches: an admin disables a tool or an MCP server at a real `writ server`, and the next matching call
// on an enrolled device is denied before policy; a restarted daemon keeps denying it without the server.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { KILL_SWITCH_RULE, killReason, matchKill } from '../../src/daemon/kill-switch.js';
import { startControlPlane, startEnrolledDaemon, waitFor, type EnrolledDaemon, type TestControlPlane } from '../support/control-plane.js';
import { preToolUse } from '../support/daemon.js';
import { journalEvents } from '../support/journal.js';

const decisionOf = (body: string) => (body === '' ? undefined : JSON.parse(body).hookSpecificOutput);

describe('matching kill targets', () => {
  test('tool:<name> matches exactly that tool', () => {
    assert.equal(matchKill(['tool:WebFetch'], 'WebFetch'), 'tool:WebFetch');
    assert.equal(matchKill(['tool:WebFetch'], 'WebFetchX'), undefined);
    assert.equal(matchKill(['tool:Web'], 'WebFetch'), undefined);
    assert.equal(matchKill(['tool:mcp__github__create_issue'], 'mcp__github__create_issue'), 'tool:mcp__github__create_issue');
    assert.equal(matchKill(['tool:mcp__github__create_issue'], 'mcp__github__list_issues'), undefined);
  });

  test('mcp:<server> matches every tool of that server and no other', () => {
    assert.equal(matchKill(['mcp:github'], 'mcp__github__create_issue'), 'mcp:github');
    assert.equal(matchKill(['mcp:github'], 'mcp__github_enterprise__x'), undefined);
    assert.equal(matchKill(['mcp:git'], 'mcp__github__create_issue'), undefined);
    assert.equal(matchKill(['mcp:github'], 'github'), undefined);
    assert.equal(matchKill(['mcp:github'], 'Bash'), undefined);
  });

  test('a * in a target matches any run of characters', () => {
    assert.equal(matchKill(['mcp:*'], 'mcp__anything__tool'), 'mcp:*');
    assert.equal(matchKill(['mcp:*'], 'Bash'), undefined);
    assert.equal(matchKill(['tool:mcp__github__*'], 'mcp__github__delete_repo'), 'tool:mcp__github__*');
    assert.equal(matchKill(['tool:Web*'], 'WebSearch'), 'tool:Web*');
    assert.equal(matchKill(['tool:a.b'], 'aXb'), undefined, 'dots are literal');
  });

  test('the reason names the target and says the organisation disabled it fleet-wide', () => {
    assert.match(killReason('mcp:github', 'mcp__github__create_issue'), /MCP server `github`.*fleet-wide.*kill switch `mcp:github`/);
    assert.match(killReason('tool:WebFetch', 'WebFetch'), /organisation has disabled the tool `WebFetch` fleet-wide/);
  });
});

describe('kill switch on an enrolled daemon', () => {
  let plane: TestControlPlane;
  let device: EnrolledDaemon;
  before(async () => {
    plane = await startControlPlane();
    device = await startEnrolledDaemon(plane);
  });
  after(async () => {
    await device.daemon.close();
    await plane.close();
  });

  const github = () => preToolUse('mcp__github__create_issue', { title: 'x' });
  const webFetch = () => preToolUse('WebFetch', { url: 'https://example.com/', prompt: 'read' });

  test('mcp:github and tool:WebFetch deny the next call, before policy, with rule writ.kill-switch', async () => {
    for (const target of ['mcp:github', 'tool:WebFetch']) {
      const killed = await plane.admin('POST', '/v1/kills', { target, reason: 'incident 42' });
      assert.equal(killed.status, 201, JSON.stringify(killed.body));
    }
    await waitFor(() => device.daemon.killSwitches().length === 2, 'both kill switches');
    const version = device.daemon.controlVersion();

    const denied = decisionOf((await device.post(github())).body);
    assert.equal(denied.permissionDecision, 'deny');
    assert.match(denied.permissionDecisionReason, /disabled the MCP server `github` fleet-wide/);
    assert.equal(decisionOf((await device.post(webFetch())).body).permissionDecision, 'deny');
    const other = await device.post(preToolUse('mcp__gitlab__list', {}));
    assert.notEqual(decisionOf(other.body)?.permissionDecisionReason?.includes('kill switch'), true);

    const events = journalEvents(device.home);
    const decisions = events.filter((event) => event.kind === 'hook.PreToolUse' && (event.data.decision as { rules: string[] }).rules.includes(KILL_SWITCH_RULE));
    assert.equal(decisions.length, 2);
    const applied = events.filter((event) => event.kind === 'control.applied').at(-1)!;
    assert.deepEqual(applied.data, { version, kills: ['mcp:github', 'tool:WebFetch'] });
  });

  test('a restarted daemon still denies them with the server away', async () => {
    await device.daemon.close();
    await plane.stop();
    try {
      const daemon = await device.restart();
      assert.deepEqual(daemon.killSwitches().sort(), ['mcp:github', 'tool:WebFetch']);
      assert.equal(decisionOf((await device.post(github())).body).permissionDecision, 'deny');
      assert.equal(decisionOf((await device.post(webFetch())).body).permissionDecision, 'deny');
    } finally {
      await plane.restart();
    }
  });

  test('lifting a kill switch reaches the daemon once the server is back', async () => {
    const lifted = await plane.admin('DELETE', '/v1/kills/tool:WebFetch');
    assert.equal(lifted.status, 200, JSON.stringify(lifted.body));
    await waitFor(() => !device.daemon.killSwitches().includes('tool:WebFetch'), 'the lifted kill switch');
    assert.deepEqual(device.daemon.killSwitches(), ['mcp:github']);
    const answer = decisionOf((await device.post(webFetch())).body);
    assert.notEqual(answer?.permissionDecisionReason?.includes('kill switch'), true);
    assert.equal(decisionOf((await device.post(github())).body).permissionDecision, 'deny');
  });
});
