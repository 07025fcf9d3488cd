// What one posture source says, before the collector stamps it with the check's name, source and time.
// The parsers are pure: each takes the raw text of one command or file and never guesses.
import type { PostureCheck } from '../../core/inventory.js';

export type CheckAnswer = Pick<PostureCheck, 'status' | 'value' | 'reason'> & { reason: string };

export const pass = (value: PostureCheck['value'], reason: string): CheckAnswer => ({ status: 'pass', value, reason });
export const fail = (value: PostureCheck['value'], reason: string): CheckAnswer => ({ status: 'fail', value, reason });
export const unknown = (reason: string): CheckAnswer => ({ status: 'unknown', reason });

const DENIED = /permission denied|operation not permitted|access is denied|not authori[sz]ed|must be run as root|requires? (root|admin|elevation)|run as administrator/i;

/** Output that cannot be read as an answer: empty, or refused for lack of privileges. Undefined when it can. */
export function unreadable(output: string, what: string): CheckAnswer | undefined {
  if (DENIED.test(output)) return unknown(`${what}: permission denied`);
  if (output.trim() === '') return unknown(`${what}: empty output`);
  return undefined;
}

/** A short, single-line excerpt of output that was not understood, for the reason. */
export function excerpt(output: string): string {
  const line = output.trim().split(/\r?\n/)[0] ?? '';
  return JSON.stringify(line.length > 80 ? `${line.slice(0, 80)}…` : line);
}

/** Days between a past time and now, whole and never negative. */
export function daysSince(then: number, now: Date): number {
  return Math.max(0, Math.floor((now.getTime() - then) / 86_400_000));
}

/** The latest of some times, skipping unreadable ones (NaN); undefined when none is left. */
export function latest(times: Iterable<number>): number | undefined {
  let last: number | undefined;
  for (const time of times) if (!Number.isNaN(time) && (last === undefined || time > last)) last = time;
  return last;
}

/** Patches older than this fail the patch_age check; policy can set its own bound on `patch_age_days`. */
export const PATCH_AGE_LIMIT_DAYS = 30;

export function patchAgeAnswer(lastPatched: number, now: Date, source: string): CheckAnswer {
  const days = daysSince(lastPatched, now);
  const reason = `last update ${new Date(lastPatched).toISOString().slice(0, 10)} (${source}), ${days} days ago`;
  return days <= PATCH_AGE_LIMIT_DAYS ? pass(days, reason) : fail(days, `${reason}, more than ${PATCH_AGE_LIMIT_DAYS}`);
}
