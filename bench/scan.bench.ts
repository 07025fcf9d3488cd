// writ scan on a home full of agent data, and a daemon's idle cost.
//  1. A generated home with 10,000 files in agent folders (Claude Code transcripts, Codex sessions, Gemini
//     chats, editor extensions) and real-format MCP configurations. Goal: a scan under 2 s. Three ways,
//     interleaved: discovery + assessment with no binaries to probe (the files' cost), the whole scan
//     in-process with the real Claude Code, Codex CLI and Gemini CLI on PATH (their --version and the
//     posture commands included), and `writ scan --json` as a user runs it (Node start-up included).
//  2. A real `writ daemon` left idle for 30 s: CPU seconds per minute and RSS from /proc/<pid>.
//
//   node --import tsx bench/scan.bench.ts [rounds=7] [idle_seconds=30]
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { scanDevice } from '../src/cli/commands/scan.js';
import { assessMaturity } from '../src/detect/maturity.js';
import { discoverDevice } from '../src/discovery/index.js';
import { resolveWritHome } from '../src/home/writ-home.js';
import { startWritDaemon, stopWritDaemon, WRIT_BIN } from '../test/support/writ-process.js';
import { quantile } from './stats.js';

const rounds = Number(process.argv[2] ?? 7);
const idleSeconds = Number(process.argv[3] ?? 30);
const root = mkdtempSync(join(tmpdir(), 'writ-bench-scan-'));
const home = join(root, 'home');
const writHome = resolveWritHome(join(home, '.writ'));
const agentsBin = join(import.meta.dirname, '../node_modules/.bin');

/** 10,000 files where agents keep their data, the way a year of use leaves them. */
function generateHome(): number {
  let files = 0;
  const write = (path: string, text: string) => {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    files++;
  };
  const line = (n: number) => JSON.stringify({ type: 'assistant', uuid: `u${n}`, message: { content: [{ type: 'tool_use', name: 'Bash', input: { command: `ls ${n}` } }] } }) + '\n';
  const projects: Record<string, unknown> = {};
  for (let project = 0; project < 100; project++) {
    const dir = `/work/project-${project}`;
    projects[dir] = { mcpServers: { [`tool-${project}`]: { type: 'stdio', command: 'npx', args: ['-y', `mcp-tool-${project}`], env: { TOKEN: 'x' } } } };
    for (let session = 0; session < 40; session++) write(join(home, '.claude/projects', `-work-project-${project}`, `${project}-${session}.jsonl`), line(session).repeat(5));
  }
  write(join(home, '.claude.json'), JSON.stringify({ mcpServers: { github: { type: 'stdio', command: 'npx', args: ['-y', '@modelcontextprotocol/server-github'], env: { GITHUB_TOKEN: 'x' } } }, projects }));
  for (let day = 0; day < 100; day++) for (let session = 0; session < 30; session++) write(join(home, '.codex/sessions/2026/11', String(day), `rollout-${day}-${session}.jsonl`), line(session).repeat(5));
  write(join(home, '.codex/config.toml'), Array.from({ length: 20 }, (_, n) => `[mcp_servers.server${n}]\ncommand = "npx"\nargs = ["-y", "server-${n}"]\n`).join('\n'));
  for (let chat = 0; chat < 1000; chat++) write(join(home, '.gemini/tmp', `project${chat % 50}`, 'chats', `session-${chat}.json`), line(chat));
  write(join(home, '.gemini/settings.json'), JSON.stringify({ mcpServers: { weather: { httpUrl: 'https://mcp.example.com/weather', headers: { 'X-Api-Key': 'x' } } } }));
  const extensions = ['anthropic.claude-code-2.1.197-linux-x64', 'openai.chatgpt-0.5.1', 'google.geminicodeassist-2.60.0', ...Array.from({ length: 37 }, (_, n) => `vendor.extension${n}-1.0.${n}`)];
  for (const name of extensions) {
    const [publisher, rest] = name.split('.');
    write(join(home, '.vscode/extensions', name, 'package.json'), JSON.stringify({ publisher, name: rest.replace(/-\d.*$/, ''), version: /\d+\.\d+\.\d+/.exec(name)![0] }));
  }
  for (let n = 0; files < 10_000; n++) write(join(home, '.vscode/extensions', extensions[n % extensions.length], 'dist', `chunk-${n}.js`), '// bundled\n');
  return files;
}

const median = (samples: number[]) => quantile(samples, 0.5);
const fmt = (ms: number) => `${ms.toFixed(0)} ms`;

const files = generateHome();
const timings = { discovery: [] as number[], inProcess: [] as number[], cli: [] as number[] };
// What the whole scan waits for: each agent's --version, run alone, in the environment discovery gives it.
const versionTimings: Record<string, number[]> = { claude: [], codex: [], gemini: [] };
const probeEnv = { PATH: [dirname(process.execPath), '/usr/bin', '/bin'].join(delimiter), HOME: '/nonexistent', NO_COLOR: '1', CI: '1' };
let found = '';
for (let round = 0; round < rounds + 1; round++) {
  const order = [0, 1, 2].map((offset) => (round + offset) % 3);
  for (const which of order) {
    const started = performance.now();
    if (which === 0) {
      const discovery = await discoverDevice({ home, pathEnv: '' });
      assessMaturity({ v: 1, collected_at: new Date().toISOString(), ...discovery }, { now: new Date().toISOString(), scan_ms: 0 });
      if (round > 0) timings.discovery.push(performance.now() - started);
    } else if (which === 1) {
      const report = await scanDevice({ home: writHome, env: { ...process.env, HOME: home }, pathEnv: agentsBin });
      found = `${report.inventory.agents.map((agent) => `${agent.id} ${agent.version ?? '?'}`).join(', ')}; ${report.inventory.mcp_servers.length} MCP servers; level ${report.assessment.level}`;
      if (round > 0) timings.inProcess.push(performance.now() - started);
    } else {
      await promisify(execFile)(process.execPath, [WRIT_BIN, 'scan', '--json'], { env: { ...process.env, HOME: home, WRIT_HOME: writHome.root, PATH: [agentsBin, process.env.PATH].join(delimiter) }, maxBuffer: 64 * 1024 * 1024 });
      if (round > 0) timings.cli.push(performance.now() - started);
    }
  }
  for (const binary of Object.keys(versionTimings)) {
    const started = performance.now();
    await promisify(execFile)(join(agentsBin, binary), ['--version'], { env: probeEnv });
    if (round > 0) versionTimings[binary]!.push(performance.now() - started);
  }
}
console.log(`generated home: ${files} files; found: ${found}`);
console.log(`discovery + assessment, no binaries to probe: median ${fmt(median(timings.discovery))} (min ${fmt(Math.min(...timings.discovery))}, n=${rounds})`);
console.log(`scanDevice in-process, three real agents on PATH, posture included: median ${fmt(median(timings.inProcess))} (min ${fmt(Math.min(...timings.inProcess))}, n=${rounds})`);
console.log(`each agent's --version alone: ${Object.entries(versionTimings).map(([binary, samples]) => `${binary} ${fmt(median(samples))}`).join(', ')}`);
console.log(`writ scan --json as a process: median ${fmt(median(timings.cli))} (min ${fmt(Math.min(...timings.cli))}, n=${rounds})`);

// The daemon at rest: no hook calls, only its own timers (heartbeat, posture, upload when enrolled).
const ticksPerSecond = 100;
const procStat = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond; // utime, stime (fields 14, 15)
};
const procStatus = (pid: number, key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;
const daemon = await startWritDaemon(home, writHome);
try {
  await new Promise((resolve) => setTimeout(resolve, 5000)); // start-up work done
  const cpuBefore = procStat(daemon.pid!);
  const started = performance.now();
  await new Promise((resolve) => setTimeout(resolve, idleSeconds * 1000));
  const cpu = procStat(daemon.pid!) - cpuBefore;
  const minutes = (performance.now() - started) / 60_000;
  console.log(`daemon idle ${idleSeconds} s: ${(cpu / minutes).toFixed(3)} CPU s/min (${cpu.toFixed(2)} s in ${(minutes * 60).toFixed(0)} s); RSS ${procStatus(daemon.pid!, 'VmRSS').toFixed(1)} MiB (peak ${procStatus(daemon.pid!, 'VmHWM').toFixed(1)} MiB)`);
} finally {
  await stopWritDaemon(daemon);
  rmSync(root, { recursive: true, force: true });
}
