// c2sp.org/tlog-proof: the spec's example (its signatures are elided, so it is only parsed), then receipts over a
// real log built with merkle.ts and signed with note.ts.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { signLogCheckpoint } from '../../src/ledger/log-checkpoint.js';
import { borderNodeIds, completeNodes, inclusionProof, leafHash, nodeKey, rootFromBorder } from '../../src/ledger/merkle.js';
import { ed25519NoteSigner, ed25519NoteVerifier } from '../../src/ledger/note.js';
import { formatTlogProof, parseTlogProof, TlogProofError, verifyTlogProof } from '../../src/ledger/tlog-proof.js';

const SPEC_EXAMPLE = `c2sp.org/tlog-proof@v1
extra YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6kYXJ3aW4tYXJ
index 73894
gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=
B95lDa8R83lS8n0eG+o0buTxRKQTYFi//1U8anccXmA=
EKNzoDWG8LGC0Yp9o+sv3qllpMP9uHQ9B20KNL+Q1zs=
RoopEkOdqkYqMB4MJXrbt/hMjOxsVn0IrWjpz1ZMMes=
AHCioX9nLjsrse6YhjRRmk1WUEirVOLLRoOQ6vfO5vk=

example.com/fancylog
109482
sFodV/vSp5O8n9a8QpW6PRY97tfOSW5bsc2Xl/EQi08=

— example.com/fancylog hI2DJw[...]1roloI=
— witness1.example mJirIklj[...]qY9v2B/5bg==
— witness2.example TnKKVHLX[...]xwYwrSjgow==
— witness3.example S4X82uH5[...]3oEcROGLFQ==
`;

const ORIGIN = 'writ.example/acme';
const logKey = generateKeyPairSync('ed25519');
const signer = ed25519NoteSigner(ORIGIN, logKey.privateKey);
const verifier = ed25519NoteVerifier(ORIGIN, logKey.publicKey);
const ENTRIES = Array.from({ length: 13 }, (_, i) => Buffer.from(`{"event":${i}}`));
const nodes = new Map<string, Buffer>();
for (const node of completeNodes(0, [], ENTRIES.map(leafHash))) nodes.set(nodeKey(node), node.hash);
const SIZE = ENTRIES.length;
const ROOT = rootFromBorder(SIZE, borderNodeIds(SIZE).map((id) => nodes.get(nodeKey(id))!));
const CHECKPOINT = signLogCheckpoint({ origin: ORIGIN, size: SIZE, root: ROOT, extensions: [] }, signer);
const receipt = (index: number, extra?: Buffer) => formatTlogProof({ index, proof: inclusionProof(index, SIZE, nodes), checkpoint: CHECKPOINT, extra });

function assertProofError(fn: () => unknown, code: string, message: RegExp) {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof TlogProofError, `expected a TlogProofError, got ${error}`);
    assert.equal(error.code, code, error.message);
    assert.match(error.message, message);
    return true;
  });
}

describe('the tlog-proof format', () => {
  it('parses the spec example and formats it back byte for byte', () => {
    const proof = parseTlogProof(SPEC_EXAMPLE);
    assert.equal(proof.index, 73894);
    assert.equal(proof.proof.length, 5);
    assert.equal(proof.proof[0].toString('base64'), 'gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=');
    assert.equal(proof.extra?.toString('base64'), 'YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6kYXJ3aW4tYXJ');
    assert.ok(proof.checkpoint.startsWith('example.com/fancylog\n109482\n'));
    assert.ok(proof.checkpoint.endsWith('3oEcROGLFQ==\n'));
    assert.equal(formatTlogProof(proof), SPEC_EXAMPLE);
  });

  it('omits the extra line when there is no extra data, and writes no hash lines for a one-entry tree', () => {
    const text = formatTlogProof({ index: 0, proof: [], checkpoint: 'o\n1\nAA==\n\n— o AAAA\n' });
    assert.equal(text, 'c2sp.org/tlog-proof@v1\nindex 0\n\no\n1\nAA==\n\n— o AAAA\n');
    assert.deepEqual(parseTlogProof(text), { index: 0, proof: [], checkpoint: 'o\n1\nAA==\n\n— o AAAA\n' });
  });

  it('rejects every malformed receipt with a precise reason', () => {
    const hash = 'gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=';
    const cp = '\no\n1\nAA==\n\n— o AAAA\n';
    const cases: [string, RegExp][] = [
      ['c2sp.org/tlog-proof@v1\nindex 0\n', /no blank line before the checkpoint/],
      ['c2sp.org/tlog-proof@v1\nindex 0\n\n', /no checkpoint after the blank line/],
      [`c2sp.org/tlog-proof@v2\nindex 0\n${cp}`, /first line `c2sp\.org\/tlog-proof@v2` is not `c2sp\.org\/tlog-proof@v1`/],
      [`\nc2sp.org/tlog-proof@v1\nindex 0\n${cp}`, /first line `` is not/],
      [`c2sp.org/tlog-proof@v1\nindex 01\n${cp}`, /line 2 `index 01` is not `index <decimal without leading zeroes>`/],
      [`c2sp.org/tlog-proof@v1\nindex -1\n${cp}`, /line 2 `index -1`/],
      [`c2sp.org/tlog-proof@v1\nindex  1\n${cp}`, /line 2 `index  1`/],
      [`c2sp.org/tlog-proof@v1\nindex 9007199254740992\n${cp}`, /above 2\^53 - 1/],
      [`c2sp.org/tlog-proof@v1\n${hash}\nindex 1\n${cp}`, /line 2 `gSKy.*` is not `index/],
      [`c2sp.org/tlog-proof@v1\nextra !!\nindex 1\n${cp}`, /extra data is not valid base64/],
      [`c2sp.org/tlog-proof@v1\nindex 1\nextra AAAA\n${cp}`, /line 3 is not a base64 SHA-256 hash/],
      [`c2sp.org/tlog-proof@v1\nextra AAAA\nextra AAAA\nindex 1\n${cp}`, /line 3 `extra AAAA` is not `index/],
      [`c2sp.org/tlog-proof@v1\nindex 1\n${hash}\nAAAA\n${cp}`, /line 4 is not a base64 SHA-256 hash/],
      [`c2sp.org/tlog-proof@v1\nindex 1\n${hash.slice(0, -1)}\n${cp}`, /line 3 is not a base64 SHA-256 hash/],
      [`c2sp.org/tlog-proof@v1\nindex 1\n${(hash + '\n').repeat(64)}${cp}`, /64 hashes, more than 63/],
    ];
    for (const [text, reason] of cases) assertProofError(() => parseTlogProof(text), 'MALFORMED_PROOF', reason);
  });

  it('refuses to format what it could not parse back', () => {
    assertProofError(() => formatTlogProof({ index: -1, proof: [], checkpoint: CHECKPOINT }), 'MALFORMED_PROOF', /index `-1`/);
    assertProofError(() => formatTlogProof({ index: 0, proof: [Buffer.alloc(31)], checkpoint: CHECKPOINT }), 'MALFORMED_PROOF', /proof hash 0 is not 32 bytes/);
    assertProofError(() => formatTlogProof({ index: 0, proof: [], checkpoint: CHECKPOINT.slice(0, -1) }), 'MALFORMED_PROOF', /not a signed note/);
    assertProofError(() => formatTlogProof({ index: 0, proof: [], checkpoint: `\n${CHECKPOINT}` }), 'MALFORMED_PROOF', /not a signed note/);
  });
});

describe('verifyTlogProof', () => {
  it('verifies a receipt for every entry of a 13-entry log and returns the index, head and extra', () => {
    for (let index = 0; index < SIZE; index += 1) {
      const verified = verifyTlogProof(receipt(index), ENTRIES[index], verifier, ORIGIN);
      assert.equal(verified.index, index);
      assert.equal(verified.head.size, SIZE);
      assert.ok(verified.head.root.equals(ROOT));
      assert.equal(verified.extra, undefined);
    }
    const withExtra = verifyTlogProof(receipt(4, Buffer.from('context')), ENTRIES[4], verifier);
    assert.equal(withExtra.extra?.toString(), 'context');
  });

  it('says why a receipt does not verify', () => {
    assertProofError(() => verifyTlogProof(receipt(3), ENTRIES[4], verifier, ORIGIN), 'INCLUSION_MISMATCH', /inclusion proof for index 3 does not lead to the root of the checkpoint of size 13/);
    const moved = receipt(3).replace('index 3\n', 'index 2\n');
    assertProofError(() => verifyTlogProof(moved, ENTRIES[3], verifier, ORIGIN), 'INCLUSION_MISMATCH', /index 2/);
    const flipped = parseTlogProof(receipt(3));
    flipped.proof[1] = Buffer.from(flipped.proof[1]);
    flipped.proof[1][0] ^= 1;
    assertProofError(() => verifyTlogProof(formatTlogProof(flipped), ENTRIES[3], verifier), 'INCLUSION_MISMATCH', /does not lead to the root/);
    const short = parseTlogProof(receipt(3));
    assertProofError(() => verifyTlogProof(formatTlogProof({ ...short, proof: short.proof.slice(1) }), ENTRIES[3], verifier), 'INCLUSION_MISMATCH', /does not lead/);
    const beyond = formatTlogProof({ index: 13, proof: [], checkpoint: CHECKPOINT });
    assertProofError(() => verifyTlogProof(beyond, ENTRIES[0], verifier), 'INCLUSION_MISMATCH', /index 13 is not below the checkpoint tree size 13/);
  });

  it('rejects a checkpoint that is not from the log or not for the expected origin', () => {
    const other = generateKeyPairSync('ed25519');
    const forged = signLogCheckpoint({ origin: ORIGIN, size: SIZE, root: ROOT, extensions: [] }, ed25519NoteSigner(ORIGIN, other.privateKey));
    const text = formatTlogProof({ index: 1, proof: inclusionProof(1, SIZE, nodes), checkpoint: forged });
    assertProofError(() => verifyTlogProof(text, ENTRIES[1], verifier, ORIGIN), 'BAD_CHECKPOINT', /^tlog-proof checkpoint: note has no signature from a known key/);
    const tampered = receipt(1).replace(`\n${SIZE}\n`, `\n${SIZE + 1}\n`);
    assertProofError(() => verifyTlogProof(tampered, ENTRIES[1], verifier, ORIGIN), 'BAD_CHECKPOINT', /invalid signature for key/);
    assertProofError(() => verifyTlogProof(receipt(1), ENTRIES[1], verifier, 'writ.example/other'), 'BAD_CHECKPOINT', /origin `writ\.example\/acme` is not `writ\.example\/other`/);
    assertProofError(() => verifyTlogProof('nonsense', ENTRIES[1], verifier), 'MALFORMED_PROOF', /no blank line/);
  });

  it('accepts witness cosignatures it cannot check', () => {
    // A tlog-cosignature line (type 0x04 payload: key id, 8-byte timestamp, 64-byte signature) from an unknown witness.
    const cosignature = Buffer.concat([Buffer.alloc(4, 9), Buffer.alloc(72, 1)]).toString('base64');
    const cosigned = `${CHECKPOINT}— witness.example ${cosignature}\n`;
    const text = formatTlogProof({ index: 5, proof: inclusionProof(5, SIZE, nodes), checkpoint: cosigned });
    assert.equal(verifyTlogProof(text, ENTRIES[5], verifier, ORIGIN).index, 5);
  });
});
