// writ run --contract, writ contract check and attach, as their own processes, with the real hook shim between
// the agent's environment and a real daemon.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startDaemon, type RunningDaemon } from '../../src/daemon/daemon.js';
import { contractHash, contractsDir } from '../../src/daemon/contracts.js';
import { resolveWritHome } from '../../src/home/writ-home.js';
import { journalEvents } from '../support/journal.js';
import { WRIT_BIN, writ, writEnv } from '../support/writ-process.js';

const SHIM = join(import.meta.dirname, '../../native/build/writ-hook');
const root = mkdtempSync(join(tmpdir(), 'writ-run-contract-'));
const userHome = join(root, 'home');
const home = resolveWritHome(join(userHome, '.writ'));
const project = join(root, 'project');
mkdirSync(join(project, 'billing', 'export'), { recursive: true });
const CONTRACT = `task: tighten the export filter for EU invoice rows
allowed:
  read_edit: [billing/export/**]
  commands: [npm test -- billing/export]
blocked: [migrations]
stop_if: [schema change]
`;
const contractFile = join(root, 'task.yaml');
writeFileSync(contractFile, CONTRACT);
const hash = contractHash(CONTRACT);

let daemon: RunningDaemon;
before(async () => {
  daemon = await startDaemon({ home, log: () => {} });
});
after(async () => {
  await daemon?.close();
  rmSync(root, { recursive: true, force: true });
});

/** Runs a process without blocking this one: the daemon it talks to lives in this process. */
function run(program: string, args: string[], env: NodeJS.ProcessEnv, input = ''): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(program, args, { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.once('close', (status) => resolve({ status, stdout, stderr }));
    child.stdin.end(input);
  });
}
const writAsync = (args: string[]) => run(process.execPath, [WRIT_BIN, ...args], writEnv(userHome, home.root));
const shim = (session: string, path: string, extraEnv: Record<string, string> = {}) => run(SHIM, ['enforce'], { ...writEnv(userHome, home.root), ...extraEnv }, preToolUse(session, path));

function preToolUse(session: string, path: string): string {
  return JSON.stringify({ hook_event_name: 'PreToolUse', session_id: session, cwd: project, permission_mode: 'default', tool_name: 'Write', tool_input: { file_path: join(project, path), content: 'x' }, tool_use_id: `toolu_${session}` });
}

describe('writ run --contract', () => {
  it('refuses a malformed contract with its line, and never runs the command', () => {
    const bad = join(root, 'bad.yaml');
    writeFileSync(bad, 'task: x\nblocked:\n  - migrations\n  - the moon\n');
    const marker = join(root, 'ran');
    const run = writ(['run', '--contract', bad, '--', 'touch', marker], userHome);
    assert.equal(run.status, 1);
    assert.match(run.stderr, /bad\.yaml:4: blocked: unknown phrase "the moon" \(known: .*migrations/);
    assert.equal(existsSync(marker), false);
    assert.equal(writ(['run', '--', 'true'], userHome).status, 2, 'no --contract is a usage error');
  });

  it('stores the contract owner-only, names it in WRIT_CONTRACT and passes the exit code through', () => {
    const run = writ(['run', '--contract', contractFile, '--', 'sh', '-c', 'echo "$WRIT_CONTRACT"; exit 7'], userHome);
    assert.equal(run.status, 7, run.stderr);
    assert.equal(run.stdout.trim(), hash);
    const stored = join(contractsDir(home.root), `${hash}.yaml`);
    assert.equal(readFileSync(stored, 'utf8'), CONTRACT);
    assert.equal(statSync(stored).mode & 0o777, 0o600);
    assert.equal(statSync(contractsDir(home.root)).mode & 0o777, 0o700);
  });

  it('forwards a signal to the command', async () => {
    const child = spawn(process.execPath, [WRIT_BIN, 'run', '--contract', contractFile, '--', 'sh', '-c', 'trap "exit 42" TERM; echo ready; while :; do sleep 0.05; done'], { env: writEnv(userHome, home.root) });
    await new Promise<void>((resolve) => child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve()));
    child.kill('SIGTERM');
    const code = await new Promise((resolve) => child.once('exit', resolve));
    assert.equal(code, 42);
  });

  it('through the hook shim, the session meets its contract: a migration is denied quoting it', async () => {
    const denied = await run(process.execPath, [WRIT_BIN, 'run', '--contract', contractFile, '--', SHIM, 'enforce'], writEnv(userHome, home.root), preToolUse('shim-1', 'migrations/001.sql'));
    assert.equal(denied.status, 0, denied.stderr);
    assert.match(JSON.parse(denied.stdout).hookSpecificOutput.permissionDecisionReason, /blocked by the task contract \("blocked: migrations"\)/);
    const attached = journalEvents(home).find((event) => event.kind === 'contract.attached' && event.session_id === 'shim-1');
    assert.equal((attached?.data as { contract_hash: string }).contract_hash, `sha256:${hash}`);
    // Without writ run the same call is no contract's business.
    const plain = await shim('shim-2', 'migrations/001.sql');
    assert.doesNotMatch(plain.stdout, /task contract \(/);
  });

  it('a mangled WRIT_CONTRACT reaches the daemon as invalid and is denied, never dropped', async () => {
    const mangled = await shim('shim-3', 'billing/export/a.ts', { WRIT_CONTRACT: `${hash}\r\nX-Evil: 1` });
    const output = JSON.parse(mangled.stdout);
    assert.equal(output.hookSpecificOutput.permissionDecision, 'deny');
    assert.match(output.hookSpecificOutput.permissionDecisionReason, /"invalid" is not a contract id/);
  });
});

describe('writ contract', () => {
  it('check prints what the contract means', () => {
    const check = writ(['contract', 'check', contractFile], userHome);
    assert.equal(check.status, 0, check.stderr);
    assert.match(check.stdout, /^task: tighten the export filter/m);
    assert.match(check.stdout, /^commands: only those starting with "npm test -- billing\/export"$/m);
    assert.match(check.stdout, /^denied: migrations \(database migrations/m);
    assert.match(check.stdout, /^stops the session: schema change/m);
    assert.match(check.stdout, /rollback note needs undo and owner/);
  });

  it('attach binds a contract to a running session by id', async () => {
    const before = await shim('live-1', 'migrations/002.sql');
    assert.doesNotMatch(before.stdout, /blocked: migrations/);
    const attach = await writAsync(['contract', 'attach', 'live-1', contractFile]);
    assert.equal(attach.status, 0, attach.stderr);
    assert.match(attach.stdout, new RegExp(`attached contract sha256:${hash} to session live-1`));
    const afterward = await shim('live-1', 'migrations/002.sql');
    assert.match(JSON.parse(afterward.stdout).hookSpecificOutput.permissionDecisionReason, /blocked: migrations/);
    assert.equal(writ(['contract', 'attach', 'live-1'], userHome).status, 2);
  });
});
