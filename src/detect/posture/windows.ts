// Windows posture from sources a standard user can read: the Shell's BitLocker property, netsh, Security
// Center and the registry (through reg.exe, whose output is the same in every display language).
import { excerpt, fail, pass, patchAgeAnswer, unknown, unreadable, type CheckAnswer } from './answer.js';

/** The Shell property System.Volume.BitLockerProtection of C: (no admin needed, unlike manage-bde). */
export function parseBitLockerProtection(output: string): CheckAnswer {
  const problem = unreadable(output, 'BitLockerProtection');
  if (problem) return problem;
  const value = output.trim();
  if (!/^\d+$/.test(value)) return unknown(`BitLockerProtection gave ${excerpt(output)}`);
  switch (Number(value)) {
    case 1:
    case 5:
    case 6:
      return pass(true, `BitLocker protects C: (BitLockerProtection ${value})`);
    case 2:
      return fail(false, 'BitLocker is off on C: (BitLockerProtection 2)');
    case 3:
      return fail(false, 'BitLocker is still encrypting C: (BitLockerProtection 3)');
    case 4:
      return fail(false, 'BitLocker is decrypting C: (BitLockerProtection 4)');
    default:
      return unknown(`BitLockerProtection ${value} is not a known state`);
  }
}

/** `netsh advfirewall show allprofiles state`: on only when every profile's State is ON. */
export function parseNetshFirewall(output: string): CheckAnswer {
  const problem = unreadable(output, 'netsh');
  if (problem) return problem;
  const profiles: { name: string; on: boolean }[] = [];
  let current: string | undefined;
  for (const line of output.split(/\r?\n/)) {
    const heading = /^(\w+) Profile Settings:/.exec(line.trim());
    if (heading) current = heading[1];
    const state = /^State\s+(ON|OFF)\s*$/i.exec(line.trim());
    if (state && current) profiles.push({ name: current, on: state[1]!.toUpperCase() === 'ON' });
  }
  if (profiles.length === 0) return unknown(`netsh gave no profile state: ${excerpt(output)}`);
  const off = profiles.filter((profile) => !profile.on).map((profile) => profile.name);
  if (off.length > 0) return fail(false, `Windows Firewall is off for the ${off.join(', ')} profile${off.length > 1 ? 's' : ''}`);
  return pass(true, `Windows Firewall is on for ${profiles.map((profile) => profile.name).join(', ')}`);
}

/**
 * Security Center's AntiVirusProduct list as JSON (`… | Select-Object displayName,productState | ConvertTo-Json`).
 * productState's middle byte says on (0x10) or off; its low byte 0x10 says the signatures are out of date.
 */
export function parseAntivirusProducts(output: string): CheckAnswer {
  const problem = unreadable(output, 'SecurityCenter2');
  if (problem) return problem;
  let parsed: unknown;
  try {
    parsed = JSON.parse(output);
  } catch {
    return unknown(`Security Center gave ${excerpt(output)}`);
  }
  const products = (Array.isArray(parsed) ? parsed : [parsed]).filter(
    (product): product is { displayName: string; productState: number } =>
      typeof product === 'object' && product !== null && typeof product.displayName === 'string' && Number.isInteger(product.productState),
  );
  if (products.length === 0) return unknown('Security Center lists no antivirus product in a form understood');
  const enabled = products.filter((product) => ((product.productState >> 12) & 0xf) === 1);
  const current = enabled.filter((product) => ((product.productState >> 4) & 0xf) === 0);
  const names = (list: typeof products) => list.map((product) => product.displayName).join(', ');
  if (current.length > 0) return pass(names(current), `on with current signatures: ${names(current)}`);
  if (enabled.length > 0) return fail(false, `on, but signatures out of date: ${names(enabled)}`);
  return fail(false, `registered but off: ${names(products)}`);
}

/** `reg query KEY [/v NAME]`: the "    Name    REG_TYPE    Data" lines, by name. */
export function parseRegQuery(output: string): Map<string, { type: string; data: string }> {
  const values = new Map<string, { type: string; data: string }>();
  for (const line of output.split(/\r?\n/)) {
    const match = /^\s{2,}(.+?)\s{2,}(REG_[A-Z_]+)(?:\s{2,}(.*?))?\s*$/.exec(line);
    if (match) values.set(match[1]!, { type: match[2]!, data: match[3] ?? '' });
  }
  return values;
}

function registryNumber(value: { type: string; data: string } | undefined): number | undefined {
  if (!value) return undefined;
  const data = value.data.trim();
  if (/^0x[0-9a-f]+$/i.test(data)) return parseInt(data, 16);
  if (/^\d+$/.test(data)) return Number(data);
  return undefined;
}

/** Longest idle time that still counts as a screen lock (the Fleet and CIS bound). */
export const SCREEN_LOCK_LIMIT_SECONDS = 1800;

/** `reg query HKLM\…\Policies\System /v InactivityTimeoutSecs`: the machine's lock-after-idle policy. */
export function parseInactivityTimeout(output: string): CheckAnswer {
  const problem = unreadable(output, 'reg query');
  if (problem) return problem;
  if (/unable to find the specified registry key or value/i.test(output)) return unknown('InactivityTimeoutSecs is not set');
  const seconds = registryNumber(parseRegQuery(output).get('InactivityTimeoutSecs'));
  if (seconds === undefined) return unknown(`reg query gave no InactivityTimeoutSecs: ${excerpt(output)}`);
  if (seconds === 0) return fail(false, 'InactivityTimeoutSecs is 0: the machine never locks when idle');
  if (seconds > SCREEN_LOCK_LIMIT_SECONDS) return fail(seconds, `locks after ${seconds} s idle, more than ${SCREEN_LOCK_LIMIT_SECONDS}`);
  return pass(seconds, `machine locks after ${seconds} s idle (InactivityTimeoutSecs)`);
}

/** `reg query "HKCU\Control Panel\Desktop"`: a secure screen saver (ScreenSaveActive, ScreenSaverIsSecure, ScreenSaveTimeOut). */
export function parseDesktopScreenSaver(output: string): CheckAnswer {
  const problem = unreadable(output, 'reg query');
  if (problem) return problem;
  const values = parseRegQuery(output);
  if (values.size === 0) return unknown(`reg query gave no values: ${excerpt(output)}`);
  const active = values.get('ScreenSaveActive')?.data.trim();
  const secure = values.get('ScreenSaverIsSecure')?.data.trim();
  const timeout = registryNumber(values.get('ScreenSaveTimeOut'));
  if (active === undefined && secure === undefined) return unknown('neither ScreenSaveActive nor ScreenSaverIsSecure is set');
  if (active !== '1') return fail(false, 'the screen saver is off (ScreenSaveActive is not 1)');
  if (secure !== '1') return fail(false, 'the screen saver does not ask for a password (ScreenSaverIsSecure is not 1)');
  if (timeout === undefined || timeout === 0) return unknown('a secure screen saver is on, but ScreenSaveTimeOut is unreadable');
  if (timeout > SCREEN_LOCK_LIMIT_SECONDS) return fail(timeout, `the secure screen saver starts after ${timeout} s, more than ${SCREEN_LOCK_LIMIT_SECONDS}`);
  return pass(timeout, `secure screen saver after ${timeout} s idle`);
}

/** `reg query "HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion"`: "major.minor.build.UBR", e.g. "10.0.22631.3447". */
export function parseWindowsVersion(output: string): CheckAnswer {
  const problem = unreadable(output, 'reg query');
  if (problem) return problem;
  const values = parseRegQuery(output);
  const build = values.get('CurrentBuild')?.data.trim() ?? values.get('CurrentBuildNumber')?.data.trim();
  if (!build || !/^\d+$/.test(build)) return unknown(`no CurrentBuild in ${excerpt(output)}`);
  const major = registryNumber(values.get('CurrentMajorVersionNumber')) ?? 10;
  const minor = registryNumber(values.get('CurrentMinorVersionNumber')) ?? 0;
  const ubr = registryNumber(values.get('UBR'));
  const version = [major, minor, build, ...(ubr === undefined ? [] : [ubr])].join('.');
  const name = [values.get('ProductName')?.data, values.get('DisplayVersion')?.data].filter(Boolean).join(' ');
  return pass(version, name ? `${name}, build ${version}` : `build ${version}`);
}

/** The newest hotfix's InstalledOn as an ISO 8601 time (`(Get-HotFix | Measure-Object InstalledOn -Maximum).Maximum.ToString('o')`). */
export function parseLatestHotFix(output: string, now: Date): CheckAnswer {
  const problem = unreadable(output, 'Get-HotFix');
  if (problem) return problem;
  const text = output.trim();
  const time = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$/.test(text) ? Date.parse(text.replace(/(\.\d{3})\d+/, '$1')) : NaN;
  if (Number.isNaN(time)) return unknown(`Get-HotFix gave ${excerpt(output)}`);
  return patchAgeAnswer(time, now, 'Get-HotFix');
}
