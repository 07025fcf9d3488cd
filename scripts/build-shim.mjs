#!/usr/bin/env node
// Compiles the fail-closed hook shim (native/writ-hook.c) to native/build/writ-hook.
// A machine without a C compiler still gets a working package: the build says so and
// exits 0, and `writ install` refuses later with a clear error because the shim is missing.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'native', 'writ-hook.c');
const output = join(root, 'native', 'build', 'writ-hook');
// $CC may carry flags of its own ("ccache cc", "clang -m64"), as in make.
const [compiler, ...compilerFlags] = (process.env.CC?.trim() || 'cc').split(/\s+/);

const probe = spawnSync(compiler, ['--version'], { stdio: 'ignore' });
if (probe.error) {
  console.log(
    `build-shim: no C compiler found (${compiler}: ${probe.error.code ?? probe.error.message}); ` +
      'the Writ hook shim was not built, and `writ install` will refuse until it is. ' +
      'Install cc (or set $CC) and run `node scripts/build-shim.mjs`.',
  );
  process.exit(0);
}

mkdirSync(dirname(output), { recursive: true });
const args = [...compilerFlags, '-std=c99', '-O2', '-Wall', '-Wextra', '-o', output, source];
const build = spawnSync(compiler, args, { stdio: 'inherit' });
if (build.status !== 0) {
  console.error(`build-shim: ${[compiler, ...args].join(' ')} failed`);
  process.exit(build.status ?? 1);
}
console.log(`build-shim: built ${output}`);
