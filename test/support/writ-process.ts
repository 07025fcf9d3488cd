// The writ CLI and daemon as their own processes, the way a user runs them.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { daemonAnswers } from '../../src/daemon/health.js';
import type { WritHome } from '../../src/home/writ-home.js';

export const WRIT_BIN = join(import.meta.dirname, '../../bin/writ.js');

/** HOME is the user's home; WRIT_HOME, when not given, is HOME/.writ. */
export function writEnv(home: string, writHome = join(home, '.writ')): NodeJS.ProcessEnv {
  return { ...process.env, HOME: home, WRIT_HOME: writHome };
}

export function writ(args: string[], home: string, input?: string): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, [WRIT_BIN, ...args], { env: writEnv(home), input, encoding: 'utf8' });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** Starts `writ daemon` for the user whose HOME is `home`, and waits until it answers. */
export async function startWritDaemon(home: string, writHome: WritHome): Promise<ChildProcess> {
  const child = spawn(process.execPath, [WRIT_BIN, 'daemon'], { env: writEnv(home, writHome.root), stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  for (let waited = 0; !(await daemonAnswers(writHome.socket)); waited += 50) {
    if (waited > 15_000 || child.exitCode !== null) throw new Error(`writ daemon did not start: ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return child;
}

export async function stopWritDaemon(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}
