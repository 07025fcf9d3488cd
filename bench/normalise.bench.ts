// Normalising one 2 KB shell command: tree-sitter parse and walk into actions, for three shapes of a 2 KB
// command line an agent really sends (a long pipeline, a here-doc commit message, a chain of ordinary steps).
//
//   node --import tsx bench/normalise.bench.ts [rounds=2000]
import { CASE_ENVIRONMENT, loadShellParser } from '../src/policy/index.js';
import { normaliseToolCall } from '../src/policy/normalise.js';
import { summary } from './stats.js';

const rounds = Number(process.argv[2] ?? 2000);
const TARGET_BYTES = 2048;

/** Repeats `unit` (joined by `join`) until the command is about 2 KB. */
function about2k(unit: (i: number) => string, join: string, head = '', tail = ''): string {
  let text = head;
  for (let i = 0; Buffer.byteLength(text + tail) < TARGET_BYTES; i++) text += (i === 0 ? '' : join) + unit(i);
  return text + tail;
}

const commands: Record<string, string> = {
  'pipeline with substitutions': about2k((i) => `grep -rn "TODO_${i}" "src/module_${i}" | sed -e 's/a/b/' | awk '{print $1}' | sort -u`, ' && '),
  'here-doc commit message': about2k((i) => `Line ${i} of a long commit message explaining the change in detail.`, '\n', `git commit -m "$(cat <<'EOF'\n`, '\nEOF\n)"'),
  'chain of build steps': about2k((i) => `cd packages/pkg-${i} && npm ci --no-audit && npm run build -- --mode=production && cd ../..`, '; '),
};
for (const [name, command] of Object.entries(commands)) if (Buffer.byteLength(command) < TARGET_BYTES) throw new Error(`${name} is shorter than 2 KB`);

const parser = await loadShellParser();
const samples = new Map(Object.keys(commands).map((name) => [name, [] as number[]]));
// Interleaved, after a warm-up, so the shapes share the machine's noise alike.
for (let round = 0; round < rounds + 50; round++) {
  for (const [name, command] of Object.entries(commands)) {
    const start = process.hrtime.bigint();
    normaliseToolCall({ tool: 'Bash', input: { command } }, CASE_ENVIRONMENT, parser);
    const micros = Number(process.hrtime.bigint() - start) / 1000;
    if (round >= 50) samples.get(name)!.push(micros);
  }
}
for (const [name, command] of Object.entries(commands)) console.log(`${name} (${Buffer.byteLength(command)} bytes): ${summary(samples.get(name)!, 0)} µs`);
