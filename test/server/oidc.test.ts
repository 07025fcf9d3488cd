// Identity through a real OIDC provider: a person enrols a device with the device-code flow, admins and
// auditors use the API with their ID tokens, and wrong tokens are refused.
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { verifyDeviceCertificate } from '../../src/core/certificate.js';
import { signInWithDeviceCode } from '../../src/identity/sign-in.js';
import { startOidcProvider, type TestOidcProvider } from '../support/oidc-provider.js';
import { SimulatedDevice, startTestServer, type TestServer } from '../support/server.js';

let idp: TestOidcProvider;
let otherIdp: TestOidcProvider;
let server: TestServer;

before(async () => {
  idp = await startOidcProvider();
  otherIdp = await startOidcProvider();
  server = await startTestServer({ oidc: { issuer: idp.issuer, audience: idp.clientId, adminGroups: ['writ-admins'], auditorGroups: ['writ-auditors'] } });
});
after(async () => {
  await server.close();
  await idp.close();
  await otherIdp.close();
});

const api = (path: string, token: string, init: RequestInit = {}) =>
  fetch(server.url + path, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } });

describe('OIDC', () => {
  it('enrols a device for the person who signed in with the device-code flow, with assurance oidc', async () => {
    const { idToken } = await signInWithDeviceCode({
      issuer: idp.issuer,
      clientId: idp.clientId,
      onPrompt: ({ userCode }) => void idp.approveDevice(userCode, 'alice'),
    });
    const device = new SimulatedDevice();
    const response = await device.request(`${server.url}/v1/enroll`, 'POST', { public_key_pem: device.publicKeyPem, id_token: idToken, hostname: 'laptop' });
    const answer = (await response.json()) as any;
    assert.equal(response.status, 200, JSON.stringify(answer));
    assert.equal(answer.assurance, 'oidc');
    const certificate = verifyDeviceCertificate(answer.certificate, createPublicKey(answer.org.public_key_pem));
    assert.equal(certificate.person.iss, idp.issuer);
    assert.equal(certificate.person.email, 'alice@example.com');
    assert.equal(certificate.assurance, 'oidc');
    assert.doesNotMatch(JSON.stringify(answer), new RegExp(idToken.split('.')[1]), 'the ID token is not echoed');
  });

  it('refuses enrolment with a token from another issuer, for another audience, or tampered', async () => {
    const tokens = {
      'wrong issuer': await otherIdp.issueIdToken({ accountId: 'alice' }),
      'wrong audience': await idp.issueIdToken({ accountId: 'alice', clientId: idp.otherClient.clientId }),
      expired: await idp.signToken({ iss: idp.issuer, aud: idp.clientId, sub: 'alice', iat: 1_000_000, exp: 1_000_600 }),
    };
    for (const [what, token] of Object.entries(tokens)) {
      const device = new SimulatedDevice();
      const response = await device.request(`${server.url}/v1/enroll`, 'POST', { public_key_pem: device.publicKeyPem, id_token: token });
      assert.equal(response.status, 401, what);
      assert.match(((await response.json()) as any).error.message, /ID token refused/, what);
    }
  });

  it('gives admins and auditors the roles their groups carry; an auditor cannot publish or kill', async () => {
    const alice = await idp.issueIdToken({ accountId: 'alice' });
    const bob = await idp.issueIdToken({ accountId: 'bob' });
    assert.equal((await api('/v1/devices', bob)).status, 200);
    assert.equal((await api('/v1/kills', bob, { method: 'POST', body: JSON.stringify({ target: 'tool:WebFetch' }) })).status, 403);
    const killed = await api('/v1/kills', alice, { method: 'POST', body: JSON.stringify({ target: 'tool:WebFetch' }) });
    assert.equal(killed.status, 201);
    assert.equal(((await killed.json()) as any).kill.createdBy, 'alice@example.com');
    assert.equal((await api('/v1/devices', await otherIdp.issueIdToken({ accountId: 'alice' }))).status, 401);
  });
});
