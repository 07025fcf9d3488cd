// npm run bench: every benchmark, one after another, each in its own process.
//   npm run bench [-- name ...]   (names: decision, policy-scale, normalise, hook-latency, claude-session, ingest, proofs, kill-switch, verify, guard, posture, inventory, run-record, scan, contract, dashboard)
import { spawnSync } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';

const BENCHMARKS = ['decision', 'policy-scale', 'normalise', 'hook-latency', 'claude-session', 'ingest', 'proofs', 'kill-switch', 'verify', 'guard', 'posture', 'inventory', 'run-record', 'scan', 'contract', 'dashboard'];
const chosen = process.argv.slice(2).length > 0 ? process.argv.slice(2) : BENCHMARKS;
const unknown = chosen.filter((name) => !BENCHMARKS.includes(name));
if (unknown.length > 0) {
  console.error(`unknown benchmark ${unknown.join(', ')}; choose from ${BENCHMARKS.join(', ')}`);
  process.exit(2);
}
console.log(`${new Date().toISOString()} · ${cpus().length} × ${cpus()[0]?.model} · ${(totalmem() / 2 ** 30).toFixed(0)} GiB · Node ${process.version} · load ${loadavg().map((load) => load.toFixed(2)).join(' ')}`);
let failed = false;
for (const name of chosen) {
  console.log(`\n## ${name}`);
  const run = spawnSync(process.execPath, ['--import', 'tsx', `bench/${name}.bench.ts`], { stdio: 'inherit' });
  failed ||= run.status !== 0;
}
process.exit(failed ? 1 : 0);
