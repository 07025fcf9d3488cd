// What one PreToolUse hook call costs on the hook side, started the way Claude Code starts
// it (`/bin/sh -c <command>`, the payload on stdin), against a daemon stand-in that answers
// `{}` on a Unix socket:
//   sh-true  /bin/sh -c true: the floor, a shell and nothing else
//   shim     the C shim: '<shim>' --home '<dir>' enforce || exit 2
//   node     node -e doing the same request, i.e. a hook written in Node
// The configurations are interleaved so that load from elsewhere hits them alike.
//
//   node --import tsx bench/shim-latency.ts [runs=1000]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundledShimPath } from '../src/agents/claude-code/install.js';
import { shellQuote, writHookCommands } from '../src/agents/claude-code/settings.js';

const runs = Number(process.argv[2] ?? 1000);
const home = mkdtempSync(join(tmpdir(), 'writ-bench-'));
const socketPath = join(home, 'writ.sock');
const payload = JSON.stringify({
  session_id: '3f2c7a4e-0000-4000-8000-000000000000',
  transcript_path: '/home/dev/.claude/projects/-home-dev-app/3f2c7a4e.jsonl',
  cwd: '/home/dev/app',
  permission_mode: 'default',
  hook_event_name: 'PreToolUse',
  tool_name: 'Bash',
  tool_input: { command: 'npm test', description: 'Run the tests' },
  tool_use_id: 'toolu_01ABC',
});

// The daemon stand-in runs in its own process, as the real daemon does.
const daemonSource = `
  const server = require('node:http').createServer((request, response) => {
    request.resume();
    request.on('end', () => response.end('{}'));
  });
  server.listen(${JSON.stringify(socketPath)}, () => process.stdout.write('ready\\n'));
`;
const nodeHookSource = `
  const chunks = [];
  process.stdin.on('data', (chunk) => chunks.push(chunk)).on('end', () => {
    const body = Buffer.concat(chunks);
    const request = require('node:http').request(
      { socketPath: ${JSON.stringify(socketPath)}, method: 'POST', path: '/v1/hooks/claude-code',
        headers: { 'content-type': 'application/json', 'content-length': body.length, 'x-writ-mode': 'enforce' } },
      (response) => response.pipe(process.stdout),
    );
    request.on('error', (error) => { console.error(error.message); process.exit(2); });
    request.end(body);
  });
`;

const enforce = writHookCommands({ transport: 'command', shimPath: bundledShimPath(), writHome: home }).PreToolUse;
const configurations: Record<string, string> = {
  'sh-true': 'true',
  shim: enforce.type === 'command' ? enforce.command : '',
  node: `${shellQuote(process.execPath)} -e ${shellQuote(nodeHookSource)}`,
};

function timeOnce(command: string): Promise<{ ms: number; ok: boolean }> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn('/bin/sh', ['-c', command], { stdio: ['pipe', 'pipe', 'ignore'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
    child.stdin.on('error', () => {}); // `true` exits without reading
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      resolve({ ms, ok: code === 0 && (command === 'true' || stdout === '{}') });
    });
    child.stdin.end(payload);
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const daemon = spawn(process.execPath, ['-e', daemonSource], { stdio: ['ignore', 'pipe', 'inherit'] });
try {
  await new Promise<void>((resolve) => daemon.stdout!.once('data', () => resolve()));
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(configurations).map((name) => [name, []]));
  const failures: Record<string, number> = Object.fromEntries(Object.keys(configurations).map((name) => [name, 0]));
  for (const command of Object.values(configurations)) await timeOnce(command); // warm the page cache
  for (let run = 0; run < runs; run++) {
    for (const [name, command] of Object.entries(configurations)) {
      const { ms, ok } = await timeOnce(command);
      samples[name].push(ms);
      if (!ok) failures[name]++;
    }
  }
  console.log(`${runs} runs each, spawn to exit via /bin/sh -c, payload ${payload.length} bytes`);
  console.log('config    median ms   p99 ms   failures');
  for (const [name, values] of Object.entries(samples)) {
    const sorted = [...values].sort((a, b) => a - b);
    console.log(
      `${name.padEnd(9)} ${percentile(sorted, 50).toFixed(2).padStart(9)} ${percentile(sorted, 99).toFixed(2).padStart(8)}   ${failures[name]}`,
    );
  }
} finally {
  daemon.kill();
  rmSync(home, { recursive: true, force: true });
}
