import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import { MalformedPayload, parsePayload } from '../../agents/claude-code/hook-contract.js';
import { callEnvironment } from '../../daemon/call-environment.js';
import { decidePreToolUse, malformedDecision, type HookDecision } from '../../daemon/hook-service.js';
import { policyDirFor, readPolicyDir, STANDARD_POLICY_DIR } from '../../home/policy-files.js';
import { resolveWritHome } from '../../home/writ-home.js';
import {
  checkPolicy,
  describeAction,
  loadShellParser,
  parseCaseFile,
  preparePolicy,
  runCases,
  type PreparedPolicy,
  type ShellParser,
} from '../../policy/index.js';
import { adminClientOptions } from '../admin-client.js';
import { UsageError, type Command } from '../command.js';
import { publishCommand } from './fleet.js';
import { policyCompileCommand } from './policy-compile.js';
import { explainCommand, lintCommand, POLICY_ROLLOUT_USAGE, policyRolloutOptions, replayCommand } from './policy-rollout.js';

const SUBCOMMANDS = 'check | eval | test | publish | compile | replay | lint | explain';

export const policyCommand: Command = {
  usage: `policy check|eval|test [--policy DIR] [--jsonl] [DIR] | ${publishCommand.usage} | ${policyCompileCommand.usage} | ${POLICY_ROLLOUT_USAGE}`,
  summary: 'validate policies, decide payloads from stdin, run policy test cases, or publish a signed bundle to every device; replay recorded history against a candidate, lint it, explain one payload',
  options: { policy: { type: 'string' }, jsonl: { type: 'boolean' }, comment: { type: 'string' }, ...adminClientOptions, ...policyCompileCommand.options, ...policyRolloutOptions },
  async run({ values, positionals }) {
    const [sub, ...rest] = positionals;
    const dir = policyDirFor(values.policy as string | undefined, resolveWritHome(values.home as string | undefined).policy);
    if (sub === 'check') return check(dir, rest);
    if (sub === 'eval') return evaluate(dir, rest, values.jsonl === true, resolveWritHome(values.home as string | undefined).root);
    if (sub === 'test') return test(dir, rest);
    if (sub === 'publish') return publishCommand.run(values, rest[0] ?? dir);
    if (sub === 'compile') return policyCompileCommand.run(values, rest, dir);
    if (sub === 'replay') return replayCommand(dir, values, rest);
    if (sub === 'lint') return lintCommand(dir, values, rest);
    if (sub === 'explain') return explainCommand(dir, values, rest);
    throw new UsageError(`policy needs a subcommand: ${SUBCOMMANDS}${sub ? ` (got "${sub}")` : ''}`);
  },
};

function noExtra(rest: string[], sub: string): void {
  if (rest.length > 0) throw new UsageError(`policy ${sub} takes no arguments (got "${rest.join(' ')}")`);
}

function check(dir: string, rest: string[]): number {
  noExtra(rest, 'check');
  const files = readPolicyDir(dir);
  const problems = checkPolicy(files);
  for (const problem of problems) process.stdout.write(`${join(dir, problem.file)}:${problem.line}:${problem.column}: ${problem.message}\n`);
  if (problems.length > 0) return 1;
  const rules = preparePolicy(files).rules.size;
  process.stdout.write(`${dir}: ${files.length} files, ${rules} rules, valid against Writ's schema\n`);
  return 0;
}

async function load(dir: string): Promise<{ policy: PreparedPolicy; parser: ShellParser }> {
  return { policy: preparePolicy(readPolicyDir(dir)), parser: await loadShellParser() };
}

/** One Claude Code PreToolUse payload on stdin (or one per line with --jsonl) → one JSON verdict each. */
async function evaluate(dir: string, rest: string[], jsonl: boolean, writHome: string): Promise<number> {
  noExtra(rest, 'eval');
  const { policy, parser } = await load(dir);
  const deps = { policy: () => policy, parser, principal: { user: userInfo().username, assurance: 'local-os-user', groups: [] }, writHome, agentVersion: () => undefined, environment: callEnvironment };
  const decideText = (text: string): HookDecision => {
    try {
      const payload = parsePayload(text);
      if (payload.hook_event_name !== 'PreToolUse') throw new MalformedPayload(`policy eval takes PreToolUse payloads, not ${payload.hook_event_name}`);
      return decidePreToolUse(payload, deps);
    } catch (error) {
      if (!(error instanceof MalformedPayload)) throw error;
      return malformedDecision(error.message, policy.hash);
    }
  };
  const print = ({ decision, output }: HookDecision) =>
    process.stdout.write(
      JSON.stringify({
        decision: decision.decision,
        rules: decision.rules,
        reason: decision.reason,
        hook_output: output,
        actions: decision.actions.map(describeAction),
        policy_hash: decision.policyHash,
      }) + '\n',
    );
  if (!jsonl) {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    const verdict = decideText(Buffer.concat(chunks).toString('utf8'));
    print(verdict);
    return 0;
  }
  for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
    if (line.trim() === '') continue;
    print(decideText(line));
  }
  return 0;
}

/** Runs every *.json case file in DIR (default: the policy directory's tests/, else the standard tests). */
async function test(dir: string, rest: string[]): Promise<number> {
  if (rest.length > 1) throw new UsageError('policy test takes at most one directory');
  const casesDir = rest[0] ?? firstDirectory([join(dir, 'tests'), join(STANDARD_POLICY_DIR, '..', 'tests')]);
  const names = readdirSync(casesDir).filter((name) => name.endsWith('.json')).sort();
  if (names.length === 0) throw new UsageError(`no *.json case files in ${casesDir}`);
  const { policy, parser } = await load(dir);
  const { formatSuiteRates, suiteRates } = await import('../../policy/test-cases.js');
  let passed = 0;
  let failed = 0;
  const runs: Parameters<typeof suiteRates>[0] = [];
  for (const name of names) {
    const file = parseCaseFile(readFileSync(join(casesDir, name), 'utf8'), name);
    const results = runCases(policy, parser, file);
    runs.push({ suite: file.suite, results });
    for (const result of results) {
      if (result.passed) passed++;
      else {
        failed++;
        process.stdout.write(`FAIL ${name}: ${result.name}\n     ${result.problem}\n`);
      }
    }
  }
  process.stdout.write(`${passed} passed, ${failed} failed\n`);
  // Files that name their suite (attack, ordinary) give the red-team rates.
  if (runs.some((run) => run.suite !== undefined)) process.stdout.write(`${formatSuiteRates(suiteRates(runs))}\n`);
  return failed === 0 ? 0 : 1;
}

function firstDirectory(candidates: string[]): string {
  for (const candidate of candidates) {
    try {
      if (statSync(candidate).isDirectory()) return candidate;
    } catch {
      // try the next
    }
  }
  throw new UsageError(`no policy test directory: looked in ${candidates.join(', ')}`);
}
