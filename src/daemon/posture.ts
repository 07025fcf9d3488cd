// The device's posture for policy conditions, read from $WRIT_HOME/posture.json, which the posture collector
// writes. Read again when the file changes; a missing or malformed file means "unknown", and rules that need
// a posture attribute see it absent.
import { statSync, readFileSync } from 'node:fs';
import type { Posture } from '../policy/index.js';

const BOOLEAN_FIELDS = ['disk_encrypted', 'firewall', 'endpoint_protection', 'screen_lock'] as const;
const STRING_FIELDS = ['os', 'os_version'] as const;

export interface PostureSource {
  /** The posture now, with its age; undefined when unknown. */
  current(): Posture | undefined;
  /** Why the file was not usable, for the daemon's log; undefined when it was (or is absent). */
  problem(): string | undefined;
}

export function postureFile(path: string, now: () => Date = () => new Date()): PostureSource {
  let cached: { mtimeMs: number; size: number; posture?: Posture & { collected_at: number }; problem?: string } | undefined;
  const load = () => {
    let stat;
    try {
      stat = statSync(path);
    } catch {
      cached = undefined;
      return;
    }
    if (cached && cached.mtimeMs === stat.mtimeMs && cached.size === stat.size) return;
    cached = { mtimeMs: stat.mtimeMs, size: stat.size, ...parsePosture(readFileSync(path, 'utf8')) };
  };
  return {
    current() {
      load();
      if (!cached?.posture) return undefined;
      const { collected_at, ...posture } = cached.posture;
      return { ...posture, age_seconds: Math.max(0, Math.floor((now().getTime() - collected_at) / 1000)) };
    },
    problem() {
      load();
      return cached?.problem;
    },
  };
}

/** The posture file's fields Writ knows, type-checked; anything else in the file is ignored. */
export function parsePosture(text: string): { posture?: Posture & { collected_at: number }; problem?: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return { problem: `posture file is not JSON: ${(error as Error).message}` };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { problem: 'posture file must hold a JSON object' };
  const fields = raw as Record<string, unknown>;
  const collectedAt = typeof fields.collected_at === 'string' ? Date.parse(fields.collected_at) : NaN;
  if (Number.isNaN(collectedAt)) return { problem: 'posture file needs "collected_at" as an RFC 3339 time' };
  const posture: Posture & { collected_at: number } = { collected_at: collectedAt };
  for (const name of BOOLEAN_FIELDS) {
    if (fields[name] === undefined) continue;
    if (typeof fields[name] !== 'boolean') return { problem: `posture field ${name} must be true or false` };
    posture[name] = fields[name] as boolean;
  }
  for (const name of STRING_FIELDS) {
    if (fields[name] === undefined) continue;
    if (typeof fields[name] !== 'string') return { problem: `posture field ${name} must be a string` };
    posture[name] = fields[name] as string;
  }
  if (fields.patch_age_days !== undefined) {
    if (!Number.isSafeInteger(fields.patch_age_days) || (fields.patch_age_days as number) < 0) return { problem: 'posture field patch_age_days must be a whole number of days' };
    posture.patch_age_days = fields.patch_age_days as number;
  }
  return { posture };
}
