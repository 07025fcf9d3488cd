import { resolve } from 'node:path';
import { bundledShimPath, installClaudeCode, uninstallClaudeCode, type ClaudeCodeScope } from '../../agents/claude-code/install.js';
import { loadOrCreateHookToken, resolveWritHome } from '../../home/writ-home.js';
import { UsageError, type Command } from '../command.js';
import { integerOption, oneOf } from '../options.js';

const SCOPES = ['user', 'project', 'managed'] as const;
const DEFAULT_HTTP_PORT = 7391;

function agentArgument(positionals: string[]): void {
  if (positionals.length !== 1 || positionals[0] !== 'claude-code') throw new UsageError(`name the agent: claude-code${positionals.length ? ` (got "${positionals.join(' ')}")` : ''}`);
}

export const installCommand: Command = {
  usage: 'install claude-code --scope user|project|managed [--project DIR] [--transport command|http] [--http-port N] [--print] [--home DIR]',
  summary: "add Writ's hooks to Claude Code's settings (idempotent; uninstall restores the file)",
  options: { scope: { type: 'string' }, project: { type: 'string' }, transport: { type: 'string' }, 'http-port': { type: 'string' }, print: { type: 'boolean' }, home: { type: 'string' } },
  async run({ values, positionals }) {
    agentArgument(positionals);
    const scope = oneOf(values.scope, '--scope', SCOPES) as ClaudeCodeScope;
    const transport = oneOf(values.transport, '--transport', ['command', 'http'] as const, 'command');
    const home = resolveWritHome(values.home as string | undefined);
    const result = await installClaudeCode({
      scope,
      projectDir: values.project ? resolve(values.project as string) : undefined,
      transport,
      httpPort: integerOption(values['http-port'], '--http-port', 1, 65535) ?? DEFAULT_HTTP_PORT,
      httpToken: transport === 'http' ? loadOrCreateHookToken(home) : undefined,
      writHome: home.root,
      shimPath: bundledShimPath(),
      print: values.print === true,
    });
    if (result.action !== 'printed') process.stdout.write(`${result.action === 'written' ? 'installed Writ hooks in' : 'already installed in'} ${result.target}\n`);
    return 0;
  },
};

export const uninstallCommand: Command = {
  usage: 'uninstall claude-code --scope user|project|managed [--project DIR] [--home DIR]',
  summary: "remove Writ's hooks and put the settings file back as it was",
  options: { scope: { type: 'string' }, project: { type: 'string' }, home: { type: 'string' } },
  async run({ values, positionals }) {
    agentArgument(positionals);
    const result = await uninstallClaudeCode({
      scope: oneOf(values.scope, '--scope', SCOPES) as ClaudeCodeScope,
      projectDir: values.project ? resolve(values.project as string) : undefined,
      writHome: resolveWritHome(values.home as string | undefined).root,
    });
    const said = { restored: 'restored', deleted: 'removed (it did not exist before Writ)', 'removed-entries': "removed Writ's hooks from (the file was edited since install)", 'not-installed': 'Writ was not installed in' }[result.action];
    process.stdout.write(`${said} ${result.target}\n`);
    return 0;
  },
};
