// `writ mcp list`: the MCP servers this device's agents are configured to run, joined with the policy's MCP
// register (settings.json mcp_servers). Unapproved servers first, each with the command that disables it.
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import type { McpServerFinding } from '../../core/inventory.js';
import { discoverMcpServers } from '../../discovery/index.js';
import { policyDirFor, readPolicyDir } from '../../home/policy-files.js';
import { resolveWritHome } from '../../home/writ-home.js';
import { disableCommand } from '../../detect/mcp-inventory.js';
import { settingsOf } from '../../policy/settings.js';
import { UsageError, type Command } from '../command.js';

const APPROVAL_ORDER: Record<McpServerFinding['approval'], number> = { unapproved: 0, denied: 1, approved: 2 };

export const mcpCommand: Command = {
  usage: 'mcp list [--json] [--project DIR] [--policy DIR] [--home DIR]',
  summary: "list the MCP servers this device's agents load, unapproved first, with the command that disables each",
  options: { json: { type: 'boolean' }, project: { type: 'string' }, policy: { type: 'string' }, home: { type: 'string' } },
  async run({ values, positionals }) {
    const [verb = 'list', ...extra] = positionals;
    if (verb !== 'list' || extra.length > 0) throw new UsageError(`unknown mcp verb "${[verb, ...extra].join(' ')}" (known: list)`);
    const writHome = resolveWritHome(values.home as string | undefined);
    const policyDir = policyDirFor(values.policy as string | undefined, writHome.policy);
    const { settings, problems } = settingsOf(readPolicyDir(policyDir));
    for (const problem of problems) process.stderr.write(`writ mcp: ${policyDir}/settings.json: ${problem.message}\n`);
    const inventory = discoverMcpServers({ home: process.env.HOME ?? homedir(), projectDir: resolve((values.project as string | undefined) ?? process.cwd()), settings });
    const servers = [...inventory.mcp_servers].sort((a, b) => APPROVAL_ORDER[a.approval] - APPROVAL_ORDER[b.approval] || a.name.localeCompare(b.name) || a.agent.localeCompare(b.agent));
    if (values.json) {
      process.stdout.write(JSON.stringify({ mcp_servers: servers.map((server) => ({ ...server, disable: disableCommand(server.name) })), findings: inventory.findings }, null, 2) + '\n');
      return 0;
    }
    if (servers.length === 0) process.stdout.write('no MCP servers configured for any agent found on this device\n');
    for (const server of servers) process.stdout.write(describeServer(server));
    for (const finding of inventory.findings) process.stderr.write(`${finding.severity}: ${finding.path ?? finding.subject}: ${finding.message}\n`);
    return 0;
  },
};

function describeServer(server: McpServerFinding): string {
  const what = server.command !== undefined ? [server.command, ...(server.args ?? [])].join(' ') : (server.url ?? '');
  const lines = [`${server.approval.toUpperCase().padEnd(10)}  ${server.name}  ${server.transport}  ${what}${server.disabled ? '  (disabled in its config)' : ''}`];
  lines.push(`            ${server.agent}, ${server.scope} scope: ${server.file}`);
  if (server.env_names.length > 0 || server.header_names.length > 0) lines.push(`            env: ${server.env_names.join(', ') || '-'}  headers: ${server.header_names.join(', ') || '-'}`);
  const register = server.register;
  if (register) {
    const facts = [register.owner && `owner ${register.owner}`, register.purpose && `purpose: ${register.purpose}`, register.access, register.data && `data: ${register.data.join(', ')}`, register.approval_rule && `approved by ${register.approval_rule}`];
    lines.push(`            register: ${facts.filter(Boolean).join('; ')}`);
  }
  if (server.approval === 'denied') lines.push('            registered under this name, but it is not what the register pins (fingerprint, package or url)');
  lines.push(`            disable: ${disableCommand(server.name)}`, '');
  return lines.join('\n') + '\n';
}
