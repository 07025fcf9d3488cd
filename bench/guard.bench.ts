// The guard's cost: the self-test (a synthetic PreToolUse through the real C shim, socket, daemon and policy)
// and a whole heartbeat (guard state, self-test, coverage of recent transcripts, signed event), asked of a real
// daemon at /v1/guard, with and without 20 recent transcripts of 200 tool calls each; then one discovery pass.
//
//   node --import tsx bench/guard.bench.ts [rounds=20]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundledShimPath } from '../src/agents/claude-code/install.js';
import { planInstall, writHookCommands } from '../src/agents/claude-code/settings.js';
import { GUARD_PATH, startDaemon } from '../src/daemon/daemon.js';
import { discoverDevice } from '../src/discovery/index.js';
import { resolveWritHome, type WritHome } from '../src/home/writ-home.js';
import { summary } from './stats.js';

const rounds = Number(process.argv[2] ?? 20);

function checkNow(home: WritHome): Promise<{ self_test: { duration_ms: number; passed: boolean }; duration_ms: number; uncovered_calls: unknown[] }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: home.socket, method: 'POST', path: GUARD_PATH }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
    });
    req.on('error', reject);
    req.end();
  });
}

function writeTranscripts(userHome: string, sessions: number, calls: number): void {
  const dir = join(userHome, '.claude', 'projects', '-bench');
  mkdirSync(dir, { recursive: true });
  for (let s = 0; s < sessions; s += 1) {
    const lines: string[] = [];
    for (let c = 0; c < calls; c += 1) {
      const id = `toolu_${s}_${c}`;
      lines.push(JSON.stringify({ type: 'assistant', sessionId: `bench-${s}`, message: { content: [{ type: 'tool_use', id, name: 'Bash', input: { command: `echo ${'x'.repeat(200)}` } }] } }));
      lines.push(JSON.stringify({ type: 'user', sessionId: `bench-${s}`, message: { content: [{ type: 'tool_result', tool_use_id: id, content: 'y'.repeat(500) }] } }));
    }
    writeFileSync(join(dir, `bench-${s}.jsonl`), `${lines.join('\n')}\n`);
  }
}

const root = mkdtempSync(join(tmpdir(), 'writ-guard-bench-'));
try {
  const userHome = join(root, 'user');
  const home = resolveWritHome(join(userHome, '.writ'));
  mkdirSync(join(userHome, '.claude'), { recursive: true });
  writeFileSync(join(userHome, '.claude', 'settings.json'), planInstall(undefined, writHookCommands({ transport: 'command', shimPath: bundledShimPath(), writHome: home.root })));
  const daemon = await startDaemon({ home, log: () => {}, guard: { intervalMs: 3_600_000, userHome, managedDir: join(root, 'managed'), discovery: false } });
  try {
    await checkNow(home); // warm-up
    for (const [label, transcripts] of [['no transcripts', 0], ['20 transcripts × 200 calls (≈ 190 KB each)', 20]] as const) {
      if (transcripts > 0) writeTranscripts(userHome, transcripts, 200);
      const selfTests: number[] = [];
      const heartbeats: number[] = [];
      for (let round = 0; round < rounds; round += 1) {
        // Touch the transcripts so each heartbeat reads them again (it only reads those written since the last one).
        if (transcripts > 0) writeTranscripts(userHome, transcripts, 200);
        const report = await checkNow(home);
        if (!report.self_test.passed) throw new Error('the self-test failed during the benchmark');
        selfTests.push(report.self_test.duration_ms);
        heartbeats.push(report.duration_ms);
      }
      console.log(`${label}: self-test ms ${summary(selfTests, 0)}`);
      console.log(`${label}: whole heartbeat ms ${summary(heartbeats, 0)}`);
    }
  } finally {
    await daemon.close();
  }
  const started = performance.now();
  const found = await discoverDevice({ home: userHome });
  console.log(`one discovery pass (this machine's processes and PATH, an empty home): ${(performance.now() - started).toFixed(0)} ms, ${found.agents.length} agents`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
