// The CLI's sign-in, end to end against a real OpenID Provider (oidc-provider on 127.0.0.1): the device code
// flow (RFC 8628) and the loopback redirect flow (RFC 8252), with the person's part played over HTTP.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { signInWithDeviceCode, signInWithLoopback, SignInError, type DeviceCodePrompt, type SignInErrorCode } from '../../src/identity/sign-in.js';
import { createTokenVerifier } from '../../src/identity/verify-token.js';
import { startOidcProvider, type TestOidcProvider } from '../support/oidc-provider.js';

async function assertSignInError(attempt: Promise<unknown>, code: SignInErrorCode, message: RegExp) {
  await assert.rejects(attempt, (error: unknown) => {
    assert.ok(error instanceof SignInError, `expected SignInError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.match(error.message, message);
    return true;
  });
}

function listenOnFreePort(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

const gaps = (times: readonly number[]) => times.slice(1).map((time, i) => time - times[i]);

describe('signInWithDeviceCode', () => {
  let provider: TestOidcProvider;
  before(async () => {
    provider = await startOidcProvider();
  });
  after(() => provider.close());

  it('alice enters the code and approves: the ID token names her, and the server’s verifier accepts it', async () => {
    let prompt: DeviceCodePrompt | undefined;
    let approval: Promise<void> | undefined;
    const startedAt = Date.now();
    const result = await signInWithDeviceCode({
      issuer: provider.issuer,
      clientId: provider.clientId,
      onPrompt: (info) => {
        prompt = info;
        // She takes a moment: the CLI polls meanwhile.
        approval = sleep(2500).then(() => provider.approveDevice(info.userCode, 'alice'));
      },
    });
    await approval;
    assert.ok(prompt);
    assert.match(prompt.userCode, /^[A-Z]{4}-[A-Z]{4}$/);
    assert.equal(prompt.verificationUri, `${provider.issuer}/device`);
    assert.equal(prompt.verificationUriComplete, `${provider.issuer}/device?user_code=${prompt.userCode}`);
    assert.equal(prompt.expiresInSeconds, 600);
    assert.equal(result.claims.iss, provider.issuer);
    assert.equal(result.claims.sub, 'alice');
    assert.equal(result.claims.aud, provider.clientId);
    assert.equal(result.claims.email, 'alice@example.com');
    assert.deepEqual(result.claims.groups, ['writ-admins']);
    assert.equal(typeof result.accessToken, 'string');

    const polls = provider.devicePolls.filter((time) => time >= startedAt);
    assert.ok(polls.length >= 2, `polled ${polls.length} times`);
    for (const gap of gaps(polls)) assert.ok(gap >= 950, `polled again after ${gap} ms; the interval is 1 s`);

    const identity = await createTokenVerifier({ issuer: provider.issuer, audience: provider.clientId }).verify(result.idToken);
    assert.deepEqual([identity.sub, identity.email, identity.groups], ['alice', 'alice@example.com', ['writ-admins']]);
  });

  it('waits 5 s longer after slow_down (RFC 8628 §3.5)', async () => {
    const slow = await startOidcProvider({ slowDownPolls: 1 });
    try {
      let approval: Promise<void> | undefined;
      const result = await signInWithDeviceCode({
        issuer: slow.issuer,
        clientId: slow.clientId,
        onPrompt: (info) => {
          approval = sleep(1500).then(() => slow.approveDevice(info.userCode, 'bob'));
        },
      });
      await approval;
      assert.equal(result.claims.sub, 'bob');
      assert.equal(slow.devicePolls.length, 2, 'one poll answered slow_down, the next one got the tokens');
      const [gap] = gaps(slow.devicePolls);
      assert.ok(gap >= 5950, `polled again after ${gap} ms; after slow_down the interval is 1 + 5 s`);
    } finally {
      await slow.close();
    }
  });

  it('signs in with a confidential client too (client_secret_basic)', async () => {
    const result = await signInWithDeviceCode({
      issuer: provider.issuer,
      clientId: provider.otherClient.clientId,
      clientSecret: provider.otherClient.clientSecret,
      scope: 'email',
      onPrompt: (info) => void provider.approveDevice(info.userCode, 'bob'),
    });
    assert.equal(result.claims.aud, provider.otherClient.clientId);
    assert.equal(result.claims.email, 'bob@example.com');
    assert.equal(result.claims.groups, undefined, 'scope `openid email` does not include groups');
  });

  it('fails with DENIED when the person aborts at the provider', async () => {
    await assertSignInError(
      signInWithDeviceCode({
        issuer: provider.issuer,
        clientId: provider.clientId,
        onPrompt: (info) => void provider.denyDevice(info.userCode),
      }),
      'DENIED',
      /^sign-in was denied at the identity provider$/,
    );
  });

  it('stops with EXPIRED when nobody approves the code in time', async () => {
    const brief = await startOidcProvider({ deviceCodeTtlSeconds: 2 });
    try {
      let userCode = '';
      const startedAt = Date.now();
      await assertSignInError(
        signInWithDeviceCode({ issuer: brief.issuer, clientId: brief.clientId, onPrompt: (info) => { userCode = info.userCode; } }),
        'EXPIRED',
        /^the code `[A-Z]{4}-[A-Z]{4}` expired before it was approved: sign in again and enter the new code within 1 minute$/,
      );
      assert.ok(Date.now() - startedAt < 2900, 'it stopped at the expiry, not at a later poll');
      await assert.rejects(brief.approveDevice(userCode, 'alice'), /the code is incorrect/, 'the provider refuses the expired code too');
    } finally {
      await brief.close();
    }
  });

  it('stops with ABORTED as soon as its signal fires', async () => {
    const controller = new AbortController();
    const startedAt = Date.now();
    await assertSignInError(
      signInWithDeviceCode({
        issuer: provider.issuer,
        clientId: provider.clientId,
        signal: controller.signal,
        onPrompt: () => setTimeout(() => controller.abort(), 300),
      }),
      'ABORTED',
      /^sign-in aborted$/,
    );
    assert.ok(Date.now() - startedAt < 900, 'it stopped at once, not at the next poll');
  });

  it('refuses plain http to anything but loopback, before any request', async () => {
    await assertSignInError(
      signInWithDeviceCode({ issuer: 'http://idp.example.com', clientId: 'writ-cli', onPrompt: () => assert.fail('no prompt') }),
      'INSECURE_ISSUER',
      /^issuer `http:\/\/idp\.example\.com` must use https/,
    );
  });

  it('reports an unreachable provider as PROVIDER_ERROR', async () => {
    await assertSignInError(
      signInWithDeviceCode({ issuer: 'http://127.0.0.1:9', clientId: 'writ-cli', onPrompt: () => assert.fail('no prompt') }),
      'PROVIDER_ERROR',
      /^couldn't discover `http:\/\/127\.0\.0\.1:9`/,
    );
  });
});

describe('signInWithLoopback', () => {
  let provider: TestOidcProvider;
  before(async () => {
    provider = await startOidcProvider();
  });
  after(() => provider.close());

  it('bob logs in in the browser, which comes back to 127.0.0.1: PKCE S256, state and nonce, one page, then closed', async () => {
    let authorizationUrl: URL | undefined;
    let callback: URL | undefined;
    let page: Promise<{ status: number; text: string }> | undefined;
    const result = await signInWithLoopback({
      issuer: provider.issuer,
      clientId: provider.clientId,
      openUrl: async (url) => {
        authorizationUrl = new URL(url);
        callback = new URL(await provider.login(url, 'bob'));
        // The browser follows the provider's redirect to the listener.
        page = fetch(callback).then(async (response) => ({ status: response.status, text: await response.text() }));
      },
    });
    assert.ok(authorizationUrl && callback && page);
    const params = authorizationUrl.searchParams;
    assert.equal(params.get('code_challenge_method'), 'S256');
    assert.match(params.get('code_challenge') ?? '', /^[\w-]{43}$/);
    assert.ok((params.get('state') ?? '').length >= 22 && (params.get('nonce') ?? '').length >= 22);
    assert.equal(params.get('scope'), 'openid email profile');
    assert.match(params.get('redirect_uri') ?? '', /^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    assert.equal(`${callback.origin}${callback.pathname}`, params.get('redirect_uri'));
    assert.equal(callback.searchParams.get('state'), params.get('state'));

    assert.equal(result.claims.sub, 'bob');
    assert.equal(result.claims.nonce, params.get('nonce'));
    assert.equal(result.claims.email, 'bob@example.com');
    assert.deepEqual(result.claims.groups, ['writ-auditors']);
    const shown = await page;
    assert.equal(shown.status, 200);
    assert.match(shown.text, /Writ is signed in as bob@example\.com\. You can close this tab\./);
    await assert.rejects(fetch(callback), 'the listener is closed');

    const identity = await createTokenVerifier({ issuer: provider.issuer, audience: provider.clientId }).verify(result.idToken);
    assert.deepEqual(identity.groups, ['writ-auditors']);
  });

  it('listens on the port it is given, and ignores requests that do not carry its state', async () => {
    const probe = createServer();
    const port = await listenOnFreePort(probe);
    await new Promise((resolve) => probe.close(resolve));
    const strays: number[] = [];
    const result = await signInWithLoopback({
      issuer: provider.issuer,
      clientId: provider.clientId,
      port,
      openUrl: async (url) => {
        assert.equal(new URL(url).searchParams.get('redirect_uri'), `http://127.0.0.1:${port}/callback`);
        for (const stray of [`/callback?code=forged&state=guess`, '/favicon.ico', '/callback']) {
          strays.push((await fetch(`http://127.0.0.1:${port}${stray}`)).status);
        }
        await fetch(await provider.login(url, 'alice'));
      },
    });
    assert.deepEqual(strays, [404, 404, 404]);
    assert.equal(result.claims.sub, 'alice');
  });

  it('fails with DENIED when the person refuses consent, and the page says why', async () => {
    let page: Promise<string> | undefined;
    await assertSignInError(
      signInWithLoopback({
        issuer: provider.issuer,
        clientId: provider.clientId,
        openUrl: async (url) => {
          page = fetch(await provider.login(url, 'alice', { refuseConsent: true })).then((response) => response.text());
        },
      }),
      'DENIED',
      /^the identity provider refused the sign-in: `access_denied`: End-User aborted interaction$/,
    );
    assert.match((await page) ?? '', /Sign-in failed/);
  });

  it('refuses an ID token whose signature does not match, even from the provider’s own token endpoint', async () => {
    const tampering = await startOidcProvider({ tamperIdTokens: true });
    try {
      await assertSignInError(
        signInWithLoopback({ issuer: tampering.issuer, clientId: tampering.clientId, openUrl: async (url) => void (await fetch(await tampering.login(url, 'bob'))) }),
        'PROVIDER_ERROR',
        /^sign-in failed: .*JWT signature verification failed$/,
      );
      await assertSignInError(
        signInWithDeviceCode({ issuer: tampering.issuer, clientId: tampering.clientId, onPrompt: (info) => void tampering.approveDevice(info.userCode, 'bob') }),
        'PROVIDER_ERROR',
        /^sign-in failed: .*JWT signature verification failed$/,
      );
    } finally {
      await tampering.close();
    }
  });

  it('fails with BROWSER_FAILED when the URL cannot be opened, naming the URL to open by hand', async () => {
    await assertSignInError(
      signInWithLoopback({ issuer: provider.issuer, clientId: provider.clientId, openUrl: () => { throw new Error('no display'); } }),
      'BROWSER_FAILED',
      /^couldn't open the browser: no display: open `http:\/\/127\.0\.0\.1:\d+\/auth\?.+` yourself$/,
    );
  });

  it('times out when the browser never comes back, and aborts on its signal', async () => {
    await assertSignInError(
      signInWithLoopback({ issuer: provider.issuer, clientId: provider.clientId, timeoutMs: 200, openUrl: () => {} }),
      'TIMED_OUT',
      /^the browser did not come back within 1 minute: sign in again$/,
    );
    const controller = new AbortController();
    const attempt = signInWithLoopback({ issuer: provider.issuer, clientId: provider.clientId, signal: controller.signal, openUrl: () => controller.abort() });
    await assertSignInError(attempt, 'ABORTED', /^sign-in aborted$/);
  });

  it('fails with PORT_UNAVAILABLE when the port is taken', async () => {
    const taken = createServer();
    const port = await listenOnFreePort(taken);
    try {
      await assertSignInError(
        signInWithLoopback({ issuer: provider.issuer, clientId: provider.clientId, port, openUrl: () => assert.fail('no browser') }),
        'PORT_UNAVAILABLE',
        new RegExp(`^couldn't listen on 127\\.0\\.0\\.1:${port}: listen EADDRINUSE`),
      );
    } finally {
      taken.close();
    }
  });
});
