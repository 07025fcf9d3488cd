// The writ command as a user runs it: exit codes, messages, and policy check / eval / test.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { writ } from '../support/writ-process.js';

const home = mkdtempSync(join(tmpdir(), 'writ-cli-'));
const payload = (command: unknown, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ hook_event_name: 'PreToolUse', session_id: 's', cwd: home, tool_name: 'Bash', tool_input: { command }, tool_use_id: 'toolu_1', ...extra });

describe('writ command line', () => {
  test('an unknown command or option is a usage error (exit 2) that says what was wrong', () => {
    const unknown = writ(['frobnicate'], home);
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /unknown command "frobnicate"/);
    const badOption = writ(['log', '--colour'], home);
    assert.equal(badOption.status, 2);
    assert.match(badOption.stderr, /Unknown option '--colour'/);
    const badScope = writ(['install', 'claude-code', '--scope', 'galaxy'], home);
    assert.equal(badScope.status, 2);
    assert.match(badScope.stderr, /--scope must be one of user, project, managed, not "galaxy"/);
    const badAgent = writ(['install', 'cursor', '--scope', 'user'], home);
    assert.equal(badAgent.status, 2);
    const badPort = writ(['daemon', '--http-port', '99999'], home);
    assert.equal(badPort.status, 2);
    assert.match(badPort.stderr, /--http-port takes a whole number/);
  });

  test('log and verify without a journal say where they looked', () => {
    const log = writ(['log'], home);
    assert.equal(log.status, 2);
    assert.match(log.stderr, /no journal at .*journal\.db/);
  });

  test('policy check accepts the standard policy and names file:line:column of an error', () => {
    const ok = writ(['policy', 'check'], home);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /valid against Writ's schema/);
    const dir = mkdtempSync(join(tmpdir(), 'writ-policy-'));
    writeFileSync(join(dir, 'a.cedar'), '@id("fine")\npermit (principal, action, resource);\n');
    writeFileSync(join(dir, 'b.cedar'), '// a typo on line 3\n@id("typo")\nforbid (principal, action == Writ::Action::"read", resource) when { resource.pth like "*" };\n');
    const broken = writ(['policy', 'check', '--policy', dir], home);
    assert.equal(broken.status, 1);
    assert.match(broken.stdout, new RegExp(`${join(dir, 'b.cedar')}:3:\\d+: .*pth`));
    const unparsable = mkdtempSync(join(tmpdir(), 'writ-policy-'));
    writeFileSync(join(unparsable, 'c.cedar'), 'permit (principal, action, resource) when { x ;\n');
    assert.match(writ(['policy', 'check', '--policy', unparsable], home).stdout, /c\.cedar:1:\d+: /);
  });

  test('policy eval prints the decision, rules, reason and the exact hook output', () => {
    const denied = writ(['policy', 'eval'], home, payload('cat ~/.netrc'));
    assert.equal(denied.status, 0, denied.stderr);
    const verdict = JSON.parse(denied.stdout);
    assert.equal(verdict.decision, 'deny');
    assert.deepEqual(verdict.rules, ['credentials.tool-tokens']);
    assert.match(verdict.reason, /rule credentials\.tool-tokens/);
    assert.deepEqual(JSON.parse(verdict.hook_output), { hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: 'deny', permissionDecisionReason: verdict.reason } });
    const silent = JSON.parse(writ(['policy', 'eval'], home, payload('npm test')).stdout);
    assert.equal(silent.decision, 'allow');
    assert.equal(silent.hook_output, '', 'no objection means no output: Claude Code keeps its own checks');
  });

  test('policy eval --jsonl answers each line, and malformed lines are denied without stopping the rest', () => {
    const input = [payload('ls'), '{"hook_event_name": "PreToolUse"', payload(42), payload('rm -rf ~')].join('\n') + '\n';
    const run = writ(['policy', 'eval', '--jsonl'], home, input);
    assert.equal(run.status, 0, run.stderr);
    const verdicts = run.stdout.trim().split('\n').map((line) => JSON.parse(line));
    assert.deepEqual(verdicts.map((verdict) => verdict.decision), ['allow', 'deny', 'deny', 'deny']);
    assert.match(verdicts[1].reason, /not valid JSON/);
    assert.match(verdicts[2].reason, /without a string command/);
  });

  test('policy test runs case files and fails on a wrong expectation', () => {
    const dir = mkdtempSync(join(tmpdir(), 'writ-cases-'));
    writeFileSync(join(dir, 'cases.json'), JSON.stringify({ cases: [{ bash: 'cat ~/.ssh/id_rsa', expect: 'deny', rule: 'credentials.ssh' }, { bash: 'npm test', expect: 'allow' }] }));
    const passing = writ(['policy', 'test', dir], home);
    assert.equal(passing.status, 0, passing.stdout);
    assert.match(passing.stdout, /^2 passed, 0 failed$/m);
    writeFileSync(join(dir, 'cases.json'), JSON.stringify({ cases: [{ bash: 'npm test', expect: 'deny' }] }));
    const failing = writ(['policy', 'test', dir], home);
    assert.equal(failing.status, 1);
    assert.match(failing.stdout, /FAIL cases\.json: npm test\n\s+expected deny, got allow/);
  });
});
