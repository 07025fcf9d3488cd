// What one PreToolUse costs on the hook side, started exactly as Claude Code starts a command hook
// (`/bin/sh -c <command>`, the payload on stdin), against a real `writ daemon` with the standard policy:
//   sh-true  `true`: the floor any command hook pays (a shell and nothing else)
//   writ     the installed command: '<shim>' --home '<dir>' enforce || exit 2
//   node     a hook written in Node making the same request to the same daemon
// With no hook, nothing is spawned: each figure is also the latency it adds over no hook.
// The configurations are interleaved so load from elsewhere hits them alike.
//
//   node --import tsx bench/hook-latency.bench.ts [runs=500]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundledShimPath } from '../src/agents/claude-code/install.js';
import { shellQuote, writHookCommands } from '../src/agents/claude-code/settings.js';
import { resolveWritHome } from '../src/home/writ-home.js';
import { startWritDaemon, stopWritDaemon } from '../test/support/writ-process.js';
import { summary } from './stats.js';

const runs = Number(process.argv[2] ?? 500);
const home = mkdtempSync(join(tmpdir(), 'writ-bench-'));
const writHome = resolveWritHome(join(home, '.writ'));
const payloads = {
  silent: { tool_name: 'Bash', tool_input: { command: 'npm test', description: 'Run the tests' } },
  deny: { tool_name: 'Bash', tool_input: { command: 'cat ~/.ssh/id_rsa', description: 'read a key' } },
};
const payloadText = (name: keyof typeof payloads) =>
  JSON.stringify({ session_id: '3f2c7a4e-0000-4000-8000-000000000000', transcript_path: '/tmp/t.jsonl', cwd: home, permission_mode: 'default', hook_event_name: 'PreToolUse', tool_use_id: 'toolu_01ABC', ...payloads[name] });

const nodeHook = `
  const chunks = [];
  process.stdin.on('data', (chunk) => chunks.push(chunk)).on('end', () => {
    const body = Buffer.concat(chunks);
    const request = require('node:http').request(
      { socketPath: ${JSON.stringify(writHome.socket)}, method: 'POST', path: '/v1/hooks/claude-code',
        headers: { 'content-type': 'application/json', 'content-length': body.length, 'x-writ-mode': 'enforce' } },
      (response) => response.pipe(process.stdout));
    request.on('error', (error) => { console.error(error.message); process.exit(2); });
    request.end(body);
  });`;
const enforce = writHookCommands({ transport: 'command', shimPath: bundledShimPath(), writHome: writHome.root }).PreToolUse;
const configurations: Record<string, string> = {
  'sh-true': 'true',
  writ: enforce.type === 'command' ? enforce.command : '',
  node: `${shellQuote(process.execPath)} -e ${shellQuote(nodeHook)}`,
};

function timeOnce(command: string, payload: string, expectDeny: boolean): Promise<{ ms: number; ok: boolean }> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn('/bin/sh', ['-c', command], { stdio: ['pipe', 'pipe', 'ignore'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
    child.stdin.on('error', () => {}); // `true` exits without reading
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const answered = command === 'true' || (expectDeny ? stdout.includes('"deny"') : stdout === '');
      resolve({ ms, ok: code === 0 && answered });
    });
    child.stdin.end(payload);
  });
}

const daemon = await startWritDaemon(home, writHome);
try {
  for (const kind of ['silent', 'deny'] as const) {
    const payload = payloadText(kind);
    const samples: Record<string, number[]> = Object.fromEntries(Object.keys(configurations).map((name) => [name, []]));
    const failures: Record<string, number> = Object.fromEntries(Object.keys(configurations).map((name) => [name, 0]));
    for (const command of Object.values(configurations)) await timeOnce(command, payload, kind === 'deny');
    for (let run = 0; run < runs; run++) {
      for (const [name, command] of Object.entries(configurations)) {
        const { ms, ok } = await timeOnce(command, payload, kind === 'deny');
        samples[name]!.push(ms);
        if (!ok) failures[name]!++;
      }
    }
    console.log(`PreToolUse "${payloads[kind].tool_input.command}" (${kind}), ${runs} interleaved runs, ms:`);
    for (const [name, values] of Object.entries(samples)) console.log(`  ${name.padEnd(8)} ${summary(values, 2)}  failures ${failures[name]}`);
  }
} finally {
  await stopWritDaemon(daemon);
  rmSync(home, { recursive: true, force: true });
}
