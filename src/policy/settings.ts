// The policy's settings file (settings.json beside the .cedar files): facts about the organisation that
// rules and the session tracker need but Cedar cannot hold, such as which repositories and MCP servers are
// trusted. Shipped and signed with the policy, so a device cannot loosen them on its own.
import type { PolicyFile } from '../core/policy-bundle.js';

export const SETTINGS_FILE = 'settings.json';

export interface McpServerSettings {
  /** `internal`: its results are the organisation's own data; anything else counts as untrusted content. */
  trust: 'internal' | 'external';
  /** Pins: the server counts as internal only when what it is matches (see mcp.ts isInternalServer). */
  fingerprint?: string;
  package?: string;
  url?: string;
  /** The MCP register (docs/discovery.md): who answers for the server, why it is used, what data it reaches. */
  owner?: string;
  purpose?: string;
  data?: string[];
  access?: 'read-only' | 'write';
  /** The policy rule or ticket that approved it; the settings entry itself when absent. */
  approval_rule?: string;
}

export interface PolicySettings {
  /**
   * Repositories (host/path globs, `github.com/acme/*`) whose files are trusted content. When absent, the
   * project's own repository is trusted; when given, files of any other repository are untrusted.
   */
  trusted_repositories?: string[];
  /** MCP servers by name. A server not listed here is external. */
  mcp_servers: Record<string, McpServerSettings>;
  /** Reaching one of these hosts (globs) or running one of these command lines (globs) touches production. */
  production: { hosts: string[]; commands: string[] };
  /** Task-contract phrases (`blocked`, `stop_if`) and what each matches; see contract.ts and docs/contracts.md. */
  categories?: Record<string, ContractCategory>;
  /** What a high-risk edit gets in a session without a task contract (default `allow`). */
  high_risk_without_contract?: 'allow' | 'ask' | 'deny';
}

/** What one contract phrase means. Every list is optional; a call matches when any matcher does. */
export interface ContractCategory {
  description?: string;
  /** Path globs (`**` any depth; relative ones are under the project) for reads, writes and deletes. */
  paths?: string[];
  /** Path globs for writes and deletes only. */
  writes?: string[];
  /** Globs on an exec action's command line, as `production.commands`. */
  commands?: string[];
  /** Session flags the call would set (session.ts). */
  flags?: ('secrets' | 'untrusted' | 'private_data' | 'production')[];
  /** Globs on the host of a fetch or send. */
  hosts?: string[];
  /** MCP tool calls that write (mcp.ts isWritingTool). */
  mcp_writes?: boolean;
  /** An edit matching this category needs a rollback note (`rollback.undo` and `rollback.owner`). */
  high_risk?: boolean;
}

export const DEFAULT_SETTINGS: PolicySettings = { mcp_servers: {}, production: { hosts: [], commands: [] } };

export interface SettingsProblem {
  line: number;
  message: string;
}

/** Parses settings.json strictly: an unknown key is an error, since a typo would otherwise loosen nothing and tighten nothing, silently. */
export function parsePolicySettings(text: string): { settings: PolicySettings; problems: SettingsProblem[] } {
  const problems: SettingsProblem[] = [];
  const fail = (message: string) => problems.push({ line: 1, message });
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return { settings: DEFAULT_SETTINGS, problems: [{ line: 1, message: `${SETTINGS_FILE} is not JSON: ${(error as Error).message}` }] };
  }
  if (!isObject(raw)) return { settings: DEFAULT_SETTINGS, problems: [{ line: 1, message: `${SETTINGS_FILE} must hold a JSON object` }] };
  const settings: PolicySettings = { mcp_servers: {}, production: { hosts: [], commands: [] } };
  for (const [key, value] of Object.entries(raw)) {
    if (key === '$comment') continue;
    if (key === 'trusted_repositories') settings.trusted_repositories = stringList(value, key, fail);
    else if (key === 'mcp_servers') settings.mcp_servers = mcpServers(value, fail);
    else if (key === 'production') settings.production = production(value, fail);
    else if (key === 'categories') settings.categories = categories(value, fail);
    else if (key === 'high_risk_without_contract') settings.high_risk_without_contract = oneOf(value, key, ['allow', 'ask', 'deny'] as const, fail);
    else fail(`unknown setting "${key}" (known: trusted_repositories, mcp_servers, production, categories, high_risk_without_contract)`);
  }
  return { settings, problems };
}

/** The settings among a policy's files, or the defaults when it has none; a later settings file replaces the standard one. */
export function settingsOf(files: PolicyFile[]): { settings: PolicySettings; problems: SettingsProblem[] } {
  const file = [...files].reverse().find((candidate) => candidate.name === SETTINGS_FILE);
  return file ? parsePolicySettings(file.text) : { settings: DEFAULT_SETTINGS, problems: [] };
}

export function isCedarFile(file: PolicyFile): boolean {
  return file.name.endsWith('.cedar');
}

/** `*` matches any run of characters, including `/` and `.`. */
export function globMatches(pattern: string, text: string): boolean {
  let compiled = compiledGlobs.get(pattern);
  if (!compiled) {
    // Settings and contracts match the same patterns on every call: compile each once.
    if (compiledGlobs.size >= 4096) compiledGlobs.clear();
    const expression = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*');
    compiled = new RegExp(`^${expression}$`, 'i');
    compiledGlobs.set(pattern, compiled);
  }
  return compiled.test(text);
}

const compiledGlobs = new Map<string, RegExp>();

function mcpServers(value: unknown, fail: (message: string) => void): Record<string, McpServerSettings> {
  if (!isObject(value)) {
    fail('mcp_servers must be an object of server name → { "trust": "internal" | "external" }');
    return {};
  }
  const servers: Record<string, McpServerSettings> = {};
  for (const [name, entry] of Object.entries(value)) {
    if (!isObject(entry) || (entry.trust !== 'internal' && entry.trust !== 'external')) {
      fail(`mcp_servers.${name} needs "trust": "internal" or "external"`);
      continue;
    }
    const unknown = Object.keys(entry).filter((key) => !MCP_SERVER_KEYS.includes(key));
    if (unknown.length > 0) fail(`mcp_servers.${name} has unknown keys: ${unknown.join(', ')}`);
    servers[name] = { trust: entry.trust, ...mcpServerPins(name, entry, fail), ...mcpRegisterFields(name, entry, fail) };
  }
  return servers;
}

const MCP_SERVER_KEYS = ['trust', 'fingerprint', 'package', 'url', 'owner', 'purpose', 'data', 'access', 'approval_rule'];

/** The register's descriptive fields; a malformed one is an error like any other key. */
function mcpRegisterFields(name: string, entry: Record<string, unknown>, fail: (message: string) => void): Partial<McpServerSettings> {
  const fields: Partial<McpServerSettings> = {};
  for (const key of ['owner', 'purpose', 'approval_rule'] as const) {
    if (entry[key] === undefined) continue;
    if (typeof entry[key] === 'string' && entry[key].trim() !== '') fields[key] = entry[key];
    else fail(`mcp_servers.${name}.${key} must be a non-empty string`);
  }
  if (entry.data !== undefined) fields.data = stringList(entry.data, `mcp_servers.${name}.data`, fail);
  if (entry.access !== undefined) {
    if (entry.access === 'read-only' || entry.access === 'write') fields.access = entry.access;
    else fail(`mcp_servers.${name}.access must be "read-only" or "write"`);
  }
  return fields;
}

/** An MCP server's identity pins (see mcp.ts isInternalServer); a malformed pin is an error, never dropped. */
function mcpServerPins(name: string, entry: Record<string, unknown>, fail: (message: string) => void): Partial<McpServerSettings> {
  const pins: Partial<McpServerSettings> = {};
  if (entry.fingerprint !== undefined) {
    if (typeof entry.fingerprint === 'string' && /^sha256:[0-9a-f]{64}$/.test(entry.fingerprint)) pins.fingerprint = entry.fingerprint;
    else fail(`mcp_servers.${name}.fingerprint must be "sha256:" and 64 lowercase hex digits (docs/policy.md, MCP servers)`);
  }
  if (entry.package !== undefined) {
    if (typeof entry.package === 'string' && entry.package.trim() !== '' && entry.package === entry.package.trim()) pins.package = entry.package;
    else fail(`mcp_servers.${name}.package must be a non-empty package or image name`);
  }
  if (entry.url !== undefined) {
    if (typeof entry.url === 'string' && /^(?:https?|wss?):\/\/[^\s/?#@]+(?:\/[^\s?#]*)?$/i.test(entry.url)) pins.url = entry.url;
    else fail(`mcp_servers.${name}.url must be an http(s) or ws(s) URL without credentials, query or fragment`);
  }
  return pins;
}

function production(value: unknown, fail: (message: string) => void): PolicySettings['production'] {
  if (!isObject(value)) {
    fail('production must be an object with "hosts" and "commands" lists');
    return { hosts: [], commands: [] };
  }
  const unknown = Object.keys(value).filter((key) => key !== 'hosts' && key !== 'commands');
  if (unknown.length > 0) fail(`production has unknown keys: ${unknown.join(', ')}`);
  return { hosts: stringList(value.hosts ?? [], 'production.hosts', fail), commands: stringList(value.commands ?? [], 'production.commands', fail) };
}

const CATEGORY_LISTS = ['paths', 'writes', 'commands', 'hosts'] as const;
const CATEGORY_FLAGS = ['secrets', 'untrusted', 'private_data', 'production'] as const;

function categories(value: unknown, fail: (message: string) => void): Record<string, ContractCategory> {
  if (!isObject(value)) {
    fail('categories must be an object of contract phrase → matchers');
    return {};
  }
  const result: Record<string, ContractCategory> = {};
  for (const [phrase, entry] of Object.entries(value)) {
    const name = `categories.${phrase}`;
    if (!isObject(entry)) {
      fail(`${name} must be an object of matchers`);
      continue;
    }
    const category: ContractCategory = {};
    for (const [key, item] of Object.entries(entry)) {
      if ((CATEGORY_LISTS as readonly string[]).includes(key)) category[key as (typeof CATEGORY_LISTS)[number]] = stringList(item, `${name}.${key}`, fail);
      else if (key === 'flags') category.flags = flagList(item, `${name}.flags`, fail);
      else if (key === 'mcp_writes' || key === 'high_risk') {
        if (typeof item === 'boolean') category[key] = item;
        else fail(`${name}.${key} must be true or false`);
      } else if (key === 'description') {
        if (typeof item === 'string') category.description = item;
        else fail(`${name}.description must be a string`);
      } else fail(`${name} has unknown key "${key}" (known: description, ${CATEGORY_LISTS.join(', ')}, flags, mcp_writes, high_risk)`);
    }
    result[phrase.trim().toLowerCase().replace(/\s+/g, ' ')] = category;
  }
  return result;
}

function flagList(value: unknown, name: string, fail: (message: string) => void): NonNullable<ContractCategory['flags']> {
  const flags = stringList(value, name, fail);
  const unknown = flags.filter((flag) => !(CATEGORY_FLAGS as readonly string[]).includes(flag));
  if (unknown.length > 0) fail(`${name}: unknown flags ${unknown.join(', ')} (known: ${CATEGORY_FLAGS.join(', ')})`);
  return flags.filter((flag): flag is (typeof CATEGORY_FLAGS)[number] => !unknown.includes(flag));
}

function oneOf<T extends string>(value: unknown, name: string, choices: readonly T[], fail: (message: string) => void): T | undefined {
  if (typeof value === 'string' && (choices as readonly string[]).includes(value)) return value as T;
  fail(`${name} must be one of ${choices.join(', ')}`);
  return undefined;
}

function stringList(value: unknown, name: string, fail: (message: string) => void): string[] {
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string' || item === '')) {
    fail(`${name} must be a list of non-empty strings`);
    return [];
  }
  return value as string[];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
