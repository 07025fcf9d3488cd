// An MCP tool call as policy sees it: which server it goes to (by what the server is, see mcp-identity.ts),
// its arguments as `path=value` strings a rule can test, facts read from them (`sql.write`), whether the
// tool can change state or send data, and whether the settings trust the server's results.
//
// `tool_input` is agent-controlled: every argument name and value is attacker-chosen.
import type { Action, CallEnvironment, McpCallAction } from './actions.js';
import type { EntityJson } from './engine.js';
import { canonicalUrl, identifyMcpServer, type McpServerConfig, type McpServerIdentity } from './mcp-identity.js';
import type { PolicySettings } from './settings.js';
import { hostAction } from './shell/network.js';
import { classifySql, type SqlVerdict } from './sql.js';

export { canonicalUrl, identifyMcpServer, identityParts, type McpIdentityParts, type McpServerConfig, type McpServerIdentity } from './mcp-identity.js';

/** At most this many `path=value` entries; past it the fact `args.truncated` is set. */
const MAX_ARGUMENTS = 256;
const MAX_VALUE_LENGTH = 4096;
const MAX_DEPTH = 16;

/** Claude Code's tool-name form of a server name: characters outside `[A-Za-z0-9_-]` become `_`. */
export function toolPrefixName(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]/g, '_');
}

/**
 * Splits `mcp__<server>__<tool>` using the configured names, so a server name with `__` in it still
 * splits right; the longest name wins. Two configured servers that share a tool-name form are ambiguous,
 * so neither identity is used.
 */
export function parseMcpToolName(name: string, servers: Record<string, McpServerConfig> = {}): { server: string; tool: string; config?: McpServerConfig } | undefined {
  const fallback = /^mcp__(.+?)__(.+)$/.exec(name);
  if (!fallback) return undefined;
  let best: { prefix: string; configs: McpServerConfig[] } | undefined;
  for (const [server, config] of Object.entries(servers)) {
    const prefix = `mcp__${toolPrefixName(server)}__`;
    if (!name.startsWith(prefix) || name.length === prefix.length) continue;
    if (!best || prefix.length > best.prefix.length) best = { prefix, configs: [config] };
    else if (prefix.length === best.prefix.length) best.configs.push(config);
  }
  if (!best) return { server: fallback[1]!, tool: fallback[2]! };
  const unambiguous = best.configs.length === 1 || new Set(best.configs.map((config) => identifyMcpServer(config).fingerprint)).size === 1;
  return { server: best.prefix.slice(5, -2), tool: name.slice(best.prefix.length), ...(unambiguous && { config: best.configs[0]! }) };
}

/** The actions of an MCP tool call: the call itself and, for a remote server, the request to its host. */
export function mcpCallActions(tool: string, input: unknown, env: CallEnvironment): Action[] | undefined {
  const parsed = parseMcpToolName(tool, env.mcpServers);
  if (!parsed) return undefined;
  const identity = parsed.config && identifyMcpServer(parsed.config);
  const call: McpCallAction = { kind: 'mcp_call', server: parsed.server, tool: parsed.tool, args: input, via: tool, ...(identity && { identity }) };
  // Network rules (the send allowlist, production hosts) see a remote server's calls as what they are.
  return identity?.url ? [call, hostAction('send', identity.url, tool, 443, env)] : [call];
}

/** The Cedar resource of an MCP call: a `Writ::McpTool` in the `Writ::McpServer` named by its fingerprint. */
export function mcpToolEntity(action: McpCallAction, settings: PolicySettings): EntityJson {
  const identity = action.identity;
  const { args, truncated } = flattenArguments(action.args);
  const facts = [...argumentFacts(action), ...(truncated ? ['args.truncated'] : [])];
  return {
    uid: { type: 'Writ::McpTool', id: `${identity?.fingerprint || action.server}/${action.tool}` },
    attrs: {
      server: action.server,
      tool: action.tool,
      fingerprint: identity?.fingerprint ?? '',
      package: identity?.package ?? '',
      version: identity?.version ?? '',
      url: identity?.url ?? '',
      internal: isInternalServer(action.server, identity, settings),
      writes: isWritingTool(action.tool, facts),
      args,
      facts,
    },
    // A server no configuration names has no identity: `name:` keeps it apart from every fingerprint.
    parents: [{ type: 'Writ::McpServer', id: identity?.fingerprint || `name:${action.server}` }],
  };
}

/**
 * Scalar arguments as `path=value`: nested keys dotted, array items both indexed (`labels[0]=bug`) and
 * as any item (`labels[]=bug`). `.`, `[`, `]`, `=` and `%` in keys are percent-encoded, so no key can
 * pose as a path: `{"owner=acme": 1}` gives `owner%3Dacme=1`, never `owner=acme`.
 */
export function flattenArguments(input: unknown): { args: string[]; truncated: boolean } {
  const args = new Set<string>();
  let truncated = false;
  for (const { path, value, tooDeep } of scalars(input)) {
    if (tooDeep) {
      truncated = true;
      continue;
    }
    const text = scalarText(value);
    if (text.length > MAX_VALUE_LENGTH) truncated = true;
    for (const key of new Set([path, path.replace(/\[\d+\]/g, '[]')])) {
      if (args.size >= MAX_ARGUMENTS) truncated = true;
      else args.add(`${key}=${text.slice(0, MAX_VALUE_LENGTH)}`);
    }
  }
  return { args: [...args], truncated };
}

/** Every scalar below `input`, with its path and the key it sits under; `tooDeep` where nesting goes past the limit. */
function* scalars(input: unknown, path = '', key = '', depth = 0): Generator<{ path: string; key: string; value: unknown; tooDeep?: boolean }> {
  if (depth > MAX_DEPTH) {
    yield { path, key, value: undefined, tooDeep: true };
    return;
  }
  if (Array.isArray(input)) {
    for (const [index, item] of input.entries()) yield* scalars(item, `${path}[${index}]`, key, depth + 1);
  } else if (typeof input === 'object' && input !== null) {
    for (const [name, item] of Object.entries(input)) yield* scalars(item, path === '' ? escapeKey(name) : `${path}.${escapeKey(name)}`, name, depth + 1);
  } else if (path !== '') yield { path, key, value: input };
}

function escapeKey(key: string): string {
  return key.replace(/[%.[\]=]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
}

function scalarText(value: unknown): string {
  return typeof value === 'string' ? value : String(value);
}

const SQL_KEYS = new Set(['sql', 'statement', 'statements', 'sql_query', 'sqlquery', 'sql_statement', 'sqlstatement', 'query_sql', 'sql_text', 'sqltext', 'raw_sql', 'rawsql', 'query_text', 'querytext']);
const QUERY_KEYS = new Set(['query', 'queries']);
const DATABASE_WORDS = new Set([
  'sql', 'db', 'database', 'databases', 'postgres', 'postgresql', 'pg', 'psql', 'mysql', 'mariadb', 'sqlite', 'mssql', 'sqlserver', 'oracle', 'snowflake', 'bigquery',
  'clickhouse', 'duckdb', 'redshift', 'supabase', 'neon', 'cockroach', 'cockroachdb', 'tidb', 'planetscale', 'databricks', 'athena', 'trino', 'presto', 'motherduck', 'warehouse',
]);
/** Tools whose `query` is words for a search, not SQL. */
const SEARCH_WORDS = new Set(['search', 'find', 'lookup', 'ask', 'answer', 'chat', 'web', 'docs', 'documentation', 'semantic', 'vector', 'similar', 'recommend', 'suggest']);
const RANK: Record<SqlVerdict, number> = { read: 0, unknown: 1, write: 2 };

/**
 * Facts from the arguments: `sql.read`, `sql.write` or `sql.unknown` (the most dangerous statement of any
 * SQL argument wins), `sql.multiple`, `sql.statement:<keyword>`, and `graphql.mutation`.
 */
export function argumentFacts(action: Pick<McpCallAction, 'server' | 'tool' | 'args' | 'identity'>): string[] {
  const context = new Set([...words(action.tool), ...words(action.server), ...words(action.identity?.package ?? '')]);
  const databaseTool = [...context].some((word) => DATABASE_WORDS.has(word));
  const searchTool = !databaseTool && words(action.tool).some((word) => SEARCH_WORDS.has(word));
  const facts = new Set<string>();
  let verdict: SqlVerdict | undefined;
  let statements = 0;
  for (const { key, value } of scalars(action.args)) {
    if (typeof value !== 'string') continue;
    const name = key.toLowerCase();
    if (QUERY_KEYS.has(name) && /^\s*(?:#[^\n]*\n\s*)*mutation\b/.test(value)) facts.add('graphql.mutation');
    if (!SQL_KEYS.has(name) && !(QUERY_KEYS.has(name) && !searchTool)) continue;
    const sql = classifySql(value);
    // A `query` of a tool that is not about databases is SQL only when it reads as SQL.
    if (!SQL_KEYS.has(name) && !databaseTool && !sql.recognised) continue;
    verdict = verdict === undefined || RANK[sql.verdict] > RANK[verdict] ? sql.verdict : verdict;
    statements += sql.statements.length;
    sql.statements.forEach((keyword) => facts.add(`sql.statement:${keyword}`));
  }
  if (verdict) facts.add(`sql.${verdict}`);
  if (statements > 1) facts.add('sql.multiple');
  return [...facts].sort();
}

/** Verbs that write wherever they stand in a name (`get_or_create_user`, `issue_write`). */
const STRONG_WRITE_VERBS = new Set([
  'create', 'update', 'delete', 'remove', 'write', 'insert', 'upsert', 'destroy', 'purge', 'truncate', 'drop', 'send', 'upload', 'publish', 'deploy', 'overwrite',
  'modify', 'edit', 'rename', 'replace', 'install', 'uninstall', 'kill', 'terminate', 'revoke', 'grant', 'submit', 'approve', 'cancel', 'email', 'notify',
]);
/** Verbs that write when they are the name's first verb; many are nouns too (`get_commit`, `list_labels`). */
const WRITE_VERBS = new Set([
  ...STRONG_WRITE_VERBS, 'push', 'merge', 'post', 'execute', 'exec', 'run', 'set', 'put', 'patch', 'add', 'move', 'commit', 'close', 'reopen', 'assign', 'unassign',
  'fork', 'stop', 'start', 'restart', 'trigger', 'dispatch', 'reject', 'comment', 'reply', 'invite', 'archive', 'unarchive', 'transfer', 'apply', 'enable', 'disable',
  'lock', 'unlock', 'mark', 'fill', 'click', 'type', 'press', 'drag', 'hover', 'share', 'message', 'tweet', 'forward', 'broadcast', 'schedule', 'book', 'pay',
  'purchase', 'order', 'refund', 'charge', 'invoke', 'call', 'evaluate', 'eval', 'navigate', 'save', 'store', 'import', 'export', 'sync', 'reset', 'clear', 'scale',
  'rollback', 'revert', 'restore', 'transition', 'link', 'unlink', 'label', 'tag', 'star', 'unstar', 'watch', 'subscribe', 'unsubscribe', 'react', 'pin', 'unpin',
  'block', 'unblock', 'mute', 'dismiss', 'release',
]);
/** Verbs that say "run this": whether it writes is the arguments' business (`execute_sql` of a SELECT reads). */
const RUN_VERBS = new Set(['execute', 'exec', 'run', 'call', 'invoke', 'evaluate', 'eval']);
const READ_VERBS = new Set([
  'get', 'list', 'search', 'read', 'fetch', 'find', 'describe', 'show', 'view', 'query', 'count', 'lookup', 'check', 'inspect', 'diff', 'status', 'log', 'logs',
  'browse', 'snapshot', 'screenshot', 'explain', 'validate', 'preview', 'download', 'summarize', 'summarise', 'think', 'thinking', 'sequentialthinking', 'whoami',
  'info', 'ping', 'health', 'version', 'schema', 'history', 'tree', 'stat', 'exists', 'compare', 'retrieve', 'scan', 'analyze', 'analyse', 'lint', 'peek',
]);

/**
 * The tool can change state or send data. Facts decide first (`sql.write`, `sql.unknown`,
 * `graphql.mutation`); then a write verb anywhere in the name, or the name's first verb; a name with no
 * verb Writ knows counts as writing, unless its arguments are SQL that reads.
 */
export function isWritingTool(tool: string, facts: readonly string[]): boolean {
  if (facts.includes('sql.write') || facts.includes('sql.unknown') || facts.includes('graphql.mutation')) return true;
  const verbs = words(tool);
  if (verbs.some((verb) => STRONG_WRITE_VERBS.has(verb))) return true;
  const first = verbs.find((verb) => READ_VERBS.has(verb) || WRITE_VERBS.has(verb));
  if (first === undefined) return !facts.includes('sql.read');
  return WRITE_VERBS.has(first) && !(RUN_VERBS.has(first) && facts.includes('sql.read'));
}

/** `createPullRequest`, `create_pull_request`, `create-pull-request` → create, pull, request. */
function words(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

/**
 * The settings trust this server's results: an entry with `"trust": "internal"` names it and every pin
 * the entry has (fingerprint, package, url) matches; or the entry's pins alone match it under any name.
 */
export function isInternalServer(server: string, identity: McpServerIdentity | undefined, settings: PolicySettings): boolean {
  return Object.entries(settings.mcp_servers).some(([name, entry]) => {
    if (entry.trust !== 'internal') return false;
    const pins = [
      entry.fingerprint === undefined || entry.fingerprint === identity?.fingerprint,
      entry.package === undefined || entry.package === identity?.package,
      entry.url === undefined || (identity?.url !== undefined && identity.url !== '' && canonicalUrl(entry.url) === identity.url),
    ];
    if (!pins.every(Boolean)) return false;
    const pinned = entry.fingerprint !== undefined || entry.package !== undefined || entry.url !== undefined;
    return pinned || toolPrefixName(name) === server;
  });
}
