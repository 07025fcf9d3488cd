import assert from 'node:assert/strict';
import { verify } from 'node:crypto';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { sha256Hex } from '../../src/core/digest.js';
import { loadOrCreateDeviceKey, loadPublicKey } from '../../src/daemon/keys.js';

const mode = (path: string) => statSync(path).mode & 0o777;

describe('device key', () => {
  let writHome: string;
  beforeEach(() => {
    writHome = join(mkdtempSync(join(tmpdir(), 'writ-keys-')), 'home');
  });
  afterEach(() => rmSync(join(writHome, '..'), { recursive: true, force: true }));

  it('is created on first use: keys/ 0700, device.key 0600 (PKCS#8), device.pub (SPKI), nothing else left', () => {
    const key = loadOrCreateDeviceKey(writHome);
    const keysDir = join(writHome, 'keys');
    assert.equal(mode(keysDir), 0o700);
    assert.equal(mode(join(keysDir, 'device.key')), 0o600);
    assert.equal(mode(join(keysDir, 'device.pub')) & 0o022, 0, 'the public key is not writable by others');
    assert.deepEqual(readdirSync(keysDir).sort(), ['device.key', 'device.pub']);
    assert.match(readFileSync(join(keysDir, 'device.key'), 'utf8'), /^-----BEGIN PRIVATE KEY-----\n/);
    assert.equal(readFileSync(join(keysDir, 'device.pub'), 'utf8'), key.publicKeyPem);
    assert.match(key.publicKeyPem, /^-----BEGIN PUBLIC KEY-----\n/);
  });

  it('derives the key id and device id from the SPKI DER, and signs with that key', () => {
    const key = loadOrCreateDeviceKey(writHome);
    const hash = sha256Hex(key.publicKey.export({ type: 'spki', format: 'der' }));
    assert.equal(key.keyId, `sha256:${hash}`);
    assert.equal(key.deviceId, `dev_${hash.slice(0, 16)}`);
    assert.equal(key.signer.keyId, key.keyId);
    const message = Buffer.from('journal');
    assert.ok(verify(null, message, loadPublicKey(writHome), key.signer.sign(message)));
  });

  it('is reused, unchanged, on every later load', () => {
    const first = loadOrCreateDeviceKey(writHome);
    const privatePem = readFileSync(join(writHome, 'keys', 'device.key'), 'utf8');
    const second = loadOrCreateDeviceKey(writHome);
    assert.equal(second.keyId, first.keyId);
    assert.equal(second.deviceId, first.deviceId);
    assert.equal(readFileSync(join(writHome, 'keys', 'device.key'), 'utf8'), privatePem);
  });

  it('refuses a private key that group or others can read, and says how to fix it', () => {
    loadOrCreateDeviceKey(writHome);
    const privatePath = join(writHome, 'keys', 'device.key');
    for (const loose of [0o644, 0o640, 0o604]) {
      chmodSync(privatePath, loose);
      assert.throws(
        () => loadOrCreateDeviceKey(writHome),
        new RegExp(`refusing device key .*device\\.key: mode 0${loose.toString(8)} lets others read it; .*chmod 600`),
      );
    }
    chmodSync(privatePath, 0o600);
    assert.doesNotThrow(() => loadOrCreateDeviceKey(writHome));
  });

  it('republishes a missing device.pub and refuses one that belongs to another key', () => {
    const key = loadOrCreateDeviceKey(writHome);
    const publicPath = join(writHome, 'keys', 'device.pub');
    rmSync(publicPath);
    loadOrCreateDeviceKey(writHome);
    assert.equal(readFileSync(publicPath, 'utf8'), key.publicKeyPem);

    const otherHome = join(writHome, '..', 'other');
    writeFileSync(publicPath, loadOrCreateDeviceKey(otherHome).publicKeyPem);
    assert.throws(() => loadOrCreateDeviceKey(writHome), /device\.pub is not the public half of the private key beside it/);
  });
});
