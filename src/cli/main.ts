// The writ command. Each verb parses its own options strictly: an unknown or malformed option is an
// error with usage, never silently ignored.
import { parseArgs } from 'node:util';
import { UsageError, type Command } from './command.js';
import { approvalsCommand } from './commands/approvals.js';
import { daemonCommand, startCommand } from './commands/daemon.js';
import { enrollCommand } from './commands/enroll.js';
import { installCommand, uninstallCommand } from './commands/install.js';
import { logCommand, verifyCommand } from './commands/journal.js';
import { mcpCommand } from './commands/mcp.js';
import { policyCommand } from './commands/policy.js';
import { scanCommand } from './commands/scan.js';
import { exportCommand, fleetCommand, killCommand } from './commands/fleet.js';
import { serverCommand } from './commands/server.js';
import { postureCommand } from './commands/posture.js';
import { guardCommand } from './commands/guard.js';
import { runsCommand } from './commands/runs.js';
import { runCommand } from './commands/run.js';
import { contractCommand } from './commands/contract.js';

const COMMANDS: Record<string, Command> = {
  start: startCommand,
  daemon: daemonCommand,
  enroll: enrollCommand,
  install: installCommand,
  uninstall: uninstallCommand,
  policy: policyCommand,
  log: logCommand,
  verify: verifyCommand,
  server: serverCommand,
  kill: killCommand,
  fleet: fleetCommand,
  export: exportCommand,
  approvals: approvalsCommand,
  guard: guardCommand,
  runs: runsCommand,
  mcp: mcpCommand,
  scan: scanCommand,
  posture: postureCommand,
  run: runCommand,
  contract: contractCommand,
};

export function usage(): string {
  return ['usage: writ <command> [options]', '', ...Object.values(COMMANDS).map((command) => `  writ ${command.usage}\n      ${command.summary}`)].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(usage() + '\n');
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`writ: unknown command "${name}"\n\n${usage()}\n`);
    return 2;
  }
  try {
    const parsed = parseArgs({ args: rest, options: { ...command.options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
    if (parsed.values.help) {
      process.stdout.write(`usage: writ ${command.usage}\n${command.summary}\n`);
      return 0;
    }
    return await command.run(parsed as { values: Record<string, string | boolean | undefined>; positionals: string[] });
  } catch (error) {
    const isUsage = error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    process.stderr.write(`writ ${name}: ${(error as Error).message}\n`);
    if (isUsage) process.stderr.write(`usage: writ ${command.usage}\n`);
    return isUsage ? 2 : 1;
  }
}
