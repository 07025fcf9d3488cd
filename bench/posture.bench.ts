// CPU time of one full posture pass on this machine: the collector's own (process.cpuUsage) plus that of
// the commands it runs (the reaped children's user and system time from /proc/self/stat). Goal: under 1 s.
//
//   node --import tsx bench/posture.bench.ts [passes=20]
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { collectPosture } from '../src/daemon/posture-collector.js';
import { quantile } from './stats.js';

const passes = Number(process.argv[2] ?? 20);
const ticksPerSecond = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** Children's user + system CPU in ms; /proc counts them in clock ticks (10 ms here), so single passes are coarse. */
function childrenCpuMs(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After "(comm)": state is field 3, so cutime (16) and cstime (17) sit at indexes 13 and 14.
  return ((Number(fields[13]) + Number(fields[14])) / ticksPerSecond) * 1000;
}

const own: number[] = [];
const children: number[] = [];
const wall: number[] = [];
let report;
for (let pass = 0; pass < passes + 2; pass++) {
  const cpuBefore = process.cpuUsage();
  const childrenBefore = childrenCpuMs();
  const start = process.hrtime.bigint();
  report = await collectPosture();
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  const cpu = process.cpuUsage(cpuBefore);
  if (pass < 2) continue; // warm-up: module loading and first-run caches
  own.push((cpu.user + cpu.system) / 1000);
  children.push(childrenCpuMs() - childrenBefore);
  wall.push(wallMs);
}
const total = own.map((ms, index) => ms + children[index]!);
const mean = (samples: number[]) => samples.reduce((sum, value) => sum + value, 0) / samples.length;
const fmt = (ms: number) => `${ms.toFixed(1)} ms`;
console.log(`checks: ${report!.checks.map((check) => `${check.name} ${check.status}`).join(', ')}`);
console.log(`CPU per pass, collector + commands: median ${fmt(quantile(total, 0.5))}, mean ${fmt(mean(total))}, max ${fmt(Math.max(...total))} (n=${passes})`);
console.log(`  collector (Node): median ${fmt(quantile(own, 0.5))}; commands: median ${fmt(quantile(children, 0.5))}, mean ${fmt(mean(children))} (clock tick ${1000 / ticksPerSecond} ms)`);
console.log(`wall time per pass: median ${fmt(quantile(wall, 0.5))}, max ${fmt(Math.max(...wall))}`);
console.log(`goal: under 1000 ms of CPU per pass: ${quantile(total, 0.5) < 1000 ? 'met' : 'NOT met'}`);
