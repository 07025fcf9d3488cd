// Session flags, conditions on person/device/posture/repository, monitor mode and the policy settings file.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { readPolicyDir, STANDARD_POLICY_DIR } from '../../src/home/policy-files.js';
import {
  CASE_ENVIRONMENT,
  checkPolicy,
  decide,
  loadShellParser,
  observe,
  parsePolicySettings,
  preparePolicy,
  touchedBy,
  UNTOUCHED,
  type CallContext,
  type PolicyFile,
  type PreparedPolicy,
  type Principal,
  type ShellParser,
  type ToolCall,
  type Touched,
} from '../../src/policy/index.js';

const PRINCIPAL: Principal = { user: 'dev', assurance: 'oidc', groups: [] };
const CONTEXT: CallContext = { agent: 'claude-code', agentVersion: '2.1.197', session: 's', permissionMode: 'default', writHome: '/home/dev/.writ' };
const BASELINE: PolicyFile = { name: '00-baseline.cedar', text: '@id("baseline")\npermit (principal, action, resource);\n' };
const bash = (command: string): ToolCall => ({ tool: 'Bash', input: { command } });
const read = (path: string): ToolCall => ({ tool: 'Read', input: { file_path: path } });
const webFetch: ToolCall = { tool: 'WebFetch', input: { url: 'https://blog.example.net/post', prompt: 'summarise' } };

let parser: ShellParser;
let standard: PreparedPolicy;
before(async () => {
  parser = await loadShellParser();
  standard = preparePolicy(readPolicyDir(STANDARD_POLICY_DIR));
});

/** Runs calls in one session as the daemon does: each decided call that is allowed marks the session. */
function session(policy: PreparedPolicy, calls: ToolCall[], env = CASE_ENVIRONMENT): Touched {
  let touched = UNTOUCHED;
  for (const call of calls) {
    const decision = decide(policy, parser, PRINCIPAL, call, env, { ...CONTEXT, touched });
    if (decision.decision === 'allow') touched = observe(touched, touchedBy(decision, policy.rules, env, policy.settings));
  }
  return touched;
}

describe('session flags', () => {
  it('a web fetch marks the session untrusted, a project read marks private data', () => {
    assert.deepEqual(session(standard, [webFetch]), { ...UNTOUCHED, untrusted: true });
    assert.deepEqual(session(standard, [read('/home/dev/project/src/app.ts')]), { ...UNTOUCHED, private_data: true });
    assert.deepEqual(session(standard, [read('/etc/hostname')]), UNTOUCHED, 'a file outside the project is not the project’s data');
  });

  it('a denied call marks nothing: it never ran', () => {
    assert.deepEqual(session(standard, [read('/home/dev/.ssh/id_rsa')]), UNTOUCHED);
  });

  it('a secret read that runs anyway (monitor mode) marks secrets and private data through @touches', () => {
    const monitored = preparePolicy([
      BASELINE,
      { name: 'secrets.cedar', text: '@id("ssh")\n@mode("monitor")\n@touches("secrets")\nforbid (principal, action == Writ::Action::"read", resource) when { resource.path like "*/.ssh/*" };\n' },
    ]);
    const decision = decide(monitored, parser, PRINCIPAL, read('/home/dev/.ssh/id_rsa'), CASE_ENVIRONMENT, CONTEXT);
    assert.equal(decision.decision, 'allow', 'a monitored rule does not block');
    assert.deepEqual(decision.monitored, ['ssh']);
    assert.deepEqual(session(monitored, [read('/home/dev/.ssh/id_rsa')]), { ...UNTOUCHED, secrets: true, private_data: true });
  });

  it('the lethal trifecta asks only once both legs are in the session', () => {
    const push = bash('git push origin feature/login');
    const decideAfter = (calls: ToolCall[]) => decide(standard, parser, PRINCIPAL, push, CASE_ENVIRONMENT, { ...CONTEXT, touched: session(standard, calls) });
    assert.equal(decideAfter([]).decision, 'allow');
    assert.equal(decideAfter([webFetch]).decision, 'allow');
    assert.equal(decideAfter([read('/home/dev/project/src/app.ts')]).decision, 'allow');
    const tainted = decideAfter([webFetch, read('/home/dev/project/src/app.ts')]);
    assert.equal(tainted.decision, 'ask');
    assert.deepEqual(tainted.rules, ['session.exfiltration-after-untrusted']);
    assert.match(tainted.reason, /read untrusted content and private data/);
  });

  it('files of a repository not marked trusted are untrusted content', () => {
    const settings = { name: 'settings.json', text: JSON.stringify({ trusted_repositories: ['github.com/acme/*'] }) };
    const policy = preparePolicy([...readPolicyDir(STANDARD_POLICY_DIR), settings]);
    const readme = read('/home/dev/project/README.md');
    assert.deepEqual(session(policy, [readme], { ...CASE_ENVIRONMENT, repository: 'github.com/acme/app' }), { ...UNTOUCHED, private_data: true });
    const outside = { ...CASE_ENVIRONMENT, repository: 'github.com/stranger/tool' };
    assert.deepEqual(session(policy, [readme], outside), { ...UNTOUCHED, private_data: true, untrusted: true });
    const push = decide(policy, parser, PRINCIPAL, bash('git push origin feature/x'), outside, { ...CONTEXT, touched: session(policy, [readme], outside) });
    assert.equal(push.decision, 'ask');
  });

  it('an MCP server marked internal gives private data, any other untrusted content', () => {
    const settings = { name: 'settings.json', text: JSON.stringify({ mcp_servers: { wiki: { trust: 'internal' } } }) };
    const permitMcp = { name: '55-mcp-ok.cedar', text: '@id("mcp.ok")\npermit (principal, action == Writ::Action::"mcp_call", resource);\n' };
    const files = readPolicyDir(STANDARD_POLICY_DIR).filter((file) => file.name !== '50-mcp.cedar');
    const policy = preparePolicy([...files, settings, permitMcp]);
    const call = (server: string): ToolCall => ({ tool: `mcp__${server}__search`, input: { query: 'x' } });
    assert.deepEqual(session(policy, [call('wiki')]), { ...UNTOUCHED, private_data: true });
    assert.deepEqual(session(policy, [call('browser')]), { ...UNTOUCHED, untrusted: true });
  });

  it('production hosts and commands from the settings mark production', () => {
    const settings = { name: 'settings.json', text: JSON.stringify({ production: { hosts: ['*.prod.acme.com'], commands: ['kubectl * --context prod*'] } }) };
    const policy = preparePolicy([BASELINE, settings]);
    assert.equal(session(policy, [bash('curl https://api.prod.acme.com/health')]).production, true);
    assert.equal(session(policy, [bash('kubectl get pods --context prod-eu')]).production, true);
    assert.equal(session(policy, [bash('kubectl get pods --context staging')]).production, false);
  });
});

describe('conditions on person, device, posture, agent and repository', () => {
  const rules: PolicyFile = {
    name: '80-conditions.cedar',
    text: `
@id("posture.secrets-need-encryption")
forbid (principal, action == Writ::Action::"read", resource)
when { resource.name == "customers.csv" && !(context.device has disk_encrypted && context.device.disk_encrypted) };

@id("person.deploy-needs-group")
forbid (principal, action == Writ::Action::"exec", resource)
when { resource.program == "terraform" && !(principal in Writ::Group::"platform") };

@id("agent.old-versions")
forbid (principal, action, resource)
when { context.agent == "claude-code" && context.agent_version like "1.*" };

@id("repo.main-branch")
@effect("ask")
forbid (principal, action == Writ::Action::"write", resource)
when { context.repository == "github.com/acme/payments" && context.branch == "main" };

@id("posture.stale")
forbid (principal, action == Writ::Action::"send", resource)
unless { context.device has age_seconds && context.device.age_seconds <= 86400 };
`,
  };
  let policy: PreparedPolicy;
  before(() => {
    policy = preparePolicy([BASELINE, rules]);
  });
  const decideWith = (call: ToolCall, overrides: { principal?: Partial<Principal>; context?: Partial<CallContext>; env?: Partial<typeof CASE_ENVIRONMENT> } = {}) =>
    decide(policy, parser, { ...PRINCIPAL, ...overrides.principal }, call, { ...CASE_ENVIRONMENT, ...overrides.env }, { ...CONTEXT, ...overrides.context });

  it('posture: unknown or unencrypted disk is refused, an encrypted one is not', () => {
    const call = read('/home/dev/project/data/customers.csv');
    assert.equal(decideWith(call).decision, 'deny', 'unknown posture');
    assert.equal(decideWith(call, { context: { posture: { disk_encrypted: false } } }).decision, 'deny');
    assert.equal(decideWith(call, { context: { posture: { disk_encrypted: true } } }).decision, 'allow');
  });

  it('posture age: a send needs a posture collected within a day', () => {
    const call = bash('curl -d x=1 https://github.com/acme');
    assert.equal(decideWith(call).decision, 'deny');
    assert.equal(decideWith(call, { context: { posture: { age_seconds: 90_000 } } }).decision, 'deny');
    assert.equal(decideWith(call, { context: { posture: { age_seconds: 60 } } }).decision, 'allow');
  });

  it("person: the person's groups", () => {
    assert.equal(decideWith(bash('terraform apply')).decision, 'deny');
    assert.equal(decideWith(bash('terraform apply'), { principal: { groups: ['platform'] } }).decision, 'allow');
  });

  it('agent and its version', () => {
    assert.equal(decideWith(bash('ls'), { context: { agentVersion: '1.0.3' } }).decision, 'deny');
    assert.equal(decideWith(bash('ls'), { context: { agentVersion: '2.1.197' } }).decision, 'allow');
  });

  it('repository and branch', () => {
    const write = { tool: 'Write', input: { file_path: '/home/dev/project/src/a.ts', content: 'x' } };
    assert.equal(decideWith(write, { env: { repository: 'github.com/acme/payments', gitBranch: 'main' } }).decision, 'ask');
    assert.equal(decideWith(write, { env: { repository: 'github.com/acme/payments', gitBranch: 'feature/x' } }).decision, 'allow');
    assert.equal(decideWith(write, { env: { repository: 'github.com/acme/web', gitBranch: 'main' } }).decision, 'allow');
  });
});

describe('monitor mode', () => {
  it('a monitored deny is recorded, and an enforced rule beside it still denies', () => {
    const policy = preparePolicy([
      BASELINE,
      {
        name: '10.cedar',
        text: '@id("new.rule")\n@mode("monitor")\nforbid (principal, action == Writ::Action::"exec", resource) when { resource.program == "make" };\n' +
          '@id("old.rule")\nforbid (principal, action == Writ::Action::"exec", resource) when { resource.program == "make" && resource.args.contains("deploy") };\n',
      },
    ]);
    const build = decide(policy, parser, PRINCIPAL, bash('make build'), CASE_ENVIRONMENT, CONTEXT);
    assert.equal(build.decision, 'allow');
    assert.deepEqual(build.monitored, ['new.rule']);
    const deploy = decide(policy, parser, PRINCIPAL, bash('make deploy'), CASE_ENVIRONMENT, CONTEXT);
    assert.equal(deploy.decision, 'deny');
    assert.deepEqual(deploy.rules, ['old.rule']);
    assert.deepEqual(deploy.monitored, ['new.rule']);
    const other = decide(policy, parser, PRINCIPAL, bash('ls'), CASE_ENVIRONMENT, CONTEXT);
    assert.equal(other.monitored, undefined);
  });

  it('a monitored ask does not ask', () => {
    const policy = preparePolicy([BASELINE, { name: 'a.cedar', text: '@id("ask.rule")\n@mode("monitor")\n@effect("ask")\nforbid (principal, action == Writ::Action::"exec", resource) when { resource.program == "ls" };\n' }]);
    const decision = decide(policy, parser, PRINCIPAL, bash('ls'), CASE_ENVIRONMENT, CONTEXT);
    assert.equal(decision.decision, 'allow');
    assert.deepEqual(decision.monitored, ['ask.rule']);
  });
});

describe('annotations and settings are checked', () => {
  const problemsOf = (text: string) => checkPolicy([BASELINE, { name: 'x.cedar', text }]).map((problem) => problem.message);

  it('unknown annotation values are errors, not rules that silently do nothing', () => {
    assert.match(problemsOf('@id("a")\n@mode("monitr")\nforbid (principal, action, resource);\n')[0]!, /@mode must be "enforce" or "monitor"/);
    assert.match(problemsOf('@id("a")\n@effect("warn")\nforbid (principal, action, resource);\n')[0]!, /@effect can only be "ask"/);
    assert.match(problemsOf('@id("a")\n@touches("secretz")\nforbid (principal, action, resource);\n')[0]!, /@touches names "secretz"/);
    assert.match(problemsOf('@id("a")\n@effect("ask")\n@expires("1 hour")\nforbid (principal, action, resource);\n')[0]!, /@expires must be an ISO 8601 duration/);
    assert.deepEqual(problemsOf('@id("a")\n@effect("ask")\n@reviewers("security")\n@expires("PT30M")\nforbid (principal, action, resource);\n'), []);
  });

  it('settings.json is parsed strictly', () => {
    assert.deepEqual(parsePolicySettings('{"trusted_repositories": ["github.com/acme/*"]}').problems, []);
    assert.match(parsePolicySettings('{"trusted_repos": []}').problems[0]!.message, /unknown setting "trusted_repos"/);
    assert.match(parsePolicySettings('{"mcp_servers": {"wiki": {"trust": "yes"}}}').problems[0]!.message, /mcp_servers\.wiki needs "trust"/);
    assert.match(parsePolicySettings('not json').problems[0]!.message, /not JSON/);
    const problems = checkPolicy([BASELINE, { name: 'settings.json', text: '{"production": {"hosts": "prod"}}' }]);
    assert.equal(problems[0]!.file, 'settings.json');
    assert.match(problems[0]!.message, /production\.hosts must be a list/);
    assert.match(checkPolicy([BASELINE, { name: 'notes.txt', text: 'x' }])[0]!.message, /\.cedar files and settings\.json only/);
  });

  it('every session case file in the standard tests states its suite', () => {
    const dir = join(STANDARD_POLICY_DIR, '..', 'tests');
    for (const name of readdirSync(dir).filter((file) => file.endsWith('-session.json'))) {
      const file = JSON.parse(readFileSync(join(dir, name), 'utf8')) as { suite?: string };
      assert.ok(file.suite === 'attack' || file.suite === 'ordinary', name);
    }
  });
});
