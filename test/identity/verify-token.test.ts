// The server's token check against a real OpenID Provider (oidc-provider on 127.0.0.1): tokens it issued, tokens
// from another provider or client, and tokens altered or forged on purpose.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTokenVerifier, TokenRejected, type TokenRejectedCode, type TokenVerifierOptions } from '../../src/identity/verify-token.js';
import { startOidcProvider, type TestOidcProvider } from '../support/oidc-provider.js';

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const decodePayload = (token: string) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as Record<string, unknown>;

async function assertRejected(verify: Promise<unknown>, code: TokenRejectedCode, message: string | RegExp, token?: string) {
  await assert.rejects(verify, (error: unknown) => {
    assert.ok(error instanceof TokenRejected, `expected TokenRejected, got ${String(error)}`);
    assert.equal(error.code, code);
    if (typeof message === 'string') assert.equal(error.message, message);
    else assert.match(error.message, message);
    // A rejection is logged: it must carry no part of the token.
    for (const part of token?.split('.').filter((segment) => segment.length > 8) ?? []) {
      assert.ok(!error.message.includes(part), 'the message contains part of the token');
      assert.ok(!JSON.stringify(error.cause ?? null).includes(part), 'the cause contains part of the token');
    }
    return true;
  });
}

describe('createTokenVerifier', () => {
  let provider: TestOidcProvider;
  let otherProvider: TestOidcProvider;
  let verifier: ReturnType<typeof createTokenVerifier>;
  const verifierFor = (p: TestOidcProvider, options: Partial<TokenVerifierOptions> = {}) =>
    createTokenVerifier({ issuer: p.issuer, audience: p.clientId, clockToleranceSeconds: 0, ...options });

  before(async () => {
    provider = await startOidcProvider();
    otherProvider = await startOidcProvider();
    verifier = verifierFor(provider);
  });
  after(async () => {
    await provider.close();
    await otherProvider.close();
  });

  it('accepts an ID token the provider issued, and names the person: iss, sub, email, groups, amr, expiry', async () => {
    const token = await provider.issueIdToken({ accountId: 'alice' });
    const identity = await verifier.verify(token);
    const exp = decodePayload(token).exp as number;
    assert.deepEqual(identity, {
      iss: provider.issuer,
      sub: 'alice',
      email: 'alice@example.com',
      emailVerified: true,
      name: 'Alice Example',
      groups: ['writ-admins'],
      amr: ['pwd'],
      expiresAt: new Date(exp * 1000).toISOString(),
    });
  });

  it('gives each person their own groups', async () => {
    const identity = await verifier.verify(await provider.issueIdToken({ accountId: 'bob' }));
    assert.equal(identity.sub, 'bob');
    assert.equal(identity.email, 'bob@example.com');
    assert.deepEqual(identity.groups, ['writ-auditors']);
  });

  it('reads groups from the configured claim, by exact name or dotted path, and keeps jti', async () => {
    const token = await provider.signToken({
      roles: ['writ-admins', 7, 'ops'],
      'https://example.com/groups': ['namespaced'],
      realm_access: { roles: ['nested'] },
      jti: 'token-1',
    });
    assert.deepEqual((await verifierFor(provider, { groupsClaim: 'roles' }).verify(token)).groups, ['writ-admins', 'ops']);
    assert.deepEqual((await verifierFor(provider, { groupsClaim: 'https://example.com/groups' }).verify(token)).groups, ['namespaced']);
    assert.deepEqual((await verifierFor(provider, { groupsClaim: 'realm_access.roles' }).verify(token)).groups, ['nested']);
    const identity = await verifier.verify(token);
    assert.deepEqual(identity.groups, [], 'no `groups` claim: no groups');
    assert.equal(identity.jti, 'token-1');
  });

  it('refuses a wrong issuer: a real token of another provider checked against that provider’s own keys', async () => {
    const token = await otherProvider.issueIdToken({ accountId: 'alice' });
    const borrowedKeys = verifierFor(provider, { jwksUri: `${otherProvider.issuer}/jwks` });
    await assertRejected(borrowedKeys.verify(token), 'WRONG_ISSUER', 'wrong issuer', token);
    const forged = await provider.signToken({ iss: otherProvider.issuer });
    await assertRejected(verifier.verify(forged), 'WRONG_ISSUER', 'wrong issuer', forged);
  });

  it('refuses a wrong audience: a token the same provider issued to another client', async () => {
    const token = await provider.issueIdToken({ accountId: 'alice', clientId: provider.otherClient.clientId });
    assert.equal(decodePayload(token).aud, provider.otherClient.clientId);
    await assertRejected(verifier.verify(token), 'WRONG_AUDIENCE', 'wrong audience', token);
    assert.equal((await verifierFor(provider, { audience: ['writ-dashboard', provider.otherClient.clientId] }).verify(token)).sub, 'alice');
  });

  it('with several audiences, requires azp to name an accepted client (OIDC Core §3.1.3.7)', async () => {
    const wrongParty = await provider.signToken({ aud: [provider.clientId, 'other'], azp: 'other' });
    await assertRejected(verifier.verify(wrongParty), 'WRONG_AUDIENCE', 'wrong audience', wrongParty);
    const rightParty = await provider.signToken({ aud: [provider.clientId, 'other'], azp: provider.clientId });
    assert.equal((await verifier.verify(rightParty)).sub, 'alice');
  });

  it('refuses a token whose key the issuer does not publish', async () => {
    const token = await otherProvider.issueIdToken({ accountId: 'alice' });
    await assertRejected(verifier.verify(token), 'UNKNOWN_KEY', 'unknown key', token);
  });

  it('refuses a bad signature: another provider’s key under this provider’s kid', async () => {
    const impostor = await startOidcProvider({ keyId: provider.keyId });
    try {
      const token = await impostor.issueIdToken({ accountId: 'alice' });
      await assertRejected(verifier.verify(token), 'BAD_SIGNATURE', 'bad signature', token);
    } finally {
      await impostor.close();
    }
  });

  it('refuses a bad signature: bob’s real token with his groups changed', async () => {
    const token = await provider.issueIdToken({ accountId: 'bob' });
    const [header, , signature] = token.split('.');
    const tampered = [header, base64url({ ...decodePayload(token), groups: ['writ-admins'] }), signature].join('.');
    await assertRejected(verifier.verify(tampered), 'BAD_SIGNATURE', 'bad signature', tampered);
  });

  it('refuses an expired token: a real one with a 1 s lifetime, once that second has passed', async () => {
    const shortLived = await startOidcProvider({ idTokenTtlSeconds: 1 });
    try {
      const token = await shortLived.issueIdToken({ accountId: 'alice' });
      const exp = decodePayload(token).exp as number;
      await sleep(Math.max(0, exp * 1000 - Date.now()) + 1100);
      await assertRejected(verifierFor(shortLived).verify(token), 'EXPIRED', 'expired', token);
      assert.equal((await verifierFor(shortLived, { clockToleranceSeconds: 60 }).verify(token)).sub, 'alice', 'within the clock tolerance');
    } finally {
      await shortLived.close();
    }
  });

  it('refuses expired and not-yet-valid tokens signed with the provider’s own key', async () => {
    const now = Math.floor(Date.now() / 1000);
    const expired = await provider.signToken({ iat: now - 7200, exp: now - 3600 });
    await assertRejected(verifier.verify(expired), 'EXPIRED', 'expired', expired);
    const early = await provider.signToken({ nbf: now + 3600 });
    await assertRejected(verifier.verify(early), 'NOT_YET_VALID', 'not yet valid', early);
  });

  it('refuses a token without sub or exp, or with an exp that is not a number', async () => {
    const noSubject = await provider.signToken({ sub: undefined });
    await assertRejected(verifier.verify(noSubject), 'MISSING_CLAIM', 'missing claim `sub`', noSubject);
    const noExpiry = await provider.signToken({ exp: undefined });
    await assertRejected(verifier.verify(noExpiry), 'MISSING_CLAIM', 'missing claim `exp`', noExpiry);
    const textExpiry = await provider.signToken({ exp: 'tomorrow' });
    await assertRejected(verifier.verify(textExpiry), 'MALFORMED', 'malformed token: invalid claim `exp`', textExpiry);
  });

  it('refuses alg none, and HS256 keyed with a secret an attacker might know', async () => {
    const claims = decodePayload(await provider.issueIdToken({ accountId: 'bob' }));
    const unsecured = `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url({ ...claims, groups: ['writ-admins'] })}.`;
    await assertRejected(verifier.verify(unsecured), 'ALGORITHM_NOT_ALLOWED', 'algorithm not allowed', unsecured);
    const signingInput = `${base64url({ alg: 'HS256', kid: provider.keyId })}.${base64url(claims)}`;
    const hmac = createHmac('sha256', provider.otherClient.clientSecret).update(signingInput).digest('base64url');
    await assertRejected(verifier.verify(`${signingInput}.${hmac}`), 'ALGORITHM_NOT_ALLOWED', 'algorithm not allowed', `${signingInput}.${hmac}`);
  });

  it('refuses malformed tokens and disallowed algorithms before fetching anything from the IdP', async () => {
    // Nothing listens at this issuer: any fetch would end in ISSUER_UNAVAILABLE.
    const offline = createTokenVerifier({ issuer: 'http://127.0.0.1:9', audience: provider.clientId });
    const header = base64url({ alg: 'RS256', kid: provider.keyId });
    for (const token of ['', 'not-a-jwt', 'a.b', 'a.b.c.d', 'Bearer a.b.c', `${header}.%%%.sig`, 'eyJub3QganNvbg.e30.c2ln', `${header}.${'A'.repeat(20_000)}.sig`]) {
      await assertRejected(offline.verify(token), 'MALFORMED', 'malformed token');
      await assertRejected(verifier.verify(token), 'MALFORMED', 'malformed token');
    }
    await assertRejected(offline.verify(42 as unknown as string), 'MALFORMED', 'malformed token');
    await assertRejected(offline.verify(`${base64url({ alg: 'none' })}.${base64url({ sub: 'alice' })}.`), 'ALGORITHM_NOT_ALLOWED', 'algorithm not allowed');
    await assertRejected(offline.verify(`${base64url({ typ: 'JWT' })}.${base64url({ sub: 'alice' })}.c2ln`), 'ALGORITHM_NOT_ALLOWED', 'algorithm not allowed');
  });

  it('discovers the keys once: verification goes on after the provider stops', async () => {
    const shortLived = await startOidcProvider();
    const cached = verifierFor(shortLived);
    const token = await shortLived.issueIdToken({ accountId: 'bob' });
    await cached.verify(token);
    await shortLived.close();
    assert.equal((await cached.verify(token)).sub, 'bob');
  });

  it('reports an unreachable provider as ISSUER_UNAVAILABLE, then retries discovery on the next call', async () => {
    const gone = await startOidcProvider();
    const token = await gone.issueIdToken({ accountId: 'alice' });
    await gone.close();
    const unreachable = verifierFor(gone, { fetchTimeoutMs: 2000 });
    await assertRejected(unreachable.verify(token), 'ISSUER_UNAVAILABLE', /^identity provider unavailable: couldn't fetch `http:\/\/127\.0\.0\.1:\d+\/\.well-known\/openid-configuration`/, token);
    await assertRejected(unreachable.verify(token), 'ISSUER_UNAVAILABLE', /^identity provider unavailable/, token);
  });

  it('refuses a discovery document that names another issuer', async () => {
    const impostor = createTokenVerifier({ issuer: `${provider.issuer}/`, audience: provider.clientId });
    const token = await provider.issueIdToken({ accountId: 'alice' });
    await assertRejected(impostor.verify(token), 'ISSUER_UNAVAILABLE', /names issuer `http:\/\/127\.0\.0\.1:\d+`, not `http:\/\/127\.0\.0\.1:\d+\/`$/, token);
  });

  it('is configured safely: no none or HMAC algorithms, no plain http beyond loopback', () => {
    assert.throws(() => createTokenVerifier({ issuer: provider.issuer, audience: 'x', allowedAlgorithms: ['RS256', 'none'] }), /`none` is not allowed/);
    assert.throws(() => createTokenVerifier({ issuer: provider.issuer, audience: 'x', allowedAlgorithms: ['HS256'] }), /`HS256` is not allowed/);
    assert.throws(() => createTokenVerifier({ issuer: provider.issuer, audience: 'x', allowedAlgorithms: [] }), /allowedAlgorithms is empty/);
    assert.throws(() => createTokenVerifier({ issuer: 'http://idp.example.com', audience: 'x' }), /must use https/);
    assert.throws(() => createTokenVerifier({ issuer: 'https://idp.example.com', audience: 'x', jwksUri: 'http://idp.example.com/jwks' }), /must use https/);
    assert.doesNotThrow(() => createTokenVerifier({ issuer: 'http://localhost:8080', audience: 'x' }));
  });

  it('accepts only the algorithms it is told to', async () => {
    const token = await provider.issueIdToken({ accountId: 'alice' });
    await assertRejected(verifierFor(provider, { allowedAlgorithms: ['ES256'] }).verify(token), 'ALGORITHM_NOT_ALLOWED', 'algorithm not allowed', token);
  });
});
