// Building the run record of a 5,000-event session: the pure builder over decoded events (what `writ runs show`
// and GET /v1/runs/:session do after reading them), then its Markdown. Goal: under 200 ms.
//
//   node --import tsx bench/run-record.bench.ts [events=5000] [rounds=50]
import { buildRunRecord, renderMarkdown } from '../src/runs/index.js';
import { SESSION, SessionFixture } from '../test/runs/fixtures.js';
import { quantile, summary } from './stats.js';

const total = Number(process.argv[2] ?? 5000);
const rounds = Number(process.argv[3] ?? 50);

// A realistic mix: reads, edits, commands (some tests, some failing), a denial now and then, a commit at the end.
const run = new SessionFixture();
run.prompt('refactor the billing module and keep the tests green');
for (let i = 0; run.events.length < total - 3; i++) {
  const file = `/work/repo/src/billing/f${i % 300}.ts`;
  if (i % 4 === 0) run.read(`r${i}`, file);
  else if (i % 4 === 1) run.edit(`e${i}`, file, 'const a = 1;\n', 'const a = 2;\nconst b = 3;\n');
  else if (i % 20 === 2) run.bash(`t${i}`, 'npm test', [{ program: 'npm', args: ['test'] }], i % 40 === 2 ? { error: 'Exit code 1\nfailed' } : {});
  else if (i % 50 === 3) run.call(`d${i}`, 'Read', { file_path: '/home/dev/.ssh/id_rsa' }, [{ kind: 'read', path: '/home/dev/.ssh/id_rsa', recursive: false, via: 'Read' }], { decision: 'deny', rules: ['secrets.ssh'] });
  else run.bash(`b${i}`, `grep -rn total ${file} | head -5`, [{ program: 'grep', args: ['-rn', 'total', file] }, { program: 'head', args: ['-5'] }]);
}
run.end();
const events = run.events.slice(0, total);

const build: number[] = [];
const render: number[] = [];
let record = buildRunRecord(events, SESSION);
for (let round = 0; round < rounds; round++) {
  const started = performance.now();
  record = buildRunRecord(events, SESSION);
  const built = performance.now();
  renderMarkdown(record);
  render.push(performance.now() - built);
  build.push(built - started);
}
console.log(`${events.length} events: ${record.tools.reduce((sum, tool) => sum + tool.calls, 0)} calls, ${record.files_changed.length} files changed, ${record.commands.length} commands, ${record.tests.length} test runs, ${record.denials.length} denials`);
console.log(`buildRunRecord   ${summary(build)} ms`);
console.log(`renderMarkdown   ${summary(render)} ms`);
console.log(`goal: build under 200 ms: ${quantile(build, 0.5) < 200 ? 'met' : 'NOT met'} (median)`);
