// What each AI coding agent and local model runner looks like on a device: process and binary names, the
// `--version` answer that confirms a binary really is the agent, config directories, editor extension ids,
// app bundles and the MCP configuration files it loads. Data only, so adding an agent is adding an entry.
// Sources: /work/shared/reference/detection.md §2.2 and agent-integration.md §2.5 and §4.
//
// Paths are written with placeholders that discovery expands for the device (see expandCataloguePath):
//   ~          the user's home directory
//   {project}  the project directory, when one is given
//   {appdata}  the per-user application data directory: ~/Library/Application Support (macOS),
//              ~/.config (Linux), ~/AppData/Roaming (Windows)
//   {managed}  Claude Code's managed settings directory (CLAUDE_MANAGED_DIRS, or the one given)
// Paths use `/`; they are joined with the platform's separator at expansion.
import type { AgentFinding, McpServerFinding } from '../core/inventory.js';

export type OsName = 'linux' | 'darwin' | 'win32';
export type ConfigFormat = 'json' | 'jsonc' | 'toml' | 'yaml';

/**
 * How the servers sit in the file:
 *   mcpServers   `{"mcpServers": {name: server}}` (Claude, Cursor, Gemini, Cline, Windsurf, Copilot CLI, Claude Desktop)
 *   claude-json  ~/.claude.json: top-level `mcpServers` (user) and `projects[<path>].mcpServers` (local)
 *   vscode       `{"servers": {name: server}}` (VS Code mcp.json)
 *   codex        TOML `[mcp_servers.<name>]`
 *   goose        YAML `extensions: {name: {type, cmd, args, envs, env_keys, uri, enabled}}`
 *   continue     YAML or JSON `mcpServers:` as a list of `{name, command, args, env, type, url}`
 *   opencode     `{"mcp": {name: {type: local|remote, command: [...], environment, url, headers, enabled}}}`
 *   amp          `{"amp.mcpServers": {name: server}}`
 *   gemini       `{"mcpServers": …}` where `url` is SSE and `httpUrl` streamable HTTP
 */
export type McpShape = 'mcpServers' | 'claude-json' | 'vscode' | 'codex' | 'goose' | 'continue' | 'opencode' | 'amp' | 'gemini';

export interface McpConfigLocation {
  path: string;
  format: ConfigFormat;
  shape: McpShape;
  scope: McpServerFinding['scope'];
  /** Only on these systems; all when absent. */
  os?: OsName[];
  /** `path` is a folder searched (not following links, at most `maxDepth` levels down) for files of this name. */
  findFile?: string;
  maxDepth?: number;
}

export interface AgentBinary {
  name: string;
  versionArgs: string[];
  /** The first group is the version; a binary whose answer does not match is not confirmed as the agent. */
  versionPattern: RegExp;
  /** The npm package that ships it: when the binary's real file lies inside that package, its manifest gives the version without running anything. */
  npmPackage?: string;
}

export type PathsByOs = Partial<Record<OsName | 'all', string[]>>;

export interface AgentSignature {
  id: string;
  name: string;
  kind: AgentFinding['kind'];
  /** Process names (comm / image name without .exe), matched exactly. */
  processNames: string[];
  /** Words in a process's arguments that name the agent when it runs under node or python. */
  processArguments?: string[];
  binaries: AgentBinary[];
  /** Directories and files the agent leaves; present ones are evidence, and alone only leftovers. */
  configPaths: PathsByOs;
  /** Lower-case `<publisher>.<name>` of its VS Code-family extensions. */
  extensionIds: string[];
  /** Application bundles and install folders. */
  appPaths: PathsByOs;
  mcpConfigs: McpConfigLocation[];
  /** Writ can put its guard into this agent (today only Claude Code). */
  integration?: 'claude-code';
}

/** Claude Code's managed settings directory per system (agent-integration.md §2.1). */
export const CLAUDE_MANAGED_DIRS: Record<OsName, string> = {
  linux: '/etc/claude-code',
  darwin: '/Library/Application Support/ClaudeCode',
  win32: 'C:\\Program Files\\ClaudeCode',
};

/** Folders of VS Code-family editors whose subfolders are installed extensions (`<publisher>.<name>-<version>`). */
export const EXTENSION_DIRS = [
  '~/.vscode/extensions',
  '~/.vscode-insiders/extensions',
  '~/.vscode-server/extensions',
  '~/.vscode-oss/extensions',
  '~/.cursor/extensions',
  '~/.cursor-server/extensions',
  '~/.windsurf/extensions',
  '~/.windsurf-server/extensions',
];

/** Install places searched besides PATH. */
export const KNOWN_BIN_DIRS: PathsByOs = {
  all: ['~/.local/bin', '~/.npm-global/bin', '~/.bun/bin', '~/.cargo/bin'],
  linux: ['/usr/local/bin', '/usr/bin', '/opt/homebrew/bin', '~/.nvm/current/bin'],
  darwin: ['/usr/local/bin', '/opt/homebrew/bin', '~/.nvm/current/bin'],
  win32: ['{appdata}/npm'],
};

const SEMVER = String.raw`(\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?)`;
const bareVersion = new RegExp(`^\\s*v?${SEMVER}\\s*$`);

/** VS Code-family user settings directories, where Cline and VS Code keep MCP files. */
const CODE_USER = '{appdata}/Code/User';

export const AGENT_CATALOGUE: AgentSignature[] = [
  {
    id: 'claude-code',
    name: 'Claude Code',
    kind: 'cli',
    processNames: ['claude'],
    processArguments: ['@anthropic-ai/claude-code'],
    binaries: [{ name: 'claude', versionArgs: ['--version'], versionPattern: new RegExp(`^${SEMVER} \\(Claude Code\\)`), npmPackage: '@anthropic-ai/claude-code' }],
    configPaths: { all: ['~/.claude', '~/.claude.json', '~/.local/share/claude'] },
    extensionIds: ['anthropic.claude-code'],
    appPaths: {},
    mcpConfigs: [
      { path: '~/.claude.json', format: 'json', shape: 'claude-json', scope: 'user' },
      { path: '{project}/.mcp.json', format: 'json', shape: 'mcpServers', scope: 'project' },
      { path: '{managed}/managed-mcp.json', format: 'json', shape: 'mcpServers', scope: 'managed' },
      // Installed plugins: cache/<marketplace>/<plugin>/<version>/.mcp.json.
      { path: '~/.claude/plugins/cache', format: 'json', shape: 'mcpServers', scope: 'plugin', findFile: '.mcp.json', maxDepth: 4 },
    ],
    integration: 'claude-code',
  },
  {
    id: 'claude-desktop',
    name: 'Claude Desktop',
    kind: 'desktop',
    processNames: ['Claude', 'claude-desktop'],
    binaries: [],
    configPaths: { all: ['{appdata}/Claude'] },
    extensionIds: [],
    appPaths: { darwin: ['/Applications/Claude.app', '~/Applications/Claude.app'], win32: ['~/AppData/Local/AnthropicClaude'] },
    mcpConfigs: [{ path: '{appdata}/Claude/claude_desktop_config.json', format: 'json', shape: 'mcpServers', scope: 'user' }],
  },
  {
    id: 'codex-cli',
    name: 'OpenAI Codex CLI',
    kind: 'cli',
    processNames: ['codex'],
    processArguments: ['@openai/codex'],
    binaries: [{ name: 'codex', versionArgs: ['--version'], versionPattern: new RegExp(`^codex-cli ${SEMVER}`), npmPackage: '@openai/codex' }],
    configPaths: { all: ['~/.codex'] },
    extensionIds: ['openai.chatgpt'],
    appPaths: {},
    mcpConfigs: [
      { path: '~/.codex/config.toml', format: 'toml', shape: 'codex', scope: 'user' },
      { path: '{project}/.codex/config.toml', format: 'toml', shape: 'codex', scope: 'project' },
      { path: '/etc/codex/config.toml', format: 'toml', shape: 'codex', scope: 'managed', os: ['linux', 'darwin'] },
    ],
  },
  {
    id: 'gemini-cli',
    name: 'Gemini CLI',
    kind: 'cli',
    processNames: ['gemini'],
    processArguments: ['@google/gemini-cli'],
    binaries: [{ name: 'gemini', versionArgs: ['--version'], versionPattern: bareVersion, npmPackage: '@google/gemini-cli' }],
    configPaths: { all: ['~/.gemini'] },
    extensionIds: ['google.geminicodeassist'],
    appPaths: {},
    mcpConfigs: [
      { path: '~/.gemini/settings.json', format: 'json', shape: 'gemini', scope: 'user' },
      { path: '{project}/.gemini/settings.json', format: 'json', shape: 'gemini', scope: 'project' },
      { path: '/etc/gemini-cli/settings.json', format: 'json', shape: 'gemini', scope: 'managed', os: ['linux'] },
      { path: '/Library/Application Support/GeminiCli/settings.json', format: 'json', shape: 'gemini', scope: 'managed', os: ['darwin'] },
    ],
  },
  {
    id: 'cursor',
    name: 'Cursor',
    kind: 'editor',
    processNames: ['Cursor', 'cursor', 'cursor-agent'],
    binaries: [{ name: 'cursor-agent', versionArgs: ['--version'], versionPattern: new RegExp(`^${SEMVER}|^(\\d{4}\\.\\d{2}\\.\\d{2}-[0-9a-f]+)`) }],
    configPaths: { all: ['~/.cursor', '{appdata}/Cursor'] },
    extensionIds: [],
    appPaths: { darwin: ['/Applications/Cursor.app'], win32: ['~/AppData/Local/Programs/Cursor'], linux: ['/usr/share/cursor', '/opt/Cursor'] },
    mcpConfigs: [
      { path: '~/.cursor/mcp.json', format: 'json', shape: 'mcpServers', scope: 'user' },
      { path: '{appdata}/Cursor/User/mcp.json', format: 'json', shape: 'vscode', scope: 'user' },
      { path: '{project}/.cursor/mcp.json', format: 'json', shape: 'mcpServers', scope: 'project' },
    ],
  },
  {
    id: 'copilot-cli',
    name: 'GitHub Copilot CLI',
    kind: 'cli',
    processNames: ['copilot'],
    processArguments: ['@github/copilot'],
    binaries: [{ name: 'copilot', versionArgs: ['--version'], versionPattern: new RegExp(`^${SEMVER}`), npmPackage: '@github/copilot' }],
    configPaths: { all: ['~/.copilot'] },
    extensionIds: [],
    appPaths: {},
    mcpConfigs: [{ path: '~/.copilot/mcp-config.json', format: 'json', shape: 'mcpServers', scope: 'user' }],
  },
  {
    id: 'github-copilot',
    name: 'GitHub Copilot (VS Code, JetBrains)',
    kind: 'extension',
    processNames: ['copilot-language-server'],
    processArguments: ['@github/copilot-language-server'],
    binaries: [],
    configPaths: { all: ['~/.config/github-copilot'], win32: ['~/AppData/Local/github-copilot'] },
    extensionIds: ['github.copilot', 'github.copilot-chat'],
    appPaths: {},
    mcpConfigs: [
      { path: `${CODE_USER}/mcp.json`, format: 'jsonc', shape: 'vscode', scope: 'user' },
      { path: '{project}/.vscode/mcp.json', format: 'jsonc', shape: 'vscode', scope: 'project' },
    ],
  },
  {
    id: 'windsurf',
    name: 'Windsurf',
    kind: 'editor',
    processNames: ['Windsurf', 'windsurf', 'language_server_linux_x64', 'language_server_linux_arm', 'language_server_macos', 'language_server_macos_arm', 'language_server_windows_x64'],
    binaries: [],
    configPaths: { all: ['~/.codeium', '~/.windsurf'] },
    extensionIds: ['codeium.codeium', 'codeium.windsurf'],
    appPaths: { darwin: ['/Applications/Windsurf.app'], win32: ['~/AppData/Local/Programs/Windsurf'], linux: ['/usr/share/windsurf', '/opt/Windsurf'] },
    mcpConfigs: [
      { path: '~/.codeium/windsurf/mcp_config.json', format: 'json', shape: 'mcpServers', scope: 'user' },
      { path: '{project}/.windsurf/mcp.json', format: 'json', shape: 'mcpServers', scope: 'project' },
    ],
  },
  {
    id: 'cline',
    name: 'Cline',
    kind: 'extension',
    processNames: ['cline'],
    binaries: [],
    configPaths: { all: ['~/.cline'] },
    extensionIds: ['saoudrizwan.claude-dev'],
    appPaths: {},
    mcpConfigs: [
      { path: `${CODE_USER}/globalStorage/saoudrizwan.claude-dev/settings/cline_mcp_settings.json`, format: 'json', shape: 'mcpServers', scope: 'extension' },
      { path: '{appdata}/Cursor/User/globalStorage/saoudrizwan.claude-dev/settings/cline_mcp_settings.json', format: 'json', shape: 'mcpServers', scope: 'extension' },
      { path: '~/.cline/data/settings/cline_mcp_settings.json', format: 'json', shape: 'mcpServers', scope: 'user' },
    ],
  },
  {
    id: 'continue',
    name: 'Continue',
    kind: 'extension',
    processNames: ['cn'],
    processArguments: ['@continuedev/cli'],
    binaries: [],
    configPaths: { all: ['~/.continue'] },
    extensionIds: ['continue.continue'],
    appPaths: {},
    mcpConfigs: [
      { path: '~/.continue/config.yaml', format: 'yaml', shape: 'continue', scope: 'user' },
      { path: '~/.continue/config.json', format: 'json', shape: 'continue', scope: 'user' },
      { path: '{project}/.continue/config.yaml', format: 'yaml', shape: 'continue', scope: 'project' },
    ],
  },
  {
    id: 'aider',
    name: 'Aider',
    kind: 'cli',
    processNames: ['aider'],
    processArguments: ['aider-chat', 'bin/aider'],
    binaries: [{ name: 'aider', versionArgs: ['--version'], versionPattern: new RegExp(`^aider\\s+v?${SEMVER}`) }],
    configPaths: { all: ['~/.aider.conf.yml', '~/.aider'] },
    extensionIds: [],
    appPaths: {},
    mcpConfigs: [],
  },
  {
    id: 'amp',
    name: 'Amp',
    kind: 'cli',
    processNames: ['amp'],
    processArguments: ['@sourcegraph/amp', '@ampcode/cli'],
    binaries: [{ name: 'amp', versionArgs: ['--version'], versionPattern: new RegExp(`^${SEMVER}`), npmPackage: '@sourcegraph/amp' }],
    configPaths: { all: ['~/.config/amp', '~/.amp'] },
    extensionIds: ['sourcegraph.amp'],
    appPaths: {},
    mcpConfigs: [
      { path: '~/.config/amp/settings.json', format: 'jsonc', shape: 'amp', scope: 'user' },
      { path: '{project}/.amp/settings.json', format: 'jsonc', shape: 'amp', scope: 'project' },
    ],
  },
  {
    id: 'opencode',
    name: 'opencode',
    kind: 'cli',
    processNames: ['opencode'],
    processArguments: ['opencode-ai'],
    binaries: [{ name: 'opencode', versionArgs: ['--version'], versionPattern: bareVersion, npmPackage: 'opencode-ai' }],
    configPaths: { all: ['~/.config/opencode', '~/.opencode', '~/.local/share/opencode'] },
    extensionIds: [],
    appPaths: {},
    mcpConfigs: [
      { path: '~/.config/opencode/opencode.json', format: 'jsonc', shape: 'opencode', scope: 'user' },
      { path: '~/.config/opencode/opencode.jsonc', format: 'jsonc', shape: 'opencode', scope: 'user' },
      { path: '{project}/opencode.json', format: 'jsonc', shape: 'opencode', scope: 'project' },
      { path: '/etc/opencode/opencode.json', format: 'jsonc', shape: 'opencode', scope: 'managed', os: ['linux'] },
    ],
  },
  {
    id: 'goose',
    name: 'Goose',
    kind: 'cli',
    processNames: ['goose', 'goosed', 'Goose'],
    binaries: [{ name: 'goose', versionArgs: ['--version'], versionPattern: new RegExp(`^\\s*${SEMVER}\\s*$`) }],
    configPaths: { all: ['~/.config/goose'], win32: ['{appdata}/Block/goose'] },
    extensionIds: [],
    appPaths: { darwin: ['/Applications/Goose.app'] },
    mcpConfigs: [
      { path: '~/.config/goose/config.yaml', format: 'yaml', shape: 'goose', scope: 'user', os: ['linux', 'darwin'] },
      { path: '{appdata}/Block/goose/config/config.yaml', format: 'yaml', shape: 'goose', scope: 'user', os: ['win32'] },
    ],
  },
  {
    id: 'ollama',
    name: 'Ollama',
    kind: 'model-runner',
    processNames: ['ollama', 'Ollama'],
    binaries: [{ name: 'ollama', versionArgs: ['--version'], versionPattern: new RegExp(`(?:client|ollama) version is ${SEMVER}`) }],
    configPaths: { all: ['~/.ollama'] },
    extensionIds: [],
    appPaths: { darwin: ['/Applications/Ollama.app'], win32: ['~/AppData/Local/Programs/Ollama'] },
    mcpConfigs: [],
  },
  {
    id: 'lm-studio',
    name: 'LM Studio',
    kind: 'model-runner',
    processNames: ['LM Studio', 'lm-studio', 'lms'],
    binaries: [{ name: 'lms', versionArgs: ['version'], versionPattern: new RegExp(`(?:CLI|lms)[^\\d]*v?${SEMVER}`) }],
    configPaths: { all: ['~/.lmstudio', '~/.cache/lm-studio'] },
    extensionIds: [],
    appPaths: { darwin: ['/Applications/LM Studio.app'], win32: ['~/AppData/Local/Programs/LM Studio'] },
    mcpConfigs: [{ path: '~/.lmstudio/mcp.json', format: 'json', shape: 'mcpServers', scope: 'user' }],
  },
];

export interface PathContext {
  home: string;
  platform: OsName;
  projectDir?: string;
  managedDir?: string;
}

/** A catalogue path for this device, or undefined when it needs a project and none was given. */
export function expandCataloguePath(path: string, context: PathContext): string | undefined {
  const separator = context.platform === 'win32' ? '\\' : '/';
  const appdata = { darwin: '~/Library/Application Support', linux: '~/.config', win32: '~/AppData/Roaming' }[context.platform];
  let expanded = path.replace('{appdata}', appdata).replace('{managed}', context.managedDir ?? CLAUDE_MANAGED_DIRS[context.platform]);
  if (expanded.includes('{project}')) {
    if (context.projectDir === undefined) return undefined;
    expanded = expanded.replace('{project}', context.projectDir);
  }
  if (expanded === '~' || expanded.startsWith('~/')) expanded = context.home + expanded.slice(1);
  return separator === '/' ? expanded : expanded.replace(/\//g, separator);
}

/** The paths of a per-OS list that apply on this system. */
export function pathsFor(paths: PathsByOs, platform: OsName): string[] {
  return [...(paths.all ?? []), ...(paths[platform] ?? [])];
}
