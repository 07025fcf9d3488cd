// The org's policy bundles reach an enrolled daemon over the control stream of a real `writ server`: a good
// bundle replaces the policy at once (and after a restart, offline); anything that does not verify or does not
// prepare changes nothing.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ed25519Signer } from '../../src/core/dsse.js';
import { signControlState, signPolicyBundle } from '../../src/core/policy-bundle.js';
import { ControlClient, type ControlUpdate } from '../../src/daemon/control-client.js';
import { ServerClient } from '../../src/daemon/server-client.js';
import { loadOrCreateDeviceKey } from '../../src/daemon/keys.js';
import { readPolicyDir, STANDARD_POLICY_DIR } from '../../src/home/policy-files.js';
import { policyHash } from '../../src/policy/index.js';
import { startControlPlane, startEnrolledDaemon, waitFor, type EnrolledDaemon, type TestControlPlane } from '../support/control-plane.js';
import { preToolUse } from '../support/daemon.js';
import { journalEvents } from '../support/journal.js';

const NO_COWSAY = {
  name: '70-org.cedar',
  text: [
    '@id("org.no-cowsay")',
    '@reason("The organisation does not allow cowsay.")',
    '@exception("Ask the platform team.")',
    'forbid (principal, action == Writ::Action::"exec", resource) when { resource.program == "cowsay" };',
    '',
  ].join('\n'),
};
const BUNDLE_FILES = [...readPolicyDir(STANDARD_POLICY_DIR), NO_COWSAY];

const decisionOf = (body: string) => (body === '' ? undefined : JSON.parse(body).hookSpecificOutput);

describe('control client', () => {
  let plane: TestControlPlane;
  let device: EnrolledDaemon;
  let bundleHash: string;
  before(async () => {
    plane = await startControlPlane();
    device = await startEnrolledDaemon(plane);
  });
  after(async () => {
    await device.daemon.close();
    await plane.close();
  });

  test('a published bundle replaces the policy, and each decision records the bundle hash', async () => {
    const before = await device.post(preToolUse('Bash', { command: 'cowsay moo' }));
    assert.equal(decisionOf(before.body), undefined, 'the standard policy has no objection to cowsay');
    const published = await plane.admin('POST', '/v1/policy/bundles', { files: BUNDLE_FILES, comment: 'no cows' });
    assert.equal(published.status, 201, JSON.stringify(published.body));
    bundleHash = published.body.hash;
    await waitFor(() => device.daemon.bundleHash() === bundleHash, 'the bundle to arrive');
    assert.equal(device.daemon.policyHash(), policyHash(BUNDLE_FILES));

    const answer = await device.post(preToolUse('Bash', { command: 'cowsay moo' }, { tool_use_id: 'toolu_cow' }));
    assert.equal(decisionOf(answer.body).permissionDecision, 'deny');
    assert.match(decisionOf(answer.body).permissionDecisionReason, /cowsay/);
    const events = journalEvents(device.home);
    const decision = events.find((event) => event.tool_use_id === 'toolu_cow')!.data.decision as Record<string, unknown>;
    assert.deepEqual(decision.rules, ['org.no-cowsay']);
    assert.equal(decision.bundle, bundleHash);
    assert.equal(decision.policy_hash, policyHash(BUNDLE_FILES));
    const loaded = events.filter((event) => event.kind === 'policy.loaded').at(-1)!;
    assert.deepEqual(loaded.data, { policy_hash: policyHash(BUNDLE_FILES), bundle: bundleHash });
    assert.equal(statSync(device.home.policyBundle).mode & 0o777, 0o600);
  });

  test('while the bundle is in force, the local policy directory is ignored', async () => {
    writeFileSync(join(device.home.policy, '99-local.cedar'), '@id("local.no-echo")\nforbid (principal, action == Writ::Action::"exec", resource) when { resource.program == "echo" };\n');
    await waitFor(() => device.logs.some((line) => /ignoring changes in .*policy: the org policy bundle/.test(line)), 'the reload to be refused');
    assert.equal(device.daemon.policyHash(), policyHash(BUNDLE_FILES));
    const answer = await device.post(preToolUse('Bash', { command: 'echo hi' }));
    assert.equal(decisionOf(answer.body), undefined);
  });

  test('a bundle that does not prepare is refused and the policy in force stays', async () => {
    const { hash, envelope } = signPolicyBundle(
      { v: 1, files: [{ name: 'broken.cedar', text: 'forbid (principal, action, resource) when { resource.nosuch == 1 };' }], published_by: 'test', published_at: new Date().toISOString() },
      plane.org.signer,
    );
    await plane.store.addPolicyBundle({ hash, envelope: JSON.stringify(envelope), publishedBy: 'test', publishedAt: new Date().toISOString() });
    const version = (await plane.context.control.refresh()).version;
    await waitFor(() => device.daemon.controlVersion() === version, 'the new control state');
    assert.equal(device.daemon.bundleHash(), bundleHash);
    assert.equal(device.daemon.policyHash(), policyHash(BUNDLE_FILES));
    const rejected = journalEvents(device.home).filter((event) => event.kind === 'policy.rejected').at(-1)!;
    assert.equal(rejected.data.bundle, hash);
    assert.match(String(rejected.data.problem), /broken\.cedar/);
    assert.equal(decisionOf((await device.post(preToolUse('Bash', { command: 'cowsay moo' }))).body).permissionDecision, 'deny');
  });

  test('a bundle not signed by the org key is refused', async () => {
    const impostor = ed25519Signer(generateKeyPairSync('ed25519').privateKey);
    const { hash, envelope } = signPolicyBundle({ v: 1, files: [{ name: 'open.cedar', text: '@id("all")\npermit (principal, action, resource);\n' }], published_by: 'mallory', published_at: new Date().toISOString() }, impostor);
    await plane.store.addPolicyBundle({ hash, envelope: JSON.stringify(envelope), publishedBy: 'mallory', publishedAt: new Date().toISOString() });
    const version = (await plane.context.control.refresh()).version;
    await waitFor(() => device.daemon.controlVersion() === version, 'the new control state');
    assert.equal(device.daemon.bundleHash(), bundleHash);
    const rejected = journalEvents(device.home).filter((event) => event.kind === 'policy.rejected').at(-1)!;
    assert.match(String(rejected.data.problem), /not signed by the org key/);
  });

  test('a restarted daemon enforces the bundle before (and without) reaching the server', async () => {
    await device.daemon.close();
    await plane.stop();
    try {
      const daemon = await device.restart();
      assert.equal(daemon.bundleHash(), bundleHash);
      assert.equal(daemon.policyHash(), policyHash(BUNDLE_FILES));
      assert.equal(decisionOf((await device.post(preToolUse('Bash', { command: 'cowsay moo' }))).body).permissionDecision, 'deny');
      assert.ok(existsSync(device.home.controlState));
    } finally {
      await plane.restart();
    }
  });

  test('it reconnects after the server comes back and takes newer state', async () => {
    const published = await plane.admin('POST', '/v1/policy/bundles', { files: readPolicyDir(STANDARD_POLICY_DIR) });
    assert.equal(published.status, 201);
    await waitFor(() => device.daemon.bundleHash() === published.body.hash, 'the standard bundle after reconnecting');
    assert.equal(decisionOf((await device.post(preToolUse('Bash', { command: 'cowsay moo' }))).body), undefined);
    assert.equal(JSON.parse(readFileSync(device.home.policyBundle, 'utf8')).payloadType, 'application/vnd.writ.policy-bundle.v1+json');
  });
});

describe('control messages are checked before anything changes', () => {
  const orgKeys = generateKeyPairSync('ed25519');
  const org = ed25519Signer(orgKeys.privateKey);
  const other = ed25519Signer(generateKeyPairSync('ed25519').privateKey);
  const updates: ControlUpdate[] = [];
  const client = new ControlClient({
    client: new ServerClient('http://127.0.0.1:9', loadOrCreateDeviceKey(join(process.env.TMPDIR ?? '/tmp', `writ-cc-${process.pid}`))),
    orgKey: orgKeys.publicKey,
    version: 3,
    onControl: (update) => updates.push(update),
    log: () => {},
  });
  const state = (version: number, signer = org, extra: object = {}) => signControlState({ v: 1, version, kills: ['tool:Bash'], issued_at: new Date().toISOString(), ...extra }, signer);

  test('a state signed by another key is refused', () => {
    assert.throws(() => client.accept({ version: 9, state: state(9, other) }), /not signed by the org key/);
    assert.equal(client.version(), 3);
  });

  test('a version not newer than the one in force is ignored', () => {
    assert.equal(client.accept({ version: 3, state: state(3) }), false);
    assert.equal(client.accept({ version: 2, state: state(2) }), false);
    assert.equal(updates.length, 0);
  });

  test('a bundle whose hash is not the one the state names is refused, the kills still apply', () => {
    const bundle = signPolicyBundle({ v: 1, files: [], published_by: 'x', published_at: 'y' }, org);
    assert.equal(client.accept({ version: 4, state: state(4, org, { policy_bundle: 'sha256:' + '0'.repeat(64) }), policy_bundle: bundle.envelope }), true);
    assert.deepEqual(updates[0].kills, ['tool:Bash']);
    assert.equal(updates[0].bundle, undefined);
    assert.match(updates[0].bundleProblem ?? '', /has hash sha256:/);
  });

  test('garbage is refused', () => {
    assert.throws(() => client.accept({ state: 'nonsense' }), /not a DSSE envelope/);
    assert.throws(() => client.accept(null), /not a DSSE envelope/);
    assert.equal(client.version(), 4);
  });
});
