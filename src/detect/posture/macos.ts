// macOS posture from tools an ordinary user may run: fdesetup, socketfilterfw (or system_profiler on
// macOS 15+), sw_vers, softwareupdate --history and sysadminctl.
import { excerpt, fail, pass, patchAgeAnswer, unknown, unreadable, type CheckAnswer } from './answer.js';

/** `fdesetup status`: "FileVault is On." / "FileVault is Off.", possibly with a conversion in progress. */
export function parseFdesetupStatus(output: string): CheckAnswer {
  const problem = unreadable(output, 'fdesetup');
  if (problem) return problem;
  const progress = /(Encryption|Decryption) in progress[^\n]*/i.exec(output)?.[0];
  if (progress) return fail(false, `FileVault is not settled: ${progress.trim()}`);
  if (/FileVault is On\./.test(output)) return pass(true, 'FileVault is On');
  if (/FileVault is Off\./.test(output)) return fail(false, 'FileVault is Off');
  return unknown(`fdesetup status gave ${excerpt(output)}`);
}

/** `socketfilterfw --getglobalstate`: "Firewall is enabled. (State = 1)"; 2 blocks all incoming, 0 is off. */
export function parseSocketFilterGlobalState(output: string): CheckAnswer {
  const problem = unreadable(output, 'socketfilterfw');
  if (problem) return problem;
  const state = /\(State = (\d)\)/.exec(output)?.[1];
  if (state === '1' || state === '2') return pass(true, `application firewall on (state ${state})`);
  if (state === '0') return fail(false, 'application firewall off (state 0)');
  if (/Firewall is enabled/i.test(output)) return pass(true, 'application firewall on');
  if (/Firewall is disabled/i.test(output)) return fail(false, 'application firewall off');
  return unknown(`socketfilterfw gave ${excerpt(output)}`);
}

/** `system_profiler SPFirewallDataType` (the source from macOS 15, where the alf plist is gone): its "Mode:" line. */
export function parseSystemProfilerFirewall(output: string): CheckAnswer {
  const problem = unreadable(output, 'system_profiler');
  if (problem) return problem;
  const mode = /^\s*Mode:\s*(.+?)\s*$/m.exec(output)?.[1];
  if (!mode) return unknown(`system_profiler SPFirewallDataType has no Mode line: ${excerpt(output)}`);
  if (/^Allow all incoming connections/i.test(mode)) return fail(false, `firewall mode: ${mode}`);
  if (/^(Block all incoming connections|Limit incoming connections)/i.test(mode)) return pass(true, `firewall mode: ${mode}`);
  return unknown(`firewall mode not understood: ${JSON.stringify(mode)}`);
}

/** `sw_vers`: the ProductVersion line, e.g. "14.4.1". */
export function parseSwVers(output: string): CheckAnswer {
  const problem = unreadable(output, 'sw_vers');
  if (problem) return problem;
  const version = /^ProductVersion:\s*(\d+(?:\.\d+){0,3})\s*$/m.exec(output)?.[1];
  if (!version) return unknown(`sw_vers has no ProductVersion: ${excerpt(output)}`);
  const name = /^ProductName:\s*(.+?)\s*$/m.exec(output)?.[1] ?? 'macOS';
  return pass(version, `${name} ${version}`);
}

// Background data updates install themselves every few days; counting them would hide an unpatched system.
const DATA_UPDATES = /^(XProtect|MRT|Gatekeeper Compatibility|Gatekeeper E|Bridge|Background Task|Compatibility Data)/i;

/** `softwareupdate --history` with LC_ALL=C: a table whose last column is "MM/DD/YYYY, HH:MM:SS". */
export function parseSoftwareUpdateHistory(output: string, now: Date): CheckAnswer {
  const problem = unreadable(output, 'softwareupdate');
  if (problem) return problem;
  if (!/^Display Name\s+Version\s+Date/m.test(output)) return unknown(`softwareupdate --history gave ${excerpt(output)}`);
  let last: number | undefined;
  let lastName = '';
  for (const line of output.split(/\r?\n/)) {
    const match = /^(.*?)\s{2,}\S+\s+(\d{1,2})\/(\d{1,2})\/(\d{4}),?\s*(\d{1,2})(:\d{2}:\d{2})\s*$/.exec(line);
    if (!match || DATA_UPDATES.test(match[1]!.trim())) continue;
    const pad = (part: string) => part.padStart(2, '0');
    const time = Date.parse(`${match[4]}-${pad(match[2]!)}-${pad(match[3]!)}T${pad(match[5]!)}${match[6]}Z`);
    if (!Number.isNaN(time) && (last === undefined || time > last)) [last, lastName] = [time, match[1]!.trim()];
  }
  if (last === undefined) return unknown('softwareupdate --history lists no system or application update');
  return patchAgeAnswer(last, now, lastName);
}

/** `sysadminctl -screenLock status`, which answers on stderr: "screenLock delay is immediate" / "… is 300 seconds" / "screenLock is off". */
export function parseSysadminctlScreenLock(output: string): CheckAnswer {
  const problem = unreadable(output, 'sysadminctl');
  if (problem) return problem;
  if (/screenLock is off/i.test(output)) return fail(false, 'screen lock is off');
  if (/screenLock delay is immediate/i.test(output)) return pass(0, 'password required immediately after sleep or screen saver');
  const seconds = /screenLock delay is (\d+) seconds?/i.exec(output)?.[1];
  if (seconds !== undefined) return pass(Number(seconds), `password required ${seconds} s after sleep or screen saver`);
  return unknown(`sysadminctl -screenLock status gave ${excerpt(output)}`);
}
