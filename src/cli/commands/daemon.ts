import { spawn } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { hostname, platform, release, userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDaemon } from '../../daemon/daemon.js';
import { enrollDevice, readEnrollment, writeEnrollment } from '../../daemon/enrollment.js';
import { loadOrCreateDeviceKey } from '../../daemon/keys.js';
import { ADMIN_TOKEN_FILE, startServer } from '../../server/run.js';
import { serverConfig } from './server.js';
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
  usage: 'start [--home DIR] [--port N] [--db sqlite:PATH|postgres://…]',
  summary: 'start Writ on this machine: the control plane server and this device\'s daemon, enrolled to it',
  options: { home: { type: 'string' }, port: { type: 'string' }, db: { type: 'string' } },
  async run({ values }) {
    const home = resolveWritHome(values.home as string | undefined);
    ensureWritHome(home);
    const server = await startServer(serverConfig(values, home.root));
    try {
      if (!readEnrollment(home.enrollment)) {
        const token = readFileSync(join(home.root, 'server', ADMIN_TOKEN_FILE), 'utf8').trim();
        const enrollment = await enrollDevice({
          server: server.url,
          key: loadOrCreateDeviceKey(home.root),
          enrollToken: token,
          hostname: hostname(),
          os: `${platform()} ${release()}`,
          osUser: userInfo().username,
        });
        writeEnrollment(home.enrollment, enrollment);
        process.stderr.write(`writ: enrolled this device (${enrollment.device_id}) with the local server, assurance ${enrollment.assurance}\n`);
      }
      const daemon = await startDaemon({ home, serverUrl: server.url });
      process.stderr.write(`writ: running. Dashboard API at ${server.url}/v1/openapi.json; put Claude Code under Writ with: npx writ install claude-code --scope user\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await daemon.close();
    } finally {
      await server.close();
    }
    return 0;
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

