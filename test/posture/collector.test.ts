// The collector with an injected runner (recorded outputs, failures of every kind), the real execFile
// runner's limits, the posture file, and one real pass on this Linux machine.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { PostureReport } from '../../src/core/inventory.js';
import { parseOsRelease } from '../../src/detect/posture/linux.js';
import { collectPosture, execFileRunner, minimalEnv, writePostureFile, type CommandResult, type CommandRunner } from '../../src/daemon/posture-collector.js';
import { parsePosture } from '../../src/daemon/posture.js';

const NOW = new Date('2026-11-22T12:00:00Z');
const fixture = (path: string) => readFileSync(new URL(`./fixtures/${path}`, import.meta.url), 'utf8');
const ok = (stdout: string, stderr = ''): CommandResult => ({ stdout, stderr, exitCode: 0 });

/** A runner that answers from a table of "file args" → result, and records what was asked. */
function tableRunner(table: Record<string, CommandResult>, asked: string[] = []): CommandRunner {
  return async (file, args) => {
    const key = [file, ...args].join(' ');
    asked.push(key);
    return table[key] ?? { stdout: '', stderr: '', exitCode: null, failure: 'not-installed' };
  };
}

const check = (report: PostureReport, name: string) => report.checks.find((entry) => entry.name === name)!;

test('Linux: an encrypted laptop with ufw, a GNOME lock and an EDR passes every check', async () => {
  const asked: string[] = [];
  const run = tableRunner(
    {
      '/usr/bin/lsblk -J -o NAME,TYPE,MOUNTPOINT': ok(fixture('linux/lsblk.laptop-luks-lvm.json')),
      '/usr/bin/systemctl is-active ufw firewalld nftables': { stdout: fixture('linux/systemctl.ufw-active.txt'), stderr: '', exitCode: 3 },
      '/usr/bin/ps -A -o pid=,comm=': ok(fixture('linux/ps.falcon-clamd.txt')),
      '/usr/bin/gsettings get org.gnome.desktop.screensaver lock-enabled': ok('true\n'),
      '/usr/bin/gsettings get org.gnome.desktop.session idle-delay': ok('uint32 300\n'),
    },
    asked,
  );
  const files: Record<string, string> = { '/etc/os-release': fixture('linux/os-release.ubuntu2404'), '/var/log/dpkg.log': fixture('linux/dpkg.log.recorded') };
  const report = await collectPosture({ platform: 'linux', run, readFile: (path) => files[path], now: () => NOW, env: { DBUS_SESSION_BUS_ADDRESS: 'unix:path=/run/user/1000/bus' } });
  assert.deepEqual(
    { os: report.os, os_version: report.os_version, disk_encrypted: report.disk_encrypted, firewall: report.firewall, endpoint_protection: report.endpoint_protection, screen_lock: report.screen_lock, patch_age_days: report.patch_age_days },
    { os: 'linux', os_version: 'ubuntu 24.04', disk_encrypted: true, firewall: true, endpoint_protection: true, screen_lock: true, patch_age_days: 0 },
  );
  assert.ok(report.checks.every((entry) => entry.status === 'pass' && entry.checked_at === NOW.toISOString() && entry.source));
  assert.equal(check(report, 'firewall').source, '/usr/bin/systemctl is-active ufw firewalld nftables');
  assert.ok(asked.every((key) => key.startsWith('/')), 'only absolute paths are run');
});

test('Linux: a failing check leaves its flat field absent only when unknown; fail gives false', async () => {
  const run = tableRunner({
    '/usr/bin/lsblk -J -o NAME,TYPE,MOUNTPOINT': ok(fixture('linux/lsblk.vm-plain.recorded.json')),
    '/usr/bin/systemctl is-active ufw firewalld nftables': { stdout: fixture('linux/systemctl.none-active.txt'), stderr: '', exitCode: 3 },
    '/usr/bin/ps -A -o pid=,comm=': ok(fixture('linux/ps.recorded.txt')),
  });
  const report = await collectPosture({ platform: 'linux', run, readFile: () => undefined, now: () => NOW, env: {} });
  assert.equal(report.disk_encrypted, false);
  assert.equal(report.firewall, false);
  assert.equal(report.endpoint_protection, false);
  for (const field of ['os_version', 'screen_lock', 'patch_age_days'] as const) assert.equal(field in report, false, field);
  assert.match(check(report, 'screen_lock').reason!, /no desktop session/);
  assert.match(check(report, 'os_version').reason!, /\/etc\/os-release is absent/);
});

test('a missing binary is unknown, "not installed"; the next allowlisted path is tried first', async () => {
  const asked: string[] = [];
  const report = await collectPosture({ platform: 'linux', run: tableRunner({}, asked), readFile: () => undefined, now: () => NOW, env: {} });
  assert.match(check(report, 'disk_encrypted').reason!, /lsblk not installed/);
  assert.match(check(report, 'endpoint_protection').reason!, /ps not installed/);
  assert.ok(asked.includes('/usr/bin/lsblk -J -o NAME,TYPE,MOUNTPOINT') && asked.includes('/bin/lsblk -J -o NAME,TYPE,MOUNTPOINT'));
  assert.deepEqual(Object.keys(report).sort(), ['checks', 'collected_at', 'os']);
});

test('a timeout, a huge output and a non-zero exit with nothing on stdout are unknown, with the reason', async () => {
  const run: CommandRunner = async (file) => {
    if (file.endsWith('lsblk')) return { stdout: '', stderr: '', exitCode: null, failure: 'timeout' };
    if (file.endsWith('ps')) return { stdout: '', stderr: '', exitCode: null, failure: 'too-large' };
    if (file.endsWith('systemctl')) return { stdout: '', stderr: fixture('linux/systemctl.no-systemd.recorded.stderr'), exitCode: 1 };
    return { stdout: '', stderr: '', exitCode: null, failure: 'not-installed' };
  };
  const report = await collectPosture({ platform: 'linux', run, readFile: (path) => (path === '/etc/ufw/ufw.conf' ? fixture('linux/ufw.conf.disabled') : undefined), now: () => NOW, env: {} });
  assert.equal(check(report, 'disk_encrypted').status, 'unknown');
  assert.match(check(report, 'disk_encrypted').reason!, /did not answer in time/);
  assert.match(check(report, 'endpoint_protection').reason!, /printed more than/);
  const firewall = check(report, 'firewall');
  assert.equal(firewall.status, 'unknown');
  assert.match(firewall.reason!, /systemctl exited 1: System has not been booted with systemd/);
  assert.match(firewall.reason!, /ENABLED=no/);
  assert.equal(report.firewall, undefined);
});

test('macOS: each check runs its allowlisted tool; the screen lock answer is read from stderr', async () => {
  const run = tableRunner({
    '/usr/bin/sw_vers': ok(fixture('macos/sw_vers.15.txt')),
    '/usr/bin/fdesetup status': ok(fixture('macos/fdesetup.on.txt')),
    '/usr/libexec/ApplicationFirewall/socketfilterfw --getglobalstate': ok(''),
    '/usr/sbin/system_profiler SPFirewallDataType': ok(fixture('macos/system_profiler.firewall-allow.txt')),
    '/bin/ps -A -o pid=,comm=': ok(fixture('macos/ps.falcon.txt')),
    '/usr/sbin/sysadminctl -screenLock status': ok('', fixture('macos/sysadminctl.immediate.stderr')),
    '/usr/sbin/softwareupdate --history': ok(fixture('macos/softwareupdate-history.stale.txt')),
  });
  const report = await collectPosture({ platform: 'darwin', run, now: () => NOW });
  assert.deepEqual(
    { os: report.os, os_version: report.os_version, disk_encrypted: report.disk_encrypted, firewall: report.firewall, endpoint_protection: report.endpoint_protection, screen_lock: report.screen_lock, patch_age_days: report.patch_age_days },
    { os: 'darwin', os_version: '15.1', disk_encrypted: true, firewall: false, endpoint_protection: true, screen_lock: true, patch_age_days: 165 },
  );
  assert.equal(check(report, 'firewall').source, '/usr/sbin/system_profiler SPFirewallDataType');
});

test('Windows: registry, netsh, Security Center and the Shell BitLocker property', async () => {
  const ps = 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe';
  const run: CommandRunner = async (file, args) => {
    const script = args[args.length - 1] ?? '';
    if (file === ps && script.includes('BitLockerProtection')) return ok(fixture('windows/bitlocker.2-off.txt'));
    if (file === ps && script.includes('SecurityCenter2')) return { stdout: '', stderr: fixture('windows/av.server-invalid-namespace.stderr'), exitCode: 1 };
    if (file === ps && script.includes('Get-HotFix')) return ok(fixture('windows/hotfix.recent.txt'));
    if (file.endsWith('netsh.exe')) return ok(fixture('windows/netsh.all-on.txt'));
    if (file.endsWith('reg.exe') && args.includes('InactivityTimeoutSecs')) return { stdout: '', stderr: fixture('windows/reg.inactivity-missing.stderr'), exitCode: 1 };
    if (file.endsWith('reg.exe') && args[1] === 'HKCU\\Control Panel\\Desktop') return ok(fixture('windows/reg.desktop-secure.txt'));
    if (file.endsWith('reg.exe') && args[1]!.endsWith('Windows NT\\CurrentVersion')) return ok(fixture('windows/reg.currentversion.txt'));
    return { stdout: '', stderr: '', exitCode: null, failure: 'not-installed' };
  };
  const report = await collectPosture({ platform: 'win32', run, now: () => NOW });
  assert.equal(report.os, 'windows');
  assert.equal(report.os_version, '10.0.22631.3447');
  assert.equal(report.disk_encrypted, false);
  assert.equal(report.firewall, true);
  assert.equal(report.screen_lock, true);
  assert.equal(check(report, 'screen_lock').value, 600);
  assert.equal(report.endpoint_protection, undefined);
  assert.match(check(report, 'endpoint_protection').reason!, /Invalid namespace/);
  assert.equal(typeof report.patch_age_days, 'number');
});

test('a platform without a plan reports every check unknown', async () => {
  const report = await collectPosture({ platform: 'freebsd', run: tableRunner({}), now: () => NOW });
  assert.equal(report.checks.length, 6);
  assert.ok(report.checks.every((entry) => entry.status === 'unknown' && /not collected on freebsd/.test(entry.reason!)));
});

test('the execFile runner: missing binary, non-zero exit, timeout, output cap and a minimal environment', async () => {
  const run = execFileRunner({ timeoutMs: 300, maxBuffer: 4096, env: minimalEnv({ HOME: '/home/x', AWS_SECRET_ACCESS_KEY: 'secret', DBUS_SESSION_BUS_ADDRESS: 'unix:abstract=x' }) });
  assert.equal((await run('/nonexistent/bin/tool', [])).failure, 'not-installed');
  const exit = await run('/bin/sh', ['-c', 'echo out; echo err >&2; exit 3']);
  assert.deepEqual(exit, { stdout: 'out\n', stderr: 'err\n', exitCode: 3 });
  assert.equal((await run('/bin/sleep', ['5'])).failure, 'timeout');
  assert.equal((await run('/usr/bin/yes', [])).failure, 'too-large');
  const env = (await run('/usr/bin/env', [])).stdout.split('\n').filter(Boolean).sort();
  assert.deepEqual(env, ['DBUS_SESSION_BUS_ADDRESS=unix:abstract=x', 'HOME=/home/x', 'LANG=C', 'LC_ALL=C', 'PATH=/usr/bin:/bin:/usr/sbin:/sbin']);
});

test('the posture file is written owner-only and reads back through parsePosture', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'writ-posture-'));
  const path = join(dir, 'posture.json');
  const report = await collectPosture({
    platform: 'linux',
    run: tableRunner({ '/usr/bin/lsblk -J -o NAME,TYPE,MOUNTPOINT': ok(fixture('linux/lsblk.laptop-luks-lvm.json')) }),
    readFile: (file) => ({ '/etc/os-release': fixture('linux/os-release.debian12.recorded'), '/var/log/dpkg.log': fixture('linux/dpkg.log.recorded') })[file],
    now: () => NOW,
    env: {},
  });
  writePostureFile(path, report);
  assert.equal(statSync(path).mode & 0o777, 0o600);
  const { posture, problem } = parsePosture(readFileSync(path, 'utf8'));
  assert.equal(problem, undefined);
  assert.deepEqual(posture, { collected_at: NOW.getTime(), os: 'linux', os_version: 'debian 12', disk_encrypted: true, patch_age_days: 0 });
});

test('parsePosture takes patch_age_days as a whole number of days only', () => {
  const at = '"collected_at": "2026-11-22T12:00:00Z"';
  assert.equal(parsePosture(`{${at}, "patch_age_days": 12}`).posture?.patch_age_days, 12);
  for (const bad of ['-1', '1.5', '"12"', '1e400']) assert.match(parsePosture(`{${at}, "patch_age_days": ${bad}}`).problem ?? '', /patch_age_days/, bad);
});

test('one real pass on this Linux machine: the OS from /etc/os-release, every check answered with a reason', { skip: process.platform !== 'linux' }, async () => {
  const report = await collectPosture();
  assert.equal(report.os, 'linux');
  const release = parseOsRelease(readFileSync('/etc/os-release', 'utf8'));
  assert.equal(report.os_version, release.value);
  assert.equal(report.checks.length, 6);
  for (const entry of report.checks) {
    assert.ok(['pass', 'fail', 'unknown'].includes(entry.status), entry.name);
    assert.ok(entry.reason && entry.source, `${entry.name} says why and where from`);
  }
});
