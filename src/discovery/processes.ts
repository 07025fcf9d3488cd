// The processes running now, for matching against the agent catalogue. Linux reads /proc directly; macOS
// and Windows run ps or tasklist by absolute path, so a planted `ps` on PATH is never what answers.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import type { ProcessInfo } from '../detect/agent-discovery.js';

const run = promisify(execFile);
/** Far more than a workstation runs; a bound so a hostile /proc cannot make the scan unbounded. */
const MAX_PROCESSES = 20_000;

export async function listProcesses(platform: NodeJS.Platform): Promise<ProcessInfo[]> {
  try {
    if (platform === 'linux') return linuxProcesses();
    if (platform === 'darwin') {
      // Two listings, each with its free-text column last, so names with spaces (`LM Studio`) stay whole.
      const ps = (columns: string) => run('/bin/ps', ['-axww', '-o', columns], { timeout: 5000, maxBuffer: 32 * 1024 * 1024 });
      const [comm, args] = await Promise.all([ps('pid=,comm='), ps('pid=,args=')]);
      return parsePs(comm.stdout, args.stdout);
    }
    if (platform === 'win32') {
      const tasklist = `${process.env.SystemRoot ?? 'C:\\Windows'}\\System32\\tasklist.exe`;
      return parseTasklist((await run(tasklist, ['/fo', 'csv', '/nh'], { timeout: 5000, maxBuffer: 32 * 1024 * 1024, windowsHide: true })).stdout);
    }
  } catch {
    // No process list is evidence of nothing: discovery goes on with files and binaries.
  }
  return [];
}

function linuxProcesses(): ProcessInfo[] {
  const processes: ProcessInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || processes.length >= MAX_PROCESSES) continue;
    try {
      const name = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter(Boolean).slice(0, 64);
      processes.push({ pid: Number(entry), name, argv });
    } catch {
      // Gone since the listing, or another user's: skipped.
    }
  }
  return processes;
}

/** `ps -o pid=,comm=` and `ps -o pid=,args=` joined by pid: comm is a path on macOS; args are split on spaces (enough to match package names). */
export function parsePs(commText: string, argsText: string): ProcessInfo[] {
  const column = (text: string) => new Map(text.split('\n').flatMap((line) => {
    const match = /^\s*(\d+)\s+(.*?)\s*$/.exec(line);
    return match ? [[Number(match[1]), match[2]!] as const] : [];
  }));
  const args = column(argsText);
  return [...column(commText)].map(([pid, comm]) => ({ pid, name: comm.slice(comm.lastIndexOf('/') + 1), argv: (args.get(pid) ?? comm).split(/\s+/).filter(Boolean) }));
}

/** `tasklist /fo csv /nh`: "name","pid",…; tasklist gives no command lines. */
export function parseTasklist(text: string): ProcessInfo[] {
  return text.split(/\r?\n/).flatMap((line) => {
    const match = /^"([^"]*)","(\d+)"/.exec(line);
    return match ? [{ pid: Number(match[2]), name: match[1]!, argv: [match[1]!] }] : [];
  });
}
