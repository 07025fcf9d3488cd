// `writ policy replay | lint | explain` as a user runs them: replay of a real daemon's journal against a
// candidate policy, a week of history cut with --since (from the journal and from an evidence bundle),
// lint findings and exit codes, and the explanation of a credential read.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { Journal } from '../../src/daemon/journal.js';
import { loadOrCreateDeviceKey } from '../../src/daemon/keys.js';
import { STANDARD_POLICY_DIR } from '../../src/home/policy-files.js';
import { BUNDLE_FORMAT, bundleEventLine } from '../../src/ledger/bundle.js';
import { preToolUse, startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { writ } from '../support/writ-process.js';

const user = mkdtempSync(join(tmpdir(), 'writ-rollout-user-'));
const NO_ECHO = '@id("local.no-echo")\n@reason("echo is retired")\nforbid (principal, action == Writ::Action::"exec", resource) when { resource.program == "echo" };\n';

/** The standard policy plus the given files: a candidate as an administrator would write it. */
function candidate(files: Record<string, string>, base: string | undefined = STANDARD_POLICY_DIR): string {
  const dir = mkdtempSync(join(tmpdir(), 'writ-candidate-'));
  if (base) cpSync(base, dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const changeLines = (stdout: string) => stdout.split('\n').filter((line) => / (allow|deny|ask)→(allow|deny|ask) /.test(line));
const summaryOf = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;

describe('writ policy replay', () => {
  let daemon: TestDaemon;
  before(async () => {
    daemon = await startTestDaemon();
    const calls: [string, string, unknown][] = [
      ['one', 'Bash', { command: 'ls -la' }],
      ['one', 'Bash', { command: 'echo hello' }],
      ['two', 'Read', { file_path: join(process.cwd(), 'README.md') }],
      ['two', 'Bash', { command: 'echo bye' }],
      ['two', 'Bash', { command: 'git status' }],
    ];
    for (const [session, tool, input] of calls) assert.equal((await daemon.post(preToolUse(tool, input, { session_id: session }))).status, 200);
  });
  after(async () => {
    await daemon?.daemon.close();
  });

  test("lists exactly the calls a candidate rule would change in a real daemon's journal, read while the daemon runs", () => {
    const run = writ(['policy', 'replay', '--policy', candidate({ '95-no-echo.cedar': NO_ECHO }), '--journal', daemon.home.journal], user);
    assert.equal(run.status, 0, run.stderr);
    const changes = changeLines(run.stdout);
    assert.equal(changes.length, 2, run.stdout);
    assert.match(changes[0]!, /  one  allow→deny  +Bash echo hello  \(allow \S+ → deny local\.no-echo\)$/);
    assert.match(changes[1]!, /  two  allow→deny  +Bash echo bye  /);
    assert.match(run.stdout, /5 calls replayed against .*: 3 unchanged, 2 would change \(allow→deny 2\), 0 could not be replayed faithfully/);
  });

  test('the policy the daemon enforced changes nothing; the default history is $WRIT_HOME/journal.db', () => {
    const run = writ(['policy', 'replay', '--home', daemon.home.root, '--policy', daemon.home.policy, '--json'], user);
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(run.stdout.trim().split('\n').length, 1);
    assert.equal(summaryOf(run.stdout).replayed, 5);
    assert.equal(summaryOf(run.stdout).unchanged, 5);
  });
});

describe('writ policy replay over a week of history', () => {
  const dir = mkdtempSync(join(tmpdir(), 'writ-week-'));
  const journalPath = join(dir, 'journal.db');
  const bundlePath = join(dir, 'evidence.jsonl');
  const now = Date.now();
  before(() => {
    const journal = Journal.open(journalPath, loadOrCreateDeviceKey(dir));
    // One call a day for seven days, the oldest first, all allowed by the policy of the time.
    for (let day = 6; day >= 0; day--) {
      journal.append({
        time: new Date(now - (day + 0.5) * 86_400_000).toISOString(),
        actor: { os_user: 'dev', assurance: 'local-os-user' },
        agent: { name: 'claude-code', version: '2.1.0' },
        kind: 'hook.PreToolUse',
        session_id: `day-${day}`,
        tool_use_id: `toolu_day_${day}`,
        data: { cwd: dir, permission_mode: 'default', tool: 'Bash', tool_input: { command: `echo day ${day}` }, actions: [], decision: { decision: 'allow', answer: 'silent', rules: ['baseline.no-objection'], reason: '', policy_hash: 'old' } },
      });
    }
    journal.close();
    const db = new Database(journalPath, { readonly: true });
    const envelopes = db.prepare('SELECT envelope FROM events ORDER BY seq').pluck().all() as string[];
    db.close();
    writeFileSync(bundlePath, `${JSON.stringify({ format: BUNDLE_FORMAT, filter: {} })}\n${envelopes.map((envelope, index) => bundleEventLine({ index, envelope })).join('')}`);
  });

  test('--since 3d takes only the last three days; earlier events are counted apart', () => {
    const policy = candidate({ '95-no-echo.cedar': NO_ECHO });
    const all = writ(['policy', 'replay', '--policy', policy, '--journal', journalPath], user);
    assert.equal(changeLines(all.stdout).length, 7, all.stdout);
    const recent = writ(['policy', 'replay', '--policy', policy, '--journal', journalPath, '--since', '3d', '--json'], user);
    assert.equal(recent.status, 0, recent.stderr);
    const lines = recent.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.deepEqual(lines.filter((line) => line.type === 'change').map((line) => line.call), ['Bash echo day 2', 'Bash echo day 1', 'Bash echo day 0']);
    assert.deepEqual(lines.filter((line) => line.type === 'change').map((line) => line.direction), ['allow→deny', 'allow→deny', 'allow→deny']);
    const summary = lines.at(-1)!;
    assert.equal(summary.type, 'summary');
    assert.equal(summary.replayed, 3);
    assert.equal(summary.context, 4);
    assert.deepEqual(summary.changedBy, { 'allow→deny': 3 });
    // An RFC 3339 time works the same way.
    const since = new Date(now - 3 * 86_400_000).toISOString();
    assert.equal(changeLines(writ(['policy', 'replay', '--policy', policy, '--journal', journalPath, '--since', since], user).stdout).length, 3);
  });

  test('an evidence bundle from the server replays the same way', () => {
    const run = writ(['policy', 'replay', '--policy', candidate({ '95-no-echo.cedar': NO_ECHO }), '--bundle', bundlePath, '--since', '3d'], user);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(changeLines(run.stdout).length, 3, run.stdout);
    assert.match(run.stdout, /3 calls replayed against .* \(4 earlier only rebuilt session flags\)/);
  });

  test('bad arguments exit 2; history that cannot be read exits 1', () => {
    const both = writ(['policy', 'replay', '--journal', journalPath, '--bundle', bundlePath], user);
    assert.equal(both.status, 2);
    assert.match(both.stderr, /--journal or --bundle, not both/);
    const since = writ(['policy', 'replay', '--journal', journalPath, '--since', 'last week'], user);
    assert.equal(since.status, 2);
    assert.match(since.stderr, /--since takes a duration/);
    const missing = writ(['policy', 'replay', '--journal', join(dir, 'nope.db')], user);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /no journal at/);
    const notBundle = join(dir, 'not-a-bundle.jsonl');
    writeFileSync(notBundle, '{"hello":1}\n');
    const bad = writ(['policy', 'replay', '--bundle', notBundle], user);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /is not an evidence bundle/);
  });
});

describe('writ policy lint', () => {
  test('the standard policy lints clean', () => {
    const run = writ(['policy', 'lint', '--policy', STANDARD_POLICY_DIR], user);
    assert.equal(run.status, 0, run.stdout);
    assert.match(run.stdout, /: clean/);
  });

  test('reports an impossible rule and a shadowed rule with file:line, and exits 1', () => {
    const dir = candidate({
      '95-local.cedar': [
        '@id("local.keys")\n@reason("keys")\nforbid (principal, action == Writ::Action::"read", resource) when { resource.name == "id_rsa" };',
        '@id("local.keys-in-project")\n@reason("keys")\nforbid (principal, action == Writ::Action::"read", resource) when { resource.in_project && resource.name == "id_rsa" };',
        '@id("local.never")\n@reason("never")\nforbid (principal, action == Writ::Action::"read", resource is Writ::Host);',
        '@id("local.watch")\n@reason("watch")\n@mode("monitor")\nforbid (principal, action == Writ::Action::"exec", resource) when { resource.program == "make" };',
      ].join('\n'),
    });
    const run = writ(['policy', 'lint', '--policy', dir], user);
    assert.equal(run.status, 1, run.stdout);
    const file = join(dir, '95-local.cedar');
    assert.ok(run.stdout.includes(`${file}:4: warning: rule "local.keys-in-project" shadowed by "local.keys" (95-local.cedar:1)`), run.stdout);
    assert.ok(run.stdout.includes(`${file}:7: warning: rule "local.never" can never fire: unable to find an applicable action given the policy scope constraints; policy is impossible`), run.stdout);
    assert.ok(run.stdout.includes(`${file}:10: info: rule "local.watch" in monitor mode`), run.stdout);
    assert.match(run.stdout, /: 2 problems\n$/);
    const json = writ(['policy', 'lint', '--policy', dir, '--json'], user).stdout.trim().split('\n').map((line) => JSON.parse(line) as { kind: string; rule: string });
    assert.deepEqual(json.map((finding) => `${finding.kind} ${finding.rule}`), ['shadowed local.keys-in-project', 'never-fires local.never', 'monitor-mode local.watch']);
  });

  test('a schema error is an error with file:line, and a missing directory a usage error', () => {
    const dir = candidate({ '95-typo.cedar': '@id("typo")\nforbid (principal, action == Writ::Action::"read", resource)\nwhen { resource.pth == "x" };\n' });
    const run = writ(['policy', 'lint', '--policy', dir], user);
    assert.equal(run.status, 1);
    assert.match(run.stdout, new RegExp(`${join(dir, '95-typo.cedar')}:3: error: column \\d+: .*pth.* \\[schema\\]`));
    assert.equal(writ(['policy', 'lint', '--policy', join(dir, 'missing')], user).status, 2);
  });
});

describe('writ policy explain', () => {
  const payload = (input: unknown) => JSON.stringify({ hook_event_name: 'PreToolUse', session_id: 's', cwd: user, permission_mode: 'default', tool_name: 'Read', tool_input: input, tool_use_id: 'toolu_1' });
  const key = join(user, '.ssh', 'id_rsa');
  before(() => mkdirSync(join(user, '.ssh'), { recursive: true }));

  test('a credential read: the action, every rule it matches with file:line and the values it read, then the decision', () => {
    const run = writ(['policy', 'explain', '--policy', STANDARD_POLICY_DIR], user, payload({ file_path: key }));
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`^Read: 1 action\\n  read: Read reads ${key}\\n`));
    // Not only the determining rule: the baseline permit matched too.
    assert.match(run.stdout, /    allow baseline\.no-objection \[enforce\] .*00-baseline\.cedar:\d+/);
    assert.match(run.stdout, /    deny credentials\.ssh \[enforce\] .*10-credentials\.cedar:\d+\n      reason: SSH private keys[^\n]*\n      why: [^\n]*resource\.path = "[^"]*\/\.ssh\/id_rsa"/);
    assert.match(run.stdout, /\ndecision: deny \([^)]*credentials\.ssh[^)]*\)\nreason: Writ denied Read/);
    const json = JSON.parse(writ(['policy', 'explain', '--policy', STANDARD_POLICY_DIR, '--json'], user, payload({ file_path: key })).stdout) as {
      decision: string;
      actions: { action: string; rules: { id: string; effect: string; reads: Record<string, unknown> }[] }[];
    };
    assert.equal(json.decision, 'deny');
    const ssh = json.actions[0]!.rules.find((rule) => rule.id === 'credentials.ssh')!;
    assert.equal(ssh.effect, 'deny');
    assert.equal(ssh.reads['resource.path'], key);
  });

  test('a rule in monitor mode is shown matching, and the call is allowed', () => {
    const dir = candidate({ '95-watch.cedar': '@id("local.watch-readme")\n@reason("watching")\n@mode("monitor")\nforbid (principal, action == Writ::Action::"read", resource) when { resource.name == "README.md" };\n' });
    const run = writ(['policy', 'explain', '--policy', dir], user, payload({ file_path: join(user, 'README.md') }));
    assert.match(run.stdout, /    deny local\.watch-readme \[monitor\] .*95-watch\.cedar:1\n      reason: watching\n      why: resource\.name = "README\.md"/);
    assert.match(run.stdout, /\ndecision: allow \(baseline\.no-objection\); monitored: local\.watch-readme\n/);
  });

  test('stdin that is not a PreToolUse payload is a usage error', () => {
    assert.equal(writ(['policy', 'explain'], user, '{"hook_event_name":"PostToolUse"}').status, 2);
  });
});
