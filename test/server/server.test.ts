// The control plane over real HTTP: enrolment, ingest, the log, control, roles and bad input.
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { canonicalBytes } from '../../src/core/canonical-json.js';
import { verifyDeviceCertificate } from '../../src/core/certificate.js';
import { openControlState, openPolicyBundle } from '../../src/core/policy-bundle.js';
import { signRequest } from '../../src/core/request-signature.js';
import { createBundleVerifier } from '../../src/ledger/bundle.js';
import { openLogCheckpoint } from '../../src/ledger/log-checkpoint.js';
import { verifyConsistency } from '../../src/ledger/merkle.js';
import { parseVerifierKey } from '../../src/ledger/note.js';
import { verifyTlogProof } from '../../src/ledger/tlog-proof.js';
import { SimulatedDevice, startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
const admin = (path: string, init: RequestInit = {}, token = server.adminToken) =>
  fetch(server.url + path, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(init.headers ?? {}) } });

async function ingest(device: SimulatedDevice, events: unknown[]) {
  const response = await device.request(`${server.url}/v1/ingest`, 'POST', { events });
  return { status: response.status, body: (await response.json()) as any };
}

async function token(role: string): Promise<string> {
  const response = await admin('/v1/tokens', { method: 'POST', body: JSON.stringify({ name: `${role}-${Math.random()}`, role }) });
  assert.equal(response.status, 201);
  return ((await response.json()) as { secret: string }).secret;
}

async function checkpoint(size: number): Promise<string> {
  for (let tries = 0; tries < 100; tries++) {
    const response = await fetch(`${server.url}/log/checkpoint`);
    if (response.status === 200) {
      const note = await response.text();
      if (Number(note.split('\n')[1]) >= size) return note;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no checkpoint of size ${size}`);
}

before(async () => {
  server = await startTestServer();
});
after(async () => server.close());

describe('enrolment', () => {
  it('certifies a device for a local person with an enroller token, verifiable with the org key', async () => {
    const device = new SimulatedDevice();
    const answer = (await device.enroll(server, await token('enroller'))) as any;
    assert.equal(answer.device_id, device.id);
    assert.equal(answer.assurance, 'local-os-user');
    const certificate = verifyDeviceCertificate(answer.certificate, createPublicKey(answer.org.public_key_pem), answer.org.origin);
    assert.equal(certificate.device_id, device.id);
    assert.equal(certificate.person.iss, 'local');
    assert.match(answer.telemetry_token, /^writ_/);
  });

  it('refuses enrolment without a token, with an auditor token, and when signed by another key', async () => {
    const device = new SimulatedDevice();
    const body = { public_key_pem: device.publicKeyPem, os_user: 'dev', hostname: 'h' };
    assert.equal((await device.request(`${server.url}/v1/enroll`, 'POST', body)).status, 401);
    assert.equal((await device.request(`${server.url}/v1/enroll`, 'POST', body, { authorization: `Bearer ${await token('auditor')}` })).status, 403);
    const impostor = new SimulatedDevice();
    const response = await impostor.request(`${server.url}/v1/enroll`, 'POST', body, { authorization: `Bearer ${server.adminToken}` });
    assert.equal(response.status, 401);
    assert.match(((await response.json()) as any).error.message, /signed by another key/);
  });
  it('refuses a replayed enrolment request, so a captured one cannot fetch a fresh telemetry token', async () => {
    const device = new SimulatedDevice();
    const bytes = Buffer.from(JSON.stringify({ public_key_pem: device.publicKeyPem, os_user: 'dev', hostname: 'h' }));
    const headers = { ...signRequest({ method: 'POST', path: '/v1/enroll', body: bytes }, device.signer), 'content-type': 'application/json', authorization: `Bearer ${server.adminToken}` };
    assert.equal((await fetch(`${server.url}/v1/enroll`, { method: 'POST', headers, body: bytes })).status, 200);
    const replay = await fetch(`${server.url}/v1/enroll`, { method: 'POST', headers, body: bytes });
    assert.equal(replay.status, 401);
    assert.match(((await replay.json()) as any).error.message, /replayed/);
  });
});

describe('ingest', () => {
  it('sequences events into the log, once, with duplicates idempotent and gaps reported', async () => {
    const device = new SimulatedDevice();
    await device.enroll(server, server.adminToken);
    const events = device.events(10);
    const first = await ingest(device, events.slice(0, 6));
    assert.equal(first.status, 200);
    assert.deepEqual(first.body.sequenced.map((s: any) => s.seq), [1, 2, 3, 4, 5, 6]);
    assert.ok(first.body.sequenced.every((s: any) => !s.duplicate));

    const again = await ingest(device, events.slice(3, 8));
    assert.deepEqual(again.body.sequenced.map((s: any) => [s.seq, s.duplicate]), [[4, true], [5, true], [6, true], [7, false], [8, false]]);
    assert.deepEqual(again.body.sequenced.slice(0, 3).map((s: any) => s.index), first.body.sequenced.slice(3).map((s: any) => s.index));

    const gap = await ingest(device, events.slice(9));
    assert.equal(gap.status, 200);
    assert.deepEqual(gap.body.sequenced, []);
    assert.deepEqual(gap.body.stop, { reason: 'gap', seq: 10, expectedSeq: 9 });
    assert.equal(gap.body.head_seq, 8);
  });

  it('refuses a batch with one mis-signed event and stores none of it', async () => {
    const device = new SimulatedDevice();
    await device.enroll(server, server.adminToken);
    const events = device.events(3);
    const tampered = { ...events[1], payload: Buffer.from(Buffer.from(events[1].payload, 'base64').toString().replace('Bash', 'Bosh')).toString('base64') };
    const answer = await ingest(device, [events[0], tampered, events[2]]);
    assert.equal(answer.status, 400);
    assert.match(answer.body.error.message, /event 1: signature does not verify/);
    const stored = (await (await admin(`/v1/events?device=${device.id}`)).json()) as any;
    assert.equal(stored.total, 0);
  });

  it('refuses events of another device, unknown devices, replays, stale times and malformed bodies', async () => {
    const device = new SimulatedDevice();
    const other = new SimulatedDevice();
    await device.enroll(server, server.adminToken);
    await other.enroll(server, server.adminToken);
    const foreign = await ingest(device, other.events(1));
    assert.equal(foreign.status, 403);
    assert.match(foreign.body.error.message, /uploads only its own events/);

    const stranger = new SimulatedDevice();
    assert.equal((await ingest(stranger, stranger.events(1))).status, 401);

    const bytes = Buffer.from(JSON.stringify({ events: device.events(1) }));
    const headers = { ...signRequest({ method: 'POST', path: '/v1/ingest', body: bytes }, device.signer), 'content-type': 'application/json' };
    assert.equal((await fetch(`${server.url}/v1/ingest`, { method: 'POST', headers, body: bytes })).status, 200);
    const replay = await fetch(`${server.url}/v1/ingest`, { method: 'POST', headers, body: bytes });
    assert.equal(replay.status, 401);
    assert.match(((await replay.json()) as any).error.message, /replayed/);

    const stale = { ...signRequest({ method: 'POST', path: '/v1/ingest', body: bytes }, device.signer, Date.now() - 10 * 60_000), 'content-type': 'application/json' };
    assert.equal((await fetch(`${server.url}/v1/ingest`, { method: 'POST', headers: stale, body: bytes })).status, 401);

    const junk = Buffer.from('{"events": [');
    const junkHeaders = { ...signRequest({ method: 'POST', path: '/v1/ingest', body: junk }, device.signer), 'content-type': 'application/json' };
    const malformed = await fetch(`${server.url}/v1/ingest`, { method: 'POST', headers: junkHeaders, body: junk });
    assert.equal(malformed.status, 400);
    assert.equal(((await malformed.json()) as any).error.code, 'bad_json');

    const wrongShape = await device.request(`${server.url}/v1/ingest`, 'POST', { events: [{ payload: 1 }] });
    assert.equal(wrongShape.status, 400);

    const huge = Buffer.alloc(17 * 1024 * 1024, 0x20);
    const hugeHeaders = { ...signRequest({ method: 'POST', path: '/v1/ingest', body: huge }, device.signer), 'content-type': 'application/json' };
    assert.equal((await fetch(`${server.url}/v1/ingest`, { method: 'POST', headers: hugeHeaders, body: huge })).status, 413);
  });

  it('refuses the next batch of a revoked device and of a revoked person', async () => {
    const device = new SimulatedDevice();
    const enrolled = (await device.enroll(server, server.adminToken)) as any;
    assert.equal((await ingest(device, device.events(2))).status, 200);
    assert.equal((await admin(`/v1/devices/${device.id}/revoke`, { method: 'POST' })).status, 200);
    const refused = await ingest(device, device.events(1));
    assert.equal(refused.status, 403);
    assert.match(refused.body.error.message, /revoked/);

    const second = new SimulatedDevice();
    const answer = (await second.enroll(server, server.adminToken)) as any;
    assert.equal((await admin(`/v1/people/${answer.person.id}/revoke`, { method: 'POST' })).status, 200);
    assert.equal((await ingest(second, second.events(1))).status, 403);
    assert.ok(enrolled.person.id);
  });
});

describe('transparency log', () => {
  it('signs checkpoints, serves receipts that verify offline, and proves consistency between checkpoints', async () => {
    const device = new SimulatedDevice();
    const answer = (await device.enroll(server, server.adminToken)) as any;
    const verifier = parseVerifierKey(answer.org.verifier_key);
    const events = device.events(5);
    const result = await ingest(device, events);
    const lastIndex = result.body.sequenced.at(-1).index;
    const firstNote = await checkpoint(lastIndex + 1);
    const first = openLogCheckpoint(firstNote, verifier, answer.org.origin);

    const receipt = await (await fetch(`${server.url}/v1/log/receipts/${result.body.sequenced[2].index}`)).text();
    const verified = verifyTlogProof(receipt, Buffer.from(canonicalBytes(events[2])), verifier, answer.org.origin);
    assert.equal(verified.index, result.body.sequenced[2].index);
    assert.throws(() => verifyTlogProof(receipt, Buffer.from(canonicalBytes(events[3])), verifier, answer.org.origin));

    await ingest(device, device.events(7));
    const secondNote = await checkpoint(first.size + 7);
    const second = openLogCheckpoint(secondNote, verifier, answer.org.origin);
    const proof = (await (await fetch(`${server.url}/v1/log/consistency?from=${first.size}&to=${second.size}`)).json()) as any;
    assert.ok(verifyConsistency(first.size, second.size, first.root, second.root, proof.proof.map((h: string) => Buffer.from(h, 'base64'))));

    const tile = await fetch(`${server.url}/log/tile/0/000.p/${Math.min(second.size, 255)}`);
    assert.equal(tile.status, 200);
    assert.equal((await tile.arrayBuffer()).byteLength, 32 * Math.min(second.size, 255));
    assert.equal((await fetch(`${server.url}/log/tile/0/x999/000`)).status, 404);
    assert.equal((await fetch(`${server.url}/log/tile/entries/000.p/1`)).status, 401);
    assert.equal((await fetch(`${server.url}/v1/log/consistency?from=5&to=999999`)).status, 404);
  });

  it('exports an evidence bundle that the offline verifier accepts with the pinned org key', async () => {
    const device = new SimulatedDevice();
    const answer = (await device.enroll(server, server.adminToken)) as any;
    await ingest(device, device.events(4));
    for (const filter of ['', `&device=${device.id}`]) {
      const response = await admin(`/v1/export?format=bundle${filter}`);
      assert.equal(response.status, 200);
      const lines = (await response.text()).trimEnd().split('\n');
      const verifier = createBundleVerifier({ orgKey: answer.org.verifier_key });
      verifier.header(lines[0]);
      for (const line of lines.slice(1)) verifier.event(line);
      const verdict = verifier.finish();
      assert.deepEqual(verdict.problems, []);
      assert.ok(verdict.ok);
      assert.equal(verdict.complete, filter === '');
      if (filter) assert.equal(verdict.events, 4);
    }
  });
});

describe('policy and kill switches', () => {
  it('publishes a signed bundle and kill switches that a device receives, verifies and can rely on', async () => {
    const device = new SimulatedDevice();
    const answer = (await device.enroll(server, server.adminToken)) as any;
    const orgKey = createPublicKey(answer.org.public_key_pem);
    const before = (await (await device.request(`${server.url}/v1/control`, 'GET')).json()) as any;

    const files = [{ name: 'baseline.cedar', text: '@id("baseline.allow")\npermit (principal, action, resource);\n' }];
    const published = await admin('/v1/policy/bundles', { method: 'POST', body: JSON.stringify({ files }) });
    assert.equal(published.status, 201);
    const { hash } = (await published.json()) as any;
    assert.equal((await admin('/v1/kills', { method: 'POST', body: JSON.stringify({ target: 'mcp:github', reason: 'incident 42' }) })).status, 201);

    const control = (await (await device.request(`${server.url}/v1/control?after=${before.version}&wait=5`, 'GET')).json()) as any;
    const state = openControlState(control.state, orgKey);
    assert.ok(state.version > before.version);
    assert.deepEqual(state.kills, ['mcp:github']);
    assert.equal(state.policy_bundle, hash);
    const bundle = openPolicyBundle(control.policy_bundle, orgKey);
    assert.equal(bundle.hash, hash);
    assert.deepEqual(bundle.bundle.files, files);

    assert.equal((await admin('/v1/kills/mcp:github', { method: 'DELETE' })).status, 200);
    const lifted = (await (await device.request(`${server.url}/v1/control?after=${state.version}&wait=5`, 'GET')).json()) as any;
    assert.deepEqual(openControlState(lifted.state, orgKey).kills, []);
  });

  it('refuses a policy that does not validate, and auditors cannot publish or kill', async () => {
    const broken = await admin('/v1/policy/bundles', { method: 'POST', body: JSON.stringify({ files: [{ name: 'x.cedar', text: 'forbid (principal, action == Writ::Action::"nope", resource);' }] }) });
    assert.equal(broken.status, 400);
    assert.match(JSON.stringify(await broken.json()), /x\.cedar:1:/);
    const auditor = await token('auditor');
    assert.equal((await admin('/v1/kills', { method: 'POST', body: JSON.stringify({ target: 'tool:Bash' }) }, auditor)).status, 403);
    assert.equal((await admin('/v1/policy/bundles', { method: 'POST', body: JSON.stringify({ files: [{ name: 'a.cedar', text: '' }] }) }, auditor)).status, 403);
    assert.equal((await admin('/v1/devices', {}, auditor)).status, 200);
    assert.equal((await fetch(`${server.url}/v1/devices`)).status, 401);
    assert.equal((await admin('/v1/devices', {}, 'writ_notatoken')).status, 401);
    assert.equal((await admin('/v1/kills', { method: 'POST', body: JSON.stringify({ target: 'rm -rf' }) })).status, 400);
  });

  it('documents every route in the OpenAPI document', async () => {
    const document = (await (await fetch(`${server.url}/v1/openapi.json`)).json()) as any;
    for (const path of ['/v1/enroll', '/v1/ingest', '/v1/events', '/v1/kills', '/v1/policy/bundles', '/v1/log/consistency', '/v1/export', '/v1/logs']) {
      assert.ok(document.paths[path], `${path} is in the OpenAPI document`);
    }
  });
});
