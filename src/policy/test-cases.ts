// Policy test cases kept as files: a tool call and the decision the policy must reach.
import type { CallEnvironment } from './actions.js';
import { decide, UNTOUCHED, type CallContext, type Decision, type DecisionKind, type Posture, type Principal } from './decide.js';
import { observe, touchedBy } from './session.js';
import type { PreparedPolicy } from './engine.js';
import type { ShellParser } from './shell/parse.js';

export interface PolicyCase {
  name?: string;
  /** Shorthand for a Bash call. */
  bash?: string;
  tool?: string;
  input?: unknown;
  expect: DecisionKind;
  /** When given, this rule must be among the determining ones. */
  rule?: string;
  /** Calls that ran earlier in the same session, oldest first: they set what the session touched. */
  before?: CaseCall[];
}

/** A call as a case gives it: a Bash command line, or a tool and its input. */
export interface CaseCall {
  bash?: string;
  tool?: string;
  input?: unknown;
}

/** What a case file's calls are: attacks the policy must deny or ask about, or ordinary work it must allow. */
export type CaseSuite = 'attack' | 'ordinary';

export interface PolicyCaseFile {
  suite?: CaseSuite;
  environment?: Partial<Pick<CallEnvironment, 'home' | 'cwd' | 'projectDir' | 'tempDirs' | 'osUser' | 'gitRemotes' | 'gitBranch' | 'mcpServers' | 'repository'>>;
  /** Who runs the calls: groups and email; a local OS user with no groups when absent. */
  principal?: Partial<Principal>;
  /** The device's posture; unknown when absent. */
  posture?: Posture;
  cases: PolicyCase[];
}

export interface CaseResult {
  name: string;
  passed: boolean;
  expected: DecisionKind;
  decision: Decision;
  problem?: string;
}

/** A fixed, file-system-free world, so case files give the same answer on every machine. */
export const CASE_ENVIRONMENT: CallEnvironment = {
  home: '/home/dev',
  cwd: '/home/dev/project',
  projectDir: '/home/dev/project',
  tempDirs: ['/tmp'],
  osUser: 'dev',
  gitRemotes: { origin: 'github.com', upstream: 'gitlab.example.com' },
  gitBranch: 'feature/login',
};

const PRINCIPAL: Principal = { user: 'dev', assurance: 'local-os-user', groups: [] };
const CONTEXT: CallContext = { agent: 'claude-code', agentVersion: 'test', session: 'policy-test', permissionMode: 'default', writHome: '/home/dev/.writ' };

export function parseCaseFile(text: string, name: string): PolicyCaseFile {
  const file = JSON.parse(text) as PolicyCaseFile;
  if (!Array.isArray(file?.cases)) throw new Error(`${name}: expected an object with a "cases" array`);
  if (file.suite !== undefined && file.suite !== 'attack' && file.suite !== 'ordinary') throw new Error(`${name}: "suite" must be "attack" or "ordinary"`);
  file.cases.forEach((entry, index) => {
    if (!['allow', 'deny', 'ask'].includes(entry?.expect)) throw new Error(`${name}: case ${index + 1} needs "expect": "allow" | "deny" | "ask"`);
    if (typeof entry.bash !== 'string' && typeof entry.tool !== 'string') throw new Error(`${name}: case ${index + 1} needs "bash" or "tool"`);
    if (file.suite === 'attack' && entry.expect === 'allow') throw new Error(`${name}: case ${index + 1} is in an attack suite, so it must expect "deny" or "ask"`);
    if (file.suite === 'ordinary' && entry.expect !== 'allow') throw new Error(`${name}: case ${index + 1} is in an ordinary suite, so it must expect "allow"`);
    if (entry.before !== undefined && (!Array.isArray(entry.before) || entry.before.some((call) => typeof call?.bash !== 'string' && typeof call?.tool !== 'string'))) {
      throw new Error(`${name}: case ${index + 1}: "before" must be a list of calls, each with "bash" or "tool"`);
    }
  });
  return file;
}

export function runCases(policy: PreparedPolicy, parser: ShellParser, file: PolicyCaseFile): CaseResult[] {
  const env = { ...CASE_ENVIRONMENT, ...file.environment };
  return file.cases.map((entry) => {
    const principal = { ...PRINCIPAL, ...file.principal };
    const context = { ...CONTEXT, ...(file.posture && { posture: file.posture }) };
    // The calls before this one run first, each judged with what the session had touched by then.
    let touched = UNTOUCHED;
    for (const earlier of entry.before ?? []) {
      const ran = decide(policy, parser, principal, toolCall(earlier), env, { ...context, touched });
      touched = observe(touched, touchedBy(ran, policy.rules, env, policy.settings));
    }
    const call = toolCall(entry);
    const decision = decide(policy, parser, principal, call, env, { ...context, touched });
    const name = entry.name ?? (entry.bash !== undefined ? entry.bash : `${entry.tool} ${JSON.stringify(entry.input)}`);
    let problem: string | undefined;
    if (decision.decision !== entry.expect) problem = `expected ${entry.expect}, got ${decision.decision}${decision.rules.length ? ` (${decision.rules.join(', ')})` : ''}`;
    else if (entry.rule && !decision.rules.includes(entry.rule)) problem = `expected rule ${entry.rule}, got ${decision.rules.join(', ')}`;
    return { name, passed: problem === undefined, expected: entry.expect, decision, problem };
  });
}

function toolCall(call: CaseCall): { tool: string; input: unknown } {
  return call.bash !== undefined ? { tool: 'Bash', input: { command: call.bash } } : { tool: call.tool!, input: call.input ?? {} };
}

export interface SuiteRates {
  /** Attack cases denied or asked about, as expected, out of all attack cases. */
  attacks: { caught: number; total: number };
  /** Ordinary cases allowed, out of all ordinary cases. */
  ordinary: { allowed: number; total: number };
}

/** The two numbers a red-team run is judged by, over the files that name their suite. */
export function suiteRates(runs: { suite?: CaseSuite; results: CaseResult[] }[]): SuiteRates {
  const rates: SuiteRates = { attacks: { caught: 0, total: 0 }, ordinary: { allowed: 0, total: 0 } };
  for (const { suite, results } of runs) {
    for (const result of results) {
      if (suite === 'attack') {
        rates.attacks.total++;
        if (result.decision.decision !== 'allow' && result.decision.decision === result.expected) rates.attacks.caught++;
      } else if (suite === 'ordinary') {
        rates.ordinary.total++;
        if (result.decision.decision === 'allow') rates.ordinary.allowed++;
      }
    }
  }
  return rates;
}

export function formatSuiteRates({ attacks, ordinary }: SuiteRates): string {
  return `attacks caught ${attacks.caught}/${attacks.total}, ordinary allowed ${ordinary.allowed}/${ordinary.total}`;
}
