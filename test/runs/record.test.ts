// Run records built from journal events: each entry comes from, and links to, the signed events behind it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildRunRecord, renderMarkdown, testFramework } from '../../src/runs/index.js';
import { eventData } from '../../src/agents/claude-code/hook-contract.js';
import { DEVICE, SESSION, SessionFixture } from './fixtures.js';

function typicalSession(): SessionFixture {
  const run = new SessionFixture();
  run.prompt('Fix the rounding bug in src/price.ts');
  run.read('t1', '/work/repo/src/price.ts');
  run.edit('t2', '/work/repo/src/price.ts', 'return Math.floor(x);\n', 'const cents = Math.round(x * 100);\nreturn cents / 100;\n');
  run.bash('t3', 'npm test', [{ program: 'npm', args: ['test'] }]);
  run.call('t4', 'Read', { file_path: '/home/alice/.ssh/id_rsa' }, [{ kind: 'read', path: '/home/alice/.ssh/id_rsa', recursive: false, via: 'Read' }], {
    decision: 'deny',
    rules: ['secrets.ssh-keys'],
    reason: 'SSH private keys are off limits',
  });
  run.bash('t5', 'git commit -am "Round prices to cents"', [{ program: 'git', args: ['commit', '-am', 'Round prices to cents'] }], {
    response: { stdout: '[main 1a2b3c4] Round prices to cents\n 1 file changed, 2 insertions(+), 1 deletion(-)\n', stderr: '', interrupted: false },
  });
  run.end();
  return run;
}

describe('run record', () => {
  test('a typical session: files, commands, denial, test, commit, claims, each linked to its events', () => {
    const run = typicalSession();
    const record = buildRunRecord(run.events, SESSION);
    const bySeq = new Map(run.events.map((event) => [event.body.seq, event]));
    assert.equal(record.status, 'ended');
    assert.deepEqual(record.request.prompts.map((prompt) => prompt.text), ['Fix the rounding bug in src/price.ts']);
    assert.deepEqual(record.delegator && { user: record.delegator.os_user, assurance: record.delegator.assurance, device: record.delegator.device_id }, { user: 'alice', assurance: 'local-os-user', device: DEVICE });
    assert.deepEqual(record.agent.versions, ['2.1.197']);
    assert.deepEqual(record.agent.permission_modes, ['acceptEdits']);
    assert.deepEqual(record.files_inspected.map((file) => file.path), ['/work/repo/src/price.ts']);
    assert.deepEqual(record.files_changed.map(({ path, edits, lines_added, lines_removed }) => ({ path, edits, lines_added, lines_removed })), [
      { path: '/work/repo/src/price.ts', edits: 1, lines_added: 2, lines_removed: 1 },
    ]);
    assert.deepEqual(record.commands.map((command) => [command.command, command.outcome, command.exit_code]), [
      ['npm test', 'succeeded', 0],
      ['git commit -am "Round prices to cents"', 'succeeded', 0],
    ]);
    assert.deepEqual(record.denials.map((denial) => [denial.tool, denial.target, denial.rules]), [['Read', '/home/alice/.ssh/id_rsa', ['secrets.ssh-keys']]]);
    assert.deepEqual(record.tests.map((run) => [run.command, run.framework, run.outcome]), [['npm test', 'npm', 'succeeded']]);
    assert.deepEqual(record.test_gaps, []);
    assert.deepEqual(record.commits.map((commit) => [commit.id, commit.branch]), [['1a2b3c4', 'main']]);
    assert.deepEqual(record.tools, [{ name: 'Read', calls: 2 }, { name: 'Edit', calls: 1 }, { name: 'Bash', calls: 2 }]);
    assert.equal(record.claims?.source, 'agent');
    assert.deepEqual(record.claims?.assumptions, ['I assumed the API is stable.']);
    assert.deepEqual(record.claims?.risks, ['Risk: the migration is not tested.']);
    // Every link names a real event with its hash.
    const links = [
      ...record.files_inspected.flatMap((file) => file.refs),
      ...record.files_changed.flatMap((file) => file.refs),
      ...record.commands.flatMap((command) => [command.ref, command.result_ref!]),
      ...record.denials.map((denial) => denial.ref),
      ...record.commits.map((commit) => commit.ref),
      record.claims!.ref,
    ];
    for (const ref of links) assert.equal(bySeq.get(ref.seq)?.hash, ref.hash);
    assert.equal(bySeq.get(record.commits[0].ref.seq)?.body.kind, 'hook.PostToolUse');
    assert.equal(bySeq.get(record.denials[0].ref.seq)?.body.kind, 'hook.PreToolUse');
  });

  test('the Markdown names every section, marks claims as the agent\'s and links events', () => {
    const record = buildRunRecord(typicalSession().events, SESSION);
    const markdown = renderMarkdown(record);
    for (const heading of ['Task request', 'Files inspected', 'Files changed', 'Commits', 'Commands', 'Denied', 'Approvals', 'Tests run', 'Test gaps', "The agent's claims", 'Rollback', 'Review']) {
      assert.match(markdown, new RegExp(`^## ${heading}`, 'm'));
    }
    assert.match(markdown, /Assumption \(agent's claim\): “I assumed the API is stable\.”/);
    assert.match(markdown, /\/work\/repo\/src\/price\.ts: 1 change, \+2 −1 \[dev-01234567:\d+ [0-9a-f]{12}\]/);
    assert.match(markdown, /1a2b3c4 on main/);
  });

  test('a session with no events and one with no tool calls', () => {
    const empty = buildRunRecord([], SESSION);
    assert.equal(empty.status, 'interrupted');
    assert.equal(empty.events, 0);
    assert.match(renderMarkdown(empty), /no tool calls/);
    const run = new SessionFixture();
    run.prompt('hello');
    run.end();
    const record = buildRunRecord(run.events, SESSION);
    assert.equal(record.status, 'ended');
    assert.deepEqual([record.tools, record.commands, record.files_changed], [[], [], []]);
  });

  test('one call, and a session cut off before its result, Stop and SessionEnd, is interrupted', () => {
    const run = new SessionFixture();
    run.read('only', '/work/repo/README.md');
    run.bash('cut', 'npm test', [{ program: 'npm', args: ['test'] }], { noResult: true });
    const record = buildRunRecord(run.events, SESSION);
    assert.equal(record.status, 'interrupted');
    assert.deepEqual(record.files_inspected.map((file) => file.path), ['/work/repo/README.md']);
    assert.deepEqual(record.tests.map((test) => test.outcome), ['no-result']);
    assert.match(renderMarkdown(record), /interrupted: no SessionEnd or Stop was recorded/);
  });

  test('a failing test gives its exit code; a source file changed after the last test run is a gap', () => {
    const run = new SessionFixture();
    run.bash('t1', 'pytest -q', [{ program: 'pytest', args: ['-q'] }], { error: 'Exit code 1\n1 failed' });
    run.edit('t2', '/work/repo/app.py', 'a\n', 'b\n');
    run.edit('t3', '/work/repo/README.md', 'a\n', 'b\n');
    const record = buildRunRecord(run.events, SESSION);
    assert.deepEqual(record.tests.map((test) => [test.framework, test.outcome, test.exit_code]), [['pytest', 'failed', 1]]);
    assert.deepEqual(record.test_gaps.map((gap) => gap.path), ['/work/repo/app.py']);
  });

  test('events that arrived late from the spool are ordered by seq and shown as late', () => {
    const run = new SessionFixture();
    run.prompt('go');
    run.hook({ hook_event_name: 'PostToolUse', tool_name: 'Bash', tool_input: { command: 'ls' }, tool_use_id: 'late', tool_response: { stdout: '' } }, {}, '2026-11-22T00:59:00.000Z');
    const record = buildRunRecord([...run.events].reverse(), SESSION);
    assert.deepEqual(record.late_events.map((event) => [event.kind, event.spooled_at, event.ref.seq]), [['hook.PostToolUse', '2026-11-22T00:59:00.000Z', 2]]);
    assert.equal(record.request.prompts[0].ref.seq, 1);
    assert.match(renderMarkdown(record), /Late events \(spooled while the daemon was away\): 1/);
  });

  test('a contract, each check of the box and a stop are shown; its rollback note is the record\'s', () => {
    const run = new SessionFixture();
    run.add('contract.attached', { contract_hash: 'sha256:abc', contract: { task: 'fix', rollback: { undo: 'git revert HEAD', owner: 'payments team' } }, source: 'task.yaml' });
    const inside = { hash: 'sha256:abc', outcome: 'inside', clause: 'allowed: src/**', quote: 'src/**' };
    run.read('c1', '/work/repo/src/a.ts');
    run.call('c1b', 'Read', { file_path: '/work/repo/src/b.ts' }, [{ kind: 'read', path: '/work/repo/src/b.ts', recursive: false, via: 'Read' }], { contract: inside });
    run.call('c2', 'Edit', { file_path: '/work/repo/migrations/1.sql' }, [{ kind: 'write', path: '/work/repo/migrations/1.sql', recursive: false, via: 'Edit' }], {
      decision: 'deny',
      contract: { hash: 'sha256:abc', outcome: 'stop', clause: 'blocked: migrations', quote: 'migrations' },
    });
    run.add('contract.stopped', { contract_hash: 'sha256:abc', condition: 'touches migrations', reason: 'Edit of migrations/1.sql' }, { tool_use_id: 'c2' });
    const record = buildRunRecord(run.events, SESSION);
    assert.equal(record.contract?.hash, 'sha256:abc');
    assert.deepEqual(record.contract?.checks.map((check) => [check.outcome, check.clause]), [['inside', 'allowed: src/**'], ['stop', 'blocked: migrations']]);
    assert.deepEqual(record.contract?.stops.map((stop) => stop.condition), ['touches migrations']);
    assert.equal(record.rollback, 'undo: git revert HEAD\nowner: payments team');
    assert.match(renderMarkdown(record), /\*\*stopped\*\*: touches migrations/);
    assert.match(renderMarkdown(record), /^- undo: git revert HEAD$/m);
  });

  test('approvals by a reviewer and at the agent prompt, and a review decision', () => {
    const run = new SessionFixture();
    run.call('a1', 'Bash', { command: 'git push' }, [], { decision: 'ask' });
    run.add('approval.requested', { id: 'ap-1', reviewers: 'release', rules: ['push'] }, { tool_use_id: 'a2' });
    run.add('approval.granted', { id: 'ap-1', decision: 'approved', reviewer: { name: 'Bob' }, reviewers: 'release' }, { tool_use_id: 'a2' });
    run.add('run.reviewed', { session_id: SESSION, device_id: DEVICE, decision: 'needs-changes', comment: 'add a test', reviewer: { subject: 'carol', via: 'local-os-user' } });
    const record = buildRunRecord(run.events, SESSION);
    assert.deepEqual(record.approvals.map((approval) => [approval.via, approval.outcome, approval.by]), [
      ['reviewer', 'granted', 'Bob'],
      ['agent-prompt', 'granted', 'the person at the agent prompt'],
    ]);
    assert.deepEqual(record.reviews.map((review) => [review.decision, review.comment, review.reviewer.subject]), [['needs-changes', 'add a test', 'carol']]);
  });

  test('5,000 calls build one record whose Markdown stays bounded', () => {
    const run = new SessionFixture();
    run.prompt('big');
    for (let i = 0; i < 2500; i++) {
      run.read(`r${i}`, `/work/repo/src/f${i % 700}.ts`);
      run.bash(`b${i}`, `echo ${i}`, [{ program: 'echo', args: [String(i)] }]);
    }
    run.end();
    const record = buildRunRecord(run.events, SESSION);
    assert.equal(record.commands.length, 2500);
    assert.equal(record.files_inspected.length, 700);
    assert.equal(record.tools.reduce((sum, tool) => sum + tool.calls, 0), 5000);
    const markdown = renderMarkdown(record);
    assert.match(markdown, /… and 2300 more \(see --format json\)/);
  });

  test('hostile event data is ignored, never thrown on', () => {
    const run = new SessionFixture();
    run.add('hook.PreToolUse', { tool: 42, actions: 'nope', decision: { decision: 'deny', rules: 'x' }, tool_input: null }, { tool_use_id: 'h1' });
    run.add('hook.PostToolUse', { commits: [{ id: 7 }, null], exit_code: 'x' }, { tool_use_id: 'h1' });
    run.add('contract.attached', { contract_hash: 5, contract: null });
    run.add('run.reviewed', { reviewer: 'me' });
    const record = buildRunRecord(run.events, SESSION);
    assert.equal(record.denials.length, 1);
    assert.deepEqual(record.commits, []);
    assert.doesNotThrow(() => renderMarkdown(record));
  });
});

describe('test commands', () => {
  test('recognised from the normaliser\'s program and arguments', () => {
    const cases: [string, string[], string | undefined][] = [
      ['npm', ['test'], 'npm'],
      ['npm', ['run', 'test', '--', '--watch=false'], 'npm'],
      ['npm', ['install', 'test'], undefined],
      ['node', ['--import', 'tsx', '--test', 'x.test.ts'], 'node:test'],
      ['node', ['server.js'], undefined],
      ['go', ['test', './...'], 'go test'],
      ['cargo', ['build'], undefined],
      ['python3', ['-m', 'pytest', '-q'], 'pytest'],
      ['./gradlew', ['test'], 'gradle'],
      ['make', ['test'], 'make'],
      ['/usr/local/bin/pytest', [], 'pytest'],
      ['npx', ['vitest', 'run'], 'vitest'],
    ];
    for (const [program, args, framework] of cases) assert.equal(testFramework(program, args), framework, `${program} ${args.join(' ')}`);
  });
});

describe('what the journal keeps for a run record', () => {
  test('edit strings as line counts and digests, never their text', () => {
    const data = eventData({ hook_event_name: 'PreToolUse', tool_name: 'Edit', tool_input: { file_path: '/a', old_string: 'secret one\n', new_string: 'x\ny\nz' } });
    const input = data.tool_input as Record<string, { lines: number; bytes: number; sha256: string }>;
    assert.deepEqual([input.old_string.lines, input.new_string.lines], [1, 3]);
    assert.doesNotMatch(JSON.stringify(data), /secret one/);
  });

  test('commit ids from git commit output, the failure and its exit code, and a bounded redacted final message', () => {
    const commit = eventData({ hook_event_name: 'PostToolUse', tool_name: 'Bash', tool_input: { command: 'git add . && git commit -m "x"' }, tool_response: { stdout: '[feature/x (root-commit) abcdef1] secret subject\n' } });
    assert.deepEqual(commit.commits, [{ branch: 'feature/x', id: 'abcdef1' }]);
    assert.equal(commit.failed, false);
    assert.doesNotMatch(JSON.stringify(commit), /secret subject/);
    const notCommit = eventData({ hook_event_name: 'PostToolUse', tool_name: 'Bash', tool_input: { command: 'cat log.txt' }, tool_response: { stdout: '[main abcdef1] x\n' } });
    assert.equal(notCommit.commits, undefined);
    const failed = eventData({ hook_event_name: 'PostToolUseFailure', tool_name: 'Bash', tool_input: { command: 'npm test' }, error: 'Exit code 2\nboom' });
    assert.deepEqual([failed.failed, failed.exit_code], [true, 2]);
    const stop = eventData({ hook_event_name: 'Stop', last_assistant_message: `token ghp_${'a'.repeat(36)} ${'x'.repeat(5000)}` });
    assert.doesNotMatch(String(stop.last_assistant_message), /ghp_a{36}/);
    assert.ok(String(stop.last_assistant_message).length < 2100);
  });
});
