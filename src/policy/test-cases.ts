// Policy test cases kept as files: a tool call and the decision the policy must reach.
import type { CallEnvironment } from './actions.js';
import { decide, type CallContext, type Decision, type DecisionKind, type Principal } from './decide.js';
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
}

/** What a case file's calls are: attacks the policy must deny or ask about, or ordinary work it must allow. */
export type CaseSuite = 'attack' | 'ordinary';

export interface PolicyCaseFile {
  suite?: CaseSuite;
  environment?: Partial<Pick<CallEnvironment, 'home' | 'cwd' | 'projectDir' | 'tempDirs' | 'osUser' | 'gitRemotes' | 'gitBranch'>>;
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
  });
  return file;
}

export function runCases(policy: PreparedPolicy, parser: ShellParser, file: PolicyCaseFile): CaseResult[] {
  const env = { ...CASE_ENVIRONMENT, ...file.environment };
  return file.cases.map((entry) => {
    const call = entry.bash !== undefined ? { tool: 'Bash', input: { command: entry.bash } } : { tool: entry.tool!, input: entry.input ?? {} };
    const decision = decide(policy, parser, PRINCIPAL, call, env, CONTEXT);
    const name = entry.name ?? (entry.bash !== undefined ? entry.bash : `${entry.tool} ${JSON.stringify(entry.input)}`);
    let problem: string | undefined;
    if (decision.decision !== entry.expect) problem = `expected ${entry.expect}, got ${decision.decision}${decision.rules.length ? ` (${decision.rules.join(', ')})` : ''}`;
    else if (entry.rule && !decision.rules.includes(entry.rule)) problem = `expected rule ${entry.rule}, got ${decision.rules.join(', ')}`;
    return { name, passed: problem === undefined, expected: entry.expect, decision, problem };
  });
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
