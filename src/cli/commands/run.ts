// writ run --contract FILE -- COMMAND…: runs an agent inside a task contract. The contract is checked, stored
// by its sha256 in $WRIT_HOME/contracts, and named to the hooks by WRIT_CONTRACT; the daemon binds it to the
// session on its first hook. Stdio, the exit code and signals pass straight through.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { resolveWritHome } from '../../home/writ-home.js';
import { storeContract } from '../../daemon/contracts.js';
import { UsageError, type Command } from '../command.js';
import { readContractFile } from './contract.js';

const FORWARDED_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

export const runCommand: Command = {
  usage: 'run --contract FILE [--home DIR] -- COMMAND [ARGS…]',
  summary: "run an agent inside a task contract: what is outside the contract's box is denied, a stop_if stops the session",
  options: { contract: { type: 'string' }, home: { type: 'string' } },
  async run({ values, positionals }) {
    if (typeof values.contract !== 'string') throw new UsageError('--contract FILE is required');
    if (positionals.length === 0) throw new UsageError('give the command to run after --');
    const home = resolveWritHome(values.home as string | undefined);
    const checked = readContractFile(values.contract, home);
    const hash = storeContract(home.root, checked.text);
    process.stderr.write(`writ run: task contract sha256:${hash.slice(0, 12)}… applies: ${checked.contract.task}\n`);
    const env = { ...process.env, WRIT_CONTRACT: hash, ...(values.home !== undefined && { WRIT_HOME: home.root }) };
    return runPassingThrough(positionals[0]!, positionals.slice(1), env);
  },
};

/** Runs the command with this process's stdio; resolves with its exit code (128 + n when a signal ended it). */
function runPassingThrough(program: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolvePromise) => {
    // Listening before the command starts: it may print and be signalled before spawn() returns here.
    let child: ReturnType<typeof spawn> | undefined;
    const forward = (signal: NodeJS.Signals) => child?.kill(signal);
    for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);
    child = spawn(program, args, { stdio: 'inherit', env });
    const finish = (code: number) => {
      for (const signal of FORWARDED_SIGNALS) process.off(signal, forward);
      resolvePromise(code);
    };
    child.once('error', (error: NodeJS.ErrnoException) => {
      process.stderr.write(`writ run: cannot run ${program}: ${error.code ?? error.message}\n`);
      finish(error.code === 'ENOENT' ? 127 : 126);
    });
    child.once('exit', (code, signal) => finish(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0)));
  });
}
