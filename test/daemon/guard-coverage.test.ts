// Coverage: tool calls in Claude Code's transcript that no Writ PreToolUse decision saw.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { readTranscriptLines, uncoveredCalls } from '../../src/detect/coverage.js';
import { checkCoverage, SELF_TEST_SESSION } from '../../src/daemon/coverage.js';
import type { HookEventRef } from '../../src/telemetry/join.js';

const toolUse = (id: string, name: string) => JSON.stringify({ type: 'assistant', message: { role: 'assistant', content: [{ type: 'text', text: 'x' }, { type: 'tool_use', id, name, input: {} }] } });
const toolResult = (id: string) => JSON.stringify({ type: 'user', message: { role: 'user', content: [{ type: 'tool_result', tool_use_id: id, content: 'ok' }] } });

describe('coverage (pure)', () => {
  test('an answered call without a PreToolUse event is uncovered; one with it is not; an unanswered one is not judged yet', () => {
    const reading = readTranscriptLines([toolUse('toolu_a', 'Bash'), toolResult('toolu_a'), toolUse('toolu_b', 'Read'), toolResult('toolu_b'), toolUse('toolu_c', 'Write')], 't.jsonl');
    assert.deepEqual(reading.findings, []);
    const events: HookEventRef[] = [{ kind: 'hook.PreToolUse', toolUseId: 'toolu_a' }, { kind: 'hook.PostToolUse', toolUseId: 'toolu_b' }];
    assert.deepEqual(uncoveredCalls('s1', events, reading.calls, 't.jsonl'), [{ session_id: 's1', tool_use_id: 'toolu_b', tool: 'Read', source: 't.jsonl' }]);
  });

  test('malformed lines are one finding with their count, and the good lines are still read', () => {
    const reading = readTranscriptLines(['{not json', toolUse('toolu_a', 'Bash'), '[1,2]', '"text"', toolResult('toolu_a')], 't.jsonl');
    assert.equal(reading.findings.length, 1);
    assert.match(reading.findings[0].message, /3 line\(s\).*first at line 1/);
    assert.equal(reading.calls.length, 1);
  });

  test('a tail that starts mid-line does not report its cut first line', () => {
    const reading = readTranscriptLines(['e":"cut"}', toolResult('toolu_z')], 't.jsonl', { partialFirstLine: true });
    assert.deepEqual(reading.findings, []);
    assert.deepEqual(reading.calls, [{ toolUseId: 'toolu_z', answered: true }]);
  });
});

describe('coverage (transcripts on disk)', () => {
  const root = mkdtempSync(join(tmpdir(), 'writ-coverage-'));
  const project = join(root, 'projects', '-work-repo');
  mkdirSync(project, { recursive: true });
  after(() => rmSync(root, { recursive: true, force: true }));
  const events = new Map<string, HookEventRef[]>([['governed', [{ kind: 'hook.PreToolUse', toolUseId: 'toolu_g' }]]]);
  const hookEvents = (session: string) => events.get(session) ?? [];

  test('reads recent transcripts, skips old ones and the self-test session, and bounds a huge one to its tail', async () => {
    writeFileSync(join(project, 'governed.jsonl'), [toolUse('toolu_g', 'Bash'), toolResult('toolu_g')].join('\n') + '\n');
    writeFileSync(join(project, 'bare.jsonl'), [toolUse('toolu_x', 'Bash'), toolResult('toolu_x')].join('\n') + '\n');
    writeFileSync(join(project, `${SELF_TEST_SESSION}.jsonl`), [toolUse('toolu_s', 'Read'), toolResult('toolu_s')].join('\n') + '\n');
    writeFileSync(join(project, 'old.jsonl'), [toolUse('toolu_o', 'Bash'), toolResult('toolu_o')].join('\n') + '\n');
    utimesSync(join(project, 'old.jsonl'), new Date('2020-01-01'), new Date('2020-01-01'));
    // 2 MB of early history, then the one call that matters; read with a 64 KiB bound.
    const filler = Array.from({ length: 20_000 }, (_, i) => JSON.stringify({ type: 'user', message: { content: `line ${i} ${'x'.repeat(80)}` } }));
    writeFileSync(join(project, 'huge.jsonl'), [toolUse('toolu_early', 'Bash'), toolResult('toolu_early'), ...filler, toolUse('toolu_late', 'Edit'), toolResult('toolu_late')].join('\n') + '\n');

    const result = await checkCoverage({ hookEvents, claudeDir: root, since: new Date(Date.now() - 60_000), maxBytes: 64 * 1024 });
    assert.equal(result.transcripts, 4);
    assert.deepEqual(result.uncovered_calls.map((call) => call.tool_use_id).sort(), ['toolu_late', 'toolu_x']);
    assert.ok(result.findings.some((finding) => finding.path?.endsWith('huge.jsonl') && /only the last 65536 bytes/.test(finding.message)));
  });

  test('a transcript named by a payload that is not a regular file, or is a link, is a finding, not a crash', async () => {
    const fifoLike = join(root, 'dir.jsonl');
    mkdirSync(fifoLike);
    const link = join(root, 'link.jsonl');
    symlinkSync(join(project, 'bare.jsonl'), link);
    const result = await checkCoverage({ hookEvents, claudeDir: join(root, 'nothing-here'), since: new Date(0), transcripts: [link, fifoLike, join(root, 'missing.jsonl')] });
    assert.equal(result.uncovered_calls.length, 0);
    assert.equal(result.findings.length, 1);
    assert.match(result.findings[0].message, /cannot be opened: ELOOP/);
  });
});
