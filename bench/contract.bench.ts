// What a task contract adds to each PreToolUse in the daemon: reading and hashing the stored contract,
// parsing it against the policy's settings (done on every call, so a deleted or edited file denies at once),
// and judging the call's actions; next to decide() on the same calls, interleaved.
//
//   node --import tsx bench/contract.bench.ts [rounds=300]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CASE_ENVIRONMENT, decide, loadShellParser, preparePolicy, touchedByActions, type Principal } from '../src/policy/index.js';
import { evaluateContract } from '../src/policy/contract.js';
import { loadContract, storeContract } from '../src/daemon/contracts.js';
import { readPolicyDir, STANDARD_POLICY_DIR } from '../src/home/policy-files.js';
import { summary } from './stats.js';

const rounds = Number(process.argv[2] ?? 300);
const project = CASE_ENVIRONMENT.projectDir;
const calls = [
  { tool: 'Edit', input: { file_path: `${project}/billing/export/filter.ts`, old_string: 'a', new_string: 'b' } },
  { tool: 'Write', input: { file_path: `${project}/migrations/001.sql`, content: 'alter table x;' } },
  { tool: 'Bash', input: { command: 'npm run lint && npm test -- billing/export' } },
  { tool: 'Bash', input: { command: 'git status && git diff --stat' } },
  { tool: 'Read', input: { file_path: `${project}/README.md` } },
  { tool: 'mcp__github__create_issue', input: { title: 'x' } },
];
const CONTRACT = `task: tighten the export filter for EU invoice rows
allowed:
  read_edit: [billing/export/**, billing/export/tests/**]
  commands: [npm test -- billing/export, npm run lint]
blocked: [migrations, customer data, production logs, secrets, deploy config, write-capable MCP tools]
stop_if: [schema change, wider service boundary, access to production examples]
rollback:
  undo: revert the patch in billing/export/** and redeploy the worker
  owner: billing on-call
`;

const policy = preparePolicy(readPolicyDir(STANDARD_POLICY_DIR));
const parser = await loadShellParser();
const principal: Principal = { user: 'dev', assurance: 'local-os-user', groups: [] };
const context = { agent: 'claude-code', agentVersion: '2.1.197', session: 'bench', permissionMode: 'default', writHome: '/home/dev/.writ' };
const home = mkdtempSync(join(tmpdir(), 'writ-contract-bench-'));
const hash = storeContract(home, CONTRACT);

const decided: number[] = [];
const loaded: number[] = [];
const judged: number[] = [];
for (let round = 0; round < rounds + 20; round++) {
  for (const call of calls) {
    let start = process.hrtime.bigint();
    const decision = decide(policy, parser, principal, call, CASE_ENVIRONMENT, context);
    const decideTime = Number(process.hrtime.bigint() - start) / 1000;
    start = process.hrtime.bigint();
    const contract = loadContract(home, hash, policy);
    const loadTime = Number(process.hrtime.bigint() - start) / 1000;
    start = process.hrtime.bigint();
    evaluateContract(contract, decision.actions, touchedByActions(decision.actions, CASE_ENVIRONMENT, policy.settings), policy.settings, CASE_ENVIRONMENT);
    const judgeTime = Number(process.hrtime.bigint() - start) / 1000;
    if (round >= 20) decided.push(decideTime), loaded.push(loadTime), judged.push(judgeTime);
  }
}
rmSync(home, { recursive: true, force: true });
console.log(`${calls.length} tool calls under the issue's example contract, standard policy (${policy.rules.size} rules)`);
console.log(`decide() per call, µs:                        ${summary(decided, 0)}`);
console.log(`contract read + sha256 + parse per call, µs:  ${summary(loaded, 0)}`);
console.log(`evaluateContract per call, µs:                ${summary(judged, 0)}`);
