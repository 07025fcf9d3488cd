// Claude Code's MCP configuration for a project, read from the files Claude Code reads, so the policy can
// name each server by what it is (src/policy/mcp-identity.ts). Scopes, from the agent integration notes:
//   managed  <system dir>/managed-mcp.json       {"mcpServers": {…}}; when present, the only servers
//   local    ~/.claude.json projects[<path>].mcpServers
//   project  <project>/.mcp.json                  {"mcpServers": {…}}
//   user     ~/.claude.json mcpServers
// A name in several scopes takes its whole entry from the first of local, project, user.
//
// Every file here is user-controlled. A file that cannot be read as JSON is ignored with the reason kept;
// an entry that is not a server takes its name out of the lower scopes too, so a broken project entry
// cannot make Writ see the user's approved server of the same name while Claude Code runs another.
import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { CLAUDE_MANAGED_DIRS } from '../detect/agent-catalogue.js';
import { claudeServerProblem, serverConfigOf } from '../detect/mcp-inventory.js';
import type { McpServerConfig } from '../policy/mcp.js';

export type McpScope = 'managed' | 'local' | 'project' | 'user';

export interface McpConfiguration {
  /** Servers by name, as Claude Code would run them. */
  servers: Record<string, McpServerConfig>;
  /** Where each server's entry came from. */
  scopes: Record<string, McpScope>;
  /** Files and entries that were ignored, and why. */
  problems: { file: string; message: string }[];
}

export interface McpConfigLocations {
  home: string;
  /** The project directory (CLAUDE_PROJECT_DIR or the git root). */
  projectDir: string;
  /** The working directory: a local-scope entry may be keyed by it or a directory above it. */
  cwd?: string;
  /** `$CLAUDE_CONFIG_DIR`, when Claude Code runs with one: `.claude.json` lives there instead of the home directory. */
  configDir?: string;
  /** The directory of managed-settings.json; the platform's when absent. */
  managedDir?: string;
}

/** Reads the MCP configuration a Claude Code session in `projectDir` sees. Never throws. */
export function readMcpConfiguration(locations: McpConfigLocations): McpConfiguration {
  const problems: McpConfiguration['problems'] = [];
  const managedFile = join(locations.managedDir ?? platformManagedDir(), 'managed-mcp.json');
  const managed = readJsonFile(managedFile, problems);
  if (managed !== undefined) {
    // Managed configuration takes exclusive control: user, project and local servers do not run.
    const scoped = new ScopedServers(problems);
    scoped.add('managed', managedFile, serversOf(managed, managedFile, problems));
    return scoped.result();
  }
  const claudeJson = join(locations.configDir ?? locations.home, '.claude.json');
  const global = readJsonFile(claudeJson, problems);
  const projectFile = join(locations.projectDir, '.mcp.json');
  const scoped = new ScopedServers(problems);
  scoped.add('local', `${claudeJson} (projects)`, localServers(global, locations, claudeJson, problems));
  scoped.add('project', projectFile, serversOf(readJsonFile(projectFile, problems), projectFile, problems));
  scoped.add('user', claudeJson, isObject(global) ? serversIn(global.mcpServers, claudeJson, problems) : {});
  return scoped.result();
}

/** The current user's configuration locations for a project. */
export function defaultMcpConfigLocations(projectDir: string, cwd: string): McpConfigLocations {
  return { home: homedir(), projectDir, cwd, ...(process.env.CLAUDE_CONFIG_DIR && { configDir: process.env.CLAUDE_CONFIG_DIR }) };
}

const CACHE_TTL_MS = 2000;
const cache = new Map<string, { at: number; configuration: McpConfiguration }>();

/** The configuration for a project, read again at most every two seconds: a session makes many calls in one place. */
export function cachedMcpConfiguration(locations: McpConfigLocations, now = Date.now()): McpConfiguration {
  const key = JSON.stringify([locations.home, locations.projectDir, locations.cwd, locations.configDir, locations.managedDir]);
  const hit = cache.get(key);
  if (hit && now - hit.at < CACHE_TTL_MS) return hit.configuration;
  if (cache.size > 256) cache.clear();
  const configuration = readMcpConfiguration(locations);
  cache.set(key, { at: now, configuration });
  return configuration;
}

/** Scopes added highest first; a name taken by a higher scope (even by an entry that is not a server) stays taken. */
class ScopedServers {
  private readonly taken = new Set<string>();
  private readonly servers: Record<string, McpServerConfig> = {};
  private readonly scopes: Record<string, McpScope> = {};

  constructor(private readonly problems: McpConfiguration['problems']) {}

  add(scope: McpScope, file: string, entries: Record<string, McpServerConfig | undefined>): void {
    for (const [name, config] of Object.entries(entries)) {
      if (this.taken.has(name)) continue;
      this.taken.add(name);
      if (config) {
        this.servers[name] = config;
        this.scopes[name] = scope;
      } else this.problems.push({ file, message: `server "${name}" is not a valid entry, so no other scope's "${name}" stands in for it` });
    }
  }

  result(): McpConfiguration {
    return { servers: this.servers, scopes: this.scopes, problems: this.problems };
  }
}

/** `projects[<path>].mcpServers` for the project directory, else the nearest directory above the working directory. */
function localServers(global: unknown, locations: McpConfigLocations, file: string, problems: McpConfiguration['problems']): Record<string, McpServerConfig | undefined> {
  if (!isObject(global) || !isObject(global.projects)) return {};
  const projects = global.projects;
  const candidates = [locations.projectDir, ...ancestors(locations.cwd ?? locations.projectDir)];
  const key = candidates.find((path) => isObject(projects[path]));
  return key === undefined ? {} : serversIn((projects[key] as Record<string, unknown>).mcpServers, `${file} projects["${key}"]`, problems);
}

function ancestors(path: string): string[] {
  const paths = [path];
  while (dirname(paths.at(-1)!) !== paths.at(-1)) paths.push(dirname(paths.at(-1)!));
  return paths;
}

function serversOf(document: unknown, file: string, problems: McpConfiguration['problems']): Record<string, McpServerConfig | undefined> {
  if (document === undefined) return {};
  if (!isObject(document)) {
    problems.push({ file, message: 'not a JSON object: ignored' });
    return {};
  }
  return serversIn(document.mcpServers, file, problems);
}

/** Each entry as a server, or undefined (with the reason kept) when it is not one. */
function serversIn(value: unknown, file: string, problems: McpConfiguration['problems']): Record<string, McpServerConfig | undefined> {
  if (value === undefined) return {};
  if (!isObject(value)) {
    problems.push({ file, message: '"mcpServers" is not an object: ignored' });
    return {};
  }
  const servers: Record<string, McpServerConfig | undefined> = {};
  for (const [name, entry] of Object.entries(value)) {
    const problem = claudeServerProblem(entry);
    if (problem) problems.push({ file, message: `server "${name}": ${problem}` });
    servers[name] = problem ? undefined : serverConfigOf(entry as Record<string, unknown>);
  }
  return servers;
}

// ~/.claude.json also holds Claude Code's per-project history and can run to megabytes: a file is parsed
// again only when its size, modification time or inode changed.
const parsedFiles = new Map<string, { stamp: string; value: unknown; problem?: string }>();

/** The parsed file, or undefined when it does not exist; a file that is not JSON is a problem, not an error. */
function readJsonFile(file: string, problems: McpConfiguration['problems']): unknown {
  let parsed: { stamp: string; value: unknown; problem?: string };
  try {
    const stat = statSync(file);
    const stamp = `${stat.size}:${stat.mtimeMs}:${stat.ino}`;
    const hit = parsedFiles.get(file);
    parsed = hit?.stamp === stamp ? hit : { stamp, ...parseJson(readFileSync(file, 'utf8')) };
    if (parsedFiles.size > 256) parsedFiles.clear();
    parsedFiles.set(file, parsed);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') problems.push({ file, message: `cannot be read: ${(error as Error).message}` });
    return undefined;
  }
  if (parsed.problem) problems.push({ file, message: parsed.problem });
  return parsed.value;
}

function parseJson(text: string): { value: unknown; problem?: string } {
  try {
    return { value: JSON.parse(text) };
  } catch (error) {
    return { value: undefined, problem: `not JSON: ${(error as Error).message}` };
  }
}

function platformManagedDir(): string {
  return CLAUDE_MANAGED_DIRS[process.platform === 'darwin' || process.platform === 'win32' ? process.platform : 'linux'];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
