// Golden vectors from golang.org/x/mod/sumdb/note (note_test.go: PeterNeumann, EnochRoot) and from
// c2sp.org/signed-note (the example.com/foo verifier key and note).
import assert from 'node:assert/strict';
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  decodeBase64,
  ed25519KeyId,
  ed25519NoteSigner,
  ed25519NoteVerifier,
  MAX_SIGNATURES,
  NoteError,
  openNote,
  parseVerifierKey,
  signNote,
  verifierKeyFor,
  type NoteSigner,
} from '../../src/ledger/note.js';

const PETER_VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
// sumdb/note private key `PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz`: 0x01 || seed.
const PETER_SEED = Buffer.from('AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz', 'base64').subarray(1);
const ENOCH_VKEY = 'EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop';
const TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const PETER_SIG = '— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n';
const ENOCH_SIG = '— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n';

function ed25519FromSeed(seed: Buffer) {
  return createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]), format: 'der', type: 'pkcs8' });
}

function assertNoteError(fn: () => unknown, code: string, message?: RegExp) {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof NoteError, `expected a NoteError, got ${error}`);
    assert.equal(error.code, code, error.message);
    if (message) assert.match(error.message, message);
    return true;
  });
}

describe('verifier keys', () => {
  it('parses the PeterNeumann key and derives its key id', () => {
    const verifier = parseVerifierKey(PETER_VKEY);
    assert.equal(verifier.name, 'PeterNeumann');
    assert.equal(verifier.keyId, 0xc74f20a3);
    const raw = Buffer.from('ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', 'base64').subarray(1);
    assert.equal(ed25519KeyId('PeterNeumann', raw), 0xc74f20a3);
  });

  it('formats the key of a private key exactly as sumdb/note does', () => {
    const privateKey = ed25519FromSeed(PETER_SEED);
    assert.equal(verifierKeyFor('PeterNeumann', privateKey), PETER_VKEY);
    const signer = ed25519NoteSigner('PeterNeumann', privateKey);
    assert.equal(signer.keyId, 0xc74f20a3);
  });

  it('rejects every substring and every single-byte change of a key (as note_test.go does)', () => {
    const bytes = Buffer.from(PETER_VKEY);
    for (let i = 0; i <= bytes.length; i += 1) {
      for (let j = i + 1; j <= bytes.length; j += 1) {
        if (i === 0 && j === bytes.length) continue;
        assertNoteError(() => parseVerifierKey(bytes.subarray(i, j).toString()), 'BAD_KEY');
      }
    }
    for (let i = 0; i < bytes.length; i += 1) {
      const mangled = Buffer.from(bytes);
      mangled[i] += 1;
      assertNoteError(() => parseVerifierKey(mangled.toString('latin1')), 'BAD_KEY');
    }
  });

  it('says why a key is rejected', () => {
    assertNoteError(
      () => parseVerifierKey('PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=='),
      'BAD_KEY',
      /invalid base64 key material/,
    );
    assertNoteError(
      () => parseVerifierKey('PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'),
      'BAD_KEY',
      /unsupported signature type 0x65/,
    );
    const longKey = Buffer.concat([Buffer.from('ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', 'base64'), Buffer.from([1])]).toString('base64');
    assertNoteError(() => parseVerifierKey(`PeterNeumann+00000000+${longKey}`), 'BAD_KEY', /has a 33-byte Ed25519 key, not 32/);
    assertNoteError(() => parseVerifierKey('PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'), 'BAD_KEY', /has key id c74f20a4, but its name and key give c74f20a3/);
    assertNoteError(() => parseVerifierKey('PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'), 'BAD_KEY', /lowercase hex/);
    assertNoteError(() => parseVerifierKey('Peter Neumann+c74f20a3+AR'), 'BAD_KEY', /name/);
    assertNoteError(() => parseVerifierKey('no-plus-signs'), 'BAD_KEY', /is not `<name>\+<key id>\+<key>`/);
  });

  it('refuses keys that are not Ed25519 and names with spaces or plus', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    assertNoteError(() => ed25519NoteSigner('example.com/log', privateKey), 'BAD_KEY', /not an Ed25519 private key/);
    const ed = generateKeyPairSync('ed25519');
    assertNoteError(() => ed25519NoteSigner('example.com/log', ed.publicKey), 'BAD_KEY');
    for (const name of ['', 'a b', 'a+b', 'a\u00a0b', 'a\u2003b', 'a\u0085b']) {
      assertNoteError(() => ed25519NoteSigner(name, ed.privateKey), 'BAD_KEY', /empty or has a space or plus/);
    }
  });
});

describe('signNote', () => {
  it('produces the sumdb/note golden PeterNeumann note', () => {
    const signer = ed25519NoteSigner('PeterNeumann', ed25519FromSeed(PETER_SEED));
    assert.equal(signNote(TEXT, [signer]), `${TEXT}\n${PETER_SIG}`);
  });

  it('writes one line per signer, in order, and the result opens with either key', () => {
    const a = generateKeyPairSync('ed25519');
    const b = generateKeyPairSync('ed25519');
    const note = signNote('hello\n\nworld\n', [ed25519NoteSigner('a.example/log', a.privateKey), ed25519NoteSigner('b.example', b.privateKey)]);
    assert.match(note, /^hello\n\nworld\n\n— a\.example\/log \S+\n— b\.example \S+\n$/);
    const opened = openNote(note, [ed25519NoteVerifier('b.example', b.publicKey)]);
    assert.equal(opened.text, 'hello\n\nworld\n');
    assert.deepEqual(opened.signatures.map((s) => s.name), ['b.example']);
    assert.deepEqual(opened.unverifiedSignatures.map((s) => s.name), ['a.example/log']);
    assert.equal(openNote(note, [parseVerifierKey(verifierKeyFor('a.example/log', a.publicKey))]).signatures[0].name, 'a.example/log');
  });

  it('refuses text without a final newline, with control characters, or with no signer', () => {
    const signer = ed25519NoteSigner('PeterNeumann', ed25519FromSeed(PETER_SEED));
    assertNoteError(() => signNote('abc', [signer]), 'MALFORMED_NOTE', /does not end with a newline/);
    assertNoteError(() => signNote('a\tb\n', [signer]), 'MALFORMED_NOTE', /control character U\+0009/);
    assertNoteError(() => signNote('a\rb\n', [signer]), 'MALFORMED_NOTE', /control character U\+000D/);
    assertNoteError(() => signNote('\ud800\n', [signer]), 'MALFORMED_NOTE', /not valid UTF-8/);
    assertNoteError(() => signNote(TEXT, []), 'MALFORMED_NOTE', /at least one signer/);
    const bad: NoteSigner = { name: 'bad name', keyId: 1, sign: () => Buffer.alloc(64) };
    assertNoteError(() => signNote(TEXT, [bad]), 'BAD_KEY');
  });
});

describe('openNote', () => {
  const peter = parseVerifierKey(PETER_VKEY);
  const enoch = parseVerifierKey(ENOCH_VKEY);

  it('opens the C2SP signed-note example', () => {
    const note = 'This is an example message.\n\n— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n';
    const opened = openNote(note, [parseVerifierKey('example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k')]);
    assert.equal(opened.text, 'This is an example message.\n');
    assert.deepEqual(opened.signatures, [
      { name: 'example.com/foo', keyId: 0x530d903a, base64: 'Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=' },
    ]);
  });

  it('verifies known keys and returns unknown ones unchecked, as note_test.go TestOpen', () => {
    const one = openNote(`${TEXT}\n${PETER_SIG}${ENOCH_SIG}`, [peter]);
    assert.equal(one.text, TEXT);
    assert.deepEqual(one.signatures.map((s) => [s.name, s.keyId]), [['PeterNeumann', 0xc74f20a3]]);
    assert.deepEqual(one.unverifiedSignatures.map((s) => [s.name, s.keyId]), [['EnochRoot', 0xaf0cfe78]]);
    const both = openNote(Buffer.from(`${TEXT}\n${PETER_SIG}${ENOCH_SIG}`), [peter, enoch]);
    assert.deepEqual(both.signatures.map((s) => s.name), ['PeterNeumann', 'EnochRoot']);
    assert.deepEqual(both.unverifiedSignatures, []);
  });

  it('rejects a note with no signature from a known key', () => {
    assertNoteError(() => openNote(`${TEXT}\n${PETER_SIG}${ENOCH_SIG}`, []), 'UNVERIFIED_NOTE', /no signature from a known key/);
    // Same name, other key id (and the reverse) is an unknown key, not a bad signature.
    const sameName = ed25519NoteVerifier('PeterNeumann', generateKeyPairSync('ed25519').publicKey);
    assertNoteError(() => openNote(`${TEXT}\n${PETER_SIG}`, [sameName]), 'UNVERIFIED_NOTE');
    const sameId = { name: 'CarmenSandiego', keyId: 0xc74f20a3, verify: () => true };
    assertNoteError(() => openNote(`${TEXT}\n${PETER_SIG}`, [sameId]), 'UNVERIFIED_NOTE');
  });

  it('rejects a bad signature from a known key, even beside a good one', () => {
    const corrupt = PETER_SIG.slice(0, 60) + 'ABCD' + PETER_SIG.slice(60);
    assertNoteError(() => openNote(`${TEXT}\n${corrupt}`, [peter]), 'BAD_SIGNATURE', /invalid signature for key `PeterNeumann\+c74f20a3`/);
    assertNoteError(() => openNote(`${TEXT}\n${PETER_SIG}${ENOCH_SIG}`.replace('problem,', 'problem;'), [peter]), 'BAD_SIGNATURE');
    const corruptEnoch = ENOCH_SIG.slice(0, 60) + 'ABCD' + ENOCH_SIG.slice(60);
    assertNoteError(() => openNote(`${TEXT}\n${PETER_SIG}${corruptEnoch}`, [peter, enoch]), 'BAD_SIGNATURE', /EnochRoot/);
  });

  it('drops repeated signatures and keeps distinct unknown ones, as note_test.go', () => {
    const corruptEnoch = ENOCH_SIG.slice(0, 60) + 'ABCD' + ENOCH_SIG.slice(60);
    const opened = openNote(`${TEXT}\n${PETER_SIG}${PETER_SIG}${ENOCH_SIG}${ENOCH_SIG}${corruptEnoch}`, [peter]);
    assert.equal(opened.signatures.length, 1);
    assert.equal(opened.unverifiedSignatures.length, 2);
  });

  it('rejects an ambiguous key only when a signature uses it', () => {
    assertNoteError(() => openNote(`${TEXT}\n${ENOCH_SIG}`, [enoch, peter, enoch]), 'AMBIGUOUS_KEY', /EnochRoot\+af0cfe78/);
    assert.equal(openNote(`${TEXT}\n${PETER_SIG}`, [enoch, peter, enoch]).signatures.length, 1);
  });

  it('accepts 16 signatures and refuses more than MAX_SIGNATURES lines', () => {
    assert.equal(openNote(`${TEXT}\n${PETER_SIG}${ENOCH_SIG.repeat(15)}`, [peter]).signatures.length, 1);
    assert.equal(openNote(`${TEXT}\n${PETER_SIG.repeat(MAX_SIGNATURES)}`, [peter]).signatures.length, 1);
    assertNoteError(() => openNote(`${TEXT}\n${PETER_SIG.repeat(MAX_SIGNATURES + 1)}`, [peter]), 'MALFORMED_NOTE', /101 signatures, more than the 100 allowed/);
  });

  it('rejects every malformed note of note_test.go with a precise reason', () => {
    const cases: [string | Uint8Array, RegExp][] = [
      [TEXT, /no blank line before its signatures/],
      [`${TEXT}\n`, /no signature lines/],
      [`${TEXT}\n${PETER_SIG.slice(0, -1)}`, /does not end with a newline/],
      [`\x01${TEXT}\n${PETER_SIG}`, /control character U\+0001/],
      [Buffer.concat([Buffer.from([0xff]), Buffer.from(`${TEXT}\n${PETER_SIG}`)]), /not valid UTF-8/],
      [`${TEXT}\n— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`, /line 1 is not valid base64/],
      [`${TEXT}\n${PETER_SIG}Unexpected line.\n`, /line 2 does not start with an em dash/],
      [`${TEXT}\n— PeterNeumann\n`, /line 1 has no space between key name and signature/],
      [`${TEXT}\n—  x08go/ZJku\n`, /line 1 has invalid key name ``/],
      [`${TEXT}\n— a+b x08go/ZJkuBS9UG/Sff\n`, /invalid key name `a\+b`/],
      [`${TEXT}\n— PeterNeumann x08go/Z\n`, /line 1 is not valid base64/],
      [`${TEXT}\n— PeterNeumann x08g\n`, /shorter than a key id and a signature/],
      [`${TEXT}\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAN=\n`, /not valid base64/],
      [`${TEXT}\n${PETER_SIG}\r\n`, /control character U\+000D/],
      [`${TEXT}\n—PeterNeumann x08go/ZJku\n`, /line 1 does not start with an em dash and a space/],
      [`${TEXT}\n- PeterNeumann x08go/ZJku\n`, /line 1 does not start with an em dash and a space/],
    ];
    for (const [note, reason] of cases) assertNoteError(() => openNote(note, [peter]), 'MALFORMED_NOTE', reason);
  });

  it('treats the last blank line as the separator, so the text may hold empty lines', () => {
    const a = generateKeyPairSync('ed25519');
    const signer = ed25519NoteSigner('a', a.privateKey);
    const note = signNote('x\n\n\n', [signer]);
    assert.equal(openNote(note, [ed25519NoteVerifier('a', a.publicKey)]).text, 'x\n\n\n');
  });
});

describe('decodeBase64', () => {
  it('accepts only canonical padded standard base64', () => {
    assert.deepEqual(decodeBase64('AQID'), Buffer.from([1, 2, 3]));
    assert.deepEqual(decodeBase64(''), Buffer.alloc(0));
    for (const bad of ['AQI', 'AQJ=', 'AQ-_', 'AQID\n', ' AQID', 'AQ==AQ==', 'A===']) assert.equal(decodeBase64(bad), undefined, bad);
  });
});
