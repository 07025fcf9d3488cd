// `writ guard [check]`: is Writ's guard really on? Asks the daemon for its last heartbeat (`check`: a fresh
// one, self-test included) and prints each agent's guard state, the self-test and the tool calls the agent's
// own transcript shows without a Writ decision. Exits 1 unless every agent's hooks are in force and the
// self-test passed.
import { request } from 'node:http';
import { GUARD_PATH } from '../../daemon/daemon.js';
import type { GuardHeartbeat } from '../../daemon/guard-reporter.js';
import type { SelfTest } from '../../daemon/self-test.js';
import { resolveWritHome, type WritHome } from '../../home/writ-home.js';
import { UsageError, type Command } from '../command.js';

/** Long enough for a self-test through the hook (its own deadline is 5 s) and a transcript check. */
const CHECK_TIMEOUT_MS = 30_000;

export const guardCommand: Command = {
  usage: 'guard [check] [--json] [--home DIR]',
  summary: "is Writ's guard on? each agent's hooks, the self-test (check: run it now) and tool calls no Writ decision saw; exit 1 when it is not on",
  options: { json: { type: 'boolean' }, home: { type: 'string' } },
  async run({ values, positionals }) {
    const [sub, ...rest] = positionals;
    if ((sub !== undefined && sub !== 'check') || rest.length > 0) throw new UsageError(`guard takes "check" or nothing (got "${positionals.join(' ')}")`);
    const home = resolveWritHome(values.home as string | undefined);
    let report: GuardHeartbeat;
    try {
      report = await askDaemon(home, sub === 'check' ? 'POST' : 'GET');
    } catch (error) {
      const problem = `the guard is not on: ${(error as Error).message}`;
      if (values.json) process.stdout.write(`${JSON.stringify({ on: false, problem })}\n`);
      else process.stderr.write(`writ guard: ${problem}\n`);
      return 1;
    }
    const verdict = guardVerdict(report);
    if (values.json) process.stdout.write(`${JSON.stringify({ on: verdict.on, problems: verdict.problems, ...report })}\n`);
    else process.stdout.write(formatReport(report, verdict));
    return verdict.on ? 0 : 1;
  },
};

/** On: at least one agent is checked, every agent's hooks are in force, and the self-test passed. */
export function guardVerdict(report: GuardHeartbeat): { on: boolean; problems: string[] } {
  const problems: string[] = [];
  if (report.agents.length === 0) problems.push('no agent guard state could be read');
  for (const agent of report.agents) if (!agent.hooks_installed) problems.push(`${agent.agent}: Writ's hooks are not in force`);
  const selfTest = report.self_test as SelfTest | undefined;
  if (!selfTest) problems.push('no self-test has run');
  else if (!selfTest.passed) problems.push(`self-test ${selfTest.outcome ?? 'failed'}: ${selfTest.detail}`);
  return { on: problems.length === 0, problems };
}

function formatReport(report: GuardHeartbeat, verdict: { on: boolean; problems: string[] }): string {
  const lines = [verdict.on ? 'Writ guard: ON' : 'Writ guard: NOT ON', ''];
  for (const agent of report.agents) {
    lines.push(`${agent.agent}: ${agent.hooks_installed ? "Writ's hooks are in force" : "Writ's hooks are NOT in force"}`);
    for (const settings of agent.settings) {
      const says = settings.problem ? `problem: ${settings.problem}` : `${settings.has_writ_hooks ? 'has' : 'no'} Writ hooks${settings.disable_all_hooks ? ', disableAllHooks' : ''}`;
      lines.push(`  ${settings.scope.padEnd(8)} ${settings.file}: ${says}`);
    }
    for (const problem of agent.problems) lines.push(`  ! ${problem}`);
  }
  const selfTest = report.self_test as SelfTest | undefined;
  lines.push('', selfTest ? `self-test ${selfTest.outcome ?? (selfTest.passed ? 'passed' : 'failed')} at ${selfTest.at}${selfTest.duration_ms !== undefined ? ` (${selfTest.duration_ms} ms)` : ''}: ${selfTest.detail}` : 'self-test: not run yet');
  lines.push(`policy ${report.policy_hash}${report.bundle ? ` (org bundle ${report.bundle})` : ''}${report.kills.length > 0 ? `; kill switches: ${report.kills.join(', ')}` : ''}`);
  lines.push('', report.uncovered_calls.length === 0 ? 'uncovered calls: none found in recent transcripts' : `uncovered calls (${report.uncovered_calls.length}), which ran with no Writ decision:`);
  for (const call of report.uncovered_calls) lines.push(`  ${call.session_id}  ${call.tool_use_id}  ${call.tool ?? '?'}  ${call.source}`);
  for (const finding of report.findings ?? []) lines.push(`  (${finding.severity}) ${finding.subject}${finding.path ? ` ${finding.path}` : ''}: ${finding.message}`);
  if (!verdict.on) lines.push('', ...verdict.problems.map((problem) => `not on: ${problem}`));
  return `${lines.join('\n')}\n`;
}

function askDaemon(home: WritHome, method: 'GET' | 'POST'): Promise<GuardHeartbeat> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: home.socket, method, path: GUARD_PATH, timeout: CHECK_TIMEOUT_MS }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode === 404) return reject(new Error('this daemon has no guard check; restart it with this version of Writ'));
        if (res.statusCode !== 200) return reject(new Error(`the daemon answered ${res.statusCode}: ${text}`));
        try {
          resolve(JSON.parse(text) as GuardHeartbeat);
        } catch {
          reject(new Error('the daemon answered something that is not a guard report'));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`the daemon did not answer within ${CHECK_TIMEOUT_MS / 1000} s`)));
    req.on('error', (error) => reject(new Error(`cannot reach the Writ daemon at ${home.socket} (${(error as NodeJS.ErrnoException).code ?? error.message}); start it with writ daemon`)));
    req.end();
  });
}
