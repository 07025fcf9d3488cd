// Real checkpoints of the Go checksum database (sum.golang.org, key from golang.org/x/mod gosumcheck), as quoted
// in public tests and docs, and the c2sp.org/tlog-checkpoint example.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  CheckpointError,
  formatCheckpoint,
  openLogCheckpoint,
  parseCheckpoint,
  signLogCheckpoint,
  type TreeHead,
} from '../../src/ledger/log-checkpoint.js';
import { EMPTY_ROOT } from '../../src/ledger/merkle.js';
import { ed25519NoteSigner, ed25519NoteVerifier, parseVerifierKey, signNote } from '../../src/ledger/note.js';

const SUMDB = parseVerifierKey('sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8');
const SUMDB_ORIGIN = 'go.sum database tree';
const SUMDB_CHECKPOINTS = [
  'go.sum database tree\n6476701\nmb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk=\n\n— sum.golang.org Az3grsLX85Gz+s1SiTbgkuqxgItqFq7gsMUEyVnrsa9LM7Us9S+1xbFIGu95949rj4nPRYfvimWEPWL+o3GeoWwOoAw=\n',
  'go.sum database tree\n28891140\n++pUIeKTwGvykMUkmM3AT97PwQipMT6H/p7t86E0Sp0=\n\n— sum.golang.org Az3grqNvOILDz7xwAKugtVFZwd+I9IyB/mHrUYzcVaS9zKsRVdRLNGLFpnAcLhyoBBkdIYEzK/+7Eu4wanYttLrPsQo=\n',
  // With a cosignature from a witness the verifier does not know.
  'go.sum database tree\n15067302\ngJyioq6dwR9n+NjEWORfYmH+ubeYm3kH42BBQ0bTpYI=\n\n— sum.golang.org Az3grp1rvWOs5NKlr/xR4GLN/CDyzzakmt1o61uSxYKpK1SerqOP2ClbX/peKUZjYnyomH5Xz7GZG3TpB7OeKn4E2ww=\n— test.example.com qTGhC/xIPQ0AXKHK6Y+9ypRfuvMZWPjRXM8NiOg5M1WREn07VQXyuIXM3NRNav3ieVFLUqDRK77PWDmL6w8w84UqeAw=\n',
];
const SPEC_EXAMPLE = 'example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n';

function assertCheckpointError(fn: () => unknown, code: string, message: RegExp) {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof CheckpointError, `expected a CheckpointError, got ${error}`);
    assert.equal(error.code, code, error.message);
    assert.match(error.message, message);
    return true;
  });
}

describe('formatCheckpoint and parseCheckpoint', () => {
  it('parses the tlog-checkpoint example and formats it back byte for byte', () => {
    const head = parseCheckpoint(SPEC_EXAMPLE);
    assert.equal(head.origin, 'example.com/behind-the-sofa');
    assert.equal(head.size, 20852163);
    assert.equal(head.root.toString('base64'), 'CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=');
    assert.deepEqual(head.extensions, []);
    assert.equal(formatCheckpoint(head), SPEC_EXAMPLE);
  });

  it('keeps extension lines, an empty tree and sizes up to 2^53 - 1', () => {
    const head: TreeHead = { origin: 'go.sum database tree', size: 0, root: EMPTY_ROOT, extensions: ['optional line', 'another'] };
    const text = formatCheckpoint(head);
    assert.equal(text, 'go.sum database tree\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\noptional line\nanother\n');
    assert.deepEqual(parseCheckpoint(text), head);
    const big = { ...head, size: Number.MAX_SAFE_INTEGER, extensions: [] };
    assert.deepEqual(parseCheckpoint(formatCheckpoint(big)), big);
  });

  it('rejects every malformed checkpoint text with a precise reason', () => {
    const root = 'CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=';
    const cases: [string, RegExp][] = [
      ['example.com/log\n5\n' + root, /does not end with a newline/],
      ['example.com/log\n5\n', /has 2 lines, not at least 3/],
      ['\n5\n' + root + '\n', /line 1 is empty/],
      ['example.com/log\n\n' + root + '\n', /line 2 is empty/],
      ['example.com/log\n5\n' + root + '\n\n', /line 4 is empty/],
      ['example.com/log\n5\n' + root + '\next\n\n', /line 5 is empty/],
      ['example.com/log\t\n5\n' + root + '\n', /line 1 is empty or has a control character/],
      ['example.com/log\n05\n' + root + '\n', /tree size `05` is not a decimal number without leading zeroes/],
      ['example.com/log\n+5\n' + root + '\n', /tree size `\+5`/],
      ['example.com/log\n5 \n' + root + '\n', /tree size `5 `/],
      ['example.com/log\n-1\n' + root + '\n', /tree size `-1`/],
      ['example.com/log\n1e3\n' + root + '\n', /tree size `1e3`/],
      ['example.com/log\n9007199254740992\n' + root + '\n', /is above 2\^53 - 1/],
      ['example.com/log\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I\n', /root hash `.*` is not valid base64/],
      ['example.com/log\n5\nCsUYapGGPo4dkMgIAUqom_Xajj7h2fB2MPA3j2jxq2I=\n', /is not valid base64/],
      ['example.com/log\n5\nAAAA\n', /root hash is 3 bytes, not 32/],
    ];
    for (const [text, reason] of cases) assertCheckpointError(() => parseCheckpoint(text), 'MALFORMED_CHECKPOINT', reason);
  });

  it('refuses to format a head that would not parse back', () => {
    const head: TreeHead = { origin: 'example.com/log', size: 1, root: EMPTY_ROOT, extensions: [] };
    assertCheckpointError(() => formatCheckpoint({ ...head, origin: '' }), 'MALFORMED_CHECKPOINT', /origin `` is empty/);
    assertCheckpointError(() => formatCheckpoint({ ...head, origin: 'a\nb' }), 'MALFORMED_CHECKPOINT', /control character/);
    assertCheckpointError(() => formatCheckpoint({ ...head, size: -1 }), 'MALFORMED_CHECKPOINT', /tree size `-1`/);
    assertCheckpointError(() => formatCheckpoint({ ...head, size: 2 ** 53 }), 'MALFORMED_CHECKPOINT', /safe integer/);
    assertCheckpointError(() => formatCheckpoint({ ...head, root: Buffer.alloc(31) }), 'MALFORMED_CHECKPOINT', /not 32 bytes/);
    assertCheckpointError(() => formatCheckpoint({ ...head, extensions: [''] }), 'MALFORMED_CHECKPOINT', /extension line/);
  });
});

describe('signed checkpoints', () => {
  it('opens real sum.golang.org checkpoints, ignoring an unknown cosignature', () => {
    const sizes = SUMDB_CHECKPOINTS.map((note) => openLogCheckpoint(note, SUMDB, SUMDB_ORIGIN).size);
    assert.deepEqual(sizes, [6476701, 28891140, 15067302]);
  });

  it('signs a checkpoint that opens with the log key and round-trips the head', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const head: TreeHead = { origin: 'writ.example/acme', size: 42, root: Buffer.alloc(32, 7), extensions: [] };
    const note = signLogCheckpoint(head, ed25519NoteSigner(head.origin, privateKey));
    assert.match(note, /^writ\.example\/acme\n42\nBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\n\n— writ\.example\/acme \S{92}\n$/);
    assert.ok(note.length < 210, 'an Ed25519 checkpoint is about 200 bytes');
    assert.deepEqual(openLogCheckpoint(note, ed25519NoteVerifier(head.origin, publicKey), head.origin), head);
    assert.deepEqual(openLogCheckpoint(note, ed25519NoteVerifier(head.origin, publicKey)), head);
  });

  it('says precisely why a signed checkpoint is rejected', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const verifier = ed25519NoteVerifier('writ.example/acme', publicKey);
    const signer = ed25519NoteSigner('writ.example/acme', privateKey);
    const head: TreeHead = { origin: 'writ.example/acme', size: 42, root: Buffer.alloc(32, 7), extensions: [] };
    const note = signLogCheckpoint(head, signer);
    assertCheckpointError(() => openLogCheckpoint(note, verifier, 'writ.example/other'), 'WRONG_ORIGIN', /checkpoint origin `writ\.example\/acme` is not `writ\.example\/other`/);
    assertCheckpointError(() => openLogCheckpoint(note.replace('\n42\n', '\n43\n'), verifier), 'BAD_CHECKPOINT_SIGNATURE', /^checkpoint: invalid signature for key `writ\.example\/acme\+[0-9a-f]{8}`$/);
    assertCheckpointError(() => openLogCheckpoint(SUMDB_CHECKPOINTS[0], verifier), 'BAD_CHECKPOINT_SIGNATURE', /^checkpoint: note has no signature from a known key/);
    assertCheckpointError(() => openLogCheckpoint(note.slice(0, -1), verifier), 'MALFORMED_CHECKPOINT', /^checkpoint: note does not end with a newline$/);
    // A validly signed note whose text is not a checkpoint.
    const notCheckpoint = signNote('hello\n', [signer]);
    assertCheckpointError(() => openLogCheckpoint(notCheckpoint, verifier), 'MALFORMED_CHECKPOINT', /has 1 lines, not at least 3/);
  });
});
