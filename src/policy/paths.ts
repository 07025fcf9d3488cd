// Path arithmetic on POSIX paths, without touching the file system.
import { posix } from 'node:path';
import type { CallEnvironment } from './actions.js';

/** Absolute, `..`-free form of `path` as seen from `cwd`, with `~` expanded. */
export function resolvePath(path: string, cwd: string, home: string): string {
  if (path === '~' || path.startsWith('~/')) path = home + path.slice(1);
  return posix.resolve(cwd, path);
}

export function isUnder(path: string, dir: string): boolean {
  const base = dir.endsWith('/') ? dir : dir + '/';
  return path === dir || path.startsWith(base);
}

/** `~/…` for paths under the home directory; the path itself otherwise. */
export function homeRelative(path: string, home: string): string {
  return isUnder(path, home) ? '~' + path.slice(home.length) : path;
}

export function baseName(path: string): string {
  return posix.basename(path);
}

/** Every spelling the policy must see for one path: as given, and its real path if a symlink leads elsewhere. */
export function pathVariants(path: string, env: CallEnvironment): string[] {
  const real = path.includes('*') ? undefined : env.realpath?.(path);
  return real && real !== path ? [path, real] : [path];
}
