// `writ posture` as a user runs it (needs `npm run build`): one real pass on this machine.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { writ } from '../support/writ-process.js';

test('writ posture --json prints the report; without --json, one line per check with its source', { skip: process.platform !== 'linux' }, () => {
  const home = mkdtempSync(join(tmpdir(), 'writ-user-'));
  const json = writ(['posture', '--json'], home);
  assert.equal(json.status, 0, json.stderr);
  const report = JSON.parse(json.stdout);
  assert.equal(report.os, 'linux');
  assert.deepEqual(report.checks.map((check: { name: string }) => check.name), ['os_version', 'disk_encrypted', 'firewall', 'endpoint_protection', 'screen_lock', 'patch_age']);
  assert.equal(existsSync(join(home, '.writ', 'posture.json')), false, 'the daemon keeps posture.json, not this command');

  const text = writ(['posture'], home);
  assert.equal(text.status, 0, text.stderr);
  for (const check of report.checks) assert.match(text.stdout, new RegExp(`^  ${check.name} +(pass|fail|unknown) `, 'm'));
  assert.match(text.stdout, /from \/etc\/os-release/);

  const wrong = writ(['posture', '--yaml'], home);
  assert.equal(wrong.status, 2);
  assert.match(wrong.stderr, /usage: writ posture/);
});
