// `writ install claude-code` / `writ uninstall claude-code`: puts Writ's hooks into a Claude
// Code settings file and takes them out again, leaving the file as it was found.
//
// Before its first write Writ saves the file's exact bytes (or the fact that there was no
// file) under $WRIT_HOME/installs. Uninstalling a file nobody touched since puts those bytes
// back; a file the user edited since only loses Writ's own entries.
import { createHash, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdir, open, readFile, realpath, rename, rmdir, stat, unlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  InvalidSettingsError,
  planInstall,
  planUninstall,
  writHookCommands,
  type HookTransport,
} from './settings.js';

export type ClaudeCodeScope = 'user' | 'project' | 'managed';

/** Where install messages go: `info` for the printed drop-in, `warn` for warnings. */
export interface InstallOutput {
  info(text: string): void;
  warn(text: string): void;
}

export interface SettingsTargetOptions {
  scope: ClaudeCodeScope;
  /** Project scope: the project's root. Defaults to the current directory. */
  projectDir?: string;
  /** The user's home directory. Defaults to os.homedir(). */
  home?: string;
  /** Read for CLAUDE_CONFIG_DIR. Defaults to process.env. */
  env?: Record<string, string | undefined>;
  /** Managed scope: the system directory that holds managed-settings.d. Defaults to the platform's. */
  managedDir?: string;
}

export interface InstallClaudeCodeOptions extends SettingsTargetOptions {
  transport: HookTransport;
  writHome: string;
  shimPath: string;
  /** The daemon's loopback port, for transport 'http'. */
  httpPort?: number;
  /** The daemon's hook token, for transport 'http'. */
  httpToken?: string;
  /** Print what would be written instead of writing it. */
  print?: boolean;
  output?: InstallOutput;
}

export interface UninstallClaudeCodeOptions extends SettingsTargetOptions {
  writHome: string;
  output?: InstallOutput;
}

export interface InstallResult {
  /** The settings file, or the managed drop-in. */
  target: string;
  /** `printed`: asked to print, or managed scope without root. */
  action: 'written' | 'unchanged' | 'printed';
  /** The settings text Writ wrote or would write. */
  text: string;
  warnings: string[];
}

export interface UninstallResult {
  target: string;
  /** `restored`: the original bytes are back; `deleted`: there was no file before Writ. */
  action: 'restored' | 'deleted' | 'removed-entries' | 'not-installed';
}

/** What Writ saved about a settings file before writing it. */
interface InstallRecord {
  format: 1;
  agent: 'claude-code';
  scope: ClaudeCodeScope;
  target: string;
  /** The file as it should be when Writ is gone: its exact bytes, or no file. */
  original: { existed: false } | { existed: true; base64: string };
  /** Directories Writ created for the file, deepest first, removed again if left empty. */
  createdDirs: string[];
  /** sha256 of the bytes Writ last wrote, to tell whether anyone changed the file since. */
  writtenSha256: string;
}

interface SettingsFile {
  bytes: Buffer;
  text: string;
  mode: number;
  uid: number;
  gid: number;
}

const MANAGED_DROP_IN = join('managed-settings.d', '50-writ.json');
// Claude Code runs as every user on the machine, so they all must be able to read the drop-in.
const MANAGED_FILE_MODE = 0o644;

const consoleOutput: InstallOutput = {
  info: (text) => process.stdout.write(`${text}\n`),
  warn: (text) => process.stderr.write(`${text}\n`),
};

/** Where the shim lands after `npm run build`; the same from src/ and from dist/. */
export function bundledShimPath(): string {
  return fileURLToPath(new URL('../../../native/build/writ-hook', import.meta.url));
}

/** The settings file a scope installs into. */
export function claudeSettingsPath(options: SettingsTargetOptions): string {
  const env = options.env ?? process.env;
  switch (options.scope) {
    case 'user':
      return env.CLAUDE_CONFIG_DIR
        ? resolve(env.CLAUDE_CONFIG_DIR, 'settings.json')
        : join(options.home ?? homedir(), '.claude', 'settings.json');
    case 'project':
      return resolve(options.projectDir ?? process.cwd(), '.claude', 'settings.json');
    case 'managed':
      return join(options.managedDir ?? platformManagedDir(), MANAGED_DROP_IN);
  }
}

function platformManagedDir(): string {
  if (process.platform === 'linux') return '/etc/claude-code';
  if (process.platform === 'darwin') return '/Library/Application Support/ClaudeCode';
  throw new Error(`Writ installs managed Claude Code settings on Linux and macOS only, not on ${process.platform}`);
}

export async function installClaudeCode(options: InstallClaudeCodeOptions): Promise<InstallResult> {
  const output = options.output ?? consoleOutput;
  const target = claudeSettingsPath(options);
  const shimPath = resolve(options.shimPath);
  const writHome = resolve(options.writHome);
  const managed = options.scope === 'managed';
  try {
    await access(shimPath, constants.X_OK);
  } catch {
    throw new Error(
      `Writ's hook shim is missing or not executable at ${shimPath}. Build it with 'npm run build' (it needs a C compiler); ` +
        'without it Writ cannot stand between Claude Code and its tools, so nothing was installed.',
    );
  }
  const hooks = writHookCommands({
    transport: options.transport,
    shimPath,
    // A managed drop-in serves every user, and each user's shim must reach their own daemon.
    writHome: managed ? undefined : writHome,
    httpPort: options.httpPort,
    httpToken: options.httpToken,
  });

  const warnings: string[] = [];
  if (options.transport === 'http') {
    warnings.push(
      'Warning: with the http transport Claude Code runs a tool call anyway when the Writ daemon is down, slow or answers ' +
        'with an error (http hooks fail open). The default command transport blocks the call instead.',
    );
  }
  if (managed) {
    const blocker = await placeOtherUsersCannotEnter(shimPath);
    if (blocker) {
      warnings.push(
        `Warning: other users cannot run the shim at ${shimPath} (${blocker} is closed to them), so these managed hooks ` +
          'would block every tool call of theirs. Put writ-hook where all users can run it, such as /usr/local/bin.',
      );
    }
  }
  if (options.scope === 'project') {
    warnings.push(
      `Note: ${target} is usually committed, and these hooks name paths on this machine (${shimPath}, ${writHome}).`,
    );
  }
  for (const warning of warnings) output.warn(warning);

  const current = await readSettingsFile(target);
  const text = refuseInvalid(target, () => planInstall(current?.text, hooks));

  if (options.print || (managed && !isRoot())) {
    output.info(
      managed
        ? `Writ's managed settings drop-in for Claude Code. As root, save it as ${target} (mode 0644):\n\n${text}`
        : `Writ would write ${target}:\n\n${text}`,
    );
    return { target, action: 'printed', text, warnings };
  }
  if (current?.text === text) return { target, action: 'unchanged', text, warnings };

  const recordPath = installRecordPath(writHome, options.scope, target);
  const previous = await readRecord(recordPath);
  const createdDirs = current ? [] : await makeDirs(dirname(target), managed ? 0o755 : undefined);
  const record: InstallRecord = {
    format: 1,
    agent: 'claude-code',
    scope: options.scope,
    target,
    // Keep the first original while Writ's last write is intact; if the file moved on since,
    // what it should go back to is the file as it is now, minus Writ.
    original:
      previous && current && sha256(current.bytes) === previous.writtenSha256
        ? previous.original
        : originalOf(current),
    createdDirs: [...createdDirs, ...(previous?.createdDirs ?? [])],
    writtenSha256: sha256(Buffer.from(text)),
  };
  await makeDirs(dirname(recordPath), 0o700);
  await writeFileAtomic(recordPath, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
  await writeFileAtomic(target, text, {
    mode: managed ? MANAGED_FILE_MODE : current?.mode,
    owner: current,
  });
  return { target, action: 'written', text, warnings };
}

export async function uninstallClaudeCode(options: UninstallClaudeCodeOptions): Promise<UninstallResult> {
  const target = claudeSettingsPath(options);
  const recordPath = installRecordPath(resolve(options.writHome), options.scope, target);
  const record = await readRecord(recordPath);
  const current = await readSettingsFile(target);
  const forget = () => unlink(recordPath).catch(ignoreMissing);
  if (!current) {
    // Someone deleted the file since; bringing the old one back would undo their choice.
    await forget();
    return { target, action: 'not-installed' };
  }

  // Byte-identical to Writ's last write: put the original back exactly. Otherwise keep the
  // user's edits and take out only Writ's entries.
  const untouched = record !== undefined && sha256(current.bytes) === record.writtenSha256 ? record : undefined;
  const withoutWrit = untouched ? undefined : refuseInvalid(target, () => planUninstall(current.text));
  if (!untouched && withoutWrit === undefined) {
    await forget();
    return { target, action: 'not-installed' };
  }
  if (options.scope === 'managed' && !isRoot()) {
    throw new Error(`Removing Writ's managed drop-in ${target} needs root: run the uninstall again as root.`);
  }

  let action: UninstallResult['action'];
  if (untouched && !untouched.original.existed) {
    await unlink(target);
    await removeDirsIfEmpty(untouched.createdDirs);
    action = 'deleted';
  } else {
    const restored = untouched?.original.existed ? Buffer.from(untouched.original.base64, 'base64') : withoutWrit!;
    await writeFileAtomic(target, restored, { mode: current.mode, owner: current });
    action = untouched ? 'restored' : 'removed-entries';
  }
  await forget();
  return { target, action };
}

function refuseInvalid<T>(target: string, plan: () => T): T {
  try {
    return plan();
  } catch (error) {
    if (!(error instanceof InvalidSettingsError)) throw error;
    throw new InvalidSettingsError(
      `Refusing to change ${target}: ${error.message}. Writ left the file as it is; fix it and run again.`,
    );
  }
}

function originalOf(current: SettingsFile | undefined): InstallRecord['original'] {
  if (!current) return { existed: false };
  const withoutWrit = planUninstall(current.text);
  return { existed: true, base64: (withoutWrit === undefined ? current.bytes : Buffer.from(withoutWrit)).toString('base64') };
}

function installRecordPath(writHome: string, scope: ClaudeCodeScope, target: string): string {
  return join(writHome, 'installs', `${scope}-${sha256(Buffer.from(target))}.json`);
}

async function readRecord(path: string): Promise<InstallRecord | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as InstallRecord;
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw new Error(`Writ's install record ${path} cannot be read: ${(error as Error).message}`);
  }
}

async function readSettingsFile(path: string): Promise<SettingsFile | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
  const text = bytes.toString('utf8');
  // Editing text that is not UTF-8 would rewrite bytes outside Writ's entries.
  if (!Buffer.from(text, 'utf8').equals(bytes)) {
    throw new InvalidSettingsError(`Refusing to change ${path}: it is not UTF-8 text. Writ left the file as it is.`);
  }
  const { mode, uid, gid } = await stat(path);
  return { bytes, text, mode: mode & 0o7777, uid, gid };
}

/**
 * Writes through a temporary file in the same directory and a rename, so Claude Code never
 * reads half a file. A symlinked settings file (dotfile managers) is written where it points.
 */
async function writeFileAtomic(
  path: string,
  data: string | Buffer,
  options: { mode?: number; owner?: { uid: number; gid: number } },
): Promise<void> {
  const destination = await realpath(path).catch(() => path);
  const temporary = join(dirname(destination), `.${basename(destination)}.writ-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  const file = await open(temporary, 'wx', options.mode ?? 0o666);
  try {
    await file.writeFile(data);
    // The umask narrowed the mode given to open(); an existing file keeps exactly its own.
    if (options.mode !== undefined) await file.chmod(options.mode);
    if (options.owner && isRoot()) await file.chown(options.owner.uid, options.owner.gid);
    await file.sync();
    await file.close();
    await rename(temporary, destination);
  } catch (error) {
    await file.close().catch(() => {});
    await unlink(temporary).catch(ignoreMissing);
    throw error;
  }
  await syncDirectory(dirname(destination));
}

async function syncDirectory(path: string): Promise<void> {
  const directory = await open(path, 'r');
  // Some file systems cannot fsync a directory; the rename has still happened.
  await directory.sync().catch(() => {});
  await directory.close();
}

/** mkdir -p, returning the directories it created, deepest first. */
async function makeDirs(path: string, mode?: number): Promise<string[]> {
  const first = await mkdir(path, { recursive: true, mode });
  if (first === undefined) return [];
  const created: string[] = [];
  for (let dir = path; ; dir = dirname(dir)) {
    created.push(dir);
    if (dir === first || dir === dirname(dir)) return created;
  }
}

async function removeDirsIfEmpty(dirs: string[]): Promise<void> {
  for (const dir of dirs) {
    try {
      await rmdir(dir);
    } catch {
      return; // Not empty (Claude Code keeps its own files there), so its parents are not either.
    }
  }
}

/** The first place on the shim's path that other users cannot enter or execute, if any. */
async function placeOtherUsersCannotEnter(shimPath: string): Promise<string | undefined> {
  for (let path = shimPath; ; path = dirname(path)) {
    const { mode } = await stat(path);
    if ((mode & 0o001) === 0) return path;
    if (path === dirname(path)) return undefined;
  }
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'ENOENT';
}

function ignoreMissing(error: unknown): void {
  if (!isMissing(error)) throw error;
}
