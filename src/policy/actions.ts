// What one tool call really does, as the policy sees it: each action becomes one Cedar request.
import type { McpServerConfig, McpServerIdentity } from './mcp-identity.js';

export type Action =
  | FileAction
  | ExecAction
  | NetworkAction
  | McpCallAction
  | { kind: 'search'; query: string; via: string }
  | { kind: 'delegate'; subagent: string; description: string; via: string };

export interface FileAction {
  kind: 'read' | 'write' | 'delete';
  /** Absolute, normalised path; may contain `*` where a glob or an unknown part could match anything. */
  path: string;
  /** The action covers everything below `path` (grep -r, cp -r, tar, rm -r). */
  recursive: boolean;
  /** The program or tool that does it, for the reason text. */
  via: string;
}

export interface ExecAction {
  kind: 'exec';
  /** Program name with directories and wrappers stripped (`/usr/bin/sudo env cat` → `cat`), or a path for local scripts. */
  program: string;
  args: string[];
  /** `program args…` joined by single spaces: what a rule's `like` pattern sees. */
  line: string;
  /** Runs code that came from the network (`curl … | sh`, `bash <(curl …)`). */
  remoteCode: boolean;
  /** What the normaliser understood beyond the words (`git.push.force`, `git.push.target:main`). */
  facts?: string[];
  /** Why Writ could not tell what this runs, reads or writes; empty when it could. */
  opaque: string;
  via: string;
}

export interface NetworkAction {
  /** `fetch` receives from the network; `send` lets data leave the device. */
  kind: 'fetch' | 'send';
  /** Lower case, no trailing dot; an IP literal in canonical form whatever its spelling (`0xA9FEA9FE` → `169.254.169.254`). */
  host: string;
  /** The IP address when the destination is an IP literal (or a wildcard-DNS name such as `10.0.0.1.nip.io` that resolves to one). */
  ip?: string;
  port: number;
  scheme: string;
  method: string;
  url: string;
  /** The destination is one of the project's own git remotes. */
  projectRemote: boolean;
  via: string;
}

export interface McpCallAction {
  kind: 'mcp_call';
  server: string;
  tool: string;
  args: unknown;
  via: string;
  /** What the server is, from the MCP configuration; absent when no configuration Writ can see names it. */
  identity?: McpServerIdentity;
}

/** Where a tool call happens: supplied by the adapter, so the normaliser itself does no I/O. */
export interface CallEnvironment {
  home: string;
  cwd: string;
  projectDir: string;
  tempDirs: string[];
  osUser: string;
  /** Hosts of the project's git remotes, by remote name. */
  gitRemotes: Record<string, string>;
  /** The current git branch, when known. */
  gitBranch?: string;
  /** The project's origin remote as host/path (`github.com/acme/app`), when known. */
  repository?: string;
  /** Expands a glob against the file system; returns [] when nothing matches or the pattern is not understood. */
  expandGlob?(pattern: string): string[];
  /** Follows symlinks of an existing path; returns undefined when the path does not exist. */
  realpath?(path: string): string | undefined;
  /** The agent's MCP servers for this project, by name, as its configuration files define them. */
  mcpServers?: Record<string, McpServerConfig>;
  /** Environment variables a Bash command would see (HOME, USER, TMPDIR, … are filled in from the fields above). */
  variables?: Record<string, string>;
}
