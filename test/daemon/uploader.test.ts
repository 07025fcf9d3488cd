// The daemon uploads its journal to a real `writ server` and witnesses the org log: through restarts and
// outages every event arrives once and in order, and a server that rewrites its log raises an alarm.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Journal } from '../../src/daemon/journal.js';
import { loadOrCreateDeviceKey } from '../../src/daemon/keys.js';
import { UPLOAD_CURSOR_KEY } from '../../src/daemon/uploader.js';
import { openLogCheckpoint } from '../../src/ledger/log-checkpoint.js';
import { parseVerifierKey } from '../../src/ledger/note.js';
import { loadOrCreateOrg } from '../../src/server/org.js';
import { startControlPlane, startEnrolledDaemon, startTamperProxy, type EnrolledDaemon, type TestControlPlane } from '../support/control-plane.js';
import { preToolUse } from '../support/daemon.js';
import { journalEvents } from '../support/journal.js';

async function serverSeqs(plane: TestControlPlane, deviceId: string): Promise<number[]> {
  const events = await plane.store.events({ deviceId, limit: 10_000 });
  const indexes = events.map((event) => event.index);
  assert.deepEqual(indexes, [...indexes].sort((a, b) => a - b), 'log order');
  return events.map((event) => event.seq);
}

const upTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

async function hooks(device: EnrolledDaemon, count: number, tag: string): Promise<void> {
  for (let i = 0; i < count; i++) {
    const answer = await device.post(preToolUse('Bash', { command: `echo ${tag}-${i}` }));
    assert.equal(answer.status, 200);
  }
}

describe('uploader', () => {
  let plane: TestControlPlane;
  before(async () => {
    plane = await startControlPlane();
  });
  after(async () => {
    await plane.close();
  });

  test('uploads every event once and in order, and the events carry the enrolment assurance', async () => {
    const device = await startEnrolledDaemon(plane);
    try {
      await hooks(device, 5, 'first');
      const status = await device.daemon.uploadNow();
      assert.equal(status?.pending, 0, status?.last_error);
      const head = journalEvents(device.home).length;
      assert.equal(status?.uploaded_seq, head);
      assert.deepEqual(await serverSeqs(plane, device.enrollment.device_id), upTo(head));
      assert.ok(journalEvents(device.home).every((event) => event.actor.assurance === 'local-os-user'));
      const health = JSON.parse((await fetchHealth(device)).body);
      assert.equal(health.server.uploader.pending, 0);
      assert.equal(health.server.uploader.state, 'ok');
    } finally {
      await device.daemon.close();
    }
  });

  test('keeps its cursor across a restart and an outage: nothing lost, nothing twice', async () => {
    const device = await startEnrolledDaemon(plane);
    const deviceId = device.enrollment.device_id;
    await hooks(device, 3, 'before');
    await device.daemon.uploadNow();
    const uploaded = journalEvents(device.home).length;

    await plane.stop();
    await hooks(device, 4, 'offline');
    const offline = await device.daemon.uploadNow();
    assert.ok(offline!.pending > 0, 'events wait in the journal while the server is away');
    assert.match(offline!.last_error ?? '', /cannot reach the server \(ECONNREFUSED\)/);
    assert.equal(offline!.state, 'warn');
    const hookWhileDown = await device.post(preToolUse('Bash', { command: 'cat ~/.aws/credentials' }));
    assert.equal(JSON.parse(hookWhileDown.body).hookSpecificOutput.permissionDecision, 'deny', 'enforcement does not depend on the server');
    await device.daemon.close(); // its last upload attempt fails too
    assert.deepEqual(await serverSeqs(plane, deviceId), upTo(uploaded));

    const restarted = await device.restart();
    assert.equal((await fetchHealth(device)).status, 200);
    assert.equal(restarted.serverStatus()?.uploader.uploaded_seq, uploaded, 'the cursor survived the restart');
    await plane.restart();
    await hooks(device, 2, 'after');
    const status = await restarted.uploadNow();
    assert.equal(status?.pending, 0, status?.last_error);
    await restarted.close();
    const all = journalEvents(device.home).length;
    assert.deepEqual(await serverSeqs(plane, deviceId), upTo(all), 'every event once, in order, including daemon.stop');
  });

  test('follows the server back when it reports a gap (a cursor ahead of what the server holds)', async () => {
    const proxy = await startTamperProxy(plane.url);
    const device = await startEnrolledDaemon(plane, { serverUrl: proxy.url });
    proxy.tamper = ({ path }) => (path === '/v1/ingest' ? { status: 503, body: '{"error":{"code":"unavailable","message":"down"}}' } : undefined);
    await hooks(device, 4, 'gap');
    await device.daemon.close();
    // As if these events had been uploaded to a server since restored from a backup taken before them.
    const key = loadOrCreateDeviceKey(device.home.root);
    const journal = Journal.open(device.home.journal, key);
    journal.setMeta(UPLOAD_CURSOR_KEY, '4');
    journal.close();
    proxy.tamper = () => undefined;
    const daemon = await device.restart();
    try {
      const status = await daemon.uploadNow();
      assert.equal(status?.pending, 0, status?.last_error);
      assert.ok(device.logs.some((line) => /server expects seq 1/.test(line)), device.logs.join('\n'));
      assert.deepEqual(await serverSeqs(plane, device.enrollment.device_id), upTo(journalEvents(device.home).length));
    } finally {
      await daemon.close();
      await proxy.close();
    }
  });

  test('witnesses the log: each new checkpoint is kept only once a consistency proof shows it extends the last', async () => {
    const device = await startEnrolledDaemon(plane);
    try {
      await hooks(device, 2, 'witness');
      await device.daemon.uploadNow();
      await plane.publishCheckpoint();
      const first = await device.daemon.uploadNow();
      const size = (await plane.store.latestCheckpoint())!.size;
      assert.equal(first?.checkpoint_size, size);
      await hooks(device, 3, 'witness-more');
      await device.daemon.uploadNow();
      await plane.publishCheckpoint();
      const second = await device.daemon.uploadNow();
      assert.ok(second!.checkpoint_size! > size);
      assert.equal(second?.alarms, 0);
      assert.equal(second?.included_seq, second?.uploaded_seq, 'the last uploaded event is proven to be in the log');
    } finally {
      await device.daemon.close();
    }
  });

  describe('a server that lies', () => {
    const verifier = (plane: TestControlPlane) => parseVerifierKey(plane.org.verifierKey);
    const checkpointText = (note: string) => ({ status: 200, body: note, contentType: 'text/plain; charset=utf-8' });

    async function witnessed(plane: TestControlPlane) {
      const proxy = await startTamperProxy(plane.url);
      const device = await startEnrolledDaemon(plane, { serverUrl: proxy.url });
      await hooks(device, 2, 'honest');
      await device.daemon.uploadNow();
      await plane.publishCheckpoint();
      const status = await device.daemon.uploadNow();
      assert.ok(status!.checkpoint_size! > 0);
      return { proxy, device, size: status!.checkpoint_size! };
    }

    function alarms(device: EnrolledDaemon) {
      return journalEvents(device.home).filter((event) => event.kind === 'log.alarm');
    }

    async function expectAlarm(device: EnrolledDaemon, size: number, problem: RegExp) {
      const status = await device.daemon.uploadNow();
      assert.equal(status?.state, 'error');
      assert.match(status?.last_alarm ?? '', problem);
      assert.equal(status?.checkpoint_size, size, 'the verified checkpoint is not replaced');
      await device.daemon.uploadNow();
      const recorded = alarms(device);
      assert.equal(recorded.length, 1, 'recorded once, however often it is seen');
      assert.match(String(recorded[0].data.problem), problem);
      assert.ok(device.logs.some((line) => line.startsWith('ALARM: ')));
      const answer = await device.post(preToolUse('Bash', { command: 'cat ~/.aws/credentials' }));
      assert.equal(JSON.parse(answer.body).hookSpecificOutput.permissionDecision, 'deny', 'enforcement carries on');
      return recorded[0];
    }

    test('a checkpoint for a smaller tree (an older one, validly signed) raises the alarm', async () => {
      const { proxy, device, size } = await witnessed(plane);
      try {
        await hooks(device, 2, 'more');
        await device.daemon.uploadNow();
        await plane.publishCheckpoint();
        const grown = await device.daemon.uploadNow();
        const old = (await plane.store.checkpointAt(size))!;
        proxy.tamper = ({ path }) => (path === '/v1/log/checkpoint' ? checkpointText(old.note) : undefined);
        const alarm = await expectAlarm(device, grown!.checkpoint_size!, /went back from size \d+ to \d+/);
        assert.equal(alarm.data.old_size, grown!.checkpoint_size);
        assert.equal(alarm.data.new_size, size);
        assert.equal(typeof alarm.data.old_root, 'string');
        assert.equal(alarm.data.new_root, old.root.toString('base64'));
      } finally {
        await device.daemon.close();
        await proxy.close();
      }
    });

    test('a checkpoint signed by another key raises the alarm', async () => {
      const { proxy, device, size } = await witnessed(plane);
      try {
        const impostor = loadOrCreateOrg(mkdtempSync(join(tmpdir(), 'writ-impostor-')), plane.org.origin);
        const real = openLogCheckpoint((await plane.store.latestCheckpoint())!.note, verifier(plane));
        const forged = impostor.signCheckpoint({ ...real, size: real.size + 5 });
        proxy.tamper = ({ path }) => (path === '/v1/log/checkpoint' ? checkpointText(forged) : undefined);
        await expectAlarm(device, size, /does not verify against the pinned org key/);
      } finally {
        await device.daemon.close();
        await proxy.close();
      }
    });

    test('a second root for the same size (a fork, signed with the org key) raises the alarm', async () => {
      const { proxy, device, size } = await witnessed(plane);
      try {
        const real = openLogCheckpoint((await plane.store.latestCheckpoint())!.note, verifier(plane));
        const fork = plane.org.signCheckpoint({ ...real, root: Buffer.alloc(32, 7) });
        proxy.tamper = ({ path }) => (path === '/v1/log/checkpoint' ? checkpointText(fork) : undefined);
        const alarm = await expectAlarm(device, size, /two different roots for size/);
        assert.equal(alarm.data.new_root, Buffer.alloc(32, 7).toString('base64'));
      } finally {
        await device.daemon.close();
        await proxy.close();
      }
    });

    test('a larger checkpoint without a valid consistency proof raises the alarm', async () => {
      const { proxy, device, size } = await witnessed(plane);
      try {
        const real = openLogCheckpoint((await plane.store.latestCheckpoint())!.note, verifier(plane));
        // A history rewritten after the device saw it: a bigger tree whose root does not extend the old one.
        const rewritten = plane.org.signCheckpoint({ ...real, size: real.size + 3, root: Buffer.alloc(32, 9) });
        proxy.tamper = ({ path }) => {
          if (path === '/v1/log/checkpoint') return checkpointText(rewritten);
          if (path.startsWith('/v1/log/consistency')) return { status: 200, body: JSON.stringify({ proof: [Buffer.alloc(32, 1).toString('base64')] }) };
          return undefined;
        };
        await expectAlarm(device, size, /not proven to extend/);
      } finally {
        await device.daemon.close();
        await proxy.close();
      }
    });

    test('an inclusion proof that does not put the device\'s last event in the tree raises the alarm', async () => {
      const proxy = await startTamperProxy(plane.url);
      const device = await startEnrolledDaemon(plane, { serverUrl: proxy.url });
      try {
        await hooks(device, 3, 'included');
        await device.daemon.uploadNow();
        await plane.publishCheckpoint();
        proxy.tamper = ({ path }) => (path.startsWith('/v1/log/inclusion') ? { status: 200, body: JSON.stringify({ proof: [Buffer.alloc(32, 3).toString('base64')] }) } : undefined);
        const status = await device.daemon.uploadNow();
        assert.equal(status?.state, 'error');
        assert.match(status?.last_alarm ?? '', /seq \d+ is not proven to be in the log at index \d+/);
        assert.equal(status?.included_seq, undefined);
        const [alarm] = alarms(device);
        assert.equal(typeof alarm.data.index, 'number');
        assert.equal(alarm.data.size, status?.checkpoint_size);
      } finally {
        await device.daemon.close();
        await proxy.close();
      }
    });

    test('an upload refused as a conflict raises the alarm once and keeps the events for later', async () => {
      const proxy = await startTamperProxy(plane.url);
      const device = await startEnrolledDaemon(plane, { serverUrl: proxy.url });
      try {
        await hooks(device, 1, 'conflict');
        proxy.tamper = ({ path }) => (path === '/v1/ingest' ? { status: 200, body: JSON.stringify({ head_seq: 0, log_size: 0, sequenced: [], stop: { reason: 'conflict', seq: 1 } }) } : undefined);
        const status = await device.daemon.uploadNow();
        assert.equal(status?.state, 'error');
        assert.ok(status!.pending > 0);
        await device.daemon.uploadNow();
        assert.equal(alarms(device).length, 1);
        assert.equal(alarms(device)[0].data.reason, 'conflict');
        proxy.tamper = () => undefined;
        const healed = await device.daemon.uploadNow();
        assert.equal(healed?.pending, 0, healed?.last_error);
      } finally {
        await device.daemon.close();
        await proxy.close();
      }
    });
  });
});

function fetchHealth(device: EnrolledDaemon): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: device.home.socket, path: '/v1/health' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}
