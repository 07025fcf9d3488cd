import assert from 'node:assert/strict';
import { generateKeyPairSync, verify, type KeyObject } from 'node:crypto';
import { describe, it } from 'node:test';
import { sha256Hex } from '../../src/core/digest.js';
import {
  ed25519Signer,
  keyIdFor,
  pae,
  parseEnvelope,
  signEnvelope,
  verifyEnvelope,
  type Envelope,
} from '../../src/core/dsse.js';

const payloadType = 'http://example.com/HelloWorld';
const helloWorld = Buffer.from('hello world');

function newKey(): { privateKey: KeyObject; publicKey: KeyObject; keys: Map<string, KeyObject> } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKey, publicKey, keys: new Map([[keyIdFor(publicKey), publicKey]]) };
}

describe('pae', () => {
  it('encodes the DSSE specification example byte for byte', () => {
    const expected = Buffer.from('DSSEv1 29 http://example.com/HelloWorld 11 hello world', 'ascii');
    assert.deepEqual(Buffer.from(pae(payloadType, helloWorld)), expected);
  });

  it('counts bytes, not characters, in the type and the body', () => {
    assert.equal(Buffer.from(pae('tÿpe', Buffer.from('€'))).toString('utf8'), 'DSSEv1 5 tÿpe 3 €');
    assert.equal(Buffer.from(pae('', new Uint8Array())).toString('utf8'), 'DSSEv1 0  0 ');
  });
});

describe('signEnvelope and verifyEnvelope', () => {
  it('signs the PAE of the payload with Ed25519 and names the key by the hash of its SPKI', () => {
    const { privateKey, publicKey, keys } = newKey();
    const signer = ed25519Signer(privateKey);
    const envelope = signEnvelope(payloadType, helloWorld, signer);

    assert.equal(signer.keyId, `sha256:${sha256Hex(publicKey.export({ type: 'spki', format: 'der' }))}`);
    assert.equal(envelope.payload, 'aGVsbG8gd29ybGQ=');
    assert.equal(envelope.signatures.length, 1);
    assert.equal(envelope.signatures[0].keyid, signer.keyId);
    const sig = Buffer.from(envelope.signatures[0].sig, 'base64');
    assert.ok(verify(null, pae(payloadType, helloWorld), publicKey, sig), 'the signature is over the PAE');

    const verdict = verifyEnvelope(envelope, keys);
    assert.ok(verdict.ok);
    assert.equal(verdict.keyId, signer.keyId);
    assert.deepEqual(Buffer.from(verdict.payload), helloWorld);
  });

  it('rejects a changed payload, a changed payload type and a changed signature', () => {
    const { privateKey, keys } = newKey();
    const envelope = signEnvelope(payloadType, helloWorld, ed25519Signer(privateKey));
    const sig = Buffer.from(envelope.signatures[0].sig, 'base64');
    sig[0] ^= 1;
    const tampered: Envelope[] = [
      { ...envelope, payload: Buffer.from('hello World').toString('base64') },
      { ...envelope, payloadType: 'http://example.com/Other' },
      { ...envelope, signatures: [{ ...envelope.signatures[0], sig: sig.toString('base64') }] },
    ];
    for (const envelope of tampered) {
      assert.deepEqual(verifyEnvelope(envelope, keys), { ok: false, problem: 'signature does not verify' });
    }
  });

  it('rejects a signature by a key it does not know, even one that claims a known keyid', () => {
    const device = newKey();
    const intruder = newKey();
    const byIntruder = signEnvelope(payloadType, helloWorld, ed25519Signer(intruder.privateKey));
    const verdict = verifyEnvelope(byIntruder, device.keys);
    assert.equal(verdict.ok, false);
    assert.match(!verdict.ok ? verdict.problem : '', /^not signed by a known key \(keyid sha256:[0-9a-f]{64}\)$/);

    const impostor = { keyId: keyIdFor(device.publicKey), sign: ed25519Signer(intruder.privateKey).sign };
    assert.deepEqual(verifyEnvelope(signEnvelope(payloadType, helloWorld, impostor), device.keys), {
      ok: false,
      problem: 'signature does not verify',
    });
  });

  it('accepts an envelope when any one of its signatures is by a known key', () => {
    const device = newKey();
    const other = newKey();
    const envelope = signEnvelope(payloadType, helloWorld, ed25519Signer(other.privateKey));
    envelope.signatures.push(signEnvelope(payloadType, helloWorld, ed25519Signer(device.privateKey)).signatures[0]);
    const verdict = verifyEnvelope(envelope, device.keys);
    assert.ok(verdict.ok);
    assert.equal(verdict.keyId, keyIdFor(device.publicKey));
  });

  it('only makes signers from Ed25519 keys', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    assert.throws(() => ed25519Signer(privateKey), /expected an Ed25519 private key, got ec/);
  });
});

describe('parseEnvelope', () => {
  it('round-trips an envelope and refuses JSON of another shape', () => {
    const envelope = signEnvelope(payloadType, helloWorld, ed25519Signer(newKey().privateKey));
    assert.deepEqual(parseEnvelope(JSON.stringify(envelope)), envelope);
    for (const json of ['null', '[]', '{"payloadType":"t","payload":"cA=="}', '{"payloadType":"t","payload":"cA==","signatures":[{"keyid":1,"sig":""}]}']) {
      assert.throws(() => parseEnvelope(json), /not a DSSE envelope/, json);
    }
    assert.throws(() => parseEnvelope('{'), SyntaxError);
  });
});
