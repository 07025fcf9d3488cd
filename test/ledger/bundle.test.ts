// Evidence bundles from real signed events and a real tree, and every way one can be tampered with.
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, it } from 'node:test';
import { canonicalBytes } from '../../src/core/canonical-json.js';
import { deviceIdFor, issueDeviceCertificate } from '../../src/core/certificate.js';
import { ed25519Signer, type Envelope, type Signer } from '../../src/core/dsse.js';
import { sealEvent, type EventBody } from '../../src/core/event.js';
import { signPolicyBundle } from '../../src/core/policy-bundle.js';
import {
  MAX_LISTED,
  bundleEventLine,
  bundleHeaderLine,
  createBundleVerifier,
  type BundleDevice,
  type BundleHeader,
  type BundleVerdict,
  verifyBundleLines,
} from '../../src/ledger/bundle.js';
import { signLogCheckpoint } from '../../src/ledger/log-checkpoint.js';
import { CompactRange, completeNodes, inclusionProof, leafHash, nodeKey } from '../../src/ledger/merkle.js';
import { ed25519NoteSigner, verifierKeyFor } from '../../src/ledger/note.js';

const ORIGIN = 'writ.example/acme';

interface Org {
  privateKey: KeyObject;
  publicKey: KeyObject;
  signer: Signer;
  verifierKey: string;
}

function newOrg(origin = ORIGIN): Org {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKey, publicKey, signer: ed25519Signer(privateKey), verifierKey: verifierKeyFor(origin, publicKey) };
}

interface TestDevice {
  id: string;
  signer: Signer;
  publicKey: KeyObject;
  seq: number;
  head: string;
}

function newDevice(): TestDevice {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const signer = ed25519Signer(privateKey);
  return { id: deviceIdFor(signer.keyId), signer, publicKey, seq: 0, head: '' };
}

function nextEvent(device: TestDevice, minute: number, data: Record<string, unknown> = {}): Envelope {
  const body: EventBody = {
    v: 1,
    seq: device.seq + 1,
    prev: device.head,
    time: `2026-11-21T10:${String(minute).padStart(2, '0')}:00.000Z`,
    device: { id: device.id, key_id: device.signer.keyId },
    actor: { os_user: 'alice', assurance: 'oidc' },
    agent: { name: 'claude-code' },
    kind: 'hook.PreToolUse',
    session_id: `sess-${device.id}`,
    data: { tool: 'Bash', ...data },
  };
  const sealed = sealEvent(body, device.signer);
  device.seq = body.seq;
  device.head = sealed.hash;
  return sealed.envelope;
}

function bundleDevice(org: Org, device: TestDevice, person: string, certificateSigner = org.signer): BundleDevice {
  return {
    id: device.id,
    key_id: device.signer.keyId,
    public_key_pem: device.publicKey.export({ type: 'spki', format: 'pem' }) as string,
    certificate: issueDeviceCertificate(
      {
        origin: ORIGIN,
        device_id: device.id,
        key_id: device.signer.keyId,
        public_key: device.publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
        person: { id: person, iss: 'https://idp.example', sub: person },
        assurance: 'oidc',
        issued_at: '2026-11-21T09:00:00.000Z',
      },
      certificateSigner,
    ),
  };
}

/** A log of 12 events from two devices, interleaved as a server would sequence them. */
function newLog() {
  const org = newOrg();
  const alice = newDevice();
  const bob = newDevice();
  const entries: Envelope[] = [];
  for (let minute = 0; minute < 12; minute++) entries.push(nextEvent(minute % 3 === 2 ? bob : alice, minute, { n: minute }));
  const leaves = entries.map((envelope) => leafHash(canonicalBytes(envelope)));
  const nodes = new Map(completeNodes(0, [], leaves).map((node) => [nodeKey(node), node.hash]));
  const rootOf = (size: number) => {
    const range = new CompactRange();
    for (const leaf of leaves.slice(0, size)) range.push(leaf);
    return range.root();
  };
  const checkpoint = (size = leaves.length, root = rootOf(size), signerOrg = org, origin = ORIGIN) =>
    signLogCheckpoint({ origin, size, root, extensions: [] }, ed25519NoteSigner(origin, signerOrg.privateKey));
  const header = (overrides: Partial<BundleHeader> = {}): Omit<BundleHeader, 'format'> => ({
    origin: ORIGIN,
    org_key: org.verifierKey,
    org_public_key: org.publicKey.export({ type: 'spki', format: 'pem' }) as string,
    checkpoint: checkpoint(),
    created_at: '2026-11-21T12:00:00.000Z',
    filter: {},
    complete: true,
    devices: [bundleDevice(org, alice, 'per_alice'), bundleDevice(org, bob, 'per_bob')],
    people: [
      { id: 'per_alice', iss: 'https://idp.example', sub: 'per_alice' },
      { id: 'per_bob', iss: 'https://idp.example', sub: 'per_bob' },
    ],
    policy_bundles: [signPolicyBundle({ v: 1, files: [{ name: 'a.cedar', text: 'permit (principal, action, resource);' }], published_by: 'admin', published_at: '2026-11-21T08:00:00.000Z' }, org.signer).envelope],
    ...overrides,
  });
  const completeLines = (head = header()) => [bundleHeaderLine(head), ...entries.map((envelope, index) => bundleEventLine({ index, envelope }))];
  const filteredLines = (indexes: number[], head = header({ complete: false, filter: { device: alice.id } }), size = entries.length) => [
    bundleHeaderLine(head),
    ...indexes.map((index) => bundleEventLine({ index, envelope: entries[index], proof: inclusionProof(index, size, nodes) })),
  ];
  const aliceIndexes = entries.map((_, index) => index).filter((index) => index % 3 !== 2);
  return { org, alice, bob, entries, leaves, nodes, rootOf, checkpoint, header, completeLines, filteredLines, aliceIndexes };
}

/** Verifies inline, line by line, and through verifyBundleLines (signatures on the thread pool): one verdict. */
async function verifyLines(lines: string[], orgKey?: string): Promise<BundleVerdict> {
  const verifier = createBundleVerifier({ orgKey });
  verifier.header(lines[0]);
  for (const line of lines.slice(1)) verifier.event(line);
  const verdict = verifier.finish();
  const text = lines.join('\n').split('\n');
  assert.deepEqual(await verifyBundleLines(text, { orgKey, concurrency: 3 }), verdict, 'the streaming verifier agrees');
  return verdict;
}

function withEnvelope(line: string, change: (envelope: Envelope) => Envelope): string {
  const event = JSON.parse(line);
  return JSON.stringify({ ...event, envelope: change(event.envelope) });
}

function changedPayload(envelope: Envelope, change: (body: EventBody) => EventBody): Envelope {
  const body = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8'));
  return { ...envelope, payload: Buffer.from(canonicalBytes(change(body))).toString('base64') };
}

const log = newLog();

describe('writ-evidence/v1 bundles', () => {
  it('a complete bundle verifies: every signature, every chain link, and the events hash to the checkpoint root', async () => {
    const verdict = await verifyLines(log.completeLines(), log.org.verifierKey);
    assert.deepEqual(verdict.problems, []);
    assert.deepEqual(verdict.warnings, []);
    assert.equal(verdict.ok, true);
    assert.equal(verdict.events, 12);
    assert.equal(verdict.devices, 2);
    assert.equal(verdict.people, 2);
    assert.equal(verdict.size, 12);
    assert.equal(verdict.root, log.rootOf(12).toString('base64'));
    assert.equal(verdict.orgKeyPinned, true);
    assert.equal(verdict.complete, true);
  });

  it('without a pinned org key it trusts the bundle and says so', async () => {
    const verdict = await verifyLines(log.completeLines());
    assert.equal(verdict.ok, true);
    assert.equal(verdict.orgKeyPinned, false);
    assert.match(verdict.warnings.join('\n'), /no org key pinned: the key in the bundle itself was trusted/);
  });

  it('a filtered bundle verifies each event by its inclusion proof; gaps in a device chain are warnings', async () => {
    const verdict = await verifyLines(log.filteredLines([0, 1, 4, 6]), log.org.verifierKey);
    assert.deepEqual(verdict.problems, []);
    assert.equal(verdict.ok, true);
    assert.equal(verdict.events, 4);
    assert.equal(verdict.devices, 1);
    // alice's seqs by index: 0→1, 1→2, 3→3, 4→4, 6→5
    assert.deepEqual(verdict.warnings, [`device ${log.alice.id} seq 4 follows seq 2: 1 event missing`]);
    const everyAlice = await verifyLines(log.filteredLines(log.aliceIndexes), log.org.verifierKey);
    assert.deepEqual([everyAlice.ok, everyAlice.warnings, everyAlice.events], [true, [], 8]);
  });

  it('a changed event: its signature fails and the events no longer hash to the root', async () => {
    const lines = log.completeLines();
    lines[5] = withEnvelope(lines[5], (envelope) => changedPayload(envelope, (body) => ({ ...body, data: { tool: 'Read' } })));
    const verdict = await verifyLines(lines, log.org.verifierKey);
    assert.equal(verdict.ok, false);
    assert.equal(verdict.problems[0], `event 4 (device ${log.alice.id}, seq 4): signature does not verify`);
    assert.match(verdict.problems.join('\n'), new RegExp(`device ${log.alice.id} seq 5 does not link to seq 4`));
    assert.match(verdict.problems.at(-1)!, /^the events hash to root \S+, not to the checkpoint's \S+ \(an event changed, or the checkpoint is of another tree\)$/);

    const filtered = log.filteredLines([0, 1, 3]);
    filtered[3] = withEnvelope(filtered[3], (envelope) => changedPayload(envelope, (body) => ({ ...body, kind: 'hook.PostToolUse' })));
    const filteredVerdict = await verifyLines(filtered, log.org.verifierKey);
    assert.deepEqual(filteredVerdict.problems, ['leaf 3 not included in checkpoint 12', `event 3 (device ${log.alice.id}, seq 3): signature does not verify`]);
  });

  it('a dropped event: a missing leaf, a chain gap and a short count', async () => {
    const lines = log.completeLines();
    lines.splice(1 + 4, 1); // leaf 4 is alice's seq 4
    const verdict = await verifyLines(lines, log.org.verifierKey);
    assert.deepEqual(verdict.problems, [
      'leaf 4 missing: event 3 is followed by event 5',
      `device ${log.alice.id} seq 5 follows seq 3: 1 event missing`,
      'complete bundle has 11 events for size 12',
    ]);
  });

  it('two events swapped: out of log order and out of chain order', async () => {
    const lines = log.completeLines();
    [lines[1 + 3], lines[1 + 4]] = [lines[1 + 4], lines[1 + 3]];
    const verdict = await verifyLines(lines, log.org.verifierKey);
    assert.equal(verdict.ok, false);
    assert.deepEqual(verdict.problems.slice(0, 4), [
      'leaf 3 missing: event 2 is followed by event 4',
      `device ${log.alice.id} seq 4 follows seq 2: 1 event missing`,
      'event 3 follows event 4: events out of log order',
      `device ${log.alice.id} seq 3 follows seq 4: out of order or repeated`,
    ]);
  });

  it('two envelopes swapped under their indexes: the chain and the root both break', async () => {
    const lines = log.completeLines();
    const [a, b] = [JSON.parse(lines[1 + 3]), JSON.parse(lines[1 + 4])];
    lines[1 + 3] = bundleEventLine({ index: 3, envelope: b.envelope });
    lines[1 + 4] = bundleEventLine({ index: 4, envelope: a.envelope });
    const problems = (await verifyLines(lines, log.org.verifierKey)).problems.join('\n');
    assert.match(problems, new RegExp(`device ${log.alice.id} seq 4 follows seq 2: 1 event missing`));
    assert.match(problems, /the events hash to root/);
  });

  it('a foreign event: from an uncertified device, or signed by another key in a certified device’s name', async () => {
    const stranger = newDevice();
    const foreign = nextEvent(stranger, 30);
    const lines = log.filteredLines([0, 1]);
    lines.push(bundleEventLine({ index: 12, envelope: foreign, proof: [] }));
    const verdict = await verifyLines(lines, log.org.verifierKey);
    assert.deepEqual(verdict.problems, ['leaf 12 is beyond checkpoint 12', `event 12 (device ${stranger.id}, seq 1): device has no certificate in the bundle`]);

    // Same device id and key id as alice, signed by the stranger's key.
    const forged = { ...log.alice, signer: { keyId: log.alice.signer.keyId, sign: stranger.signer.sign } };
    const complete = log.completeLines();
    complete.push(bundleEventLine({ index: 12, envelope: nextEvent(forged, 40) }));
    const forgedVerdict = await verifyLines(complete, log.org.verifierKey);
    assert.equal(forgedVerdict.problems[0], `event 12 (device ${log.alice.id}, seq 9): signature does not verify`);
    assert.match(forgedVerdict.problems.join('\n'), /complete bundle has 13 events for size 12/);
  });

  it('a checkpoint of another size, of another key, or a fork of the same size', async () => {
    const smaller = await verifyLines(log.completeLines(log.header({ checkpoint: log.checkpoint(10) })), log.org.verifierKey);
    assert.deepEqual(smaller.problems, ['complete bundle has 12 events for size 10']);

    const attacker = newOrg();
    const foreignKey = await verifyLines(log.completeLines(log.header({ checkpoint: log.checkpoint(12, log.rootOf(12), attacker) })), log.org.verifierKey);
    assert.equal(foreignKey.problems.length, 1);
    assert.match(foreignKey.problems[0], /^checkpoint not signed by the org key: /);

    const forkRoot = Buffer.alloc(32, 7);
    const fork = await verifyLines(log.completeLines(log.header({ checkpoint: log.checkpoint(12, forkRoot) })), log.org.verifierKey);
    assert.deepEqual(fork.problems, [`the events hash to root ${log.rootOf(12).toString('base64')}, not to the checkpoint's ${forkRoot.toString('base64')} (an event changed, or the checkpoint is of another tree)`]);

    const forkFiltered = await verifyLines(log.filteredLines([0, 1], log.header({ complete: false, checkpoint: log.checkpoint(12, forkRoot) })), log.org.verifierKey);
    assert.deepEqual(forkFiltered.problems, ['leaf 0 not included in checkpoint 12', 'leaf 1 not included in checkpoint 12']);

    const otherOrigin = await verifyLines(log.completeLines(log.header({ checkpoint: log.checkpoint(12, log.rootOf(12), log.org, 'writ.example/other') })), log.org.verifierKey);
    assert.match(otherOrigin.problems[0], /^checkpoint not signed by the org key: /);
  });

  it('a whole bundle made with another org key is self-consistent, and fails against the pinned key', async () => {
    const attacker = newOrg();
    const head = log.header({
      org_key: attacker.verifierKey,
      org_public_key: attacker.publicKey.export({ type: 'spki', format: 'pem' }) as string,
      checkpoint: log.checkpoint(12, log.rootOf(12), attacker),
      devices: [bundleDevice(attacker, log.alice, 'per_alice'), bundleDevice(attacker, log.bob, 'per_bob')],
      policy_bundles: [],
    });
    assert.equal((await verifyLines(log.completeLines(head))).ok, true, 'self-consistent');
    const pinned = await verifyLines(log.completeLines(head), log.org.verifierKey);
    assert.equal(pinned.ok, false);
    assert.deepEqual(pinned.problems.slice(0, 1), ['org_public_key is not the org key']);
    assert.match(pinned.problems[1], /^checkpoint not signed by the org key: checkpoint: note has no signature from a known key/);
    assert.match(pinned.problems[2], new RegExp(`^certificate of ${log.alice.id} not signed by the org key`));
    assert.match(pinned.problems[4], /device is not certified \(its certificate failed\)/);
    assert.match(pinned.warnings[0], /the bundle names org key `writ\.example\/acme\+[0-9a-f]{8}\+\S+`; verified with the pinned key instead/);
  });

  it('a bad certificate: its device and every event of that device fail', async () => {
    const attacker = newOrg();
    const head = log.header({ devices: [bundleDevice(log.org, log.alice, 'per_alice'), bundleDevice(log.org, log.bob, 'per_bob', attacker.signer)] });
    const verdict = await verifyLines(log.completeLines(head), log.org.verifierKey);
    assert.match(verdict.problems[0], new RegExp(`^certificate of ${log.bob.id} not signed by the org key: not signed by the org key sha256:`));
    assert.equal(verdict.problems[1], `event 2 (device ${log.bob.id}, seq 1): device is not certified (its certificate failed)`);
    assert.equal(verdict.problems.length, 1 + 4);

    const swapped = log.header();
    swapped.devices[0] = { ...swapped.devices[0], certificate: swapped.devices[1].certificate };
    assert.equal((await verifyLines(log.completeLines(swapped), log.org.verifierKey)).problems[0], `certificate of ${log.alice.id} is for device ${log.bob.id}`);
  });

  it('events after their device (or person) was revoked', async () => {
    const head = log.header();
    head.devices[1] = { ...head.devices[1], revoked_at: '2026-11-21T10:06:00.000Z' };
    const verdict = await verifyLines(log.completeLines(head), log.org.verifierKey);
    assert.deepEqual(verdict.problems, [
      `event 8 (device ${log.bob.id}, seq 3): device ${log.bob.id} was revoked before the event's time 2026-11-21T10:08:00.000Z`,
      `event 11 (device ${log.bob.id}, seq 4): device ${log.bob.id} was revoked before the event's time 2026-11-21T10:11:00.000Z`,
    ]);
    const person = log.header();
    person.people[0] = { ...person.people[0], revoked_at: '2026-11-21T10:10:00.000Z' };
    assert.deepEqual((await verifyLines(log.completeLines(person), log.org.verifierKey)).problems, [
      `event 10 (device ${log.alice.id}, seq 8): person per_alice was revoked before the event's time 2026-11-21T10:10:00.000Z`,
    ]);
  });

  it('a policy bundle not signed by the org key', async () => {
    const attacker = newOrg();
    const forged = signPolicyBundle({ v: 1, files: [], published_by: 'mallory', published_at: '2026-11-21T08:00:00.000Z' }, attacker.signer).envelope;
    const verdict = await verifyLines(log.completeLines(log.header({ policy_bundles: [forged] })), log.org.verifierKey);
    assert.deepEqual(verdict.problems, ['policy bundle 1 not signed by the org key: not signed by a known key (keyid ' + attacker.signer.keyId + ')']);
  });

  it('malformed lines, a missing proof, events outside the filter, and a capped list of problems', async () => {
    const lines = log.filteredLines([0, 2]);
    lines.push('{"index": 3', bundleEventLine({ index: 4, envelope: log.entries[4] }));
    const verdict = await verifyLines(lines, log.org.verifierKey);
    assert.deepEqual(verdict.problems, ['event line 4: not a JSON object', 'event 4 has no inclusion proof (and the bundle is not complete)']);
    assert.deepEqual(verdict.warnings, [
      `event 2 (device ${log.bob.id}, seq 1) is outside the bundle's filter (not device ${log.alice.id})`,
      `device ${log.alice.id} seq 4 follows seq 1: 2 events missing`,
    ]);

    const garbage = [bundleHeaderLine(log.header()), ...Array.from({ length: MAX_LISTED + 5 }, () => 'x')];
    const many = await verifyLines(garbage, log.org.verifierKey);
    assert.equal(many.problems.length, MAX_LISTED + 1);
    assert.equal(many.problems.at(-1), '… and 6 more');

    const notBundle = await verifyLines(['{"format":"something-else"}']);
    assert.deepEqual(notBundle.problems, ['not a writ-evidence/v1 bundle (format "something-else")']);
    const empty = createBundleVerifier().finish();
    assert.deepEqual([empty.ok, empty.problems], [false, ['the bundle is empty']]);
  });

  it('the origin must be the org key’s name', async () => {
    const verdict = await verifyLines(log.completeLines(log.header({ origin: 'writ.example/other' })), log.org.verifierKey);
    assert.equal(verdict.problems[0], "the bundle's origin `writ.example/other` is not the org key's name `writ.example/acme`");
  });

  it('bundleEventLine writes a log entry text as is, and one line per event', async () => {
    const entry = Buffer.from(canonicalBytes(log.entries[0])).toString('utf8');
    const line = bundleEventLine({ index: 0, envelope: entry, proof: [Buffer.alloc(32, 1)] });
    assert.equal(line, `{"index":0,"envelope":${entry},"proof":["${Buffer.alloc(32, 1).toString('base64')}"]}\n`);
    assert.throws(() => bundleEventLine({ index: 0, envelope: '{\n}' }), /single-line JSON/);
  });
});
