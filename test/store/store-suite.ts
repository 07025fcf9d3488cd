// The store contract as one suite that every adapter runs (test/store/<adapter>.test.ts). Each test opens a
// fresh, migrated, empty store from the factory and closes it at the end.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { borderNodeIds, leafHash, nodeKey, rootFromBorder } from '../../src/ledger/merkle.js';
import { StoreError, type Device, type IngestEvent, type Store, type StoredEvent } from '../../src/store/store.js';
import { runApprovalSuite } from './approval-suite.js';

export interface StoreFactory {
  /** A fresh, empty store, already migrated. */
  open(): Promise<Store>;
}

const T0 = Date.UTC(2026, 0, 1);
const at = (seconds: number): string => new Date(T0 + seconds * 1000).toISOString();

// ---- fixtures -------------------------------------------------------------------------------------------------

export interface EventOptions {
  time?: string;
  kind?: string;
  sessionId?: string;
  toolUseId?: string;
  promptId?: string;
  agentName?: string;
  agentVersion?: string;
  decision?: string;
  rules?: string[];
  policyHash?: string;
  variant?: string; // changes the body, hence the hash: a conflicting event for the same seq
}

/** One event as the server would pass it: hash and leaf hash derived from a canonical JSON envelope. */
export function makeEvent(deviceId: string, seq: number, prev: string, options: EventOptions = {}): IngestEvent {
  const time = options.time ?? at(seq);
  const body = { device: deviceId, seq, prev, time, kind: options.kind ?? 'hook.PreToolUse', variant: options.variant ?? '' };
  const hash = `sha256:${createHash('sha256').update(JSON.stringify(body)).digest('hex')}`;
  const envelope = JSON.stringify({ payload: Buffer.from(JSON.stringify(body)).toString('base64'), payloadType: 'x', signatures: [] });
  return {
    seq,
    prev,
    hash,
    leafHash: leafHash(Buffer.from(envelope)),
    envelope,
    time,
    kind: options.kind ?? 'hook.PreToolUse',
    sessionId: options.sessionId,
    toolUseId: options.toolUseId,
    promptId: options.promptId,
    agentName: options.agentName ?? 'claude-code',
    agentVersion: options.agentVersion,
    decision: options.decision,
    rules: options.rules ?? [],
    policyHash: options.policyHash,
  };
}

/** A device's chain: `next(n)` returns the following n events and moves the head past them. */
export class ChainBuilder {
  seq = 0;
  hash = '';
  readonly all: IngestEvent[] = [];

  constructor(readonly deviceId: string) {}

  next(count = 1, options: EventOptions | ((seq: number) => EventOptions) = {}): IngestEvent[] {
    return Array.from({ length: count }, () => {
      const seq = this.seq + 1;
      const event = makeEvent(this.deviceId, seq, this.hash, typeof options === 'function' ? options(seq) : options);
      this.seq = seq;
      this.hash = event.hash;
      this.all.push(event);
      return event;
    });
  }
}

export function deviceRecord(id: string, overrides: Partial<Device> = {}): Omit<Device, 'headSeq' | 'headHash' | 'revokedAt' | 'lastSeenAt'> {
  return {
    id,
    keyId: `sha256:key-of-${id}`,
    publicKeyPem: `-----BEGIN PUBLIC KEY-----\n${id}\n-----END PUBLIC KEY-----\n`,
    personId: 'per_alice',
    assurance: 'oidc',
    hostname: `${id}.example`,
    os: 'linux',
    certificate: `{"cert":"${id}"}`,
    enrolledAt: at(0),
    ...overrides,
  };
}

/** The naive RFC 6962 §2.1 Merkle tree hash, as an oracle for the stored nodes. */
export function referenceRoot(leaves: readonly Buffer[]): Buffer {
  if (leaves.length === 0) return createHash('sha256').digest();
  if (leaves.length === 1) return leaves[0];
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return createHash('sha256')
    .update(Buffer.from([1]))
    .update(referenceRoot(leaves.slice(0, k)))
    .update(referenceRoot(leaves.slice(k)))
    .digest();
}

/** Checks every complete node the store holds against the oracle, and the root from its border. */
export async function assertTreeMatches(store: Store, leaves: readonly Buffer[]): Promise<void> {
  const size = await store.logSize();
  assert.equal(size, leaves.length);
  for (let level = 0; 2 ** level <= size; level += 1) {
    const width = 2 ** level;
    const count = Math.floor(size / width);
    const stored = await store.nodeRange(level, 0, count + 1);
    const expected = Array.from({ length: count }, (_, i) => referenceRoot(leaves.slice(i * width, (i + 1) * width)));
    assert.deepEqual(stored.map(hex), expected.map(hex), `level ${level}`);
  }
  const ids = borderNodeIds(size);
  const border = await store.nodes(ids);
  const root = rootFromBorder(size, ids.map((id) => border.get(nodeKey(id))!));
  assert.equal(hex(root), hex(referenceRoot(leaves)));
}

const hex = (buffer: Buffer): string => buffer.toString('hex');

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => error instanceof StoreError && error.code === code);
}

// ---- the suite ------------------------------------------------------------------------------------------------

export function runStoreSuite(name: string, factory: StoreFactory): void {
  const withStore = (fn: (store: Store) => Promise<void>) => async () => {
    const store = await factory.open();
    try {
      await fn(store);
    } finally {
      await store.close();
    }
  };
  runApprovalSuite(name, () => factory.open());
  const enrolled = async (store: Store, ...ids: string[]): Promise<void> => {
    for (const id of ids) await store.enrollDevice(deviceRecord(id));
  };

  describe(`${name} store: schema and meta`, () => {
    it('migrates again without harm', withStore(async (store) => {
      await store.migrate();
      await store.migrate();
      assert.equal(await store.logSize(), 0);
    }));

    it('keeps the first value of a meta key', withStore(async (store) => {
      assert.equal(await store.metaGet('org'), undefined);
      assert.equal(await store.metaSetIfAbsent('org', 'first'), 'first');
      assert.equal(await store.metaSetIfAbsent('org', 'second'), 'first');
      assert.equal(await store.metaGet('org'), 'first');
    }));
  });

  describe(`${name} store: people`, () => {
    it('upserts, lists, revokes', withStore(async (store) => {
      const alice = await store.upsertPerson({ id: 'per_a', iss: 'https://idp', sub: 'a', email: 'a@x', groups: ['eng'] }, at(1));
      assert.deepEqual(alice, { id: 'per_a', iss: 'https://idp', sub: 'a', email: 'a@x', groups: ['eng'], createdAt: at(1) });
      const renamed = await store.upsertPerson({ id: 'per_a', iss: 'https://idp', sub: 'a', name: 'Alice', groups: [] }, at(5));
      assert.deepEqual(renamed, { id: 'per_a', iss: 'https://idp', sub: 'a', name: 'Alice', groups: [], createdAt: at(1) });
      await store.upsertPerson({ id: 'per_b', iss: 'local', sub: 'bob', groups: [] }, at(2));
      await store.upsertPerson({ id: 'per_c', iss: 'local', sub: 'carol', groups: [] }, at(3));
      const page = await store.listPeople(1, 1);
      assert.equal(page.total, 3);
      assert.deepEqual(page.items.map((p) => p.id), ['per_b']);
      assert.equal(await store.revokePerson('per_b', at(9)), true);
      assert.equal(await store.revokePerson('per_b', at(10)), false);
      assert.equal(await store.revokePerson('per_nobody', at(10)), false);
      assert.equal((await store.getPerson('per_b'))?.revokedAt, at(9));
      const again = await store.upsertPerson({ id: 'per_b', iss: 'local', sub: 'bob', groups: ['x'] }, at(11));
      assert.equal(again.revokedAt, at(9), 'signing in again does not lift a revocation');
      assert.equal(await store.getPerson('per_nobody'), undefined);
    }));
  });

  describe(`${name} store: devices`, () => {
    it('enrols, lists, searches, revokes', withStore(async (store) => {
      const device = await store.enrollDevice(deviceRecord('dev_1'));
      assert.deepEqual(device, { ...deviceRecord('dev_1'), headSeq: 0, headHash: '' });
      assert.deepEqual(await store.getDevice('dev_1'), device);
      await store.enrollDevice(deviceRecord('dev_2', { hostname: 'build-box', enrolledAt: at(1), personId: 'per_b' }));
      await store.enrollDevice(deviceRecord('dev_3', { hostname: undefined, os: undefined, enrolledAt: at(2) }));
      await store.upsertPerson({ id: 'per_b', iss: 'local', sub: 'bob', email: 'bob@example.org', groups: [] }, at(0));
      assert.deepEqual((await store.listDevices(0, 10)).items.map((d) => d.id), ['dev_1', 'dev_2', 'dev_3']);
      assert.deepEqual(await store.listDevices(1, 1), { items: [(await store.getDevice('dev_2'))!], total: 3 });
      assert.equal((await store.getDevice('dev_3'))?.hostname, undefined);
      assert.deepEqual((await store.listDevices(0, 10, 'BUILD')).items.map((d) => d.id), ['dev_2']);
      assert.deepEqual((await store.listDevices(0, 10, 'bob@')).items.map((d) => d.id), ['dev_2'], 'by the person');
      assert.deepEqual((await store.listDevices(0, 10, '%')).total, 0, 'wildcards are literal');
      assert.equal(await store.revokeDevice('dev_1', at(5)), true);
      assert.equal(await store.revokeDevice('dev_1', at(6)), false);
      assert.equal((await store.getDevice('dev_1'))?.revokedAt, at(5));
      assert.equal(await store.getDevice('dev_404'), undefined);
    }));

    it('re-enrols with the same key keeping the head, refuses another key', withStore(async (store) => {
      await enrolled(store, 'dev_1');
      const chain = new ChainBuilder('dev_1');
      await store.ingest('dev_1', chain.next(3), at(10));
      const again = await store.enrollDevice(deviceRecord('dev_1', { personId: 'per_new', certificate: '{"cert":2}', enrolledAt: at(20) }));
      assert.equal(again.personId, 'per_new');
      assert.equal(again.certificate, '{"cert":2}');
      assert.equal(again.headSeq, 3);
      assert.equal(again.headHash, chain.hash);
      await rejectsWith(store.enrollDevice(deviceRecord('dev_1', { keyId: 'sha256:other' })), 'KEY_MISMATCH');
      assert.equal((await store.getDevice('dev_1'))?.keyId, deviceRecord('dev_1').keyId);
      const result = await store.ingest('dev_1', chain.next(1), at(30));
      assert.deepEqual(result.sequenced, [{ seq: 4, index: 3, duplicate: false }], 'the chain continues');
      assert.equal((await store.eventAt('dev_1', 4))?.personId, 'per_new', 'events carry the person at ingest');
    }));

    it('keeps a revocation through re-enrolment', withStore(async (store) => {
      await enrolled(store, 'dev_1');
      await store.revokeDevice('dev_1', at(5));
      const again = await store.enrollDevice(deviceRecord('dev_1', { enrolledAt: at(6) }));
      assert.equal(again.revokedAt, at(5));
    }));
  });

  describe(`${name} store: ingest`, () => {
    it('sequences a first batch and a continuation', withStore(async (store) => {
      await enrolled(store, 'dev_1', 'dev_2');
      const one = new ChainBuilder('dev_1');
      const two = new ChainBuilder('dev_2');
      const first = await store.ingest('dev_1', one.next(3), at(100));
      assert.deepEqual(first, {
        sequenced: [0, 1, 2].map((i) => ({ seq: i + 1, index: i, duplicate: false })),
        stop: undefined,
        headSeq: 3,
        logSize: 3,
      });
      const other = await store.ingest('dev_2', two.next(2), at(101));
      assert.deepEqual(other.sequenced.map((s) => s.index), [3, 4]);
      const next = await store.ingest('dev_1', one.next(2), at(102));
      assert.deepEqual(next.sequenced, [
        { seq: 4, index: 5, duplicate: false },
        { seq: 5, index: 6, duplicate: false },
      ]);
      assert.equal(next.logSize, 7);
      const device = (await store.getDevice('dev_1'))!;
      assert.equal(device.headSeq, 5);
      assert.equal(device.headHash, one.hash);
      assert.equal(device.lastSeenAt, at(102));
      assert.equal(await store.logSize(), 7);
      await assertTreeMatches(store, [...one.all.slice(0, 3), ...two.all, ...one.all.slice(3)].map((e) => e.leafHash));
    }));

    it('treats a batch sent again as duplicates with the same indexes', withStore(async (store) => {
      await enrolled(store, 'dev_1');
      const chain = new ChainBuilder('dev_1');
      const batch = chain.next(4);
      const first = await store.ingest('dev_1', batch, at(1));
      const again = await store.ingest('dev_1', batch, at(2));
      assert.deepEqual(again.sequenced, first.sequenced.map((s) => ({ ...s, duplicate: true })));
      assert.equal(again.stop, undefined);
      assert.equal(again.logSize, 4);
      assert.equal(await store.logSize(), 4);
      assert.equal(await store.countEvents({}), 4);
    }));

    it('accepts a batch that overlaps the head: duplicates, then new events', withStore(async (store) => {
      await enrolled(store, 'dev_1');
      const chain = new ChainBuilder('dev_1');
      await store.ingest('dev_1', chain.next(3), at(1));
      const more = chain.next(2);
      const result = await store.ingest('dev_1', [...chain.all.slice(1, 3), ...more].reverse(), at(2));
      assert.deepEqual(result.sequenced, [
        { seq: 2, index: 1, duplicate: true },
        { seq: 3, index: 2, duplicate: true },
        { seq: 4, index: 3, duplicate: false },
        { seq: 5, index: 4, duplicate: false },
      ]);
      assert.equal(result.headSeq, 5);
    }));

    it('counts a seq repeated inside one batch once', withStore(async (store) => {
      await enrolled(store, 'dev_1');
      const chain = new ChainBuilder('dev_1');
      const [a, b] = chain.next(2);
      const result = await store.ingest('dev_1', [a, b, a], at(1));
      assert.deepEqual(result.sequenced, [
        { seq: 1, index: 0, duplicate: false },
        { seq: 1, index: 0, duplicate: true },
        { seq: 2, index: 1, duplicate: false },
      ]);
      assert.equal(result.logSize, 2);
    }));

    it('stops at a gap and names the expected seq', withStore(async (store) => {
      await enrolled(store, 'dev_1');
      const chain = new ChainBuilder('dev_1');
      const events = chain.next(5);
      await store.ingest('dev_1', events.slice(0, 2), at(1));
      const result = await store.ingest('dev_1', events.slice(3), at(2));
      assert.deepEqual(result, { sequenced: [], stop: { reason: 'gap', seq: 4, expectedSeq: 3 }, headSeq: 2, logSize: 2 });
      const partial = await store.ingest('dev_1', [events[2], events[4]], at(3));
      assert.deepEqual(partial.sequenced, [{ seq: 3, index: 2, duplicate: false }]);
      assert.deepEqual(partial.stop, { reason: 'gap', seq: 5, expectedSeq: 4 });
      assert.equal(partial.headSeq, 3);
    }));

    it('stops at a conflict: the same seq with another hash', withStore(async (store) => {
      await enrolled(store, 'dev_1');
      const chain = new ChainBuilder('dev_1');
      const events = chain.next(3);
      await store.ingest('dev_1', events, at(1));
      const forged = makeEvent('dev_1', 2, events[0].hash, { variant: 'forged' });
      const result = await store.ingest('dev_1', [events[0], forged, events[2]], at(2));
      assert.deepEqual(result, {
        sequenced: [{ seq: 1, index: 0, duplicate: true }],
        stop: { reason: 'conflict', seq: 2 },
        headSeq: 3,
        logSize: 3,
      });
      assert.equal((await store.eventAt('dev_1', 2))?.hash, events[1].hash, 'the stored event stays');
    }));

    it('stops at a chain break: prev is not the head hash', withStore(async (store) => {
      await enrolled(store, 'dev_1');
      const chain = new ChainBuilder('dev_1');
      await store.ingest('dev_1', chain.next(2), at(1));
      const broken = makeEvent('dev_1', 3, 'sha256:not-the-head');
      const result = await store.ingest('dev_1', [broken], at(2));
      assert.deepEqual(result, { sequenced: [], stop: { reason: 'chain', seq: 3 }, headSeq: 2, logSize: 2 });
      const wrongFirst = makeEvent('dev_2', 1, 'sha256:anything');
      await enrolled(store, 'dev_2');
      assert.deepEqual((await store.ingest('dev_2', [wrongFirst], at(3))).stop, { reason: 'chain', seq: 1 }, 'first prev is empty');
    }));

    it('refuses unknown and revoked devices and appends nothing', withStore(async (store) => {
      const chain = new ChainBuilder('dev_1');
      await rejectsWith(store.ingest('dev_1', chain.next(1), at(1)), 'UNKNOWN_DEVICE');
      await enrolled(store, 'dev_1');
      await store.ingest('dev_1', chain.all, at(2));
      await store.revokeDevice('dev_1', at(3));
      await rejectsWith(store.ingest('dev_1', chain.next(2), at(4)), 'DEVICE_REVOKED');
      assert.equal(await store.logSize(), 1);
      assert.equal((await store.getDevice('dev_1'))?.headSeq, 1);
    }));

    it('refuses values it cannot keep, atomically', withStore(async (store) => {
      await enrolled(store, 'dev_1');
      const chain = new ChainBuilder('dev_1');
      const [good] = chain.next(1);
      await rejectsWith(store.ingest('dev_1', [good, { ...makeEvent('dev_1', 0, '') }], at(1)), 'INVALID_INPUT');
      await rejectsWith(store.ingest('dev_1', [{ ...good, time: 'yesterday' }], at(1)), 'INVALID_INPUT');
      await rejectsWith(store.ingest('dev_1', [{ ...good, leafHash: Buffer.alloc(3) }], at(1)), 'INVALID_INPUT');
      assert.equal(await store.logSize(), 0);
    }));

    it('takes an empty batch as a heartbeat', withStore(async (store) => {
      await enrolled(store, 'dev_1');
      assert.deepEqual(await store.ingest('dev_1', [], at(7)), { sequenced: [], stop: undefined, headSeq: 0, logSize: 0 });
      assert.equal((await store.getDevice('dev_1'))?.lastSeenAt, at(7));
    }));

    it('builds the tree of every leaf across many batches from several devices', withStore(async (store) => {
      const chains = ['dev_a', 'dev_b', 'dev_c'].map((id) => new ChainBuilder(id));
      for (const chain of chains) await enrolled(store, chain.deviceId);
      const leaves: Buffer[] = [];
      const sizes = [1, 2, 3, 1, 5, 8, 1, 13, 7, 2, 16, 1, 31, 4];
      for (const [i, size] of sizes.entries()) {
        const chain = chains[i % chains.length];
        const batch = chain.next(size);
        const result = await store.ingest(chain.deviceId, batch, at(i));
        assert.deepEqual(result.sequenced.map((s) => s.index), batch.map((_, j) => leaves.length + j));
        leaves.push(...batch.map((e) => e.leafHash));
      }
      await assertTreeMatches(store, leaves);
      const incomplete = await store.nodes([{ level: 3, index: Math.floor(leaves.length / 8) }, { level: 0, index: leaves.length }]);
      assert.equal(incomplete.size, 0, 'nodes not yet complete are absent');
      const some = await store.nodes([{ level: 0, index: 5 }, { level: 2, index: 1 }]);
      assert.deepEqual([...some.keys()].sort(), ['0/5', '2/1']);
      assert.deepEqual(some.get('0/5'), leaves[5]);
    }));
  });

  describe(`${name} store: reading events`, () => {
    it('returns events as ingested, by index and by device seq', withStore(async (store) => {
      await store.enrollDevice(deviceRecord('dev_1', { personId: 'per_a' }));
      const chain = new ChainBuilder('dev_1');
      const [full, bare] = [
        ...chain.next(1, {
          sessionId: 's1',
          toolUseId: 'toolu_1',
          promptId: 'p1',
          agentVersion: '2.1.197',
          decision: 'deny',
          rules: ['no-curl-sh', 'secrets'],
          policyHash: 'sha256:pol',
        }),
        ...chain.next(1),
      ];
      await store.ingest('dev_1', [full, bare], at(50));
      const { leafHash: _leaf, ...fields } = full;
      const expected: StoredEvent = { ...fields, index: 0, deviceId: 'dev_1', personId: 'per_a', receivedAt: at(50) };
      for (const key of Object.keys(expected) as (keyof StoredEvent)[]) if (expected[key] === undefined) delete expected[key];
      assert.deepEqual(await store.eventAt('dev_1', 1), expected);
      const [first, second] = await store.eventsByIndex(0, 10);
      assert.deepEqual(first, expected);
      assert.deepEqual(second, {
        index: 1,
        deviceId: 'dev_1',
        personId: 'per_a',
        receivedAt: at(50),
        seq: 2,
        prev: full.hash,
        hash: bare.hash,
        envelope: bare.envelope,
        time: bare.time,
        kind: 'hook.PreToolUse',
        agentName: 'claude-code',
        rules: [],
      });
      assert.deepEqual(await store.eventsByIndex(1, 1), [second]);
      assert.equal(await store.eventAt('dev_1', 3), undefined);
    }));

    it('filters, orders and pages events', withStore(async (store) => {
      await store.enrollDevice(deviceRecord('dev_1', { personId: 'per_a' }));
      await store.enrollDevice(deviceRecord('dev_2', { personId: 'per_b' }));
      const one = new ChainBuilder('dev_1');
      const two = new ChainBuilder('dev_2');
      // dev_1: seq 1..10 at seconds 1..10; even seqs deny by rule 'r_x', seq%3 by 'r_x_y' too; session by half.
      await store.ingest(
        'dev_1',
        one.next(10, (seq) => ({
          sessionId: seq <= 5 ? 's1' : 's2',
          decision: seq % 2 === 0 ? 'deny' : 'allow',
          rules: [...(seq % 2 === 0 ? ['r_x'] : []), ...(seq % 3 === 0 ? ['r_x_y'] : [])],
          kind: seq === 10 ? 'hook.PostToolUse' : 'hook.PreToolUse',
        })),
        at(100),
      );
      await store.ingest('dev_2', two.next(4, (seq) => ({ sessionId: 's3', time: at(100 + seq) })), at(101));
      const seqs = async (filter: Parameters<Store['events']>[0]) =>
        (await store.events(filter)).map((e) => `${e.deviceId.slice(-1)}:${e.seq}`);

      assert.deepEqual((await store.events({})).length, 14);
      assert.deepEqual(await seqs({ deviceId: 'dev_2' }), ['2:1', '2:2', '2:3', '2:4']);
      assert.deepEqual(await seqs({ personId: 'per_b', limit: 2 }), ['2:1', '2:2']);
      assert.deepEqual(await seqs({ sessionId: 's2', decision: 'deny' }), ['1:6', '1:8', '1:10']);
      assert.deepEqual(await seqs({ kind: 'hook.PostToolUse' }), ['1:10']);
      assert.deepEqual(await seqs({ rule: 'r_x_y' }), ['1:3', '1:6', '1:9']);
      assert.deepEqual(await seqs({ rule: 'r_x', afterIndex: 5 }), ['1:8', '1:10'], 'one rule id, exactly');
      assert.deepEqual(await seqs({ rule: 'r_%' }), [], 'no wildcards');
      assert.deepEqual(await seqs({ since: at(9), until: at(102) }), ['1:9', '1:10', '2:1']);
      // The same instants written at +01:00 select the same events: times compare as instants, not as text.
      const inParis = (seconds: number) => new Date(T0 + 3_600_000 + seconds * 1000).toISOString().replace('Z', '+01:00');
      assert.equal(Date.parse(inParis(9)), Date.parse(at(9)));
      assert.deepEqual(await seqs({ since: inParis(9), until: inParis(102) }), ['1:9', '1:10', '2:1']);
      assert.deepEqual(await seqs({ order: 'desc', limit: 3 }), ['2:4', '2:3', '2:2']);
      assert.deepEqual(await seqs({ afterIndex: 3, beforeIndex: 6 }), ['1:5', '1:6']);
      assert.deepEqual(await seqs({ beforeIndex: 12, order: 'desc', limit: 2 }), ['2:2', '2:1']);
      assert.equal((await store.events({ limit: 100_000 })).length, 14);
      assert.equal(await store.countEvents({}), 14);
      assert.equal(await store.countEvents({ decision: 'deny', limit: 1 }), 5, 'count ignores limit');
      assert.equal(await store.countEvents({ rule: 'r_x', deviceId: 'dev_1' }), 5);
      await rejectsWith(store.events({ since: 'last week' }), 'INVALID_INPUT');

      // Paging by index: each page starts after the last index of the one before.
      const pages: number[][] = [];
      let afterIndex: number | undefined;
      for (;;) {
        const page = await store.events({ afterIndex, limit: 4 });
        if (page.length === 0) break;
        pages.push(page.map((e) => e.index));
        afterIndex = page[page.length - 1].index;
      }
      assert.deepEqual(pages, [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11], [12, 13]]);
    }));

    it('summarises sessions and agents', withStore(async (store) => {
      await store.enrollDevice(deviceRecord('dev_1', { personId: 'per_a' }));
      await store.enrollDevice(deviceRecord('dev_2', { personId: 'per_b' }));
      const one = new ChainBuilder('dev_1');
      const two = new ChainBuilder('dev_2');
      await store.ingest('dev_1', one.next(3, (seq) => ({ sessionId: 's1', agentVersion: '1.0', decision: seq === 2 ? 'deny' : 'allow', time: at(10 + seq) })), at(20));
      await store.ingest('dev_1', one.next(2, (seq) => ({ sessionId: 's1', agentVersion: '1.1', decision: 'deny', time: at(10 + seq) })), at(21));
      await store.ingest('dev_1', one.next(1, { sessionId: 's2', agentName: 'codex', time: at(30) }), at(22));
      await store.ingest('dev_2', two.next(2, (seq) => ({ sessionId: 's3', agentVersion: '1.0', time: at(40 + seq) })), at(23));
      await store.ingest('dev_2', two.next(1, { time: at(50) }), at(24)); // no session

      const all = await store.sessions({ offset: 0, limit: 10 });
      assert.equal(all.total, 3);
      assert.deepEqual(all.items.map((s) => s.sessionId), ['s3', 's2', 's1'], 'latest activity first');
      assert.deepEqual(all.items[2], {
        sessionId: 's1',
        deviceId: 'dev_1',
        personId: 'per_a',
        agentName: 'claude-code',
        agentVersion: '1.1',
        firstTime: at(11),
        lastTime: at(15),
        events: 5,
        denials: 3,
      });
      assert.deepEqual((await store.sessions({ deviceId: 'dev_1', offset: 1, limit: 1 })), {
        items: [all.items[2]],
        total: 2,
      });
      assert.deepEqual((await store.sessions({ personId: 'per_b', offset: 0, limit: 10 })).items.map((s) => s.sessionId), ['s3']);

      assert.deepEqual(await store.agents(), [
        { deviceId: 'dev_2', agentName: 'claude-code', agentVersion: '1.0', lastTime: at(50), events: 3 },
        { deviceId: 'dev_1', agentName: 'codex', lastTime: at(30), events: 1 },
        { deviceId: 'dev_1', agentName: 'claude-code', agentVersion: '1.1', lastTime: at(15), events: 5 },
      ]);
    }));
  });

  describe(`${name} store: checkpoints`, () => {
    it('keeps the first checkpoint of a size and lists them newest first', withStore(async (store) => {
      assert.equal(await store.latestCheckpoint(), undefined);
      const c1 = { size: 1, root: Buffer.alloc(32, 1), note: 'note 1', createdAt: at(1) };
      const c4 = { size: 4, root: Buffer.alloc(32, 4), note: 'note 4', createdAt: at(4) };
      assert.deepEqual(await store.addCheckpoint(c1), c1);
      assert.deepEqual(await store.addCheckpoint(c4), c4);
      const other = { size: 4, root: Buffer.alloc(32, 9), note: 'another note', createdAt: at(5) };
      assert.deepEqual(await store.addCheckpoint(other), c4, 'a second checkpoint for a size is refused');
      assert.deepEqual(await store.checkpointAt(4), c4);
      assert.equal(await store.checkpointAt(2), undefined);
      assert.deepEqual(await store.latestCheckpoint(), c4);
      assert.deepEqual(await store.listCheckpoints(0, 10), { items: [c4, c1], total: 2 });
      assert.deepEqual(await store.listCheckpoints(1, 10), { items: [c1], total: 2 });
    }));
  });

  describe(`${name} store: control (policy bundles, kill switches)`, () => {
    it('publishes policy bundles; the latest is active', withStore(async (store) => {
      const v0 = await store.controlVersion();
      assert.equal(await store.activePolicyBundle(), undefined);
      const a = { hash: 'sha256:a', envelope: '{"a":1}', publishedBy: 'admin', publishedAt: at(1) };
      const b = { hash: 'sha256:b', envelope: '{"b":1}', publishedBy: 'admin', publishedAt: at(2) };
      await store.addPolicyBundle(a);
      await store.addPolicyBundle(b);
      assert.deepEqual(await store.activePolicyBundle(), b);
      assert.deepEqual(await store.policyBundle('sha256:a'), a);
      assert.equal(await store.policyBundle('sha256:zzz'), undefined);
      const rollback = { ...a, publishedAt: at(3) };
      await store.addPolicyBundle(rollback);
      assert.deepEqual(await store.activePolicyBundle(), rollback, 'publishing an older bundle again makes it active');
      assert.deepEqual(await store.policyBundle('sha256:a'), rollback);
      assert.equal(await store.controlVersion(), v0 + 3);
    }));

    it('adds and lifts kill switches', withStore(async (store) => {
      const v0 = await store.controlVersion();
      const mcp = await store.addKill({ target: 'mcp:evil', reason: 'exfiltration', createdBy: 'admin', createdAt: at(1) });
      assert.deepEqual(mcp, { id: mcp.id, target: 'mcp:evil', reason: 'exfiltration', createdBy: 'admin', createdAt: at(1) });
      const tool = await store.addKill({ target: 'tool:WebFetch', createdBy: 'admin', createdAt: at(2) });
      assert.ok(tool.id > mcp.id);
      assert.deepEqual(await store.activeKills(), [mcp, tool]);
      assert.equal(await store.controlVersion(), v0 + 2);
      assert.equal(await store.liftKill('mcp:evil', at(3)), true);
      assert.equal(await store.liftKill('mcp:evil', at(4)), false);
      assert.equal(await store.liftKill('tool:nothing', at(4)), false);
      assert.equal(await store.controlVersion(), v0 + 3, 'a lift that changes nothing keeps the version');
      assert.deepEqual(await store.activeKills(), [tool]);
    }));
  });

  describe(`${name} store: credentials`, () => {
    it('finds admin tokens by secret hash until revoked', withStore(async (store) => {
      const token = { id: 'tok_1', name: 'ci', role: 'auditor' as const, createdAt: at(1) };
      await store.createAdminToken(token, 'hash-1');
      await store.createAdminToken({ id: 'tok_0', name: 'root', role: 'admin', createdAt: at(0) }, 'hash-0');
      assert.deepEqual(await store.findAdminToken('hash-1'), token);
      assert.equal(await store.findAdminToken('hash-x'), undefined);
      assert.deepEqual((await store.listAdminTokens()).map((t) => t.id), ['tok_0', 'tok_1']);
      assert.equal(await store.revokeAdminToken('tok_1', at(2)), true);
      assert.equal(await store.revokeAdminToken('tok_1', at(3)), false);
      assert.equal(await store.findAdminToken('hash-1'), undefined);
      assert.deepEqual((await store.listAdminTokens())[1], { ...token, revokedAt: at(2) });
    }));

    it('maps telemetry tokens to devices, one token per device', withStore(async (store) => {
      await enrolled(store, 'dev_1', 'dev_2');
      await store.setTelemetryToken('dev_1', 'tel-1');
      await store.setTelemetryToken('dev_2', 'tel-2');
      assert.equal(await store.deviceForTelemetryToken('tel-1'), 'dev_1');
      await store.setTelemetryToken('dev_1', 'tel-1b');
      assert.equal(await store.deviceForTelemetryToken('tel-1'), undefined, 'the old token is replaced');
      assert.equal(await store.deviceForTelemetryToken('tel-1b'), 'dev_1');
      await store.revokeDevice('dev_2', at(1));
      assert.equal(await store.deviceForTelemetryToken('tel-2'), undefined, 'not for a revoked device');
    }));

    it('accepts a nonce once until it expires', withStore(async (store) => {
      assert.equal(await store.useNonce('key_1', 'n1', at(60), at(0)), true);
      assert.equal(await store.useNonce('key_1', 'n1', at(60), at(1)), false, 'a replay');
      assert.equal(await store.useNonce('key_2', 'n1', at(60), at(1)), true, 'nonces are per key');
      assert.equal(await store.useNonce('key_1', 'n1', at(120), at(59)), false);
      assert.equal(await store.useNonce('key_1', 'n1', at(180), at(60)), true, 'purged once expired');
    }));
  });

  describe(`${name} store: telemetry`, () => {
    it('keeps records and finds them by session and tool use', withStore(async (store) => {
      await store.addTelemetry([]);
      const log = {
        signal: 'log' as const,
        name: 'claude_code.tool_result',
        time: at(1),
        sessionId: 's1',
        toolUseId: 'toolu_1',
        promptId: 'p1',
        deviceId: 'dev_1',
        attributes: { tool_name: 'Bash', success: true, nested: { n: 1 } },
      };
      const metric = { signal: 'metric' as const, name: 'claude_code.cost.usage', time: at(2), sessionId: 's1', attributes: {}, value: 0.25 };
      const other = { signal: 'log' as const, name: 'claude_code.api_request', time: at(3), sessionId: 's2', attributes: {} };
      await store.addTelemetry([log, metric, other]);
      assert.deepEqual(await store.telemetry({ sessionId: 's1' }), [log, metric]);
      assert.deepEqual(await store.telemetry({ toolUseId: 'toolu_1' }), [log]);
      assert.deepEqual(await store.telemetry({ sessionId: 's1', limit: 1 }), [log]);
      assert.deepEqual(await store.telemetry({}), [log, metric, other]);
    }));
  });
}
