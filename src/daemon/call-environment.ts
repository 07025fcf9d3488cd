// The file-system facts a decision needs about where a tool call happens: project root, git remotes and
// branch, real paths behind symlinks, glob matches. Gathered here so the policy core stays pure.
import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { homedir, tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import type { CallEnvironment } from '../policy/index.js';
import { cachedMcpConfiguration, defaultMcpConfigLocations } from './mcp-config.js';
import { parseDestination } from '../policy/shell/network.js';

const MAX_GLOB_MATCHES = 256;

export interface GitFacts {
  root: string;
  remotes: Record<string, string>;
  branch?: string;
}

// Facts that do not change while the daemon runs, and git facts briefly cached: a session makes many
// calls in one directory, and reading .git for each would be most of a decision's file-system cost.
const HOME = homedir();
const OS_USER = userInfo().username;
const TEMP_DIRS = temporaryDirectories();
const GIT_FACTS_TTL_MS = 1000;
const gitCache = new Map<string, { at: number; facts: GitFacts | undefined }>();

function cachedGitFacts(cwd: string): GitFacts | undefined {
  const now = Date.now();
  const hit = gitCache.get(cwd);
  if (hit && now - hit.at < GIT_FACTS_TTL_MS) return hit.facts;
  if (gitCache.size > 256) gitCache.clear();
  const facts = gitFacts(cwd);
  gitCache.set(cwd, { at: now, facts });
  return facts;
}

export function callEnvironment(cwd: string, projectDir?: string): CallEnvironment {
  const git = cachedGitFacts(cwd);
  const project = projectDir ?? git?.root ?? cwd;
  return {
    home: HOME,
    cwd,
    projectDir: project,
    tempDirs: TEMP_DIRS,
    osUser: OS_USER,
    gitRemotes: git?.remotes ?? {},
    gitBranch: git?.branch,
    // Which MCP server a tool call reaches is decided by these files, not by the name in the tool.
    mcpServers: cachedMcpConfiguration(defaultMcpConfigLocations(project, cwd)).servers,
    expandGlob,
    realpath(path) {
      try {
        return realpathSync.native(path);
      } catch {
        return undefined;
      }
    },
  };
}

function temporaryDirectories(): string[] {
  const dirs = new Set([tmpdir(), '/tmp', '/var/tmp']);
  for (const dir of [...dirs]) {
    try {
      dirs.add(realpathSync.native(dir));
    } catch {
      dirs.delete(dir);
    }
  }
  return [...dirs];
}

/** Finds the enclosing git work tree and reads its remotes and branch from .git itself (no git process). */
export function gitFacts(cwd: string): GitFacts | undefined {
  for (let dir = cwd; ; dir = dirname(dir)) {
    const dotGit = join(dir, '.git');
    const gitDir = resolveGitDir(dotGit);
    if (gitDir) return { root: dir, remotes: readRemotes(gitDir), branch: readBranch(gitDir) };
    if (dirname(dir) === dir) return undefined;
  }
}

function resolveGitDir(dotGit: string): string | undefined {
  try {
    const stat = statSync(dotGit);
    if (stat.isDirectory()) return dotGit;
    // A worktree or submodule: `.git` is a file saying `gitdir: …`.
    const pointer = /^gitdir:\s*(.+)$/m.exec(readFileSync(dotGit, 'utf8'));
    return pointer ? join(dirname(dotGit), pointer[1]!.trim()).replace(/^(?!\/)/, '/') : undefined;
  } catch {
    return undefined;
  }
}

function readRemotes(gitDir: string): Record<string, string> {
  const remotes: Record<string, string> = {};
  let config: string;
  try {
    config = readFileSync(join(commonDir(gitDir), 'config'), 'utf8');
  } catch {
    return remotes;
  }
  let remote: string | undefined;
  for (const line of config.split('\n')) {
    const section = /^\s*\[\s*remote\s+"([^"]+)"\s*\]/.exec(line);
    if (section) remote = section[1];
    else if (/^\s*\[/.test(line)) remote = undefined;
    const url = remote ? /^\s*url\s*=\s*(.+?)\s*$/.exec(line) : null;
    if (remote && url) remotes[remote] = parseDestination(url[1]!).host;
  }
  return remotes;
}

function commonDir(gitDir: string): string {
  try {
    return join(gitDir, readFileSync(join(gitDir, 'commondir'), 'utf8').trim());
  } catch {
    return gitDir;
  }
}

function readBranch(gitDir: string): string | undefined {
  try {
    const head = readFileSync(join(gitDir, 'HEAD'), 'utf8').trim();
    return /^ref:\s*refs\/heads\/(.+)$/.exec(head)?.[1];
  } catch {
    return undefined;
  }
}

/** Bash-style pathname expansion of an absolute pattern: `*`, `?`, `[…]`; dot files only when spelt with a dot. */
export function expandGlob(pattern: string): string[] {
  const segments = pattern.split('/').filter(Boolean);
  let paths = ['/'];
  for (const segment of segments) {
    const next: string[] = [];
    for (const base of paths) {
      if (!/[*?[]/.test(segment)) {
        next.push(join(base, segment));
        continue;
      }
      const matcher = segmentMatcher(segment);
      let names: string[];
      try {
        names = readdirSync(base);
      } catch {
        continue;
      }
      for (const name of names.sort()) if (matcher.test(name) && (segment.startsWith('.') || !name.startsWith('.'))) next.push(join(base, name));
      if (next.length > MAX_GLOB_MATCHES) break;
    }
    paths = next.slice(0, MAX_GLOB_MATCHES);
  }
  return paths.filter((path) => {
    try {
      statSync(path);
      return true;
    } catch {
      return false;
    }
  });
}

function segmentMatcher(segment: string): RegExp {
  let source = '';
  for (let i = 0; i < segment.length; i++) {
    const char = segment[i]!;
    if (char === '*') source += '.*';
    else if (char === '?') source += '.';
    else if (char === '[') {
      const end = segment.indexOf(']', i + 2);
      if (end < 0) source += '\\[';
      else {
        const body = segment.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\');
        source += `[${body}]`;
        i = end;
      }
    } else source += char.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 's');
}
