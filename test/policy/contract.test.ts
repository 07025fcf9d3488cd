// Task contracts as pure functions: strict parsing with line numbers, and the verdict on a call's actions
// under the standard policy's vocabulary (policy/standard/settings.json).
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { readPolicyDir, STANDARD_POLICY_DIR } from '../../src/home/policy-files.js';
import { ContractError, evaluateContract, knownPhrases, parseContract, type TaskContract } from '../../src/policy/contract.js';
import { CASE_ENVIRONMENT, loadShellParser, normaliseToolCall, parsePolicySettings, preparePolicy, type PolicySettings, type ShellParser, type ToolCall } from '../../src/policy/index.js';
import type { TouchedFlag } from '../../src/policy/session.js';

const EXAMPLE = `task: tighten the export filter for EU invoice rows
allowed:
  read_edit: [billing/export/**, billing/export/tests/**]
  commands: [npm test -- billing/export, npm run lint]
blocked: [migrations, customer data, production logs, secrets, deploy config, write-capable MCP tools]
stop_if: [schema change, wider service boundary, access to production examples]
rollback:
  change: the EU filter in billing/export
  undo: revert the patch in billing/export/** and redeploy the worker
  data_risk: none, read-only export
  trigger: wrong rows in the EU export
  owner: billing on-call
`;

const env = CASE_ENVIRONMENT;
const project = env.projectDir;
let settings: PolicySettings;
let parser: ShellParser;
before(async () => {
  parser = await loadShellParser();
  settings = preparePolicy(readPolicyDir(STANDARD_POLICY_DIR)).settings;
});

function problemsOf(text: string): { line: number; message: string }[] {
  try {
    parseContract(text, settings);
  } catch (error) {
    assert.ok(error instanceof ContractError, `only ContractError is thrown, got ${String(error)}`);
    return error.problems;
  }
  assert.fail('the contract was accepted');
}

function verdict(contract: TaskContract, call: ToolCall, touched: TouchedFlag[] = []) {
  return evaluateContract(contract, normaliseToolCall(call, env, parser), new Set(touched), settings, env);
}

const edit = (path: string): ToolCall => ({ tool: 'Edit', input: { file_path: `${project}/${path}`, old_string: 'a', new_string: 'b' } });
const bash = (command: string): ToolCall => ({ tool: 'Bash', input: { command } });

describe('parsing a contract', () => {
  it('reads the issue example, every phrase known to the standard vocabulary', () => {
    const contract = parseContract(EXAMPLE, settings);
    assert.equal(contract.task, 'tighten the export filter for EU invoice rows');
    assert.deepEqual(contract.allowed.commands, ['npm test -- billing/export', 'npm run lint']);
    assert.deepEqual(contract.blocked, ['migrations', 'customer data', 'production logs', 'secrets', 'deploy config', 'write-capable mcp tools']);
    assert.deepEqual(contract.stop_if, ['schema change', 'wider service boundary', 'access to production examples']);
    assert.equal(contract.rollback?.owner, 'billing on-call');
  });

  it('names the line of an unknown key, a wrong type and an empty task', () => {
    assert.deepEqual(problemsOf('task: x\nallowd:\n  read_edit: [a]\n').map((p) => p.line), [2]);
    assert.match(problemsOf('task: x\nallowd: {}\n')[0]!.message, /unknown key "allowd"/);
    const wrongType = problemsOf('task: x\nallowed:\n  read_edit: billing/**\n');
    assert.equal(wrongType[0]!.line, 3);
    assert.match(wrongType[0]!.message, /allowed.read_edit must be a list/);
    assert.match(problemsOf('task: "  "\nblocked: []\n')[0]!.message, /task must be a non-empty/);
    assert.match(problemsOf('blocked: []\n')[0]!.message, /needs a task/);
    assert.match(problemsOf('task: x\nrollback:\n  undo: 3\n')[0]!.message, /rollback.undo must be a non-empty string/);
  });

  it('lists the known phrases when a phrase is unknown', () => {
    const [problem] = problemsOf('task: x\nblocked:\n  - migrations\n  - the moon\n');
    assert.equal(problem!.line, 4);
    assert.match(problem!.message, /unknown phrase "the moon"/);
    for (const phrase of knownPhrases(settings)) assert.ok(problem!.message.includes(phrase), phrase);
  });

  it('answers malformed and hostile YAML with a ContractError', () => {
    for (const text of ['task: [unclosed', '- a list\n', 'task: x\ntask: y\n', '', 'a: &x [*x]', 'x'.repeat(70_000), 'task: !!binary aGk=\n']) {
      assert.ok(problemsOf(text).length > 0, JSON.stringify(text.slice(0, 20)));
    }
  });
});

describe('judging a call against a contract', () => {
  let contract: TaskContract;
  before(() => (contract = parseContract(EXAMPLE, settings)));

  it('an edit inside allowed.read_edit is inside', () => {
    assert.equal(verdict(contract, edit('billing/export/filter.ts')).outcome, 'inside');
  });

  it('an edit of a migration is blocked, quoting the clause', () => {
    const result = verdict(contract, edit('migrations/001.sql'));
    assert.deepEqual([result.outcome, result.clause, result.quote], ['outside', 'blocked: migrations', 'blocked: migrations']);
    assert.match(result.reason, /migrations\/001\.sql/);
  });

  it('an edit of the schema hits stop_if before blocked', () => {
    const result = verdict(contract, edit('prisma/schema.prisma'));
    assert.deepEqual([result.outcome, result.clause], ['stop', 'stop_if: schema change']);
  });

  it('a write outside the box is the wider service boundary; a read outside is outside the box', () => {
    assert.deepEqual([verdict(contract, edit('billing/invoices/pdf.ts')).outcome, verdict(contract, edit('billing/invoices/pdf.ts')).clause], ['stop', 'stop_if: wider service boundary']);
    const read = verdict(contract, { tool: 'Read', input: { file_path: `${project}/README.md` } });
    assert.deepEqual([read.outcome, read.clause], ['outside', 'allowed.read_edit']);
  });

  it('commands are prefixes of the parsed argv, and every exec of a compound must be inside', () => {
    assert.equal(verdict(contract, bash('npm test -- billing/export --watch')).outcome, 'inside');
    assert.equal(verdict(contract, bash('npm run lint && npm test -- billing/export')).outcome, 'inside');
    assert.deepEqual([verdict(contract, bash('npm run lint && npm publish')).outcome, verdict(contract, bash('npm run lint && npm publish')).clause], ['outside', 'allowed.commands']);
    assert.equal(verdict(contract, bash('npm run linter')).outcome, 'outside', 'a prefix matches whole words');
  });

  it('flags and commands reach the categories', () => {
    assert.equal(verdict(contract, bash('npm run lint'), ['secrets']).clause, 'blocked: secrets');
    assert.equal(verdict(contract, bash('npm run lint'), ['production']).clause, 'stop_if: access to production examples');
    assert.equal(verdict(contract, bash('kubectl logs api-7f9')).clause, 'stop_if: access to production examples');
  });

  it('a high-risk edit needs undo and owner in the rollback note', () => {
    const open = parseContract('task: add a column\nallowed:\n  read_edit: [db/**]\n', settings);
    const result = verdict(open, edit('db/migrations/002_add_column.sql'));
    assert.deepEqual([result.outcome, result.clause, result.phrase], ['needs_rollback', 'rollback', 'migrations']);
    assert.match(result.quote, /no undo, no owner/);
    const noted = parseContract('task: add a column\nallowed:\n  read_edit: [db/**]\nrollback:\n  undo: run the down migration\n  owner: db team\n', settings);
    assert.equal(verdict(noted, edit('db/migrations/002_add_column.sql')).outcome, 'inside');
    assert.equal(verdict(open, edit('db/seeds.rb')).outcome, 'inside', 'only high-risk categories need the note');
  });

  it('a phrase the settings no longer define denies rather than lets through', () => {
    const contract = parseContract('task: x\nblocked: [customer data]\n', settings);
    const fewer = parsePolicySettings(JSON.stringify({ categories: {} })).settings;
    const result = evaluateContract(contract, normaliseToolCall(edit('src/a.ts'), env, parser), new Set(), fewer, env);
    assert.equal(result.outcome, 'outside');
  });
});

describe('categories in settings.json', () => {
  it('are parsed strictly', () => {
    const { problems } = parsePolicySettings(JSON.stringify({ categories: { x: { paths: 'a', flags: ['moon'], colour: 1, high_risk: 'yes' } }, high_risk_without_contract: 'maybe' }));
    const text = problems.map((p) => p.message).join('\n');
    for (const part of ['categories.x.paths must be a list', 'unknown flags moon', 'unknown key "colour"', 'high_risk must be true or false', 'high_risk_without_contract must be one of']) assert.ok(text.includes(part), part);
  });
});
