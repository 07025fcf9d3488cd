// Reads Claude Code's session transcripts for the guard's coverage check: recent `*.jsonl` files under the
// agent's `projects/` folder, plus any a hook payload named, each read only to a bounded tail. The comparison
// with the journal is pure (src/detect/coverage.ts).
import { closeSync, constants, fstatSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Finding } from '../core/inventory.js';
import { readTranscriptLines, uncoveredCalls, type UncoveredCall } from '../detect/coverage.js';
import type { HookEventRef } from '../telemetry/join.js';

/** The session id the self-test's synthetic calls carry; coverage, run records and session views leave it out. */
export const SELF_TEST_SESSION = 'writ-self-test';

export interface CoverageOptions {
  /** The journal's events of one session (the daemon's journal, or `writ guard` reading it read-only). */
  hookEvents(sessionId: string): HookEventRef[];
  /** Claude Code's configuration folder (`~/.claude`, or `$CLAUDE_CONFIG_DIR`); transcripts are under `projects/`. */
  claudeDir: string;
  /** Only transcripts written since then are read. */
  since: Date;
  /** Transcripts named by hook payloads, read too when recent. */
  transcripts?: readonly string[];
  /** The most transcripts read in one check, newest first (default 50). */
  maxFiles?: number;
  /** The most bytes read of one transcript, from its end (default 8 MiB). */
  maxBytes?: number;
}

export interface CoverageResult {
  uncovered_calls: UncoveredCall[];
  findings: Finding[];
  transcripts: number;
}

const DEFAULT_MAX_FILES = 50;
const DEFAULT_MAX_BYTES = 8 * 1024 * 1024;

/** Yields to the event loop between transcripts, so hook answers wait for at most one transcript's parse. */
export async function checkCoverage(options: CoverageOptions): Promise<CoverageResult> {
  const findings: Finding[] = [];
  const files = recentTranscripts(options, findings);
  const uncovered: UncoveredCall[] = [];
  for (const file of files) {
    await new Promise((resolve) => setImmediate(resolve));
    const session = basename(file, '.jsonl');
    if (session === SELF_TEST_SESSION) continue;
    const tail = readTail(file, options.maxBytes ?? DEFAULT_MAX_BYTES);
    if ('problem' in tail) {
      findings.push({ severity: 'warning', subject: 'transcript', path: file, message: tail.problem });
      continue;
    }
    if (tail.skipped > 0) findings.push({ severity: 'info', subject: 'transcript', path: file, message: `only the last ${options.maxBytes ?? DEFAULT_MAX_BYTES} bytes were read; ${tail.skipped} bytes before them were not checked` });
    const reading = readTranscriptLines(tail.text.split('\n'), file, { partialFirstLine: tail.skipped > 0 });
    findings.push(...reading.findings);
    uncovered.push(...uncoveredCalls(session, options.hookEvents(session), reading.calls, file));
  }
  return { uncovered_calls: uncovered, findings, transcripts: files.length };
}

/** `projects/*\/*.jsonl` and the named transcripts written since `since`, newest first, at most maxFiles. */
function recentTranscripts(options: CoverageOptions, findings: Finding[]): string[] {
  const candidates = new Set(options.transcripts ?? []);
  const projects = join(options.claudeDir, 'projects');
  for (const project of listDir(projects)) {
    for (const name of listDir(join(projects, project))) if (name.endsWith('.jsonl')) candidates.add(join(projects, project, name));
  }
  const recent: { path: string; mtime: number }[] = [];
  for (const path of candidates) {
    try {
      const stat = statSync(path);
      if (stat.isFile() && stat.mtimeMs >= options.since.getTime()) recent.push({ path, mtime: stat.mtimeMs });
    } catch {
      // Gone since it was listed, or never there: nothing to check.
    }
  }
  recent.sort((a, b) => b.mtime - a.mtime);
  const max = options.maxFiles ?? DEFAULT_MAX_FILES;
  if (recent.length > max) findings.push({ severity: 'info', subject: 'transcript', path: projects, message: `${recent.length} transcripts changed recently; only the newest ${max} were checked` });
  return recent.slice(0, max).map((file) => file.path);
}

function listDir(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

/** The last `maxBytes` of a regular file (never following a link at the last step), and how many bytes came before. */
export function readTail(path: string, maxBytes: number): { text: string; skipped: number } | { problem: string } {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    return { problem: `cannot be opened: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` };
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) return { problem: 'is not a regular file' };
    const length = Math.min(stat.size, maxBytes);
    const buffer = Buffer.alloc(length);
    let read = 0;
    while (read < length) {
      const n = readSync(fd, buffer, read, length - read, stat.size - length + read);
      if (n === 0) break;
      read += n;
    }
    return { text: buffer.subarray(0, read).toString('utf8'), skipped: stat.size - length };
  } catch (error) {
    return { problem: `cannot be read: ${(error as Error).message}` };
  } finally {
    closeSync(fd);
  }
}
