#!/usr/bin/env node
// Runs every test/**/*.test.ts with node's own test runner (Node 20 has no glob for --test).
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function find(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'fixtures' ? [] : find(path);
    return name.endsWith('.test.ts') ? [path] : [];
  });
}

const filter = process.argv.slice(2);
const files = find('test').filter((f) => filter.length === 0 || filter.some((part) => f.includes(part))).sort();
if (files.length === 0) {
  console.error(`no test files match ${filter.join(' ')}`);
  process.exit(1);
}
// Node 20's V8 sometimes aborts ("Fatal error … unreachable code" in Deoptimizer::DoComputeBuiltinContinuation)
// while this file compares the rule index with Cedar on thousands of generated requests: about one run in four
// under the test runner. Without the optimising compiler there is nothing to deoptimise, and it runs as fast.
const WITHOUT_OPTIMISER = ['test/policy/rule-index.test.ts'];
const run = (flags, list) => (list.length === 0 ? 0 : (spawnSync(process.execPath, [...flags, '--import', 'tsx', '--test', '--test-concurrency=1', ...list], { stdio: 'inherit' }).status ?? 1));
const fragile = files.filter((file) => WITHOUT_OPTIMISER.includes(file.split('\\').join('/')));
const status = [run([], files.filter((file) => !fragile.includes(file))), run(['--no-opt'], fragile)];
process.exit(status.find((code) => code !== 0) ?? 0);
