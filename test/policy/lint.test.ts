// Linting a policy: schema errors, rules that can never fire, shadowed rules, duplicate ids, monitor mode
// and ask rules without a reason; the standard policy lints clean.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readPolicyDir, STANDARD_POLICY_DIR } from '../../src/home/policy-files.js';
import { lintPolicy, type PolicyFile } from '../../src/policy/index.js';

const BASELINE: PolicyFile = { name: '00-baseline.cedar', text: '@id("baseline")\npermit (principal, action, resource);\n' };
const rule = (id: string, body: string, annotations = '') => `@id("${id}")\n@reason("because")\n${annotations}${body}\n`;
const READ = 'forbid (principal, action == Writ::Action::"read", resource)';

function lint(text: string) {
  return lintPolicy([BASELINE, { name: '10-rules.cedar', text }]).map(({ kind, rule, line, severity }) => ({ kind, rule, line, severity }));
}

describe('lintPolicy', () => {
  it('the standard policy lints clean', () => {
    assert.deepEqual(lintPolicy(readPolicyDir(STANDARD_POLICY_DIR)), []);
  });

  it('reports schema and syntax errors with file and line, and still lints the other files', () => {
    const findings = lintPolicy([
      BASELINE,
      { name: '10-typo.cedar', text: `@id("typo")\n${READ}\nwhen { resource.pth like "*" };\n` },
      { name: '20-never.cedar', text: rule('never', `${READ} when { false };`) },
    ]);
    assert.deepEqual(
      findings.map(({ kind, file, line, severity }) => ({ kind, file, line, severity })),
      [
        { kind: 'schema', file: '10-typo.cedar', line: 3, severity: 'error' },
        { kind: 'never-fires', file: '20-never.cedar', line: 1, severity: 'warning' },
      ],
    );
    assert.match(findings[0]!.message, /pth/);
  });

  it('finds rules that can never fire: impossible conditions, a resource type the action never has, contradictory conditions', () => {
    const text = [
      rule('impossible', `${READ} when { resource.in_project && false };`),
      rule('wrong-type', 'forbid (principal, action == Writ::Action::"read", resource is Writ::Command);'),
      rule('two-names', `${READ} when { resource.name == "a" && resource.path like "*" && resource.name == "b" };`),
      rule('and-not', `${READ} when { resource.in_project } unless { resource.in_project };`),
      rule('fine', `${READ} when { resource.name == "id_rsa" };`),
    ].join('');
    const findings = lint(text).filter((finding) => finding.kind === 'never-fires');
    assert.deepEqual([...new Set(findings.map((finding) => finding.rule))], ['impossible', 'wrong-type', 'two-names', 'and-not']);
    const messages = lintPolicy([BASELINE, { name: 'a.cedar', text }]).map((finding) => `${finding.rule}: ${finding.message}`);
    assert.ok(messages.includes('impossible: can never fire: policy is impossible: the policy expression evaluates to false for all valid requests'), messages.join('\n'));
    assert.ok(messages.includes('two-names: can never fire: it needs one attribute to equal both "a" and "b"'), messages.join('\n'));
    // An empty action scope is already a schema error.
    assert.equal(lintPolicy([BASELINE, { name: 'b.cedar', text: rule('none', 'forbid (principal, action in [], resource);') }])[0]!.kind, 'schema');
  });

  it('finds a rule shadowed by a broader rule at least as strong', () => {
    const text = [
      rule('ssh', `${READ} when { resource.path like "*/.ssh/*" };`),
      rule('ssh-key', `${READ} when { resource.name == "id_rsa" && resource.path like "*/.ssh/*" };`),
      rule('ssh-ask', `${READ} when { resource.path like "*/.ssh/*" && resource.recursive };`, '@effect("ask")\n'),
      rule('any-key', `${READ} when { resource.name == "id_rsa" || resource.name == "id_ed25519" };`),
      rule('ed-key', `${READ} unless { resource.in_project } when { resource.name == "id_ed25519" };`),
    ].join('');
    const shadowed = lintPolicy([BASELINE, { name: '10-rules.cedar', text }]).filter((finding) => finding.kind === 'shadowed');
    assert.deepEqual(shadowed.map((finding) => finding.rule), ['ssh-key', 'ssh-ask', 'ed-key']);
    assert.match(shadowed[0]!.message, /shadowed by "ssh" \(10-rules\.cedar:1\).*syntactic/);
    assert.match(shadowed[2]!.message, /shadowed by "any-key"/);
  });

  it('does not call a rule shadowed when the other is weaker, narrower, monitored or about other actions', () => {
    const text = [
      rule('ask-ssh', `${READ} when { resource.path like "*/.ssh/*" };`, '@effect("ask")\n'),
      rule('deny-key', `${READ} when { resource.name == "id_rsa" && resource.path like "*/.ssh/*" };`),
      rule('narrow', `${READ} when { resource.name == "x" && resource.in_project };`),
      rule('broad', `${READ} when { resource.name == "x" };`, '@mode("monitor")\n'),
      rule('write-x', 'forbid (principal, action == Writ::Action::"write", resource) when { resource.name == "x" };'),
      rule('read-or-write', 'forbid (principal, action in [Writ::Action::"read", Writ::Action::"write"], resource) when { resource.name == "y" };'),
      rule('read-y', `${READ} when { resource.name == "y" && resource.recursive };`),
    ].join('');
    const shadowed = lint(text).filter((finding) => finding.kind === 'shadowed');
    // Only read-y: read-or-write covers its action and its condition. A monitor rule blocks nothing.
    assert.deepEqual(shadowed.map((finding) => finding.rule), ['read-y']);
  });

  it('two identical rules: the later one is reported, once', () => {
    const same = `${READ} when { resource.name == "id_rsa" };`;
    const shadowed = lint(rule('first', same) + rule('second', same)).filter((finding) => finding.kind === 'shadowed');
    assert.deepEqual(shadowed.map((finding) => finding.rule), ['second']);
  });

  it('reports duplicate ids as errors, monitor-mode rules as information, ask rules without a reason as warnings', () => {
    const findings = lint(
      [
        '@id("dup")\n@reason("r")\nforbid (principal, action == Writ::Action::"exec", resource) when { resource.program == "a" };\n',
        '@id("dup")\n@reason("r")\nforbid (principal, action == Writ::Action::"exec", resource) when { resource.program == "b" };\n',
        '@id("watch")\n@reason("r")\n@mode("monitor")\nforbid (principal, action == Writ::Action::"exec", resource) when { resource.program == "c" };\n',
        '@id("mute")\n@effect("ask")\nforbid (principal, action == Writ::Action::"exec", resource) when { resource.program == "d" };\n',
      ].join(''),
    );
    assert.deepEqual(findings, [
      { kind: 'duplicate-id', rule: undefined, line: 4, severity: 'error' },
      { kind: 'monitor-mode', rule: 'watch', line: 7, severity: 'info' },
      { kind: 'ask-without-reason', rule: 'mute', line: 11, severity: 'warning' },
    ]);
  });
});
