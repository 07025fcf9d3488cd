// Claude Code permission-rule strings and MCP server entries, as a policy writes them in `@native…`
// annotations: split, then checked, so a typo fails the compile instead of shipping a rule that never matches.
// Syntax: code.claude.com/docs/en/settings (Permissions); reference/agent-integration.md §2.2, §2.5.

/** Why a policy cannot be compiled to an agent's native settings. */
export type CompileErrorCode = 'BAD_NATIVE_RULE' | 'NATIVE_ON_PERMIT' | 'BAD_MCP_SERVER' | 'BAD_TELEMETRY';

export class CompileError extends Error {
  constructor(
    readonly code: CompileErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'CompileError';
  }
}

/** One entry of Claude Code's `allowedMcpServers` / `deniedMcpServers`. */
export type McpServerEntry = { serverName: string } | { serverUrl: string };

// Tools whose permission rules Claude Code 2.1 understands. `Write(…)`, `NotebookEdit(…)` and `Glob(…)` with a
// path are accepted by Claude Code but never consulted (it warns at start-up), so they are refused here.
const RULE_TOOLS = new Set(['Agent', 'Bash', 'Edit', 'Glob', 'Grep', 'NotebookEdit', 'PowerShell', 'Read', 'Skill', 'Task', 'WebFetch', 'WebSearch', 'Write']);
const NEVER_CONSULTED_WITH_SPECIFIER = new Set(['Write', 'NotebookEdit', 'Glob']);
const PATH_TOOLS = new Set(['Read', 'Edit']);
const TOOL_RULE = /^([A-Za-z]+)(?:\((.*)\))?$/s;
const MCP_RULE = /^mcp__[A-Za-z0-9_-]+(?:__[A-Za-z0-9_*-]+)?$/;
// `serverName` allows letters, digits, `-` and `_` only (agent-integration.md §2.5).
const MCP_SERVER_NAME = /^[A-Za-z0-9_-]+$/;

/**
 * Splits a `@native("Read(~/.ssh/id_rsa); Bash(gh auth token*)")` annotation into checked permission rules.
 * `where` names the rule (`file:line`) in error messages.
 */
export function parseNativeRules(annotation: string, where: string): string[] {
  return annotation
    .split(';')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map((entry) => {
      const problem = permissionRuleProblem(entry);
      if (problem) throw new CompileError('BAD_NATIVE_RULE', `${where}: @native entry \`${entry}\` ${problem}`);
      return entry;
    });
}

/** Splits a `@native_mcp_allowed("github, https://mcp.example.com/*")` annotation into server entries. */
export function parseMcpServers(annotation: string, where: string): McpServerEntry[] {
  return annotation
    .split(/[\s,]+/)
    .filter((entry) => entry !== '')
    .map((entry) => toMcpServerEntry(entry, where));
}

/** A server name (`github`) or URL pattern (`https://mcp.example.com/*`) as a Claude Code MCP policy entry. */
export function toMcpServerEntry(server: string, where: string): McpServerEntry {
  if (/^https?:\/\/\S+$/.test(server)) return { serverUrl: server };
  if (MCP_SERVER_NAME.test(server)) return { serverName: server };
  throw new CompileError('BAD_MCP_SERVER', `${where}: MCP server \`${server}\` is neither a server name (letters, digits, - and _) nor an http(s) URL`);
}

function permissionRuleProblem(rule: string): string | undefined {
  if (rule.startsWith('mcp__')) return MCP_RULE.test(rule) ? undefined : 'is not an MCP rule of the form mcp__server or mcp__server__tool';
  const match = TOOL_RULE.exec(rule);
  if (!match) return 'is not a permission rule of the form Tool or Tool(specifier)';
  const [, tool, specifier] = match;
  if (!RULE_TOOLS.has(tool)) return `names no Claude Code tool (\`${tool}\`)`;
  if (specifier === undefined) return undefined;
  if (specifier.trim() === '') return 'has an empty specifier';
  if (NEVER_CONSULTED_WITH_SPECIFIER.has(tool)) return `is never consulted by Claude Code (hint: write Edit(${specifier}) for file writes)`;
  // In a permission rule `/path` is relative to the settings file's own directory, not the file system root.
  if (PATH_TOOLS.has(tool) && specifier.startsWith('/') && !specifier.startsWith('//')) {
    return `is relative to the settings file's directory (hint: write ${tool}(/${specifier}) for the absolute path)`;
  }
  if (tool === 'WebFetch' && !specifier.startsWith('domain:')) return 'needs a domain:host specifier';
  return undefined;
}
