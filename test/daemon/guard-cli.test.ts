// `writ guard` says the guard is not on, and exits 1, when the daemon cannot vouch for it.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { guardVerdict } from '../../src/cli/commands/guard.js';
import type { GuardHeartbeat } from '../../src/daemon/guard-reporter.js';
import { writ } from '../support/writ-process.js';

const heartbeat = (over: Partial<GuardHeartbeat>): GuardHeartbeat => ({
  agents: [{ agent: 'claude-code', hooks_installed: true, settings: [], problems: [] }],
  self_test: { at: '2026-11-22T00:00:00.000Z', passed: true, detail: 'denied' },
  uncovered_calls: [],
  policy_hash: 'sha256:p',
  kills: [],
  findings: [],
  duration_ms: 1,
  ...over,
});

test('on only with every agent hooked and a passed self-test', () => {
  assert.deepEqual(guardVerdict(heartbeat({})), { on: true, problems: [] });
  assert.match(guardVerdict(heartbeat({ agents: [{ agent: 'claude-code', hooks_installed: false, settings: [], problems: [] }] })).problems[0], /not in force/);
  assert.equal(guardVerdict(heartbeat({ self_test: undefined })).on, false);
  assert.equal(guardVerdict(heartbeat({ self_test: { at: '', passed: false, detail: 'denies none' } })).on, false);
  assert.equal(guardVerdict(heartbeat({ agents: [] })).on, false);
});

test('writ guard with no daemon running exits 1 and says why, in JSON too', () => {
  const home = mkdtempSync(join(tmpdir(), 'writ-guard-cli-'));
  try {
    const run = writ(['guard', '--json', '--home', join(home, '.writ')], home);
    assert.equal(run.status, 1);
    const report = JSON.parse(run.stdout);
    assert.equal(report.on, false);
    assert.match(report.problem, /cannot reach the Writ daemon/);
    const wrong = writ(['guard', 'fix'], home);
    assert.equal(wrong.status, 2);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});
