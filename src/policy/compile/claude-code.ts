// Compiles a prepared policy into Claude Code managed settings: the native backstop that still holds when
// Writ's hook is removed, bypassed or its daemon is down. Only what a rule opts in to with `@native…`
// annotations becomes a native rule; Writ's Cedar conditions are richer than permission-rule globs, so
// the backstop covers the must-never cases and Writ's hook decides everything else.
// Keys: code.claude.com/docs/en/settings; reference/agent-integration.md §1.8, §2.2, §2.3, §3.1.
import type { PreparedPolicy } from '../engine.js';
import { CompileError, parseMcpServers, parseNativeRules, toMcpServerEntry, type McpServerEntry } from './permission-rules.js';

export { CompileError, type CompileErrorCode, type McpServerEntry } from './permission-rules.js';

/** The annotations a rule carries for the native backstop. */
export const NATIVE_ANNOTATIONS = {
  /** `@native("Read(~/.ssh/id_rsa); Bash(gh auth token*)")`: permission rules, `;`-separated. */
  rules: 'native',
  /** `@native_mcp_allowed("github, linear")`: the MCP servers the policy approves; `""` approves none. */
  mcpAllowed: 'native_mcp_allowed',
  /** `@native_mcp_denied("evil-server")`: MCP servers Claude Code must never start. */
  mcpDenied: 'native_mcp_denied',
} as const;

/** A Claude Code settings file's `hooks` value: event → matcher groups. */
export type ClaudeHooksSetting = Readonly<Record<string, readonly unknown[]>>;

export interface ClaudeCodeCompileOptions {
  /** Writ's hooks as a `hooks` value (built by agents/claude-code); omitted when they are installed another way. */
  hooks?: ClaudeHooksSetting;
  /** The Writ server's OTLP receiver and this device's telemetry token; omitted when the device is not enrolled. */
  telemetry?: { endpoint: string; token: string };
  /** MCP servers named outside the policy, added to what its annotations name. */
  mcp?: { allowed?: readonly string[]; denied?: readonly string[] };
}

/** The managed settings Writ emits. Key order here is the order of the emitted JSON. */
export interface ClaudeManagedSettings {
  permissions: { deny: string[]; ask?: string[]; disableBypassPermissionsMode: 'disable' };
  allowManagedHooksOnly: true;
  hooks?: ClaudeHooksSetting;
  allowedMcpServers?: McpServerEntry[];
  deniedMcpServers?: McpServerEntry[];
  env?: Record<string, string>;
}

export interface ClaudeCodeCompilation {
  settings: ClaudeManagedSettings;
  /** Things an operator should know, e.g. a monitor-mode rule left out of the backstop. */
  warnings: string[];
}

/** Turns the policy's `@native…` annotations and the options into Claude Code managed settings. */
export function compileClaudeCode(policy: Pick<PreparedPolicy, 'rules'>, options: ClaudeCodeCompileOptions = {}): ClaudeCodeCompilation {
  const deny = new Set<string>();
  const ask = new Set<string>();
  let allowed: McpServerEntry[] | undefined;
  const denied: McpServerEntry[] = [];
  const warnings: string[] = [];

  for (const rule of policy.rules.values()) {
    const where = `${rule.file}:${rule.line} (${rule.id})`;
    const annotation = (name: string): string | undefined => rule.annotations[name];
    const native = annotation(NATIVE_ANNOTATIONS.rules);
    if (native !== undefined) {
      const rules = parseNativeRules(native, where);
      if (rule.effect === 'allow') throw new CompileError('NATIVE_ON_PERMIT', `${where}: @native belongs on a forbid rule; a permit has nothing to back up`);
      // A monitor rule only records what it would do, and a native rule always blocks.
      if (rule.mode === 'monitor') warnings.push(`${where} is in monitor mode, so its @native rules are left out`);
      else rules.forEach((entry) => (rule.effect === 'ask' ? ask : deny).add(entry));
    }
    const approved = annotation(NATIVE_ANNOTATIONS.mcpAllowed);
    if (approved !== undefined) allowed = [...(allowed ?? []), ...parseMcpServers(approved, where)];
    const refused = annotation(NATIVE_ANNOTATIONS.mcpDenied);
    if (refused !== undefined) denied.push(...parseMcpServers(refused, where));
  }
  if (options.mcp?.allowed) allowed = [...(allowed ?? []), ...options.mcp.allowed.map((server) => toMcpServerEntry(server, 'options'))];
  denied.push(...(options.mcp?.denied ?? []).map((server) => toMcpServerEntry(server, 'options')));
  if (deny.size === 0 && ask.size === 0) warnings.push('no rule carries @native, so nothing is denied natively when the hook is gone');
  for (const entry of deny) ask.delete(entry);

  const settings: ClaudeManagedSettings = {
    permissions: { deny: [...deny], ...(ask.size > 0 ? { ask: [...ask] } : {}), disableBypassPermissionsMode: 'disable' },
    allowManagedHooksOnly: true,
    ...(options.hooks ? { hooks: options.hooks } : {}),
    ...(allowed ? { allowedMcpServers: uniqueEntries(allowed) } : {}),
    ...(denied.length > 0 ? { deniedMcpServers: uniqueEntries(denied) } : {}),
    ...(options.telemetry ? { env: telemetryEnv(options.telemetry) } : {}),
  };
  return { settings, warnings };
}

/** The settings as the file Writ writes: 2-space JSON, keys in a fixed order, a final newline. */
export function formatManagedSettings(settings: ClaudeManagedSettings): string {
  return `${JSON.stringify(settings, null, 2)}\n`;
}

/**
 * Claude Code's own OpenTelemetry, exported to the Writ server's OTLP receiver (docs/telemetry.md). The exporter
 * appends /v1/logs and /v1/metrics to the endpoint, and reads the header value percent-decoded.
 */
function telemetryEnv({ endpoint, token }: { endpoint: string; token: string }): Record<string, string> {
  if (!/^https?:\/\/[^\s/]+(\/\S*)?$/.test(endpoint)) throw new CompileError('BAD_TELEMETRY', `OTLP endpoint \`${endpoint}\` is not an http(s) URL`);
  if (!/^[A-Za-z0-9._~-]+$/.test(token)) throw new CompileError('BAD_TELEMETRY', 'the telemetry token has characters an OTEL header value cannot carry');
  return {
    CLAUDE_CODE_ENABLE_TELEMETRY: '1',
    OTEL_LOGS_EXPORTER: 'otlp',
    OTEL_METRICS_EXPORTER: 'otlp',
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_EXPORTER_OTLP_ENDPOINT: endpoint.replace(/\/+$/, ''),
    OTEL_EXPORTER_OTLP_HEADERS: `Authorization=Bearer%20${token}`,
    OTEL_LOG_TOOL_DETAILS: '1',
  };
}

function uniqueEntries(entries: McpServerEntry[]): McpServerEntry[] {
  const seen = new Set<string>();
  return entries.filter((entry) => {
    const key = JSON.stringify(entry);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
