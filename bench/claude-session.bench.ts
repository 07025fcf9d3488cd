// Real Claude Code running one scripted session of many tool calls, side by side in one run:
//   none   no hooks at all
//   noop   the same six hooks Writ registers, each a no-op command (`true`)
//   node   the same six hooks, each starting Node (what a hook written in Node costs)
//   writ   Writ installed by `writ install`, a real `writ daemon` deciding with the standard policy
// Repetitions are interleaved so that load from elsewhere hits every configuration alike.
//
//   node --import tsx bench/claude-session.bench.ts [calls=50] [repetitions=7]
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WRIT_HOOK_EVENTS } from '../src/agents/claude-code/settings.js';
import { resolveWritHome } from '../src/home/writ-home.js';
import { createClaudeWorkspace, runClaude, writeUserSettings, type ClaudeSettings, type ClaudeWorkspace } from '../test/support/claude.js';
import { startScriptedModel, type ScriptedTurn } from '../test/support/scripted-model.js';
import { startWritDaemon, stopWritDaemon, writ } from '../test/support/writ-process.js';
import { quantile } from './stats.js';

const calls = Number(process.argv[2] ?? 50);
const repetitions = Number(process.argv[3] ?? 7);

function everyHook(command: string): ClaudeSettings {
  return { hooks: Object.fromEntries(WRIT_HOOK_EVENTS.map((event) => [event, [{ matcher: '*', hooks: [{ type: 'command', command }] }]])) };
}

function script(workspace: ClaudeWorkspace): ScriptedTurn[] {
  const turns: ScriptedTurn[] = [];
  for (let i = 0; i < calls; i++) {
    turns.push(
      i % 2 === 0
        ? [{ name: 'Bash', input: { command: `echo step ${i} && ls`, description: `step ${i}` } }]
        : [{ name: 'Read', input: { file_path: join(workspace.cwd, 'notes.txt') } }],
    );
  }
  turns.push('done');
  return turns;
}

const configurations = ['none', 'noop', 'node', 'writ'] as const;
const workspaces = Object.fromEntries(configurations.map((name) => [name, createClaudeWorkspace()])) as Record<(typeof configurations)[number], ClaudeWorkspace>;
for (const workspace of Object.values(workspaces)) writeFileSync(join(workspace.cwd, 'notes.txt'), 'some notes\n');
writeUserSettings(workspaces.noop.home, everyHook('true'));
writeUserSettings(workspaces.node.home, everyHook(`'${process.execPath}' -e 'process.stdin.resume();process.stdin.on("end",()=>{})'`));
const writHome = resolveWritHome(join(workspaces.writ.home, '.writ'));
const daemon = await startWritDaemon(workspaces.writ.home, writHome);
const installed = writ(['install', 'claude-code', '--scope', 'user'], workspaces.writ.home);
if (installed.status !== 0) throw new Error(installed.stderr);

const durations: Record<string, number[]> = Object.fromEntries(configurations.map((name) => [name, []]));
try {
  for (let repetition = 0; repetition <= repetitions; repetition++) {
    for (const name of configurations) {
      const workspace = workspaces[name];
      const model = await startScriptedModel(script(workspace));
      const run = await runClaude({ prompt: 'work', cwd: workspace.cwd, home: workspace.home, model, permissionMode: 'acceptEdits', timeoutMs: 180_000 });
      await model.close();
      const results = [...model.toolResults().values()];
      if (run.exitCode !== 0 || results.length !== calls || results.some((result) => result.is_error)) {
        throw new Error(`${name}: the session did not run cleanly (exit ${run.exitCode}, ${results.filter((result) => result.is_error).length} errors): ${run.stderr}`);
      }
      // The first repetition warms caches and is not counted.
      if (repetition > 0) durations[name]!.push(run.durationMs);
    }
  }
} finally {
  await stopWritDaemon(daemon);
  for (const workspace of Object.values(workspaces)) workspace.remove();
}

const median = (name: string) => quantile(durations[name]!, 0.5);
console.log(`Claude Code session of ${calls} tool calls, ${repetitions} interleaved repetitions; median whole run:`);
for (const name of configurations) {
  console.log(`  ${name.padEnd(5)} ${(median(name) / 1000).toFixed(2)} s   per call ${(median(name) / calls).toFixed(1)} ms   runs ${durations[name]!.map((ms) => (ms / 1000).toFixed(2)).join(' ')}`);
}
console.log(`  writ / noop = ${(median('writ') / median('noop')).toFixed(3)}   writ / none = ${(median('writ') / median('none')).toFixed(3)}   node / noop = ${(median('node') / median('noop')).toFixed(3)}`);
