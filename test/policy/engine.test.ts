// The Cedar engine and decide(): schema validation with file:line, rule ids, ask, deny over ask, explicit allow.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { CASE_ENVIRONMENT, checkPolicy, decide, loadShellParser, PolicyError, preparePolicy, type CallContext, type PolicyFile, type Principal, type ShellParser, type ToolCall } from '../../src/policy/index.js';

const PRINCIPAL: Principal = { user: 'dev', assurance: 'local-os-user', groups: [] };
const CONTEXT: CallContext = { agent: 'claude-code', agentVersion: 'test', session: 's', permissionMode: 'default', writHome: '/home/dev/.writ' };

const BASELINE: PolicyFile = { name: '00-baseline.cedar', text: '@id("baseline")\npermit (principal, action, resource);\n' };

let parser: ShellParser;
before(async () => {
  parser = await loadShellParser();
});

function decideWith(files: PolicyFile[], call: ToolCall) {
  return decide(preparePolicy(files), parser, PRINCIPAL, call, CASE_ENVIRONMENT, CONTEXT);
}

const bash = (command: string): ToolCall => ({ tool: 'Bash', input: { command } });

describe('checkPolicy', () => {
  it('rejects a misspelt attribute with its file and line', () => {
    const typo: PolicyFile = {
      name: '10-secrets.cedar',
      text: '// secrets\n\n@id("secrets.ssh")\nforbid (principal, action == Writ::Action::"read", resource)\nwhen { resource.pathh like "*/.ssh/*" };\n',
    };
    const problems = checkPolicy([BASELINE, typo]);
    assert.equal(problems.length, 1);
    assert.equal(problems[0]!.file, '10-secrets.cedar');
    assert.equal(problems[0]!.line, 5);
    assert.match(problems[0]!.message, /pathh/);
    assert.throws(() => preparePolicy([BASELINE, typo]), (error: unknown) => error instanceof PolicyError && /10-secrets\.cedar:5:/.test(error.message));
  });

  it('rejects a syntax error with its file and line', () => {
    const broken: PolicyFile = { name: 'broken.cedar', text: '@id("x")\nforbid (principal, action, resource)\nwhen { resource.path like };\n' };
    const [problem] = checkPolicy([broken]);
    assert.equal(problem!.file, 'broken.cedar');
    assert.equal(problem!.line, 3);
  });

  it('rejects a rule id used twice, naming both places', () => {
    const one: PolicyFile = { name: 'a.cedar', text: '@id("same")\nforbid (principal, action == Writ::Action::"exec", resource) when { resource.program == "a" };\n' };
    const two: PolicyFile = { name: 'b.cedar', text: '\n@id("same")\nforbid (principal, action == Writ::Action::"exec", resource) when { resource.program == "b" };\n' };
    const problems = checkPolicy([one, two]);
    assert.equal(problems.length, 1);
    assert.deepEqual([problems[0]!.file, problems[0]!.line], ['b.cedar', 2]);
    assert.match(problems[0]!.message, /a\.cedar:1/);
  });

  it('accepts the standard shape: annotated forbids over a baseline permit', () => {
    assert.deepEqual(checkPolicy([BASELINE, { name: 'r.cedar', text: '@id("r")\n@reason("why")\nforbid (principal, action == Writ::Action::"exec", resource) when { resource.opaque };\n' }]), []);
  });
});

describe('decide', () => {
  const ASK_OPAQUE: PolicyFile = { name: 'ask.cedar', text: '@id("ask.opaque")\n@effect("ask")\n@reason("needs a look")\nforbid (principal, action == Writ::Action::"exec", resource) when { resource.opaque };\n' };
  const DENY_NETRC: PolicyFile = { name: 'deny.cedar', text: '@id("deny.netrc")\n@reason("tokens")\nforbid (principal, action == Writ::Action::"read", resource) when { resource.name == ".netrc" };\n' };

  it('answers ask for a forbid annotated @effect("ask"), naming the rule', () => {
    const decision = decideWith([BASELINE, ASK_OPAQUE, DENY_NETRC], bash('eval "$CMD"'));
    assert.equal(decision.decision, 'ask');
    assert.deepEqual(decision.rules, ['ask.opaque']);
    assert.match(decision.reason, /Needs a look \(rule ask\.opaque\)/);
  });

  it('lets deny beat ask when one call does both', () => {
    const decision = decideWith([BASELINE, ASK_OPAQUE, DENY_NETRC], bash('eval "$CMD"; cat ~/.netrc'));
    assert.equal(decision.decision, 'deny');
    assert.deepEqual(decision.rules, ['deny.netrc']);
  });

  it('allows what no forbid matches, without telling the agent to skip its own checks', () => {
    const decision = decideWith([BASELINE, ASK_OPAQUE, DENY_NETRC], bash('npm test'));
    assert.equal(decision.decision, 'allow');
    assert.equal(decision.explicitAllow, false);
  });

  it('answers allow explicitly only when an @answer("allow") permit covers every action', () => {
    const answerTests: PolicyFile = { name: 'answer.cedar', text: '@id("answer.npm")\n@answer("allow")\npermit (principal, action == Writ::Action::"exec", resource) when { resource.program == "npm" };\n' };
    const files = [BASELINE, answerTests];
    assert.equal(decideWith(files, bash('npm test')).explicitAllow, true);
    const mixed = decideWith(files, bash('npm test && git status'));
    assert.equal(mixed.decision, 'allow');
    assert.equal(mixed.explicitAllow, false);
  });

  it('denies a Bash call whose command is not a string', () => {
    const decision = decideWith([BASELINE], { tool: 'Bash', input: { command: 42 } });
    assert.equal(decision.decision, 'deny');
    assert.deepEqual(decision.rules, ['writ.malformed-call']);
    assert.match(decision.reason, /without a string command/);
  });

  it('denies when no permit applies at all', () => {
    const decision = decideWith([DENY_NETRC], bash('ls'));
    assert.equal(decision.decision, 'deny');
    assert.deepEqual(decision.rules, ['writ.no-permit']);
  });
});

describe('the engine with and without the rule index', () => {
  const DENY_NETRC_FOR_INDEX: PolicyFile = { name: 'deny.cedar', text: '@id("deny.netrc")\nforbid (principal, action == Writ::Action::"read", resource) when { resource.name == ".netrc" };\n' };
  // Eight forbids that all match one read: Cedar reports them from a hash set, in any order.
  const MANY: PolicyFile = {
    name: 'many.cedar',
    text: ['h', 'c', 'f', 'a', 'g', 'b', 'e', 'd'].map((id) => `@id("many.${id}")\nforbid (principal, action == Writ::Action::"read", resource) when { resource.name == ".netrc" };\n`).join('\n'),
  };

  for (const index of [true, false]) {
    it(`names the determining rules sorted, so the reason cites the same rule every time (index ${index})`, () => {
      const decision = decide(preparePolicy([BASELINE, MANY], { index }), parser, PRINCIPAL, bash('cat ~/.netrc'), CASE_ENVIRONMENT, CONTEXT);
      assert.deepEqual(decision.rules, ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((id) => `many.${id}`));
      assert.match(decision.reason, /\(rule many\.a, many\.b/);
    });

    it(`denies with writ.policy-error a request Cedar cannot even read, instead of throwing (index ${index})`, () => {
      const decision = decide(preparePolicy([BASELINE, DENY_NETRC_FOR_INDEX], { index }), parser, PRINCIPAL, { tool: 'Read', input: { file_path: '/home/dev/project/a\ud800' } }, CASE_ENVIRONMENT, CONTEXT);
      assert.equal(decision.decision, 'deny');
      assert.deepEqual(decision.rules, ['writ.policy-error']);
    });
  }

  it('reports the index only when the policy was prepared with one', () => {
    assert.deepEqual(preparePolicy([BASELINE, DENY_NETRC_FOR_INDEX]).index, { rules: 2, keyed: 1, partial: [] });
    assert.equal(preparePolicy([BASELINE], { index: false }).index, undefined);
  });
});
