// Collects the device's posture: runs a fixed allowlist of absolute-path commands (execFile, no shell, a
// short timeout, a small output cap, a minimal environment) and reads a few files, hands each raw output
// to a pure parser in src/detect/posture, and writes $WRIT_HOME/posture.json for policy. A check that
// cannot be answered is unknown, with the reason, and its flat field is left out.
import { execFile } from 'node:child_process';
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync, watch, type FSWatcher } from 'node:fs';
import { basename } from 'node:path';
import type { PostureCheck, PostureCheckName, PostureReport } from '../core/inventory.js';
import { unknown, unreadable, type CheckAnswer } from '../detect/posture/answer.js';
import { parseProcessList } from '../detect/posture/endpoint.js';
import { FIREWALL_UNITS, parseDnfRpmLog, parseDpkgLog, parseFirewallUnits, parseGnomeScreenLock, parseLsblk, parseOsRelease, parsePacmanLog, parseUfwConf } from '../detect/posture/linux.js';
import { parseFdesetupStatus, parseSocketFilterGlobalState, parseSoftwareUpdateHistory, parseSwVers, parseSysadminctlScreenLock, parseSystemProfilerFirewall } from '../detect/posture/macos.js';
import {
  parseAntivirusProducts,
  parseBitLockerProtection,
  parseDesktopScreenSaver,
  parseInactivityTimeout,
  parseLatestHotFix,
  parseNetshFirewall,
  parseWindowsVersion,
} from '../detect/posture/windows.js';
import { writePrivateFileAtomic } from '../home/writ-home.js';

export interface CommandResult {
  stdout: string;
  stderr: string;
  /** null when the command did not run to an exit. */
  exitCode: number | null;
  /** Why there is no usable output: the binary is absent, it ran too long, or it printed too much. */
  failure?: 'not-installed' | 'timeout' | 'too-large' | 'error';
  message?: string;
}

export type CommandRunner = (file: string, args: readonly string[], options?: { timeoutMs?: number }) => Promise<CommandResult>;

export const COMMAND_TIMEOUT_MS = 2000;
export const COMMAND_MAX_OUTPUT = 512 * 1024;
/** Files are read from their end, at most this much: a package log's newest lines are what count. */
export const FILE_MAX_READ = 1024 * 1024;
// PowerShell alone can take a second or two to start on a cold Windows machine.
const POWERSHELL_TIMEOUT_MS = 5000;

/** The variables a posture command may see: a fixed PATH and C locale, plus what gsettings and PowerShell need. */
export function minimalEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const kept = ['HOME', 'USER', 'LOGNAME', 'DBUS_SESSION_BUS_ADDRESS', 'XDG_RUNTIME_DIR', 'DISPLAY', 'WAYLAND_DISPLAY', 'SystemRoot', 'windir', 'SystemDrive', 'ProgramData', 'ProgramFiles', 'USERPROFILE', 'APPDATA', 'LOCALAPPDATA', 'TEMP', 'TMP', 'PSModulePath'];
  const minimal: NodeJS.ProcessEnv = { PATH: '/usr/bin:/bin:/usr/sbin:/sbin', LC_ALL: 'C', LANG: 'C' };
  for (const name of kept) if (env[name] !== undefined) minimal[name] = env[name];
  return minimal;
}

/** Runs an allowlisted binary directly: no shell, stdin closed, killed at the timeout or the output cap. */
export function execFileRunner(limits: { timeoutMs?: number; maxBuffer?: number; env?: NodeJS.ProcessEnv } = {}): CommandRunner {
  const env = limits.env ?? minimalEnv();
  return (file, args, options) =>
    new Promise((resolve) => {
      const child = execFile(
        file,
        [...args],
        { timeout: options?.timeoutMs ?? limits.timeoutMs ?? COMMAND_TIMEOUT_MS, maxBuffer: limits.maxBuffer ?? COMMAND_MAX_OUTPUT, env, windowsHide: true, encoding: 'utf8', killSignal: 'SIGKILL' },
        (error, stdout, stderr) => {
          if (!error) return resolve({ stdout, stderr, exitCode: 0 });
          const code = (error as NodeJS.ErrnoException).code as string | number | undefined;
          if (code === 'ENOENT') return resolve({ stdout: '', stderr: '', exitCode: null, failure: 'not-installed' });
          if (code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') return resolve({ stdout: '', stderr: '', exitCode: null, failure: 'too-large' });
          if ((error as { killed?: boolean }).killed) return resolve({ stdout: '', stderr: '', exitCode: null, failure: 'timeout' });
          if (typeof code === 'number') return resolve({ stdout, stderr, exitCode: code });
          resolve({ stdout, stderr, exitCode: null, failure: 'error', message: error.message });
        },
      );
      child.stdin?.end();
    });
}

/** Reads a file's last FILE_MAX_READ bytes; undefined when it is absent or unreadable. */
export function readFileTail(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    const size = fstatSync(fd).size;
    if (size <= FILE_MAX_READ) return readFileSync(fd, 'utf8');
    const buffer = Buffer.alloc(FILE_MAX_READ);
    const read = readSync(fd, buffer, 0, FILE_MAX_READ, size - FILE_MAX_READ);
    const text = buffer.subarray(0, read).toString('utf8');
    return text.slice(text.indexOf('\n') + 1); // drop the partial first line
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

interface Context {
  run: CommandRunner;
  readFile: (path: string) => string | undefined;
  now: Date;
  env: NodeJS.ProcessEnv;
}

type Sourced = { answer: CheckAnswer; source: string };
type Attempt = (context: Context) => Promise<Sourced>;

/** Runs the first of `files` that is installed; its stdout (or stderr) goes to `parse`. */
function command(files: string | string[], args: string[], parse: (output: string, now: Date) => CheckAnswer, options: { stream?: 'stdout' | 'stderr'; timeoutMs?: number } = {}): Attempt {
  const candidates = Array.isArray(files) ? files : [files];
  return async (context) => {
    let source = `${candidates[0]} ${args.join(' ')}`;
    for (const file of candidates) {
      source = `${file} ${args.join(' ')}`;
      const result = await context.run(file, args, { timeoutMs: options.timeoutMs });
      if (result.failure === 'not-installed') continue;
      return { answer: answerFor(result, basename(file), parse, options.stream ?? 'stdout', context.now), source };
    }
    return { answer: unknown(`${basename(candidates[0]!)} not installed`), source };
  };
}

function answerFor(result: CommandResult, name: string, parse: (output: string, now: Date) => CheckAnswer, stream: 'stdout' | 'stderr', now: Date): CheckAnswer {
  switch (result.failure) {
    case 'timeout':
      return unknown(`${name} did not answer in time`);
    case 'too-large':
      return unknown(`${name} printed more than ${COMMAND_MAX_OUTPUT} bytes`);
    case 'error':
      return unknown(`${name} could not run: ${result.message ?? 'error'}`);
  }
  const output = stream === 'stderr' ? result.stderr : result.stdout;
  if (output.trim() === '') {
    const said = result.stderr.trim().split(/\r?\n/)[0];
    return unreadable(said ?? '', name) ?? unknown(`${name} ${result.exitCode === 0 ? 'printed nothing' : `exited ${result.exitCode}`}${said ? `: ${said.slice(0, 120)}` : ''}`);
  }
  return parse(output, now);
}

function file(path: string, parse: (text: string, now: Date) => CheckAnswer): Attempt {
  return async (context) => {
    const text = context.readFile(path);
    return { answer: text === undefined ? unknown(`${path} is absent or unreadable`) : parse(text, context.now), source: path };
  };
}

/** The first attempt that gives a known answer; when none does, every attempt's reason. */
function firstKnown(...attempts: Attempt[]): Attempt {
  return async (context) => {
    const tried: Sourced[] = [];
    for (const attempt of attempts) {
      const sourced = await attempt(context);
      if (sourced.answer.status !== 'unknown') return sourced;
      tried.push(sourced);
    }
    return { answer: unknown(tried.map((sourced) => sourced.answer.reason).join('; ')), source: tried.map((sourced) => sourced.source).join(' | ') };
  };
}

const GSETTINGS = '/usr/bin/gsettings';

// gsettings without the user's session bus answers from built-in defaults ("true"), which would be a guess.
const gnomeScreenLock: Attempt = async (context) => {
  const source = `${GSETTINGS} get org.gnome.desktop.screensaver lock-enabled; … org.gnome.desktop.session idle-delay`;
  if (!context.env.DBUS_SESSION_BUS_ADDRESS) return { answer: unknown('no desktop session (no D-Bus session bus) to ask'), source };
  const lock = await context.run(GSETTINGS, ['get', 'org.gnome.desktop.screensaver', 'lock-enabled']);
  if (lock.failure === 'not-installed') return { answer: unknown('gsettings not installed'), source };
  if (lock.failure || lock.stdout.trim() !== 'true') return { answer: answerFor(lock, 'gsettings', (output) => parseGnomeScreenLock(output, ''), 'stdout', context.now), source };
  const delay = await context.run(GSETTINGS, ['get', 'org.gnome.desktop.session', 'idle-delay']);
  return { answer: parseGnomeScreenLock(lock.stdout, delay.failure ? '' : delay.stdout), source };
};

const POWERSHELL = 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe';
const REG = 'C:\\Windows\\System32\\reg.exe';
const powershell = (script: string, parse: (output: string, now: Date) => CheckAnswer) => command(POWERSHELL, ['-NoProfile', '-NonInteractive', '-Command', script], parse, { timeoutMs: POWERSHELL_TIMEOUT_MS });

type Plan = Record<PostureCheckName, Attempt>;

const PLANS: Partial<Record<NodeJS.Platform, Plan>> = {
  linux: {
    os_version: firstKnown(file('/etc/os-release', parseOsRelease), file('/usr/lib/os-release', parseOsRelease)),
    disk_encrypted: command(['/usr/bin/lsblk', '/bin/lsblk'], ['-J', '-o', 'NAME,TYPE,MOUNTPOINT'], parseLsblk),
    firewall: firstKnown(command(['/usr/bin/systemctl', '/bin/systemctl'], ['is-active', ...FIREWALL_UNITS], (output) => parseFirewallUnits(output)), file('/etc/ufw/ufw.conf', parseUfwConf)),
    endpoint_protection: command(['/usr/bin/ps', '/bin/ps'], ['-A', '-o', 'pid=,comm='], parseProcessList),
    screen_lock: gnomeScreenLock,
    patch_age: firstKnown(file('/var/log/dpkg.log', parseDpkgLog), file('/var/log/pacman.log', parsePacmanLog), file('/var/log/dnf.rpm.log', parseDnfRpmLog)),
  },
  darwin: {
    os_version: command('/usr/bin/sw_vers', [], parseSwVers),
    disk_encrypted: command('/usr/bin/fdesetup', ['status'], parseFdesetupStatus),
    firewall: firstKnown(command('/usr/libexec/ApplicationFirewall/socketfilterfw', ['--getglobalstate'], parseSocketFilterGlobalState), command('/usr/sbin/system_profiler', ['SPFirewallDataType'], parseSystemProfilerFirewall, { timeoutMs: 5000 })),
    endpoint_protection: command('/bin/ps', ['-A', '-o', 'pid=,comm='], parseProcessList),
    screen_lock: command('/usr/sbin/sysadminctl', ['-screenLock', 'status'], parseSysadminctlScreenLock, { stream: 'stderr' }),
    patch_age: command('/usr/sbin/softwareupdate', ['--history'], parseSoftwareUpdateHistory),
  },
  win32: {
    os_version: command(REG, ['query', 'HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion'], parseWindowsVersion),
    disk_encrypted: powershell("(New-Object -ComObject Shell.Application).NameSpace('C:').Self.ExtendedProperty('System.Volume.BitLockerProtection')", parseBitLockerProtection),
    firewall: command('C:\\Windows\\System32\\netsh.exe', ['advfirewall', 'show', 'allprofiles', 'state'], parseNetshFirewall),
    endpoint_protection: powershell('Get-CimInstance -Namespace root/SecurityCenter2 -ClassName AntiVirusProduct | Select-Object displayName,productState | ConvertTo-Json -Compress', parseAntivirusProducts),
    screen_lock: firstKnown(
      command(REG, ['query', 'HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Policies\\System', '/v', 'InactivityTimeoutSecs'], parseInactivityTimeout),
      command(REG, ['query', 'HKCU\\Control Panel\\Desktop'], parseDesktopScreenSaver),
    ),
    patch_age: powershell("(Get-HotFix | Measure-Object -Property InstalledOn -Maximum).Maximum.ToString('o')", parseLatestHotFix),
  },
};

const OS_NAMES: Partial<Record<NodeJS.Platform, string>> = { linux: 'linux', darwin: 'darwin', win32: 'windows' };
const CHECK_NAMES: PostureCheckName[] = ['os_version', 'disk_encrypted', 'firewall', 'endpoint_protection', 'screen_lock', 'patch_age'];

/** Files whose change may change the posture, watched by the daemon where they exist. */
export const POSTURE_WATCH_PATHS: Partial<Record<NodeJS.Platform, string[]>> = {
  linux: ['/etc/os-release', '/etc/ufw/ufw.conf', '/etc/firewalld/firewalld.conf', '/etc/nftables.conf', '/var/log/dpkg.log', '/var/log/pacman.log', '/var/log/dnf.rpm.log'],
  darwin: ['/System/Library/CoreServices/SystemVersion.plist', '/Library/Preferences/com.apple.alf.plist'],
};

export interface CollectOptions {
  platform?: NodeJS.Platform;
  run?: CommandRunner;
  readFile?: (path: string) => string | undefined;
  now?: () => Date;
  /** Where the desktop session is looked for (D-Bus); default: this process's environment. */
  env?: NodeJS.ProcessEnv;
}

/** One posture pass: every check of the platform, run side by side. */
export async function collectPosture(options: CollectOptions = {}): Promise<PostureReport> {
  const platform = options.platform ?? process.platform;
  const now = (options.now ?? (() => new Date()))();
  const context: Context = { run: options.run ?? execFileRunner(), readFile: options.readFile ?? readFileTail, now, env: options.env ?? process.env };
  const plan = PLANS[platform];
  const checkedAt = now.toISOString();
  const checks: PostureCheck[] = await Promise.all(
    CHECK_NAMES.map(async (name) => {
      if (!plan) return { name, status: 'unknown' as const, reason: `posture is not collected on ${platform}`, checked_at: checkedAt };
      let sourced: Sourced;
      try {
        sourced = await plan[name](context);
      } catch (error) {
        sourced = { answer: unknown(`check failed: ${(error as Error).message}`), source: name };
      }
      return { name, ...sourced.answer, source: sourced.source, checked_at: checkedAt };
    }),
  );
  return { collected_at: checkedAt, ...(OS_NAMES[platform] && { os: OS_NAMES[platform] }), ...flatFields(checks), checks };
}

/** The fields policy reads: a boolean from pass/fail; absent (unknown) otherwise. */
function flatFields(checks: PostureCheck[]): Partial<PostureReport> {
  const flat: Partial<PostureReport> = {};
  for (const check of checks) {
    if (check.status === 'unknown') continue;
    switch (check.name) {
      case 'disk_encrypted':
      case 'firewall':
      case 'endpoint_protection':
      case 'screen_lock':
        flat[check.name] = check.status === 'pass';
        break;
      case 'os_version':
        if (typeof check.value === 'string') flat.os_version = check.value;
        break;
      case 'patch_age':
        if (typeof check.value === 'number') flat.patch_age_days = check.value;
        break;
    }
  }
  return flat;
}

/** Replaces the posture file atomically, owner-only. */
export function writePostureFile(path: string, report: PostureReport): void {
  writePrivateFileAtomic(path, JSON.stringify(report, null, 2) + '\n');
}

type CheckState = Pick<PostureCheck, 'status' | 'value'>;

/** What a `posture.changed` event says: the checks whose answer changed, before and after. */
export interface PostureChange {
  changed: PostureCheckName[];
  previous: Partial<Record<PostureCheckName, CheckState>>;
  current: Partial<Record<PostureCheckName, CheckState>>;
}

/**
 * The checks whose status or value differ; undefined when none does, or when there is nothing to compare
 * with. Patch age counts in days and grows every day, so only its pass/fail counts as a change.
 */
export function postureChange(previous: PostureReport | undefined, current: PostureReport): PostureChange | undefined {
  if (!previous) return undefined;
  const before = new Map(previous.checks.map((entry) => [entry.name, entry]));
  const change: PostureChange = { changed: [], previous: {}, current: {} };
  for (const now of current.checks) {
    const then = before.get(now.name);
    const same = then !== undefined && then.status === now.status && (now.name === 'patch_age' || then.value === now.value);
    if (same) continue;
    change.changed.push(now.name);
    change.previous[now.name] = then ? { status: then.status, ...(then.value !== undefined && { value: then.value }) } : { status: 'unknown' };
    change.current[now.name] = { status: now.status, ...(now.value !== undefined && { value: now.value }) };
  }
  return change.changed.length > 0 ? change : undefined;
}

/** The report a posture file holds, when it holds one this collector wrote; undefined otherwise. */
export function readPostureReport(path: string): PostureReport | undefined {
  try {
    const report = JSON.parse(readFileSync(path, 'utf8')) as PostureReport;
    const valid = Array.isArray(report?.checks) && report.checks.every((entry) => typeof entry?.name === 'string' && ['pass', 'fail', 'unknown'].includes(entry.status));
    return valid ? report : undefined;
  } catch {
    return undefined;
  }
}

export const POSTURE_INTERVAL_MS = 10 * 60 * 1000;
const WATCH_DEBOUNCE_MS = 1000;

export interface PostureMonitorOptions {
  /** The posture file: its last report is what a change is measured against, across restarts too. */
  path: string;
  intervalMs?: number;
  collect?: () => Promise<PostureReport>;
  /** Files whose change triggers a pass now; absent ones are skipped. */
  watchPaths?: string[];
  onChange(change: PostureChange): void;
  log(line: string): void;
}

export interface PostureMonitor {
  /** Runs a pass now; while one runs, one more follows it. Resolves when the file is written. */
  checkNow(): Promise<void>;
  stop(): Promise<void>;
}

/** Re-collects on an interval and when a watched source changes; rewrites the file and reports changes. */
export function startPostureMonitor(options: PostureMonitorOptions): PostureMonitor {
  const collect = options.collect ?? (() => collectPosture());
  let previous = readPostureReport(options.path);
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;
  let leftAlone = false;
  const pass = async () => {
    const report = await collect();
    // A posture file without the collector's checks comes from elsewhere (an MDM feed, an operator, a
    // test): it is the posture then, and is not overwritten. Checked last, just before writing.
    if (existsSync(options.path) && !readPostureReport(options.path)) {
      if (!leftAlone) options.log(`posture: ${options.path} was not written by the collector; leaving it as the posture`);
      leftAlone = true;
      return;
    }
    leftAlone = false;
    const change = postureChange(previous, report);
    writePostureFile(options.path, report);
    previous = report;
    if (change) options.onChange(change);
  };
  const checkNow = (): Promise<void> => {
    if (stopped) return Promise.resolve();
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        try {
          await pass();
        } catch (error) {
          options.log(`posture: ${(error as Error).message}`);
        }
      } while (again && !stopped);
      running = undefined;
    })();
    return running;
  };
  const timer = setInterval(() => void checkNow(), options.intervalMs ?? POSTURE_INTERVAL_MS);
  let debounce: NodeJS.Timeout | undefined;
  const watchers: FSWatcher[] = [];
  for (const path of options.watchPaths ?? POSTURE_WATCH_PATHS[process.platform] ?? []) {
    try {
      const watcher = watch(path, { persistent: false }, () => {
        clearTimeout(debounce);
        debounce = setTimeout(() => void checkNow(), WATCH_DEBOUNCE_MS);
      });
      watcher.on('error', () => watcher.close());
      watchers.push(watcher);
    } catch {
      // Absent or unwatchable: the interval still covers it.
    }
  }
  void checkNow();
  return {
    checkNow,
    async stop() {
      stopped = true;
      clearInterval(timer);
      clearTimeout(debounce);
      watchers.forEach((watcher) => watcher.close());
      await running;
    },
  };
}
