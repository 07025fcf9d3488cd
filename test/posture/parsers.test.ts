// Every posture parser on recorded or transcribed outputs (see docs/posture.md for which is which):
// pass, fail and unknown for each check, and garbage, empty or refused output is always unknown.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { CheckAnswer } from '../../src/detect/posture/answer.js';
import { parseProcessList } from '../../src/detect/posture/endpoint.js';
import { parseDnfRpmLog, parseDpkgLog, parseFirewallUnits, parseGnomeScreenLock, parseLsblk, parseOsRelease, parsePacmanLog, parseUfwConf } from '../../src/detect/posture/linux.js';
import { parseFdesetupStatus, parseSocketFilterGlobalState, parseSoftwareUpdateHistory, parseSwVers, parseSysadminctlScreenLock, parseSystemProfilerFirewall } from '../../src/detect/posture/macos.js';
import {
  parseAntivirusProducts,
  parseBitLockerProtection,
  parseDesktopScreenSaver,
  parseInactivityTimeout,
  parseLatestHotFix,
  parseNetshFirewall,
  parseWindowsVersion,
} from '../../src/detect/posture/windows.js';

const NOW = new Date('2026-11-22T12:00:00Z');
const fixture = (path: string) => readFileSync(new URL(`./fixtures/${path}`, import.meta.url), 'utf8');

function expect(answer: CheckAnswer, status: CheckAnswer['status'], value?: CheckAnswer['value']) {
  assert.equal(answer.status, status, answer.reason);
  if (value !== undefined) assert.deepEqual(answer.value, value);
  assert.ok(answer.reason.length > 0, 'every answer says why');
}

test('Linux os-release names the distribution and version', () => {
  expect(parseOsRelease(fixture('linux/os-release.debian12.recorded')), 'pass', 'debian 12');
  expect(parseOsRelease(fixture('linux/os-release.ubuntu2404')), 'pass', 'ubuntu 24.04');
  expect(parseOsRelease(fixture('linux/os-release.arch')), 'pass', 'arch rolling');
  expect(parseOsRelease('NAME="Something"\n'), 'unknown');
});

test('Linux disk encryption follows / down to a dm-crypt device', () => {
  expect(parseLsblk(fixture('linux/lsblk.laptop-luks-lvm.json')), 'pass', true);
  expect(parseLsblk(fixture('linux/lsblk.mountpoints-luks.json')), 'pass', true);
  expect(parseLsblk(fixture('linux/lsblk.vm-plain.recorded.json')), 'fail', false);
  const container = parseLsblk(fixture('linux/lsblk.container.json'));
  expect(container, 'unknown');
  assert.match(container.reason, /no block device is mounted at \//);
  expect(parseLsblk('{"blockdevices": 3}'), 'unknown');
});

test('Linux firewall from systemd unit state, else ufw.conf', () => {
  expect(parseFirewallUnits(fixture('linux/systemctl.ufw-active.txt')), 'pass', 'ufw');
  expect(parseFirewallUnits(fixture('linux/systemctl.firewalld-active.txt')), 'pass', 'firewalld');
  expect(parseFirewallUnits(fixture('linux/systemctl.none-active.txt')), 'fail', false);
  expect(parseFirewallUnits(fixture('linux/systemctl.no-systemd.recorded.stdout')), 'unknown');
  expect(parseFirewallUnits('active\n'), 'unknown'); // one state for three units
  expect(parseUfwConf(fixture('linux/ufw.conf.enabled')), 'pass', 'ufw');
  expect(parseUfwConf(fixture('linux/ufw.conf.disabled')), 'unknown');
});

test('Linux screen lock from GNOME settings', () => {
  const lockOn = fixture('linux/gsettings.lock-enabled.true.txt');
  expect(parseGnomeScreenLock(lockOn, fixture('linux/gsettings.idle-delay.300.txt')), 'pass', 300);
  expect(parseGnomeScreenLock(lockOn, fixture('linux/gsettings.idle-delay.0.txt')), 'fail', false);
  expect(parseGnomeScreenLock(fixture('linux/gsettings.lock-enabled.false.txt'), ''), 'fail', false);
  expect(parseGnomeScreenLock(lockOn, 'No such key “idle-delay”'), 'unknown');
});

test('Linux patch age from the newest upgrade in the package log', () => {
  expect(parseDpkgLog(fixture('linux/dpkg.log.recorded'), new Date('2026-11-22T12:00:00Z')), 'pass', 0);
  expect(parseDpkgLog(fixture('linux/dpkg.log.recorded'), new Date('2027-01-10T12:00:00Z')), 'fail', 49);
  expect(parseDpkgLog(fixture('linux/dpkg.log.installs-only'), NOW), 'unknown');
  expect(parsePacmanLog(fixture('linux/pacman.log'), NOW), 'fail', 52);
  expect(parsePacmanLog(fixture('linux/pacman.log'), new Date('2026-10-10T00:00:00Z')), 'pass', 9);
  expect(parseDnfRpmLog(fixture('linux/dnf.rpm.log'), NOW), 'pass', 23);
  expect(parseDnfRpmLog(fixture('linux/dnf.rpm.log'), new Date('2027-01-01T00:00:00Z')), 'fail', 62);
  expect(parseDnfRpmLog('2026-11-03T14:01:02+0000 SUBDEBUG Installed: ripgrep-14.1.1-1.fc41.x86_64\n', NOW), 'unknown');
});

test('endpoint protection is a known EDR or antivirus process, on Linux and macOS', () => {
  expect(parseProcessList(fixture('linux/ps.falcon-clamd.txt')), 'pass', 'ClamAV, CrowdStrike Falcon');
  expect(parseProcessList(fixture('linux/ps.recorded.txt')), 'fail', false);
  expect(parseProcessList(fixture('macos/ps.falcon.txt')), 'pass', 'CrowdStrike Falcon');
  expect(parseProcessList(fixture('macos/ps.plain.txt')), 'fail', false);
});

test('macOS FileVault', () => {
  expect(parseFdesetupStatus(fixture('macos/fdesetup.on.txt')), 'pass', true);
  expect(parseFdesetupStatus(fixture('macos/fdesetup.off.txt')), 'fail', false);
  expect(parseFdesetupStatus(fixture('macos/fdesetup.deferred.txt')), 'fail', false);
  expect(parseFdesetupStatus(fixture('macos/fdesetup.encrypting.txt')), 'fail', false);
  expect(parseFdesetupStatus('Error: unable to determine FileVault state.\n'), 'unknown');
});

test('macOS firewall from socketfilterfw, or system_profiler on macOS 15+', () => {
  expect(parseSocketFilterGlobalState(fixture('macos/socketfilterfw.enabled.txt')), 'pass', true);
  expect(parseSocketFilterGlobalState(fixture('macos/socketfilterfw.block-all.txt')), 'pass', true);
  expect(parseSocketFilterGlobalState(fixture('macos/socketfilterfw.disabled.txt')), 'fail', false);
  expect(parseSystemProfilerFirewall(fixture('macos/system_profiler.firewall-limit.txt')), 'pass', true);
  expect(parseSystemProfilerFirewall(fixture('macos/system_profiler.firewall-allow.txt')), 'fail', false);
  expect(parseSystemProfilerFirewall('Firewall:\n\n    Firewall Settings:\n\n      Mode: Something new\n'), 'unknown');
});

test('macOS version, patch age and screen lock', () => {
  expect(parseSwVers(fixture('macos/sw_vers.14.txt')), 'pass', '14.4.1');
  expect(parseSwVers(fixture('macos/sw_vers.15.txt')), 'pass', '15.1');
  expect(parseSwVers('ProductName:\tmacOS\n'), 'unknown');
  // XProtect's data updates do not count as patching.
  expect(parseSoftwareUpdateHistory(fixture('macos/softwareupdate-history.recent.txt'), NOW), 'pass', 24);
  expect(parseSoftwareUpdateHistory(fixture('macos/softwareupdate-history.stale.txt'), NOW), 'fail', 165);
  expect(parseSoftwareUpdateHistory(fixture('macos/softwareupdate-history.data-only.txt'), NOW), 'unknown');
  expect(parseSysadminctlScreenLock(fixture('macos/sysadminctl.immediate.stderr')), 'pass', 0);
  expect(parseSysadminctlScreenLock(fixture('macos/sysadminctl.300.stderr')), 'pass', 300);
  expect(parseSysadminctlScreenLock(fixture('macos/sysadminctl.off.stderr')), 'fail', false);
});

test('Windows BitLocker from the Shell property', () => {
  expect(parseBitLockerProtection(fixture('windows/bitlocker.1-on.txt')), 'pass', true);
  expect(parseBitLockerProtection(fixture('windows/bitlocker.2-off.txt')), 'fail', false);
  expect(parseBitLockerProtection(fixture('windows/bitlocker.3-encrypting.txt')), 'fail', false);
  expect(parseBitLockerProtection(fixture('windows/bitlocker.9-unknown-state.txt')), 'unknown');
});

test('Windows firewall is on only when every profile is', () => {
  expect(parseNetshFirewall(fixture('windows/netsh.all-on.txt')), 'pass', true);
  const publicOff = parseNetshFirewall(fixture('windows/netsh.public-off.txt'));
  expect(publicOff, 'fail', false);
  assert.match(publicOff.reason, /Public profile/);
  const elevation = parseNetshFirewall(fixture('windows/netsh.requires-elevation.txt'));
  expect(elevation, 'unknown');
  assert.match(elevation.reason, /permission denied/);
});

test('Windows antivirus from Security Center productState', () => {
  expect(parseAntivirusProducts(fixture('windows/av.defender-on.json')), 'pass', 'Windows Defender');
  expect(parseAntivirusProducts(fixture('windows/av.defender-off.json')), 'fail', false);
  expect(parseAntivirusProducts(fixture('windows/av.defender-outdated.json')), 'fail', false);
  expect(parseAntivirusProducts(fixture('windows/av.defender-off-falcon-on.json')), 'pass', 'CrowdStrike Falcon Sensor');
  expect(parseAntivirusProducts('[{"displayName": 3}]'), 'unknown');
});

test('Windows screen lock from the inactivity policy, else a secure screen saver', () => {
  expect(parseInactivityTimeout(fixture('windows/reg.inactivity-900.txt')), 'pass', 900);
  expect(parseInactivityTimeout(fixture('windows/reg.inactivity-0.txt')), 'fail', false);
  expect(parseInactivityTimeout(fixture('windows/reg.inactivity-3600.txt')), 'fail', 3600);
  expect(parseInactivityTimeout(fixture('windows/reg.inactivity-missing.stderr')), 'unknown');
  expect(parseDesktopScreenSaver(fixture('windows/reg.desktop-secure.txt')), 'pass', 600);
  expect(parseDesktopScreenSaver(fixture('windows/reg.desktop-not-secure.txt')), 'fail', false);
  expect(parseDesktopScreenSaver(fixture('windows/reg.desktop-no-screensaver.txt')), 'unknown');
});

test('Windows version and patch age', () => {
  expect(parseWindowsVersion(fixture('windows/reg.currentversion.txt')), 'pass', '10.0.22631.3447');
  expect(parseWindowsVersion(fixture('windows/reg.inactivity-900.txt')), 'unknown');
  expect(parseLatestHotFix(fixture('windows/hotfix.recent.txt'), NOW), 'pass');
  expect(parseLatestHotFix(fixture('windows/hotfix.stale.txt'), NOW), 'fail');
  expect(parseLatestHotFix(fixture('windows/hotfix.none.stderr'), NOW), 'unknown');
});

const EVERY_PARSER: Record<string, (output: string) => CheckAnswer> = {
  parseOsRelease,
  parseLsblk,
  parseFirewallUnits: (output) => parseFirewallUnits(output),
  parseUfwConf,
  parseGnomeScreenLock: (output) => parseGnomeScreenLock(output, output),
  parseDpkgLog: (output) => parseDpkgLog(output, NOW),
  parsePacmanLog: (output) => parsePacmanLog(output, NOW),
  parseDnfRpmLog: (output) => parseDnfRpmLog(output, NOW),
  parseProcessList,
  parseFdesetupStatus,
  parseSocketFilterGlobalState,
  parseSystemProfilerFirewall,
  parseSwVers,
  parseSoftwareUpdateHistory: (output) => parseSoftwareUpdateHistory(output, NOW),
  parseSysadminctlScreenLock,
  parseBitLockerProtection,
  parseNetshFirewall,
  parseAntivirusProducts,
  parseInactivityTimeout,
  parseDesktopScreenSaver,
  parseWindowsVersion,
  parseLatestHotFix: (output) => parseLatestHotFix(output, NOW),
};

test('garbage, empty and refused output is unknown for every parser, never a guess', () => {
  const inputs = {
    garbage: fixture('common/garbage.txt'),
    empty: fixture('common/empty.txt'),
    denied: fixture('common/permission-denied.txt'),
    huge: 'x'.repeat(600_000),
    'a neighbour’s output': fixture('windows/netsh.all-on.txt'),
  };
  for (const [name, parse] of Object.entries(EVERY_PARSER)) {
    for (const [kind, input] of Object.entries(inputs)) {
      if (kind === 'a neighbour’s output' && name === 'parseNetshFirewall') continue;
      const answer = parse(input);
      assert.equal(answer.status, 'unknown', `${name} on ${kind} output: ${answer.reason}`);
      if (kind === 'denied') assert.match(answer.reason, /permission denied/, name);
    }
  }
});

test('softwareupdate dates without leading zeros are read too', () => {
  const history = 'Display Name                     Version    Date\n------------                     -------    ----\nmacOS Sequoia 15.1               15.1       11/2/2026, 9:04:10\n';
  expect(parseSoftwareUpdateHistory(history, NOW), 'pass', 20);
});
