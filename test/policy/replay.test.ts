// Replaying recorded history against a candidate policy: exactly the decisions that would change, session flags
// rebuilt from the calls that ran, monitor-mode rules, and calls that cannot be replayed listed as such.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { CASE_ENVIRONMENT, loadShellParser, preparePolicy, replayDecisions, type PolicyFile, type Principal, type ReplayEvent, type ShellParser } from '../../src/policy/index.js';

const PRINCIPAL: Principal = { user: 'dev', assurance: 'local-os-user', groups: [] };
const BASELINE: PolicyFile = { name: '00-baseline.cedar', text: '@id("baseline")\npermit (principal, action, resource);\n' };
const NO_ECHO: PolicyFile = { name: '10-echo.cedar', text: '@id("no-echo")\n@reason("no echo")\nforbid (principal, action == Writ::Action::"exec", resource) when { resource.program == "echo" };\n' };
// Asks before `make` once the session took in untrusted content (a web search).
const AFTER_SEARCH: PolicyFile = {
  name: '20-session.cedar',
  text: '@id("make-after-search")\n@reason("untrusted")\n@effect("ask")\nforbid (principal, action == Writ::Action::"exec", resource) when { resource.program == "make" && context.touched.untrusted };\n',
};

let parser: ShellParser;
before(async () => {
  parser = await loadShellParser();
});

let clock = Date.parse('2025-03-01T00:00:00Z');
let ids = 0;
function pre(session: string, tool: string, input: unknown, decision: string, extra: Record<string, unknown> = {}): ReplayEvent {
  clock += 60_000;
  return {
    time: new Date(clock).toISOString(),
    kind: 'hook.PreToolUse',
    session_id: session,
    tool_use_id: `toolu_${++ids}`,
    data: { cwd: CASE_ENVIRONMENT.cwd, permission_mode: 'default', tool, tool_input: input, decision: { decision, answer: decision, rules: decision === 'allow' ? ['baseline'] : ['earlier'], reason: '', policy_hash: 'h', ...extra } },
  };
}
const bash = (session: string, command: string, decision = 'allow', extra?: Record<string, unknown>) => pre(session, 'Bash', { command }, decision, extra);
const post = (of: ReplayEvent): ReplayEvent => ({ time: of.time, kind: 'hook.PostToolUse', session_id: of.session_id, tool_use_id: of.tool_use_id, data: { cwd: of.data.cwd, tool: of.data.tool, tool_input: of.data.tool_input } });

function replay(files: PolicyFile[], events: ReplayEvent[], since?: Date) {
  return replayDecisions({ policy: preparePolicy(files), parser, principal: PRINCIPAL, environment: (cwd) => ({ ...CASE_ENVIRONMENT, cwd }), writHome: '/home/dev/.writ', events, ...(since && { since }) });
}

describe('replayDecisions', () => {
  it('lists exactly the calls a new rule would change, with the rules before and after', () => {
    const events = [bash('a', 'ls -la'), bash('a', 'echo hello'), bash('b', 'git status'), bash('b', 'echo bye')];
    const report = replay([BASELINE, NO_ECHO], events);
    assert.equal(report.replayed, 4);
    assert.equal(report.unchanged, 2);
    assert.deepEqual(report.changedBy, { 'allow→deny': 2 });
    assert.deepEqual(report.changes.map((change) => [change.session, change.call, change.direction]), [
      ['a', 'Bash echo hello', 'allow→deny'],
      ['b', 'Bash echo bye', 'allow→deny'],
    ]);
    assert.deepEqual(report.changes[0]!.before, { decision: 'allow', rules: ['baseline'] });
    assert.deepEqual(report.changes[0]!.after, { decision: 'deny', rules: ['no-echo'] });
    assert.equal(report.changes[0]!.tool_use_id, events[1]!.tool_use_id);
    // The same policy as recorded changes nothing.
    assert.equal(replay([BASELINE], events).changes.length, 0);
  });

  it('a loosened rule shows up in the other direction', () => {
    const report = replay([BASELINE], [bash('a', 'echo hello', 'deny')]);
    assert.deepEqual(report.changedBy, { 'deny→allow': 1 });
  });

  it('rebuilds each session from the calls that ran: allowed, or followed by a PostToolUse', () => {
    const search = (session: string, decision: string) => pre(session, 'WebSearch', { query: 'build flags' }, decision);
    const ranSearch = search('ran', 'allow');
    const askedSearch = search('asked-and-ran', 'ask');
    const refusedSearch = search('refused', 'ask');
    const events = [ranSearch, bash('ran', 'make build'), askedSearch, post(askedSearch), bash('asked-and-ran', 'make build'), refusedSearch, bash('refused', 'make build'), bash('fresh', 'make build')];
    const report = replay([BASELINE, AFTER_SEARCH], events);
    // In event order: a search the person refused never ran, so only its own decision changes.
    assert.deepEqual(report.changes.map((change) => `${change.session} ${change.call} ${change.direction}`), [
      'ran Bash make build allow→ask',
      'asked-and-ran WebSearch build flags ask→allow',
      'asked-and-ran Bash make build allow→ask',
      'refused WebSearch build flags ask→allow',
    ]);
  });

  it('counts a monitor-mode rule that would now block as a change, without changing the decision', () => {
    const monitored: PolicyFile = { name: '10-echo.cedar', text: NO_ECHO.text.replace('@id("no-echo")', '@id("no-echo")\n@mode("monitor")') };
    const report = replay([BASELINE, monitored], [bash('a', 'echo hello'), bash('a', 'ls')]);
    assert.deepEqual(report.changedBy, { monitored: 1 });
    assert.equal(report.changes[0]!.after.decision, 'allow');
    assert.deepEqual(report.changes[0]!.after.monitored, ['no-echo']);
    // Recorded with the same monitored rule: nothing new.
    assert.equal(replay([BASELINE, monitored], [bash('a', 'echo hello', 'allow', { monitored: ['no-echo'] })]).changes.length, 0);
  });

  it('lists calls it cannot replay faithfully, and does not count them as replayed', () => {
    const mcp = pre('a', 'mcp__db__query', { sql: 'select 1', limit: { sha256: 'ab'.repeat(32), bytes: 2 } }, 'allow');
    const redacted = bash('a', 'echo token=[REDACTED:assignment]');
    const killed = bash('a', 'echo x', 'deny');
    (killed.data.decision as { rules: string[] }).rules = ['writ.kill-switch'];
    const malformed: ReplayEvent = { time: new Date(clock).toISOString(), kind: 'hook.malformed', data: { mode: 'enforce', problem: 'not JSON' } };
    const report = replay([BASELINE, NO_ECHO], [mcp, redacted, killed, malformed, bash('a', 'echo fine')]);
    assert.equal(report.replayed, 1);
    assert.equal(report.changes.length, 1);
    assert.deepEqual(report.unreplayable.map((entry) => entry.reason), [
      'MCP argument `limit` was recorded only as a digest',
      'a secret in `command` was redacted',
      'decided outside the policy (writ.kill-switch)',
      'the payload was malformed; only its digest was recorded',
    ]);
    assert.equal(report.unreplayable[0]!.call, 'mcp__db__query');
  });

  it('takes only events since the window, but earlier ones still mark their sessions', () => {
    const earlySearch = pre('s', 'WebSearch', { query: 'q' }, 'allow');
    const earlyEcho = bash('s', 'echo early');
    const since = new Date(clock + 30_000);
    const report = replay([BASELINE, NO_ECHO, AFTER_SEARCH], [earlySearch, earlyEcho, bash('s', 'make all'), bash('s', 'echo late')], since);
    assert.equal(report.context, 2);
    assert.equal(report.replayed, 2);
    assert.deepEqual(report.changes.map((change) => change.call), ['Bash make all', 'Bash echo late']);
    assert.equal(report.changes[0]!.direction, 'allow→ask');
  });

  it('a call that went to a reviewer was the policy asking, whatever the reviewer answered', () => {
    const approved = bash('a', 'make deploy', 'allow', { reason: 'Approved by Ada (reviewer for `ops`) in approval ap_1, valid until …' });
    const searched = pre('a', 'WebSearch', { query: 'q' }, 'allow');
    const pending = bash('a', 'make deploy', 'deny');
    const requested: ReplayEvent = { time: pending.time, kind: 'approval.requested', session_id: 'a', tool_use_id: pending.tool_use_id, data: {} };
    const report = replay([BASELINE, AFTER_SEARCH], [searched, approved, requested, pending]);
    assert.equal(report.replayed, 3);
    assert.equal(report.changes.length, 0, JSON.stringify(report.changes));
  });
});
