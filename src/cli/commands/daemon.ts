import { spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startDaemon } from '../../daemon/daemon.js';
import { daemonAnswers } from '../../daemon/health.js';
import { ensureWritHome, resolveWritHome } from '../../home/writ-home.js';
import { UsageError, type Command } from '../command.js';
import { integerOption } from '../options.js';

const BIN = fileURLToPath(new URL('../../../bin/writ.js', import.meta.url));

export const daemonCommand: Command = {
  usage: 'daemon [--home DIR] [--http-port N] [--detach]',
  summary: 'run the resident device process that answers hooks and keeps the journal',
  options: { home: { type: 'string' }, 'http-port': { type: 'string' }, detach: { type: 'boolean' } },
  async run({ values }) {
    const home = resolveWritHome(values.home as string | undefined);
    const httpPort = integerOption(values['http-port'], '--http-port', 0, 65535);
    if (values.detach) return detach(home.root, home.log, home.socket, httpPort);
    const daemon = await startDaemon({ home, httpPort });
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await daemon.close();
    return 0;
  },
};

export const startCommand: Command = {
  usage: 'start [--home DIR]',
  summary: 'start Writ on this device (the daemon, in the foreground)',
  options: { home: { type: 'string' } },
  async run(args) {
    process.stderr.write('Writ is starting. Put Claude Code under it with: npx writ install claude-code --scope user\n');
    return daemonCommand.run(args);
  },
};

async function detach(root: string, log: string, socket: string, httpPort: number | undefined): Promise<number> {
  ensureWritHome(resolveWritHome(root));
  const out = openSync(log, 'a', 0o600);
  const args = [BIN, 'daemon', '--home', root, ...(httpPort !== undefined ? ['--http-port', String(httpPort)] : [])];
  const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', out, out] });
  child.unref();
  for (let waited = 0; waited < 10_000; waited += 100) {
    if (await daemonAnswers(socket)) {
      process.stdout.write(`writ daemon running (pid ${child.pid}); log: ${log}\n`);
      return 0;
    }
    if (child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new UsageError(`the daemon did not come up; see ${log}`);
}

