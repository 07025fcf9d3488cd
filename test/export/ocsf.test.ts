import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { ed25519Signer } from '../../src/core/dsse.js';
import { eventHash, sealEvent, type EventBody } from '../../src/core/event.js';
import { toJsonlLine, toOcsfEvent, type OcsfContext } from '../../src/export/ocsf.js';

const context: OcsfContext = {
  index: 41,
  origin: 'writ.example/acme',
  device: { id: 'dev_0123456789abcdef', hostname: 'alice-laptop' },
  person: { id: 'per_fedcba9876543210', email: 'alice@example.com', name: 'Alice' },
};

function body(kind: string, data: Record<string, unknown>, extra: Partial<EventBody> = {}): EventBody {
  return {
    v: 1,
    seq: 7,
    prev: 'ab'.repeat(32),
    time: '2026-11-21T21:58:03.123Z',
    device: { id: 'dev_0123456789abcdef', key_id: 'sha256:0123456789abcdef' },
    actor: { os_user: 'alice', assurance: 'local-os-user' },
    agent: { name: 'claude-code', version: '2.1.197' },
    kind,
    session_id: 'sess-1',
    tool_use_id: 'toolu_1',
    data,
    ...extra,
  };
}

const decision = (verdict: string, rules: string[] = [], answer = verdict) => ({
  decision: verdict,
  answer,
  rules,
  reason: rules.length ? `Writ denied this call: rule ${rules[0]}` : '',
  policy_hash: 'sha256:feed',
});

const exec = { kind: 'exec', program: 'cat', args: ['/home/alice/.netrc'], line: 'cat /home/alice/.netrc', remoteCode: false, opaque: '', via: 'Bash' };

describe('OCSF export', () => {
  it('maps a denied shell command to Process Activity: Launch, Denied / Blocked, with the rule as the policy', () => {
    const event = body('hook.PreToolUse', {
      tool: 'Bash',
      tool_input: { command: 'cat ~/.netrc' },
      actions: [exec, { kind: 'read', path: '/home/alice/.netrc', recursive: false, via: 'cat' }],
      decision: decision('deny', ['credentials.tool-tokens']),
    });
    const ocsf = toOcsfEvent(event, context);
    assert.equal(ocsf.class_uid, 1007);
    assert.equal(ocsf.category_uid, 1);
    assert.equal(ocsf.activity_id, 1);
    assert.equal(ocsf.type_uid, 100701);
    assert.equal(ocsf.time, Date.parse('2026-11-21T21:58:03.123Z'));
    assert.equal(ocsf.severity_id, 3);
    assert.deepEqual(ocsf.process, { name: 'cat', cmd_line: 'cat /home/alice/.netrc' });
    assert.equal(ocsf.action_id, 2);
    assert.equal(ocsf.disposition_id, 2);
    assert.equal(ocsf.status_id, 2);
    assert.deepEqual(ocsf.policy, { uid: 'credentials.tool-tokens', name: 'credentials.tool-tokens', version: 'sha256:feed', desc: 'Writ denied this call: rule credentials.tool-tokens', is_applied: true });
    assert.deepEqual(ocsf.metadata, {
      version: '1.8.0',
      product: { name: 'Writ', vendor_name: 'Writ' },
      uid: eventHash(event),
      log_name: 'writ.example/acme',
      sequence: 41,
      original_time: '2026-11-21T21:58:03.123Z',
      correlation_uid: 'sess-1',
      profiles: ['host', 'security_control'],
    });
    assert.deepEqual(ocsf.actor, { user: { uid: 'per_fedcba9876543210', email_addr: 'alice@example.com', name: 'Alice', type_id: 1, type: 'User' }, app_name: 'claude-code' });
    assert.deepEqual(ocsf.device, { uid: 'dev_0123456789abcdef', hostname: 'alice-laptop', type_id: 0, type: 'Unknown' });
    const unmapped = ocsf.unmapped as Record<string, unknown>;
    assert.equal(unmapped.kind, 'hook.PreToolUse');
    assert.equal(unmapped.seq, 7);
    assert.deepEqual(unmapped.data, event.data, 'nothing of the signed body is lost');
    assert.match(ocsf.message as string, /^hook\.PreToolUse Bash: cat ~\/\.netrc → deny \(credentials\.tool-tokens\)$/);
  });

  it('maps file reads, writes and deletes to File System Activity with Read, Update and Delete', () => {
    const cases: [string, number, number][] = [['read', 2, 100102], ['write', 3, 100103], ['delete', 4, 100104]];
    for (const [kind, activity, type] of cases) {
      const ocsf = toOcsfEvent(body('hook.PreToolUse', { tool: 'Edit', actions: [{ kind, path: '/repo/src/a.ts', recursive: false, via: 'Edit' }], decision: decision('allow', [], 'silent') }), context);
      assert.equal(ocsf.class_uid, 1001, kind);
      assert.equal(ocsf.activity_id, activity, kind);
      assert.equal(ocsf.type_uid, type, kind);
      assert.deepEqual(ocsf.file, { name: 'a.ts', path: '/repo/src/a.ts', type_id: 0, type: 'Unknown' });
      assert.equal(ocsf.action_id, 1);
      assert.equal(ocsf.disposition_id, 16, 'a silent allow leaves the decision to the agent: No Action');
    }
    const folder = toOcsfEvent(body('hook.PreToolUse', { actions: [{ kind: 'delete', path: '/repo/build', recursive: true, via: 'rm' }] }), context);
    assert.deepEqual(folder.file, { name: 'build', path: '/repo/build', type_id: 2, type: 'Folder' });
  });

  it('maps an MCP call to API Activity and a fetch to HTTP Activity by method; an explicit allow is Allowed', () => {
    const mcp = toOcsfEvent(body('hook.PreToolUse', { tool: 'mcp__github__create_issue', actions: [{ kind: 'mcp_call', server: 'github', tool: 'create_issue', args: { sha256: 'x' }, via: 'mcp' }], decision: decision('allow', ['mcp.github'], 'allow') }), context);
    assert.equal(mcp.class_uid, 6003);
    assert.equal(mcp.category_uid, 6);
    assert.equal(mcp.activity_id, 99);
    assert.equal(mcp.type_uid, 600399);
    assert.deepEqual(mcp.api, { operation: 'create_issue', service: { name: 'github' } });
    assert.deepEqual(mcp.src_endpoint, { uid: 'dev_0123456789abcdef', hostname: 'alice-laptop' });
    assert.equal(mcp.action_id, 1);
    assert.equal(mcp.disposition_id, 1);

    const fetch = toOcsfEvent(body('hook.PreToolUse', { tool: 'WebFetch', actions: [{ kind: 'fetch', host: 'example.com', port: 443, scheme: 'https', method: 'GET', url: 'https://example.com/a', projectRemote: false, via: 'WebFetch' }] }), context);
    assert.equal(fetch.class_uid, 4002);
    assert.equal(fetch.category_uid, 4);
    assert.equal(fetch.type_uid, 400203);
    assert.deepEqual(fetch.http_request, { http_method: 'GET', url: { url_string: 'https://example.com/a', hostname: 'example.com', port: 443, scheme: 'https' } });
    assert.equal(fetch.action_id, undefined, 'no decision, no security_control fields');

    const send = toOcsfEvent(body('hook.PreToolUse', { actions: [{ kind: 'send', host: 'paste.example', port: 443, scheme: 'https', method: 'POST', url: 'https://paste.example/', projectRemote: false, via: 'curl' }] }), context);
    assert.equal(send.type_uid, 400206);
  });

  it('maps ask to a Challenge and monitor mode to Observed / Logged', () => {
    const ask = toOcsfEvent(body('hook.PreToolUse', { actions: [exec], decision: decision('ask', ['git.push-main']) }), context);
    assert.equal(ask.action_id, 0);
    assert.equal(ask.disposition_id, 23);
    assert.equal(ask.severity_id, 2);
    const monitor = toOcsfEvent(body('hook.PreToolUse', { actions: [exec], decision: { ...decision('deny', ['credentials.ssh']), mode: 'monitor' } }), context);
    assert.equal(monitor.action_id, 3);
    assert.equal(monitor.disposition_id, 17);
    assert.equal(monitor.status_id, undefined, 'a monitored call was not stopped');
  });

  it('classes recorded events without actions by their tool or kind, with a default for the rest', () => {
    const post = toOcsfEvent(body('hook.PostToolUse', { tool: 'Bash', tool_input: { command: 'npm test' } }), context);
    assert.equal(post.type_uid, 100701);
    assert.equal(post.status_id, 1);
    const failed = toOcsfEvent(body('hook.PostToolUseFailure', { tool: 'Read', tool_input: { file_path: '/repo/x' }, error: 'no such file' }), context);
    assert.equal(failed.type_uid, 100102);
    assert.equal(failed.status_detail, 'no such file');
    const start = toOcsfEvent(body('hook.SessionStart', { source: 'startup' }), context);
    assert.equal(start.type_uid, 600203);
    assert.deepEqual(start.app, { name: 'claude-code', version: '2.1.197' });
    const prompt = toOcsfEvent(body('hook.UserPromptSubmit', { prompt: 'fix the tests' }), { index: 0, device: { id: 'dev_x' } });
    assert.equal(prompt.class_uid, 0);
    assert.equal(prompt.type_uid, 99);
    assert.equal(prompt.activity_name, 'hook.UserPromptSubmit');
    assert.deepEqual(prompt.actor, { user: { name: 'alice', type_id: 1, type: 'User' }, app_name: 'claude-code' }, 'without a person, the OS user');
    assert.equal((prompt.metadata as Record<string, unknown>).log_name, undefined);
  });

  it('writes one JSON line per event with index, device, person, envelope and body', () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const signer = ed25519Signer(privateKey);
    const sealed = sealEvent({ ...body('hook.PreToolUse', { actions: [exec] }), device: { id: 'dev_0123456789abcdef', key_id: signer.keyId } }, signer);
    const line = toJsonlLine({ index: 41, device: context.device, person: context.person, envelope: sealed.envelope, body: sealed.body });
    assert.ok(line.endsWith('\n'));
    assert.equal(line.indexOf('\n'), line.length - 1, 'exactly one line');
    assert.deepEqual(JSON.parse(line), { index: 41, device: context.device, person: context.person, envelope: sealed.envelope, body: sealed.body });
  });
});
