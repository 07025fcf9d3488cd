import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, it } from 'node:test';
import { canonicalBytes } from '../../src/core/canonical-json.js';
import {
  CertificateError,
  DEVICE_CERTIFICATE_PAYLOAD_TYPE,
  certifiedPublicKey,
  deviceIdFor,
  issueDeviceCertificate,
  verifyDeviceCertificate,
  type DeviceCertificateFields,
} from '../../src/core/certificate.js';
import { ed25519Signer, keyIdFor, signEnvelope, type Envelope } from '../../src/core/dsse.js';

const org = generateKeyPairSync('ed25519');
const orgSigner = ed25519Signer(org.privateKey);
const device = generateKeyPairSync('ed25519');

function fieldsFor(publicKey: KeyObject): DeviceCertificateFields {
  const keyId = keyIdFor(publicKey);
  return {
    origin: 'writ.example/acme',
    device_id: deviceIdFor(keyId),
    key_id: keyId,
    public_key: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
    person: { id: 'per_0123456789abcdef', iss: 'https://idp.example', sub: 'alice', email: 'alice@example.com' },
    assurance: 'oidc',
    issued_at: '2026-11-21T10:00:00.000Z',
  };
}

function payloadOf(envelope: Envelope): Record<string, unknown> {
  return JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8'));
}

/** Signs an arbitrary payload with the org key, as a server with a bug (or an attacker holding the key) could. */
function signedByOrg(payload: unknown): Envelope {
  return signEnvelope(DEVICE_CERTIFICATE_PAYLOAD_TYPE, canonicalBytes(payload), orgSigner);
}

function rejects(envelope: Envelope, code: string, message: RegExp, publicKey = org.publicKey): void {
  assert.throws(
    () => verifyDeviceCertificate(envelope, publicKey),
    (error: unknown) => error instanceof CertificateError && error.code === code && message.test(error.message),
  );
}

describe('device certificates', () => {
  it('round-trips: the org signs canonical JSON, and the verifier returns the fields and the device key', () => {
    const envelope = issueDeviceCertificate(fieldsFor(device.publicKey), orgSigner);
    assert.equal(envelope.payloadType, DEVICE_CERTIFICATE_PAYLOAD_TYPE);
    assert.equal(envelope.signatures[0].keyid, keyIdFor(org.publicKey));
    assert.deepEqual(Buffer.from(envelope.payload, 'base64'), Buffer.from(canonicalBytes(payloadOf(envelope))));
    const certificate = verifyDeviceCertificate(envelope, org.publicKey, 'writ.example/acme');
    assert.deepEqual(certificate, { v: 1, ...fieldsFor(device.publicKey) });
    assert.ok(certifiedPublicKey(certificate).equals(device.publicKey));
    assert.match(certificate.device_id, /^dev_[0-9a-f]{16}$/);
  });

  it('refuses to issue a certificate whose key id is not the hash of its key', () => {
    const other = generateKeyPairSync('ed25519').publicKey;
    const fields = { ...fieldsFor(device.publicKey), key_id: keyIdFor(other) };
    assert.throws(() => issueDeviceCertificate(fields, orgSigner), /key id `sha256:[0-9a-f]+` does not match the public key/);
  });

  it('rejects a certificate signed by another key, naming both keys', () => {
    const stranger = ed25519Signer(generateKeyPairSync('ed25519').privateKey);
    const envelope = issueDeviceCertificate(fieldsFor(device.publicKey), stranger);
    rejects(envelope, 'NOT_SIGNED_BY_ORG', new RegExp(`not signed by the org key ${keyIdFor(org.publicKey)} \\(signed by ${stranger.keyId}\\)`));
  });

  it('rejects a changed certificate: the org signature no longer verifies', () => {
    const envelope = issueDeviceCertificate(fieldsFor(device.publicKey), orgSigner);
    const changed = { ...payloadOf(envelope), assurance: 'local-os-user' };
    rejects({ ...envelope, payload: Buffer.from(canonicalBytes(changed)).toString('base64') }, 'BAD_SIGNATURE', /org signature does not verify/);
  });

  it('rejects another payload type and a payload that is not canonical JSON', () => {
    const envelope = issueDeviceCertificate(fieldsFor(device.publicKey), orgSigner);
    rejects({ ...envelope, payloadType: 'application/json' }, 'WRONG_PAYLOAD_TYPE', /payload type is `application\/json`/);
    const spaced = Buffer.from(JSON.stringify({ v: 1, ...fieldsFor(device.publicKey) }, null, 1));
    rejects(signEnvelope(DEVICE_CERTIFICATE_PAYLOAD_TYPE, spaced, orgSigner), 'NOT_CANONICAL', /not canonical JSON/);
  });

  it('rejects an org-signed certificate that is inconsistent in itself', () => {
    const fields = fieldsFor(device.publicKey);
    const other = generateKeyPairSync('ed25519').publicKey;
    rejects(signedByOrg({ v: 1, ...fields, key_id: keyIdFor(other) }), 'KEY_MISMATCH', /does not match the public key/);
    rejects(signedByOrg({ v: 1, ...fields, device_id: 'dev_0000000000000000' }), 'DEVICE_ID_MISMATCH', /device id `dev_0000000000000000` does not derive from the key/);
    rejects(signedByOrg({ v: 1, ...fields, assurance: 'hardware' }), 'MALFORMED', /assurance is "hardware"/);
    rejects(signedByOrg({ v: 1, ...fields, person: { id: 'per_1', iss: 'x' } }), 'MALFORMED', /person\.sub is not a non-empty string/);
    rejects(signedByOrg({ v: 1, ...fields, public_key: 'AAAA' }), 'MALFORMED', /public_key is not a base64 SPKI DER key/);
    rejects(signedByOrg({ v: 1, ...fields, admin: true }), 'MALFORMED', /unknown field `admin`/);
    rejects(signedByOrg({ v: 2, ...fields }), 'MALFORMED', /version is 2/);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
    const rsaFields = { ...fields, key_id: keyIdFor(rsa), public_key: rsa.export({ type: 'spki', format: 'der' }).toString('base64') };
    rejects(signedByOrg({ v: 1, ...rsaFields }), 'MALFORMED', /public_key is rsa, not Ed25519/);
  });

  it('checks the origin when the verifier expects one', () => {
    const envelope = issueDeviceCertificate(fieldsFor(device.publicKey), orgSigner);
    assert.throws(
      () => verifyDeviceCertificate(envelope, org.publicKey, 'writ.example/other'),
      (error: unknown) => error instanceof CertificateError && error.code === 'ORIGIN_MISMATCH' && /origin `writ\.example\/acme`, not `writ\.example\/other`/.test(error.message),
    );
  });
});
