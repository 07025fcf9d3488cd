// The MCP servers a configuration file declares, for every agent's file format, joined with the policy's
// MCP register. Pure: it gets the file's text and says what is in it, so nothing here launches a server.
// Each agent's dialect is first brought to Claude Code's server shape, so one check (claudeServerProblem,
// also what the daemon's src/daemon/mcp-config.ts uses) decides what is a server, and one fingerprint
// (src/policy/mcp-identity.ts) names it. Env and header values can be secrets: only their names are kept.
import { parse as parseToml } from 'smol-toml';
import { parse as parseYaml } from 'yaml';
import type { Finding, McpRegisterEntry, McpServerFinding } from '../core/inventory.js';
import { identifyMcpServer, pinsMatch, type McpServerConfig } from '../policy/mcp-identity.js';
import type { PolicySettings } from '../policy/settings.js';
import type { ConfigFormat, McpShape } from './agent-catalogue.js';

export interface McpConfigText {
  agent: string;
  scope: McpServerFinding['scope'];
  file: string;
  format: ConfigFormat;
  shape: McpShape;
  text: string;
}

export interface McpInventory {
  servers: McpServerFinding[];
  findings: Finding[];
}

const REMOTE_TYPES = new Set(['http', 'sse', 'ws', 'streamable-http']);

/** Why an entry in Claude Code's shape is not a server Claude Code would run; undefined when it is one. */
export function claudeServerProblem(entry: unknown): string | undefined {
  if (!isObject(entry)) return 'not an object';
  const remote = REMOTE_TYPES.has(entry.type as string) || (entry.command === undefined && entry.url !== undefined);
  if (entry.type !== undefined && entry.type !== 'stdio' && !REMOTE_TYPES.has(entry.type as string)) return `unknown type ${JSON.stringify(entry.type)}`;
  if (remote) return typeof entry.url === 'string' && entry.url !== '' ? undefined : 'a remote server needs a string "url"';
  if (typeof entry.command !== 'string' || entry.command === '') return 'a stdio server needs a string "command"';
  if (entry.args !== undefined && (!Array.isArray(entry.args) || entry.args.some((arg) => typeof arg !== 'string'))) return '"args" must be a list of strings';
  if (entry.env !== undefined && (!isObject(entry.env) || Object.values(entry.env).some((value) => typeof value !== 'string'))) return '"env" must map names to strings';
  return undefined;
}

/** The fields that say what runs; headers, OAuth settings and the like stay behind (they hold secrets). */
export function serverConfigOf(entry: Record<string, unknown>): McpServerConfig {
  const config: McpServerConfig = {};
  if (typeof entry.type === 'string') config.type = entry.type;
  if (typeof entry.command === 'string') config.command = entry.command;
  if (Array.isArray(entry.args)) config.args = entry.args as string[];
  if (isObject(entry.env)) config.env = entry.env as Record<string, string>;
  if (typeof entry.url === 'string') config.url = entry.url;
  return config;
}

/** The servers in one configuration file, with a finding for the file or any entry that cannot be read. */
export function inventoryMcpConfig(input: McpConfigText, settings: PolicySettings): McpInventory {
  const findings: Finding[] = [];
  const problem = (message: string, severity: Finding['severity'] = 'warning') => findings.push({ severity, subject: input.agent, message, path: input.file });
  const document = parseDocument(input.text, input.format);
  if ('problem' in document) {
    problem(`${input.format.toUpperCase()} that cannot be parsed, so its MCP servers are unknown: ${document.problem}`, 'error');
    return { servers: [], findings };
  }
  const servers: McpServerFinding[] = [];
  for (const place of placesOf(document.value, input, problem)) {
    for (const [name, raw] of place.entries) {
      const entry = toClaudeShape(raw, input.shape);
      if (entry === 'skip') continue;
      const why = claudeServerProblem(entry.server);
      if (why) {
        problem(`MCP server "${name}" in ${place.label}: ${why}`);
        continue;
      }
      servers.push(serverFinding(name, entry, { ...input, file: place.file, scope: place.scope }, settings));
    }
  }
  return { servers, findings };
}

/** What the register says of a server: approved when listed and every pin matches, denied when listed but it is not what the pins say. */
export function registerApproval(name: string, config: McpServerConfig, settings: PolicySettings): Pick<McpServerFinding, 'approval' | 'register'> {
  const entry = Object.hasOwn(settings.mcp_servers, name) ? settings.mcp_servers[name] : undefined;
  if (!entry) return { approval: 'unapproved' };
  const register: McpRegisterEntry = {
    name,
    ...(entry.owner !== undefined && { owner: entry.owner }),
    ...(entry.purpose !== undefined && { purpose: entry.purpose }),
    ...(entry.data !== undefined && { data: entry.data }),
    ...(entry.access !== undefined && { access: entry.access }),
    approval_rule: entry.approval_rule ?? `settings.json mcp_servers.${name}`,
    disable: disableCommand(name),
  };
  return { approval: pinsMatch(entry, identifyMcpServer(config)) ? 'approved' : 'denied', register };
}

/** The one command that blocks a server on every device (src/cli/commands/fleet.ts). */
export function disableCommand(name: string): string {
  return `writ kill mcp:${/^[A-Za-z0-9_.:*-]{1,200}$/.test(name) ? name : JSON.stringify(name)}`;
}

interface Place {
  entries: [string, unknown][];
  file: string;
  label: string;
  scope: McpServerFinding['scope'];
}

function placesOf(document: unknown, input: McpConfigText, problem: (message: string) => void): Place[] {
  const here = (value: unknown, key: string, file = input.file, scope = input.scope): Place[] => {
    if (value === undefined || value === null) return [];
    const label = `${file} ${key}`;
    if (input.shape === 'continue' && Array.isArray(value)) {
      return [{ entries: value.map((item, index) => [isObject(item) && typeof item.name === 'string' ? item.name : `#${index + 1}`, item]), file, label, scope }];
    }
    if (!isObject(value)) {
      problem(`"${key}" is not an object: its MCP servers are unknown`);
      return [];
    }
    return [{ entries: Object.entries(value), file, label, scope }];
  };
  if (!isObject(document)) {
    if (document !== undefined && document !== null) problem('not an object: no MCP servers read');
    return [];
  }
  switch (input.shape) {
    case 'claude-json': {
      const places = here(document.mcpServers, 'mcpServers');
      if (isObject(document.projects)) {
        for (const [project, state] of Object.entries(document.projects)) {
          if (isObject(state)) places.push(...here(state.mcpServers, 'mcpServers', `${input.file} projects[${JSON.stringify(project)}]`, 'local'));
        }
      }
      return places;
    }
    case 'vscode':
      return [...here(document.servers, 'servers'), ...(isObject(document.mcp) ? here(document.mcp.servers, 'mcp.servers') : [])];
    case 'codex':
      return here(document.mcp_servers, 'mcp_servers');
    case 'goose':
      return here(document.extensions, 'extensions');
    case 'opencode':
      return here(document.mcp, 'mcp');
    case 'amp':
      return here(document['amp.mcpServers'], 'amp.mcpServers');
    default:
      return here(document.mcpServers, 'mcpServers');
  }
}

interface ClaudeShaped {
  server: Record<string, unknown>;
  envNames: string[];
  headerNames: string[];
  disabled: boolean;
  transport?: McpServerFinding['transport'];
}

/** One agent's entry as a Claude Code server entry plus the names of its secrets; 'skip' for built-ins that are not servers. */
function toClaudeShape(raw: unknown, shape: McpShape): ClaudeShaped | 'skip' {
  if (!isObject(raw)) return { server: raw as Record<string, unknown>, envNames: [], headerNames: [], disabled: false };
  const server: Record<string, unknown> = { ...raw };
  const envNames = namesOf(raw.env);
  const headerNames = namesOf(raw.headers);
  const disabled = raw.disabled === true || raw.enabled === false;
  let transport: McpServerFinding['transport'] | undefined;
  delete server.headers;
  if (shape === 'codex') {
    envNames.push(...stringsOf(raw.env_vars), ...stringsOf(Object.values(isObject(raw.env_http_headers) ? raw.env_http_headers : {})));
    headerNames.push(...namesOf(raw.http_headers), ...namesOf(raw.env_http_headers));
    if (typeof raw.bearer_token_env_var === 'string') {
      envNames.push(raw.bearer_token_env_var);
      headerNames.push('Authorization');
    }
    if (server.command === undefined && typeof raw.url === 'string') transport = 'http';
  } else if (shape === 'goose') {
    if (raw.type === 'builtin' || raw.type === 'platform' || raw.type === 'frontend' || raw.type === 'inline_python') return 'skip';
    Object.assign(server, { command: raw.cmd, env: raw.envs, url: raw.uri, type: raw.type === 'streamable_http' ? 'http' : raw.type });
    delete server.cmd;
    envNames.splice(0, envNames.length, ...namesOf(raw.envs), ...stringsOf(raw.env_keys));
  } else if (shape === 'opencode') {
    const words = Array.isArray(raw.command) ? raw.command : [];
    Object.assign(server, { type: raw.type === 'remote' ? 'http' : 'stdio', command: words[0], args: words.slice(1), env: raw.environment });
    envNames.splice(0, envNames.length, ...namesOf(raw.environment));
  } else {
    // Gemini: httpUrl is streamable HTTP and url is SSE; Windsurf: serverUrl.
    if (typeof raw.httpUrl === 'string') Object.assign(server, { type: 'http', url: raw.httpUrl });
    // Gemini CLI 0.61 itself writes `"type": "http"` beside `url`; only an untyped `url` is SSE.
    else if (shape === 'gemini' && typeof raw.url === 'string' && raw.command === undefined && raw.type === undefined) server.type = 'sse';
    else if (typeof raw.serverUrl === 'string') Object.assign(server, { type: server.type ?? 'http', url: raw.serverUrl });
    if (server.type === 'streamable_http') server.type = 'streamable-http';
    // Copilot CLI writes "local" for a stdio server.
    if (server.type === 'local') server.type = 'stdio';
  }
  for (const key of Object.keys(server)) if (!['type', 'command', 'args', 'env', 'url'].includes(key) || server[key] === undefined) delete server[key];
  return { server, envNames: [...new Set(envNames)].sort(), headerNames: [...new Set(headerNames)].sort(), disabled, ...(transport && { transport }) };
}

function serverFinding(name: string, entry: ClaudeShaped, where: McpConfigText, settings: PolicySettings): McpServerFinding {
  const config = serverConfigOf(entry.server);
  const identity = identifyMcpServer(config);
  return {
    agent: where.agent,
    scope: where.scope,
    file: where.file,
    name,
    transport: entry.transport ?? transportOf(config),
    ...(config.command !== undefined && { command: config.command }),
    ...(config.args !== undefined && { args: config.args }),
    ...(identity.url !== '' && { url: identity.url }),
    env_names: entry.envNames,
    header_names: entry.headerNames,
    fingerprint: identity.fingerprint,
    ...(entry.disabled && { disabled: true }),
    ...registerApproval(name, config, settings),
  };
}

function transportOf(config: McpServerConfig): McpServerFinding['transport'] {
  if (config.type === 'sse') return 'sse';
  if (config.type === 'http' || config.type === 'streamable-http') return 'http';
  if (config.type === undefined && config.command === undefined && config.url !== undefined) return 'http';
  if (config.type === undefined || config.type === 'stdio') return 'stdio';
  return 'unknown';
}

function parseDocument(text: string, format: ConfigFormat): { value: unknown } | { problem: string } {
  const body = text.replace(/^\uFEFF/, '');
  try {
    if (format === 'toml') return { value: parseToml(body) };
    if (format === 'yaml') return { value: parseYaml(body, { maxAliasCount: 100 }) };
    if (format === 'jsonc') return { value: body.trim() === '' ? undefined : JSON.parse(stripJsonComments(body)) };
    return { value: body.trim() === '' ? undefined : JSON.parse(body) };
  } catch (error) {
    return { problem: firstLine((error as Error).message) };
  }
}

/** JSON with `//` and block comments and trailing commas (VS Code, opencode, Amp) as plain JSON; strings are left alone. */
export function stripJsonComments(text: string): string {
  return text.replace(/("(?:[^"\\]|\\.)*")|\/\/[^\n]*|\/\*[\s\S]*?\*\/|,(\s*[}\]])/g, (match, string: string | undefined, closer: string | undefined) => string ?? closer ?? ' ');
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.slice(0, 300);
}

function namesOf(value: unknown): string[] {
  return isObject(value) ? Object.keys(value) : [];
}

function stringsOf(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
