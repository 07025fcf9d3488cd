// What a device reports about itself: the agents on it, the MCP servers they load, its posture and whether
// Writ's guard is really on. One shape for the daemon's signed events, `writ scan --json` and the server's
// fleet inventory, so the three never disagree about what a field means.

/** governed: Writ's hooks are active in settings the agent loads; ungoverned: they are not; unknown: cannot tell. */
export type Governance = 'governed' | 'ungoverned' | 'unknown';

export interface Evidence {
  source: 'process' | 'binary' | 'config' | 'extension' | 'app';
  /** The file, directory or executable the evidence was read from. */
  path?: string;
  pid?: number;
  detail?: string;
}

export interface AgentFinding {
  /** The catalogue's id: 'claude-code', 'codex-cli', 'gemini-cli', 'cursor', 'ollama', … */
  id: string;
  name: string;
  kind: 'cli' | 'desktop' | 'editor' | 'extension' | 'model-runner';
  /** Confirmed by running `--version` or read from a manifest; absent when it could not be confirmed. */
  version?: string;
  governance: Governance;
  /** Why it is classified so, in words a person can act on. */
  governance_reason: string;
  running: boolean;
  evidence: Evidence[];
}

export interface McpServerFinding {
  /** The catalogue id of the agent that loads this configuration. */
  agent: string;
  scope: 'managed' | 'user' | 'project' | 'local' | 'plugin' | 'extension';
  /** The configuration file it was read from. */
  file: string;
  name: string;
  transport: 'stdio' | 'http' | 'sse' | 'unknown';
  command?: string;
  args?: string[];
  url?: string;
  /** Names only: values can be secrets and are never read into the inventory. */
  env_names: string[];
  header_names: string[];
  /** The identity fingerprint of src/policy/mcp-identity.ts, the same one policy pins. */
  fingerprint: string;
  /** The configuration turns it off (`"disabled": true`, `enabled = false`); still listed, since one edit turns it on. */
  disabled?: true;
  /** What the policy's MCP register says of it. */
  approval: 'approved' | 'unapproved' | 'denied';
  /** From the register, when the server is registered. */
  register?: McpRegisterEntry;
}

/** The MCP register the seeds ask for: one entry per approved (or refused) server, kept in policy settings. */
export interface McpRegisterEntry {
  name: string;
  owner?: string;
  purpose?: string;
  /** The data it can reach, in the org's words. */
  data?: string[];
  access?: 'read-only' | 'write';
  /** The policy rule or settings entry that approves it. */
  approval_rule?: string;
  /** The command that disables it fleet-wide. */
  disable: string;
}

/** A problem met while looking (a broken, huge or hostile file): reported, never a crash. */
export interface Finding {
  severity: 'info' | 'warning' | 'error';
  subject: string;
  message: string;
  path?: string;
}

export type PostureCheckName = 'disk_encrypted' | 'firewall' | 'endpoint_protection' | 'screen_lock' | 'os_version' | 'patch_age';

export interface PostureCheck {
  name: PostureCheckName;
  /** pass/fail for a known answer; unknown when the check could not run or needs privileges it lacks. */
  status: 'pass' | 'fail' | 'unknown';
  value?: boolean | string | number;
  /** Why the status is what it is (for unknown: what was missing). */
  reason?: string;
  /** The command (absolute path and arguments) or file the answer came from. */
  source?: string;
  checked_at: string;
}

/** The posture attributes policy reads as `context.device`; absent means unknown. */
export interface PostureFields {
  os?: string;
  os_version?: string;
  disk_encrypted?: boolean;
  firewall?: boolean;
  endpoint_protection?: boolean;
  screen_lock?: boolean;
  /** Days since the operating system's packages were last updated. */
  patch_age_days?: number;
}

/** `$WRIT_HOME/posture.json`: the flat fields policy reads (src/daemon/posture.ts) plus the checks behind them. */
export interface PostureReport extends PostureFields {
  collected_at: string;
  checks: PostureCheck[];
}

export interface GuardAgentState {
  agent: string;
  /** Writ's hooks are present in settings the agent really loads, and no switch turns them off. */
  hooks_installed: boolean;
  /** The settings files that were read, in the agent's order of precedence, and what each said. */
  settings: { file: string; scope: string; has_writ_hooks: boolean; disable_all_hooks?: boolean; problem?: string }[];
  problems: string[];
}

export interface SelfTestResult {
  at: string;
  passed: boolean;
  detail: string;
}

/** The enforcement state a daemon signs in its heartbeat. */
export interface GuardReport {
  agents: GuardAgentState[];
  self_test?: SelfTestResult;
  /** Tool calls seen in the agent's own telemetry or transcript with no Writ decision. */
  uncovered_calls: { session_id: string; tool_use_id: string; tool?: string; source: string }[];
}

export interface DeviceInventory {
  v: 1;
  collected_at: string;
  agents: AgentFinding[];
  mcp_servers: McpServerFinding[];
  posture?: PostureReport;
  guard?: GuardReport;
  findings: Finding[];
}
