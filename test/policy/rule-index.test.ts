// The rule index against Cedar itself: the same decisions, determining rules and errors with the index as
// without it, for the policy test corpus, a generated 1,000-rule policy, tricky `like` patterns and
// requests Cedar rejects or errors on.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { before, describe, it } from 'node:test';
import { ORG, orgPolicyFiles, random } from '../../bench/org-policy.js';
import { readPolicyDir, STANDARD_POLICY_DIR } from '../../src/home/policy-files.js';
import type { Action } from '../../src/policy/actions.js';
import { toRequest } from '../../src/policy/decide.js';
import { authorizeUnprepared, ruleTexts, type AuthorizationRequest, type PolicyFile, type PreparedPolicy } from '../../src/policy/engine.js';
import { CASE_ENVIRONMENT, loadShellParser, parseCaseFile, preparePolicy, runCases, type CallContext, type Principal, type ShellParser } from '../../src/policy/index.js';
import { buildRuleIndex, type IndexedRule } from '../../src/policy/rule-index.js';
import { compileExpr, compileLike, UNKNOWN } from '../../src/policy/rule-eval.js';

const CASES_DIR = fileURLToPath(new URL('../../policy/tests', import.meta.url));

let parser: ShellParser;
before(async () => {
  parser = await loadShellParser();
});

/** The same files prepared with the index and without it (today's per-action sets). */
function both(files: PolicyFile[]): { indexed: PreparedPolicy; plain: PreparedPolicy } {
  return { indexed: preparePolicy(files), plain: preparePolicy(files, { index: false }) };
}

function assertSameAnswers(policies: { indexed: PreparedPolicy; plain: PreparedPolicy }, requests: AuthorizationRequest[], options?: { enforcedOnly: boolean }): { allowed: number; denied: number; errors: number } {
  const counts = { allowed: 0, denied: 0, errors: 0 };
  for (const request of requests) {
    const want = policies.plain.authorize(request, options);
    assert.deepEqual(policies.indexed.authorize(request, options), want, `request ${JSON.stringify(request)}`);
    if (want.errors.length > 0) counts.errors++;
    else if (want.allowed) counts.allowed++;
    else counts.denied++;
  }
  return counts;
}

const pick = <T>(next: () => number, items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
const some = <T>(next: () => number, items: readonly T[], chance: number): T[] => items.filter(() => next() < chance);

/** A tool call's action drawn from the words the generated policy uses, so that many calls hit a rule. */
function randomAction(next: () => number): Action {
  const via = 'test';
  switch (pick(next, ['exec', 'exec', 'exec', 'read', 'write', 'delete', 'fetch', 'send', 'mcp_call', 'search', 'delegate'] as const)) {
    case 'exec': {
      const program = pick(next, [...ORG.programs.slice(0, 30), 'tool105', 'kubectl', 'kubectl', 'npm', 'git', 'legacy3', 'old4', 'tool3-v1', 'gh', 'writ', 'codex', 'rm']);
      const args = some(next, ['--force', 'publish', 'deploy', 'delete', 'apply', `--context=${pick(next, ORG.contexts)}`, '--unsafe', 'status', '--target=prod-eu', 'auth', 'token', 'uninstall', '-rf', '/', '--yolo'], 0.2);
      const line = [program, ...args].join(' ');
      return { kind: 'exec', program, args, line, remoteCode: next() < 0.05, facts: some(next, ['git.push.force', 'git.push.target:main'], 0.1), opaque: next() < 0.05 ? 'eval' : '', via };
    }
    case 'read':
    case 'write':
    case 'delete': {
      const service = pick(next, ORG.services.slice(0, 8));
      const path = pick(next, [
        `/home/dev/project/services/${service}/migrations/001.sql`,
        `/home/dev/project/services/${service}/secrets/key.pem`,
        `/home/dev/project/services/${service}`,
        `/home/dev/project/services/${service}/gen/api.pb.go`,
        `/home/dev/project/services/${service}/${service}.prod.env`,
        `/home/dev/project/vendor3/*lib`,
        `/home/dev/project/vendor3/lib`,
        `/home/dev/project/customer-data2/a.csv`,
        `/home/dev/project/docs/public4/index.md`,
        '/home/dev/project/src/index.ts',
        '/home/dev/.ssh/id_rsa',
        '/home/dev/project/.env',
        '/etc/passwd',
        '/tmp/scratch',
        '/home/dev/.bashrc',
      ]);
      return { kind: pick(next, ['read', 'write', 'delete'] as const), path, recursive: next() < 0.2, via };
    }
    case 'fetch':
    case 'send': {
      const host = pick(next, [pick(next, ORG.exfilHosts), `a.${pick(next, ORG.pasteDomains)}`, pick(next, ORG.pasteDomains), pick(next, ORG.docsHosts), 'x.team4.example', 'github.com', 'localhost', 'registry.npmjs.org']);
      const scheme = pick(next, ['https', 'https', 'http']);
      return { kind: pick(next, ['fetch', 'send'] as const), host, port: 443, scheme, method: 'GET', url: `${scheme}://${host}/`, projectRemote: host === 'github.com', via };
    }
    case 'mcp_call':
      return { kind: 'mcp_call', server: pick(next, [...ORG.mcpServers.slice(0, 5), 'github']), tool: pick(next, ['delete_repo', 'admin_users', 'list_issues', 'drop_table']), args: {}, via };
    case 'search':
      return { kind: 'search', query: 'cedar policy', via };
    case 'delegate':
      return { kind: 'delegate', subagent: 'general-purpose', description: 'look around', via };
  }
}

function randomPrincipal(next: () => number): Principal {
  return { user: 'dev', assurance: pick(next, ['oidc', 'local-os-user']), groups: some(next, ORG.groups, 0.3), ...(next() < 0.3 && { email: pick(next, ['a@example.com', 'b@contractor.example']) }) };
}

function randomContext(next: () => number): CallContext {
  return {
    agent: pick(next, ['claude-code', 'claude-code', 'codex']),
    agentVersion: '1',
    session: 's',
    permissionMode: pick(next, ['default', 'default', 'bypassPermissions']),
    writHome: '/home/dev/.writ',
    touched: { secrets: next() < 0.3, untrusted: next() < 0.3, private_data: false, production: false },
    posture: { ...(next() < 0.5 && { disk_encrypted: next() < 0.5 }), ...(next() < 0.5 && { os: pick(next, ['linux', 'darwin']) }) },
  };
}

function randomRequests(policy: PreparedPolicy, seed: number, count: number): AuthorizationRequest[] {
  const next = random(seed);
  return Array.from({ length: count }, () => toRequest(randomPrincipal(next), randomAction(next), 'Bash', CASE_ENVIRONMENT, randomContext(next), policy.attributes));
}

const ODD_VALUES: unknown[] = [undefined, 'x', 1, 1.5, 2 ** 60, null, true, {}, { __extn: { fn: 'ip', arg: '10.0.0.1' } }, { __entity: { type: 'Writ::Group', id: 'sre' } }, { type: 'Writ::Group', id: 'sre' }, 'a\ud800', ['a', 1], [[1]], { nested: { deeper: 'x' } }];

/** A request changed the way a bug in a request builder, or a schema newer than the rules, might change it. */
function mutate(request: AuthorizationRequest, next: () => number): AuthorizationRequest {
  const copy = structuredClone(request);
  const resource = copy.entities.find((entity) => entity.uid.type === copy.resource.type)!;
  switch (Math.floor(next() * 7)) {
    case 0:
    case 1: {
      const names = Object.keys(resource.attrs);
      const name = pick(next, names.length > 0 ? names : ['path']);
      const value = pick(next, ODD_VALUES);
      if (value === undefined && next() < 0.5) delete resource.attrs[name];
      else resource.attrs[name] = value;
      break;
    }
    case 2:
      copy.context[pick(next, Object.keys(copy.context).concat('extra'))] = pick(next, ODD_VALUES);
      break;
    case 3:
      copy.entities.push(structuredClone(resource));
      break;
    case 4:
      copy.entities = copy.entities.filter((entity) => entity !== resource);
      break;
    case 5:
      copy.entities = copy.entities.filter((entity) => entity.uid.type !== 'Writ::User');
      break;
    default:
      copy.action = { ...copy.action, id: pick(next, ['read', 'exec', 'unknown-action']) };
  }
  return copy;
}

describe('the policy test corpus, with the index and without', () => {
  const caseFiles = readdirSync(CASES_DIR)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => ({ name, file: parseCaseFile(readFileSync(join(CASES_DIR, name), 'utf8'), name) }));
  let policies: { indexed: PreparedPolicy; plain: PreparedPolicy };
  before(() => {
    policies = both(readPolicyDir(STANDARD_POLICY_DIR));
  });

  for (const { name, file } of caseFiles) {
    it(`decides every case of ${name} identically, rules and reasons included`, () => {
      const withIndex = runCases(policies.indexed, parser, file);
      const without = runCases(policies.plain, parser, file);
      assert.equal(withIndex.length, file.cases.length);
      withIndex.forEach((result, index) => assert.deepEqual(result.decision, without[index]!.decision, result.name));
    });
  }

  it('understands every rule of the standard policy but those calling extension functions (`ip(…)`)', () => {
    const { rules, keyed, partial } = policies.indexed.index!;
    assert.equal(rules, policies.indexed.rules.size);
    assert.ok(keyed >= 5, `keyed ${keyed}`);
    const texts = ruleTexts(readPolicyDir(STANDARD_POLICY_DIR));
    assert.deepEqual(partial.filter((id) => !/\bip\(/.test(texts[id]!)), []);
  });
});

describe('a generated 1,000-rule policy', () => {
  // Two monitor-mode rules, so the enforced-only answers differ from the full ones for some requests.
  const MONITORED: PolicyFile = {
    name: '80-monitor.cedar',
    text: '@id("monitor.npm")\n@mode("monitor")\nforbid (principal, action == Writ::Action::"exec", resource) when { resource.program == "npm" };\n\n@id("monitor.reads")\n@mode("monitor")\nforbid (principal, action == Writ::Action::"read", resource) when { resource.path like "/home/dev/project/src/*" };\n',
  };
  const files = [...readPolicyDir(STANDARD_POLICY_DIR), ...orgPolicyFiles(), MONITORED];
  let policies: { indexed: PreparedPolicy; plain: PreparedPolicy };
  before(() => {
    policies = both(files);
  });

  it('has about 1,000 rules, most of them keyed, a few using extension functions', () => {
    const stats = policies.indexed.index!;
    assert.ok(stats.rules >= 1000, `rules ${stats.rules}`);
    assert.ok(stats.keyed > stats.rules / 2, `keyed ${stats.keyed}`);
    assert.equal(stats.partial.filter((id) => id.startsWith('org.')).length, 10);
  });

  it('answers 2,500 generated requests exactly as Cedar does without the index', () => {
    const counts = assertSameAnswers(policies, randomRequests(policies.plain, 1, 2500));
    // The requests must exercise both outcomes, or the comparison proves little.
    assert.ok(counts.allowed > 250 && counts.denied > 250, JSON.stringify(counts));
  });

  it('answers the enforced-only question (monitor-mode rules left out) exactly as Cedar does', () => {
    assertSameAnswers(policies, randomRequests(policies.plain, 2, 1000), { enforcedOnly: true });
  });

  it('answers 1,000 malformed and odd requests exactly as Cedar does, errors included', () => {
    const next = random(3);
    const counts = assertSameAnswers(
      policies,
      randomRequests(policies.plain, 4, 1000).map((request) => mutate(request, next)),
    );
    assert.ok(counts.errors > 60, JSON.stringify(counts));
  });

  it('agrees with cedar-wasm re-parsing the whole policy for every request', () => {
    const texts = ruleTexts(files);
    for (const request of randomRequests(policies.plain, 5, 8)) assert.deepEqual(policies.indexed.authorize(request), authorizeUnprepared(texts, request));
  });
});

describe('rules written to be awkward', () => {
  const TRICKY: PolicyFile = {
    name: 'tricky.cedar',
    text: [
      '@id("base") permit (principal, action, resource);',
      '@id("like.star-literal") forbid (principal, action == Writ::Action::"read", resource) when { resource.name like "\\**" };',
      '@id("like.escaped-end") forbid (principal, action == Writ::Action::"read", resource) when { resource.name like "*.e\\*v" };',
      '@id("like.trailing") forbid (principal, action == Writ::Action::"read", resource) when { resource.name like "ab*" && !resource.recursive };',
      '@id("like.middle") forbid (principal, action == Writ::Action::"read", resource) when { resource.name like "*a*b*a*" };',
      '@id("like.doubled") forbid (principal, action == Writ::Action::"read", resource) when { resource.name like "a**b" };',
      '@id("like.exact") forbid (principal, action == Writ::Action::"read", resource) when { resource.name like "a\\*b" };',
      '@id("like.overlap") forbid (principal, action == Writ::Action::"read", resource) when { resource.name like "ab*ba" };',
      '@id("like.backslash") forbid (principal, action == Writ::Action::"read", resource) when { resource.name like "*\\\\*" };',
      '@id("like.anything") forbid (principal, action == Writ::Action::"read", resource) when { resource.name like "*" } unless { resource.in_project || resource.name == "" };',
      '@id("negation") forbid (principal, action == Writ::Action::"read", resource) when { !(resource.path like "/home/*") && !resource.in_temp };',
      '@id("unless.only") forbid (principal, action in [Writ::Action::"write", Writ::Action::"delete"], resource) unless { resource.in_project || resource.in_temp };',
      '@id("has.email") forbid (principal, action == Writ::Action::"send", resource) when { principal has email && principal.email like "*@contractor.example" };',
      '@id("posture") forbid (principal, action == Writ::Action::"read", resource) when { context.device has disk_encrypted && !context.device.disk_encrypted && resource.in_project };',
      '@id("touched") forbid (principal, action == Writ::Action::"send", resource) when { context.touched.secrets } unless { resource.loopback };',
      '@id("groups") forbid (principal in Writ::Group::"contractors", action == Writ::Action::"exec", resource) when { ["kubectl", "terraform"].contains(resource.program) };',
      '@id("group-set") forbid (principal, action == Writ::Action::"exec", resource) when { principal in [Writ::Group::"dba", Writ::Group::"sre"] && resource.args.containsAny(["drop", "truncate"]) };',
      '@id("set-ops") forbid (principal, action == Writ::Action::"exec", resource) when { resource.args.containsAll(["-r", "-f"]) || (resource.args.isEmpty() && resource.program == "sh") };',
      '@id("if") forbid (principal, action == Writ::Action::"fetch", resource) when { if resource.scheme == "http" then resource.port != 80 else resource.port < 1024 && resource.port + 1 > 444 };',
      '@id("is-in") forbid (principal, action == Writ::Action::"mcp_call", resource is Writ::McpTool in Writ::McpServer::"srv1") when { resource.tool like "admin_*" };',
      '@id("action-in-condition") forbid (principal, action, resource) when { action in [Writ::Action::"search", Writ::Action::"delegate"] && context.agent == "codex" };',
      '@id("ask.opaque") @effect("ask") forbid (principal, action == Writ::Action::"exec", resource) when { resource.opaque };',
      '@id("extension") forbid (principal, action == Writ::Action::"exec", resource) when { resource.program == "ping" && ip("10.1.2.3").isInRange(ip("10.0.0.0/8")) };',
      '@id("extension-first") forbid (principal, action == Writ::Action::"send", resource) when { decimal("1.5").lessThan(decimal("2.0")) && resource.host == "internal.example" };',
      '@id("record") forbid (principal, action == Writ::Action::"exec", resource) when { resource.program == "env" && {a: resource.line}.a like "*SECRET*" };',
      // Overflows (an error in Cedar) once the port is 10 or more; the evaluator leaves numbers past 2^53 to Cedar.
      '@id("overflow") forbid (principal, action == Writ::Action::"send", resource) when { resource.port * 1000000000 * 1000000000 > 0 };',
      '@id("big-literal") forbid (principal, action == Writ::Action::"fetch", resource) when { resource.port == 9223372036854775807 };',
    ].join('\n\n'),
  };
  let policies: { indexed: PreparedPolicy; plain: PreparedPolicy };
  before(() => {
    policies = both([TRICKY]);
  });

  it('matches Cedar on `like` for names over an alphabet of the pattern characters', () => {
    const next = random(6);
    const requests = Array.from({ length: 2000 }, () => {
      const name = Array.from({ length: Math.floor(next() * 7) }, () => pick(next, ['a', 'b', '*', '\\', '.', 'e', 'v'])).join('');
      const action: Action = { kind: 'read', path: pick(next, ['/home/dev/project/', '/tmp/', '/srv/']) + name, recursive: next() < 0.3, via: 'test' };
      return toRequest(randomPrincipal(next), action, 'Read', CASE_ENVIRONMENT, randomContext(next), policies.plain.attributes);
    });
    const counts = assertSameAnswers(policies, requests);
    assert.ok(counts.allowed > 100 && counts.denied > 100, JSON.stringify(counts));
  });

  it('matches Cedar on negation, unless, has, groups, sets, if, is-in, extensions and overflow errors', () => {
    const next = random(7);
    const requests = Array.from({ length: 2000 }, () => {
      let action = randomAction(next);
      if (action.kind === 'exec' && next() < 0.3) action = { ...action, program: pick(next, ['kubectl', 'terraform', 'sh', 'ping', 'env']), args: some(next, ['drop', 'truncate', '-r', '-f', 'SECRET'], 0.4) };
      if ((action.kind === 'fetch' || action.kind === 'send') && next() < 0.5) action = { ...action, port: pick(next, [80, 443, 8080, 1, 9, 10, 2 ** 53 + 2]), host: pick(next, ['internal.example', action.host]) };
      if (action.kind === 'mcp_call' && next() < 0.5) action = { ...action, server: 'srv1', tool: pick(next, ['admin_x', 'list']) };
      return toRequest(randomPrincipal(next), action, 'Bash', CASE_ENVIRONMENT, randomContext(next), policies.plain.attributes);
    });
    const counts = assertSameAnswers(policies, requests);
    assert.ok(counts.errors > 20 && counts.denied > 100 && counts.allowed > 100, JSON.stringify(counts));
  });

  it('names the rules with constructs it leaves to Cedar: extension functions, records, literals past 2^53', () => {
    assert.deepEqual(policies.indexed.index!.partial, ['extension', 'extension-first', 'record', 'big-literal']);
  });

  it('keeps a rule that errors making the decision deny with writ.policy-error', () => {
    const principal: Principal = { user: 'dev', assurance: 'oidc', groups: [] };
    const context: CallContext = { agent: 'claude-code', agentVersion: '1', session: 's', permissionMode: 'default', writHome: '/home/dev/.writ' };
    const send: Action = { kind: 'send', host: 'github.com', port: 443, scheme: 'https', method: 'POST', url: 'https://github.com/', projectRemote: true, via: 'curl' };
    for (const policy of [policies.indexed, policies.plain]) {
      const answer = policy.authorize(toRequest(principal, send, 'Bash', CASE_ENVIRONMENT, context, policy.attributes));
      assert.equal(answer.errors.length, 1);
      assert.match(answer.errors[0]!, /^overflow: .*overflow/);
    }
  });
});

describe('the index on its own', () => {
  const json = (condition: unknown, effect = 'forbid') => ({ effect, principal: { op: 'All' }, action: { op: 'All' }, resource: { op: 'All' }, conditions: [{ kind: 'when', body: condition }] });
  const attr = (name: string) => ({ '.': { left: { Var: 'resource' }, attr: name } });
  const rules: IndexedRule[] = [
    { id: 'base', permit: true, monitor: false, json: { effect: 'permit', principal: { op: 'All' }, action: { op: 'All' }, resource: { op: 'All' }, conditions: [] }, actions: ['exec'] },
    { id: 'npm', permit: false, monitor: false, json: json({ '==': { left: attr('program'), right: { Value: 'npm' } } }), actions: ['exec'] },
    { id: 'ext', permit: false, monitor: false, json: json({ '&&': { left: { '==': { left: attr('program'), right: { Value: 'ping' } } }, right: { isInRange: [{ ip: [{ Value: '10.0.0.1' }] }, { ip: [{ Value: '10.0.0.0/8' }] }] } } }), actions: ['exec'] },
  ];
  const request = (program: string): AuthorizationRequest => ({
    principal: { type: 'Writ::User', id: 'dev' },
    action: { type: 'Writ::Action', id: 'exec' },
    resource: { type: 'Writ::Command', id: program },
    context: {},
    entities: [{ uid: { type: 'Writ::Command', id: program }, attrs: { program }, parents: [] }],
  });
  const index = buildRuleIndex(rules);

  it('decides without Cedar when every reachable rule is understood', () => {
    assert.deepEqual(index.screen(request('ls')), { kind: 'decided', allowed: true, rules: ['base'] });
    assert.deepEqual(index.screen(request('npm')), { kind: 'decided', allowed: false, rules: ['npm'] });
  });

  it('asks Cedar, about the rules not false for certain only, when an extension function is reached', () => {
    assert.deepEqual(index.screen(request('ping')), { kind: 'cedar', candidates: ['base', 'ext'] });
  });

  it('asks Cedar when a value is one Cedar might read differently', () => {
    const odd = request('ls');
    odd.entities[0]!.attrs.extra = 1.5;
    assert.deepEqual(index.screen(odd), { kind: 'cedar', candidates: ['base'] });
  });

  it('leaves an action no rule names to Cedar', () => {
    assert.equal(index.screen({ ...request('ls'), action: { type: 'Writ::Action', id: 'teleport' } }), undefined);
  });

  it('compiles unknown or malformed JSON to UNKNOWN without throwing', () => {
    const next = random(8);
    const node = (depth: number): unknown => {
      const leaf = pick(next, [null, 1, 'x', true, [], {}, { Var: 'resource' }, { Value: { __extn: { fn: 'ip', arg: '1.1.1.1' } } }, { Slot: '?principal' }]);
      if (depth === 0 || next() < 0.3) return leaf;
      const op = pick(next, ['&&', '||', '!', '==', 'like', '.', 'has', 'is', 'in', 'contains', 'Set', 'Record', 'if-then-else', 'isInRange', 'ip', 'getTag', 'neg', '+']);
      return { [op]: pick(next, [{ left: node(depth - 1), right: node(depth - 1), arg: node(depth - 1), attr: pick(next, ['a', ['a', 'b'], 3]), pattern: pick(next, [['Wildcard'], [{ Literal: 1 }], 'x']) }, [node(depth - 1)], node(depth - 1)]) };
    };
    const many = Array.from({ length: 500 }, (_, n) => ({ id: `r${n}`, permit: false, monitor: false, json: pick(next, [json(node(5)), node(5), null, { conditions: 'x' }]), actions: ['exec'] }));
    const fuzzed = buildRuleIndex(many);
    for (const program of ['ls', 'npm']) assert.ok(['decided', 'cedar'].includes(fuzzed.screen(request(program))!.kind));
    assert.equal(compileExpr({ isInRange: [{ ip: [{ Value: '10.0.0.1' }] }] }).evaluate(undefined as never), UNKNOWN);
  });

  it('matches `like` patterns with escaped stars, leading and trailing wildcards', () => {
    const like = (pattern: string) => compileLike([...pattern].map((char) => (char === '%' ? 'Wildcard' : { Literal: char })))!;
    assert.equal(like('%.pub')('id_rsa.pub'), true);
    assert.equal(like('%.pub')('.pub.x'), false);
    assert.equal(like('ab%ba')('aba'), false);
    assert.equal(like('ab%ba')('abba'), true);
    assert.equal(like('*%')('*'), true);
    assert.equal(like('*%')('x*'), false);
    assert.equal(like('%a%b%')('ba'), false);
    assert.equal(like('')(''), true);
  });
});
