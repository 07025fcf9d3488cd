// Discovery on this device: which AI agents and model runners are here (shadow AI included), and which MCP
// servers their configuration files declare. It reads known files and lists known folders; it never walks
// a whole tree and never launches an MCP server. The only programs it runs are agent binaries, with
// `--version`, no shell, a short timeout and a minimal environment. Anything odd becomes a Finding.
import { execFile } from 'node:child_process';
import { readdirSync, realpathSync, statSync, type Dirent } from 'node:fs';
import { delimiter, dirname, join, sep } from 'node:path';
import type { AgentFinding, Finding, McpServerFinding } from '../core/inventory.js';
import { claudeCodeGuardState } from '../agents/claude-code/guard.js';
import { AGENT_CATALOGUE, EXTENSION_DIRS, KNOWN_BIN_DIRS, expandCataloguePath, pathsFor, type AgentSignature, type OsName, type PathContext } from '../detect/agent-catalogue.js';
import { classifyAgents, extensionIdOf, processMatches, versionFromOutput, type AgentEvidence, type ProcessInfo } from '../detect/agent-discovery.js';
import { inventoryMcpConfig } from '../detect/mcp-inventory.js';
import { DEFAULT_SETTINGS, type PolicySettings } from '../policy/settings.js';
import { listProcesses } from './processes.js';
import { DEFAULT_MAX_FILE_BYTES, readConfigFile } from './read-file.js';

export type { ProcessInfo } from '../detect/agent-discovery.js';

export interface DiscoveryOptions {
  home: string;
  projectDir?: string;
  /**
   * The PATH to search for agent binaries. When given it replaces PATH and the system install places
   * (/usr/local/bin, node's own bin directory), so a scan can be pinned to exactly what it is told.
   */
  pathEnv?: string;
  platform?: NodeJS.Platform;
  /** Default: read live (Linux /proc; macOS /bin/ps; Windows tasklist.exe). */
  processes?: ProcessInfo[];
  /** The policy settings whose mcp_servers are the MCP register. */
  settings?: PolicySettings;
  /** Claude Code's managed settings directory; the platform's when absent. */
  managedDir?: string;
  versionTimeoutMs?: number;
  maxFileBytes?: number;
}

export interface DeviceDiscovery {
  agents: AgentFinding[];
  mcp_servers: McpServerFinding[];
  findings: Finding[];
}

const DEFAULT_VERSION_TIMEOUT_MS = 3000;
/** An extension's package.json is small; a bigger one is not a manifest worth trusting. */
const MANIFEST_MAX_BYTES = 1024 * 1024;

export async function discoverDevice(options: DiscoveryOptions): Promise<DeviceDiscovery> {
  const context = pathContext(options);
  const { platform } = context;
  const maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  const settings = options.settings ?? DEFAULT_SETTINGS;
  const findings: Finding[] = [];
  const evidence: AgentEvidence[] = [];

  const processes = options.processes ?? (await listProcesses(options.platform ?? process.platform));
  const binaries = versionProbes(binaryCandidates(options, context), options.versionTimeoutMs ?? DEFAULT_VERSION_TIMEOUT_MS);
  const extensions = installedExtensions(context);

  for (const signature of AGENT_CATALOGUE) {
    for (const process of processes) {
      if (processMatches(signature, process)) evidence.push({ agent: signature.id, confirmed: true, evidence: { source: 'process', pid: process.pid, detail: process.argv.slice(0, 3).join(' ').slice(0, 200) || process.name } });
    }
    for (const path of existing(pathsFor(signature.configPaths, platform), context)) evidence.push({ agent: signature.id, confirmed: false, evidence: { source: 'config', path } });
    for (const path of existing(pathsFor(signature.appPaths, platform), context)) evidence.push({ agent: signature.id, confirmed: true, evidence: { source: 'app', path } });
    for (const extension of extensions.filter((item) => signature.extensionIds.includes(item.id))) {
      evidence.push({ agent: signature.id, confirmed: true, ...(extension.version && { version: extension.version }), evidence: { source: 'extension', path: extension.path, detail: extension.id } });
    }
  }
  const mcp = readMcpConfigs(context, settings, maxFileBytes);
  evidence.push(...mcp.evidence);
  findings.push(...mcp.findings);
  for (const probe of await binaries) evidence.push(probe);

  const guard = claudeCodeGuardState({ home: options.home, ...(options.projectDir && { projectDir: options.projectDir }), ...(options.managedDir && { managedDir: options.managedDir }) });
  for (const entry of guard.settings) if (entry.problem) findings.push({ severity: 'warning', subject: 'claude-code', message: `settings file: ${entry.problem}`, path: entry.file });
  return { agents: classifyAgents(dedupe(evidence), guard), mcp_servers: mcp.servers, findings };
}

/** Only the MCP servers the agents' configuration files declare, joined with the register: no processes, no binaries run. */
export function discoverMcpServers(options: Omit<DiscoveryOptions, 'processes' | 'pathEnv' | 'versionTimeoutMs'>): Omit<DeviceDiscovery, 'agents'> {
  const { servers, findings } = readMcpConfigs(pathContext(options), options.settings ?? DEFAULT_SETTINGS, options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES);
  return { mcp_servers: servers, findings };
}

function pathContext(options: Pick<DiscoveryOptions, 'home' | 'platform' | 'projectDir' | 'managedDir'>): PathContext {
  const platform = options.platform ?? process.platform;
  return {
    home: options.home,
    platform: platform === 'darwin' || platform === 'win32' ? platform : 'linux',
    ...(options.projectDir && { projectDir: options.projectDir }),
    ...(options.managedDir && { managedDir: options.managedDir }),
  };
}

/** Every catalogue MCP file that exists here, read with a size cap and parsed; a file that cannot be is a finding. */
function readMcpConfigs(context: PathContext, settings: PolicySettings, maxFileBytes: number): { servers: McpServerFinding[]; findings: Finding[]; evidence: AgentEvidence[] } {
  const servers: McpServerFinding[] = [];
  const findings: Finding[] = [];
  const evidence: AgentEvidence[] = [];
  for (const signature of AGENT_CATALOGUE) {
    for (const location of signature.mcpConfigs) {
      if (location.os && !location.os.includes(context.platform)) continue;
      const path = expandCataloguePath(location.path, context);
      if (path === undefined) continue;
      const files = location.findFile ? findFiles(path, location.findFile, location.maxDepth ?? 1, (message) => findings.push({ severity: 'info', subject: signature.id, message, path })) : [path];
      for (const file of files) {
        const read = readConfigFile(file, maxFileBytes);
        if (read.kind === 'missing') continue;
        evidence.push({ agent: signature.id, confirmed: false, evidence: { source: 'config', path: file } });
        if (read.kind === 'problem') {
          findings.push({ severity: 'warning', subject: signature.id, message: `MCP configuration ${read.message}; its servers are unknown`, path: file });
          continue;
        }
        const inventory = inventoryMcpConfig({ agent: signature.id, scope: location.scope, file, format: location.format, shape: location.shape, text: read.text }, settings);
        servers.push(...inventory.servers);
        findings.push(...inventory.findings);
        if (signature.id === 'claude-code' && location.scope === 'managed') {
          const message = 'managed-mcp.json takes exclusive control: Claude Code runs only the servers it lists, none of the user, project or local ones listed beside them';
          findings.push({ severity: 'info', subject: signature.id, message, path: file });
        }
      }
    }
  }
  return { servers, findings, evidence };
}

/** Folders listed while searching one catalogue folder; plugin caches hold dozens, not thousands. */
const MAX_FOLDERS_SEARCHED = 2000;

/** Files of one name under a folder, at most maxDepth levels down; links are not followed, so a loop cannot trap it. */
function findFiles(root: string, name: string, maxDepth: number, note: (message: string) => void): string[] {
  const found: string[] = [];
  const queue: [string, number][] = [[root, 0]];
  let listed = 0;
  while (queue.length > 0) {
    const [dir, depth] = queue.shift()!;
    if (++listed > MAX_FOLDERS_SEARCHED) {
      note(`more than ${MAX_FOLDERS_SEARCHED} folders: the search for ${name} stopped there`);
      break;
    }
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.name === name && !entry.isDirectory()) found.push(path);
      else if (entry.isDirectory() && depth < maxDepth) queue.push([path, depth + 1]);
    }
  }
  return found.sort();
}

interface BinaryCandidate {
  signature: AgentSignature;
  binary: AgentSignature['binaries'][number];
  path: string;
  /** The file the path resolves to. */
  real: string;
}

/** Each agent binary found on PATH or in a known install place, once per real file. */
function binaryCandidates(options: DiscoveryOptions, context: PathContext): BinaryCandidate[] {
  const known = pathsFor(KNOWN_BIN_DIRS, context.platform).filter((dir) => options.pathEnv === undefined || dir.startsWith('~') || dir.startsWith('{'));
  const dirs = [
    ...(options.pathEnv ?? process.env.PATH ?? '').split(context.platform === 'win32' ? ';' : delimiter),
    ...known.map((dir) => expandCataloguePath(dir, context)!),
    ...(options.pathEnv === undefined ? [dirname(process.execPath)] : []),
  ].filter((dir) => dir !== '');
  const seen = new Set<string>();
  const candidates: BinaryCandidate[] = [];
  const suffixes = context.platform === 'win32' ? ['.exe', '.cmd'] : [''];
  for (const signature of AGENT_CATALOGUE) {
    for (const binary of signature.binaries) {
      for (const dir of [...new Set(dirs)]) {
        for (const suffix of suffixes) {
          const path = join(dir, binary.name + suffix);
          const real = executableFile(path);
          if (real === undefined || seen.has(`${signature.id}:${real}`)) continue;
          seen.add(`${signature.id}:${real}`);
          candidates.push({ signature, binary, path, real });
        }
      }
    }
  }
  return candidates;
}

function executableFile(path: string): string | undefined {
  try {
    const stat = statSync(path);
    return stat.isFile() ? realpathSync(path) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Each candidate's version: from the manifest of the npm package its real file belongs to, or else by running
 * `--version`, all at once. A binary whose answer is not the agent's is evidence but no version.
 */
function versionProbes(candidates: BinaryCandidate[], timeoutMs: number): Promise<AgentEvidence[]> {
  // A minimal environment: node's directory so `#!/usr/bin/env node` launchers start, and nothing secret.
  const env = { PATH: [dirname(process.execPath), '/usr/bin', '/bin'].join(delimiter), HOME: '/nonexistent', NO_COLOR: '1', CI: '1' };
  return Promise.all(
    candidates.map(
      ({ signature, binary, path, real }) =>
        new Promise<AgentEvidence>((resolve) => {
          const manifest = binary.npmPackage === undefined ? undefined : npmPackageVersion(real, binary.npmPackage);
          if (manifest) {
            return resolve({ agent: signature.id, confirmed: true, version: manifest.version, evidence: { source: 'binary', path, detail: `${binary.name} is ${binary.npmPackage} ${manifest.version} (${manifest.file})` } });
          }
          execFile(path, binary.versionArgs, { timeout: timeoutMs, killSignal: 'SIGKILL', env, maxBuffer: 64 * 1024, windowsHide: true, shell: false }, (error, stdout, stderr) => {
            const output = `${stdout}\n${stderr}`;
            const version = error && !stdout ? undefined : versionFromOutput(binary, output);
            const detail = version ? `${binary.name} ${binary.versionArgs.join(' ')} → ${version}` : `${binary.name} ${binary.versionArgs.join(' ')} did not answer as ${signature.name} does${(error as { killed?: boolean } | null)?.killed ? ' (timed out)' : ''}`;
            resolve({ agent: signature.id, confirmed: version !== undefined, ...(version && { version }), evidence: { source: 'binary', path, detail } });
          });
        }),
    ),
  );
}

/**
 * The version in the manifest of npm package `name`, when `file` lies inside that package's folder
 * (`…/node_modules/<name>/…`): npm put the binary there, so the manifest is its own, as an extension's is.
 */
function npmPackageVersion(file: string, name: string): { version: string; file: string } | undefined {
  const marker = `${sep}node_modules${sep}${name.split('/').join(sep)}${sep}`;
  const at = file.lastIndexOf(marker);
  if (at < 0) return undefined;
  const manifestPath = file.slice(0, at + marker.length) + 'package.json';
  const manifest = readConfigFile(manifestPath, 1024 * 1024);
  if (manifest.kind !== 'text') return undefined;
  try {
    const parsed = JSON.parse(manifest.text) as { name?: unknown; version?: unknown };
    return parsed.name === name && typeof parsed.version === 'string' && /^\d+\.\d+\.\d+/.test(parsed.version) ? { version: parsed.version, file: manifestPath } : undefined;
  } catch {
    return undefined;
  }
}

interface InstalledExtension {
  id: string;
  path: string;
  version?: string;
}

/** The VS Code-family extension folders, listed (not walked); versions from each known extension's package.json. */
function installedExtensions(context: PathContext): InstalledExtension[] {
  const found: InstalledExtension[] = [];
  const wanted = new Set(AGENT_CATALOGUE.flatMap((signature) => signature.extensionIds));
  for (const dir of EXTENSION_DIRS.map((path) => expandCataloguePath(path, context)!)) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      const id = extensionIdOf(name);
      if (id === undefined || !wanted.has(id)) continue;
      const path = join(dir, name);
      const manifest = readConfigFile(join(path, 'package.json'), MANIFEST_MAX_BYTES);
      found.push({ id, path, ...(manifest.kind === 'text' && { version: manifestVersion(manifest.text, id) }) });
    }
  }
  return found;
}

/** The manifest's version, when the manifest is the extension's own (publisher and name agree). */
function manifestVersion(text: string, id: string): string | undefined {
  try {
    const manifest = JSON.parse(text) as { publisher?: unknown; name?: unknown; version?: unknown };
    const own = typeof manifest.publisher === 'string' && typeof manifest.name === 'string' && `${manifest.publisher}.${manifest.name}`.toLowerCase() === id;
    return own && typeof manifest.version === 'string' && /^\d+\.\d+\.\d+/.test(manifest.version) ? manifest.version : undefined;
  } catch {
    return undefined;
  }
}

function existing(paths: string[], context: PathContext): string[] {
  return paths.flatMap((path) => {
    const expanded = expandCataloguePath(path, context);
    if (expanded === undefined) return [];
    try {
      statSync(expanded);
      return [expanded];
    } catch {
      return [];
    }
  });
}

/** The same file seen twice (a config folder that is also an MCP file) is one piece of evidence. */
function dedupe(evidence: AgentEvidence[]): AgentEvidence[] {
  const seen = new Set<string>();
  return evidence.filter((item) => {
    const key = `${item.agent}|${item.evidence.source}|${item.evidence.path ?? ''}|${item.evidence.pid ?? ''}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
