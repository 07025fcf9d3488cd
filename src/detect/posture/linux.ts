// Linux posture from sources an ordinary user can read: os-release, lsblk, systemd unit state, gsettings
// in the desktop session, and the package manager's log.
import { excerpt, fail, latest, pass, patchAgeAnswer, unknown, unreadable, type CheckAnswer } from './answer.js';

/** `/etc/os-release`: the value is "<ID> <VERSION_ID>" (e.g. "ubuntu 24.04"), so a rule can match the distribution too. */
export function parseOsRelease(text: string): CheckAnswer {
  const problem = unreadable(text, 'os-release');
  if (problem) return problem;
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (match) fields.set(match[1]!, match[2]!.replace(/^(["'])(.*)\1$/, '$2'));
  }
  const id = fields.get('ID');
  if (!id) return unknown(`os-release has no ID: ${excerpt(text)}`);
  const version = fields.get('VERSION_ID') ?? fields.get('BUILD_ID');
  if (!version) return unknown(`os-release names ${id} but no VERSION_ID or BUILD_ID`);
  return pass(`${id} ${version}`, fields.get('PRETTY_NAME') ?? `${id} ${version}`);
}

interface BlockDevice {
  name?: unknown;
  type?: unknown;
  mountpoint?: unknown;
  mountpoints?: unknown;
  children?: unknown;
}

/** `lsblk -J -o NAME,TYPE,MOUNTPOINT`: encrypted when the device mounted at / is, or sits on, a dm-crypt device. */
export function parseLsblk(output: string): CheckAnswer {
  const problem = unreadable(output, 'lsblk');
  if (problem) return problem;
  let parsed: unknown;
  try {
    parsed = JSON.parse(output);
  } catch {
    return unknown(`lsblk output is not JSON: ${excerpt(output)}`);
  }
  const devices = (parsed as { blockdevices?: unknown })?.blockdevices;
  if (!Array.isArray(devices)) return unknown('lsblk output has no "blockdevices" list');
  const path = findRoot(devices as BlockDevice[], []);
  if (!path) return unknown('no block device is mounted at / (a container, or a network or overlay root)');
  const root = path[path.length - 1]!;
  const crypt = path.find((device) => device.type === 'crypt');
  const chain = path.map((device) => `${String(device.name)} (${String(device.type)})`).join(' → ');
  return crypt ? pass(true, `/ is on dm-crypt device ${String(crypt.name)}: ${chain}`) : fail(false, `/ is on ${String(root.name)}, with no dm-crypt device beneath it: ${chain}`);
}

function findRoot(devices: BlockDevice[], above: BlockDevice[]): BlockDevice[] | undefined {
  for (const device of devices) {
    if (typeof device !== 'object' || device === null) continue;
    const path = [...above, device];
    const mounts = Array.isArray(device.mountpoints) ? device.mountpoints : [device.mountpoint];
    if (mounts.includes('/')) return path;
    if (Array.isArray(device.children) && path.length < 16) {
      const found = findRoot(device.children as BlockDevice[], path);
      if (found) return found;
    }
  }
  return undefined;
}

export const FIREWALL_UNITS = ['ufw', 'firewalld', 'nftables'];

/** `systemctl is-active ufw firewalld nftables`: one state per unit, in order. A running unit is not proof of a deny-inbound rule set. */
export function parseFirewallUnits(output: string, units: readonly string[] = FIREWALL_UNITS): CheckAnswer {
  const problem = unreadable(output, 'systemctl');
  if (problem) return problem;
  const states = output.trim().split(/\r?\n/).map((line) => line.trim());
  const known = new Set(['active', 'inactive', 'failed', 'unknown', 'activating', 'deactivating', 'reloading', 'maintenance', 'refreshing']);
  if (states.length !== units.length || !states.every((state) => known.has(state))) return unknown(`systemctl did not answer one state per unit: ${excerpt(output)}`);
  const active = units.filter((_, index) => states[index] === 'active' || states[index] === 'reloading');
  if (active.length > 0) return pass(active.join(', '), `firewall unit active: ${active.join(', ')}`);
  return fail(false, `no firewall unit is active (${units.map((unit, index) => `${unit} ${states[index]}`).join(', ')})`);
}

/** `/etc/ufw/ufw.conf`, the fallback when systemd cannot be asked: ENABLED=yes means ufw starts at boot. */
export function parseUfwConf(text: string): CheckAnswer {
  const problem = unreadable(text, 'ufw.conf');
  if (problem) return problem;
  const enabled = /^\s*ENABLED\s*=\s*"?(\w+)"?\s*$/m.exec(text)?.[1]?.toLowerCase();
  if (enabled === 'yes') return pass('ufw', 'ufw.conf says ENABLED=yes');
  if (enabled === 'no') return unknown('ufw.conf says ENABLED=no, and systemd could not say whether another firewall runs');
  return unknown('ufw.conf has no ENABLED=yes|no line');
}

/** `gsettings get org.gnome.desktop.screensaver lock-enabled` and `… org.gnome.desktop.session idle-delay`. */
export function parseGnomeScreenLock(lockEnabled: string, idleDelay: string): CheckAnswer {
  const problem = unreadable(lockEnabled, 'gsettings');
  if (problem) return problem;
  const lock = lockEnabled.trim();
  if (lock === 'false') return fail(false, 'GNOME screen lock is off (org.gnome.desktop.screensaver lock-enabled false)');
  if (lock !== 'true') return unknown(`gsettings lock-enabled gave ${excerpt(lockEnabled)}`);
  const delay = /^(?:uint32\s+)?(\d+)$/.exec(idleDelay.trim())?.[1];
  if (delay === undefined) return unknown(`screen lock is on, but the idle delay is unreadable: ${excerpt(idleDelay)}`);
  const seconds = Number(delay);
  if (seconds === 0) return fail(false, 'screen lock is on, but the screen never blanks when idle (idle-delay 0)');
  return pass(seconds, `screen locks after ${seconds} s idle`);
}

/** `/var/log/dpkg.log`: the newest "upgrade" line. The log's times are local; read as UTC, they are off by hours at most. */
export function parseDpkgLog(text: string, now: Date): CheckAnswer {
  const problem = unreadable(text, 'dpkg.log');
  if (problem) return problem;
  const last = latest(Array.from(text.matchAll(/^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}) upgrade /gm), (match) => Date.parse(`${match[1]}T${match[2]}Z`)));
  if (last === undefined) return unknown('dpkg.log records no upgrade (the log may have been rotated)');
  return patchAgeAnswer(last, now, 'dpkg.log');
}

/** `/var/log/pacman.log`: the newest "upgraded" line, e.g. `[2024-05-01T10:00:00+0200] [ALPM] upgraded linux (…)`. */
export function parsePacmanLog(text: string, now: Date): CheckAnswer {
  const problem = unreadable(text, 'pacman.log');
  if (problem) return problem;
  const upgrades = text.matchAll(/^\[(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?)([+-]\d{2}):?(\d{2})\] \[ALPM\] upgraded /gm);
  const last = latest(Array.from(upgrades, (match) => Date.parse(`${match[1]}${match[2]}:${match[3]}`)));
  if (last === undefined) return unknown('pacman.log records no upgrade');
  return patchAgeAnswer(last, now, 'pacman.log');
}

/** `/var/log/dnf.rpm.log` (dnf 4 on Fedora and RHEL): the newest `Upgrade:`/`Upgraded:` line, e.g. `2026-11-05T10:11:12+0000 SUBDEBUG Upgrade: …`. */
export function parseDnfRpmLog(text: string, now: Date): CheckAnswer {
  const problem = unreadable(text, 'dnf.rpm.log');
  if (problem) return problem;
  const upgrades = text.matchAll(/^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(Z|[+-]\d{2}:?\d{2}) \w+ Upgraded?: /gm);
  const last = latest(Array.from(upgrades, (match) => Date.parse(`${match[1]}${match[2] === 'Z' ? 'Z' : `${match[2]!.slice(0, 3)}:${match[2]!.slice(-2)}`}`)));
  if (last === undefined) return unknown('dnf.rpm.log records no upgrade');
  return patchAgeAnswer(last, now, 'dnf.rpm.log');
}
