// Dashboard sign-in on a real server: OIDC authorization code with PKCE against the real oidc-provider (login and
// consent as a browser would), the session cookie and its flags, roles from groups enforced by the server on
// every state-changing route, CSRF, forged and foreign cookies, logout, and the one-time link for a server with
// no IdP.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startOidcProvider, type TestOidcProvider } from '../support/oidc-provider.js';
import { startTestServer, type TestServer } from '../support/server.js';

let idp: TestOidcProvider;
let server: TestServer;

before(async () => {
  idp = await startOidcProvider();
  server = await startTestServer({
    oidc: {
      issuer: idp.issuer,
      audience: idp.dashboardClient.clientId,
      clientSecret: idp.dashboardClient.clientSecret,
      adminGroups: ['writ-admins'],
      auditorGroups: ['writ-auditors'],
    },
  });
});
after(async () => {
  await server.close();
  await idp.close();
});

/** `name=value` pairs from a response's Set-Cookie headers, and the raw headers to check flags. */
function setCookies(response: Response): { jar: Record<string, string>; raw: string[] } {
  const raw = response.headers.getSetCookie();
  const jar: Record<string, string> = {};
  for (const line of raw) {
    const [pair] = line.split(';');
    const at = pair.indexOf('=');
    jar[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return { jar, raw };
}

const cookieHeader = (jar: Record<string, string>) =>
  Object.entries(jar)
    .filter(([, value]) => value)
    .map(([name, value]) => `${name}=${value}`)
    .join('; ');

/** The whole browser sign-in: /auth/login, the provider's login and consent, then /auth/callback. */
async function signIn(accountId: string, base = server.url): Promise<{ cookie: string; callback: Response; me: any }> {
  const login = await fetch(`${base}/auth/login?return=/%23/fleet`, { redirect: 'manual' });
  assert.equal(login.status, 302);
  const loginCookies = setCookies(login).jar;
  const callbackUrl = await idp.login(login.headers.get('location')!, accountId);
  const callback = await fetch(callbackUrl.replace('http://127.0.0.1/', `${base}/`), { redirect: 'manual', headers: { cookie: cookieHeader(loginCookies) } });
  const cookie = cookieHeader({ writ_session: setCookies(callback).jar.writ_session ?? '' });
  const me = cookie ? await (await fetch(`${base}/v1/me`, { headers: { cookie } })).json() : undefined;
  return { cookie, callback, me };
}

describe('OIDC sign-in (authorization code with PKCE)', () => {
  it('sends the browser to the provider with a PKCE challenge, state and nonce, and remembers them in a short-lived cookie', async () => {
    const login = await fetch(`${server.url}/auth/login`, { redirect: 'manual' });
    assert.equal(login.status, 302);
    const location = new URL(login.headers.get('location')!);
    assert.equal(location.origin, idp.issuer);
    assert.equal(location.searchParams.get('client_id'), idp.dashboardClient.clientId);
    assert.equal(location.searchParams.get('code_challenge_method'), 'S256');
    assert.match(location.searchParams.get('code_challenge')!, /^[A-Za-z0-9_-]{43}$/);
    assert.ok(location.searchParams.get('state') && location.searchParams.get('nonce'));
    assert.equal(location.searchParams.get('redirect_uri'), `${server.url}/auth/callback`);
    const [cookie] = setCookies(login).raw;
    assert.match(cookie, /^writ_login=.+; Max-Age=600; Path=\/auth; HttpOnly; SameSite=Lax$/);
  });

  it('behind https (--public-url), marks the cookie Secure and names the public callback', async () => {
    const behindProxy = await startTestServer({
      publicUrl: 'https://writ.example.com',
      oidc: { issuer: idp.issuer, audience: idp.dashboardClient.clientId, clientSecret: idp.dashboardClient.clientSecret, adminGroups: ['writ-admins'], auditorGroups: [] },
    });
    try {
      const login = await fetch(`${behindProxy.url}/auth/login`, { redirect: 'manual' });
      assert.equal(new URL(login.headers.get('location')!).searchParams.get('redirect_uri'), 'https://writ.example.com/auth/callback');
      assert.match(setCookies(login).raw[0], /; HttpOnly; Secure; SameSite=Lax$/);
    } finally {
      await behindProxy.close();
    }
  });

  it('signs an admin in: an HttpOnly SameSite=Lax session cookie, back to where they started, /v1/me says admin', async () => {
    const { cookie, callback, me } = await signIn('alice');
    assert.equal(callback.status, 303);
    assert.equal(callback.headers.get('location'), '/#/fleet');
    const session = setCookies(callback).raw.find((line) => line.startsWith('writ_session='))!;
    assert.match(session, /; Max-Age=28800; Path=\/; HttpOnly; SameSite=Lax$/);
    assert.doesNotMatch(session, /Secure/, 'plain http: a Secure cookie would never come back');
    assert.ok(cookie);
    assert.equal(me.name, 'alice@example.com');
    assert.equal(me.role, 'admin');
    assert.equal(me.via, 'oidc');
    assert.match(me.csrf, /^[A-Za-z0-9_-]{32}$/);
  });

  it('signs an auditor in read-only: reads work, and approve, publish, kill and review are refused by the server', async () => {
    const { cookie, me } = await signIn('bob');
    assert.equal(me.role, 'auditor');
    const headers = { cookie, 'x-writ-csrf': me.csrf, 'content-type': 'application/json' };
    const devices = await fetch(`${server.url}/v1/inventory/devices`, { headers: { cookie } });
    assert.equal(devices.status, 200);
    const attempts: [string, unknown][] = [
      ['/v1/approvals/apr_0123456789abcdef012345/approve', {}],
      ['/v1/policy/bundles', { files: [{ name: 'p.cedar', text: 'permit(principal, action, resource);' }] }],
      ['/v1/kills', { target: 'mcp:github', reason: 'test' }],
      ['/v1/runs/s1/review', { decision: 'approved' }],
      ['/v1/tokens', { name: 'x', role: 'admin' }],
    ];
    for (const [path, body] of attempts) {
      const response = await fetch(`${server.url}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
      const answer = await response.json();
      assert.equal(response.status, 403, `${path}: ${JSON.stringify(answer)}`);
      assert.match(answer.error.message, /auditor/, path);
    }
  });

  it('refuses a cookie-authenticated change without the CSRF header, or with another session’s', async () => {
    const alice = await signIn('alice');
    const bob = await signIn('bob');
    const body = JSON.stringify({ name: 'ci', role: 'auditor' });
    for (const csrf of [undefined, bob.me.csrf, '']) {
      const response = await fetch(`${server.url}/v1/tokens`, {
        method: 'POST',
        headers: { cookie: alice.cookie, 'content-type': 'application/json', ...(csrf !== undefined && { 'x-writ-csrf': csrf }) },
        body,
      });
      assert.equal(response.status, 403);
      assert.match((await response.json()).error.message, /x-writ-csrf/);
    }
    const made = await fetch(`${server.url}/v1/tokens`, { method: 'POST', headers: { cookie: alice.cookie, 'content-type': 'application/json', 'x-writ-csrf': alice.me.csrf }, body });
    assert.equal(made.status, 201, await made.clone().text());
  });

  it('refuses a session cookie that is forged, altered or from another server', async () => {
    const alice = await signIn('alice');
    const [header, payload, signature] = alice.cookie.replace('writ_session=', '').split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const escalated = Buffer.from(JSON.stringify({ ...claims, name: 'mallory' })).toString('base64url');
    const other = await startTestServer({ oidc: { issuer: idp.issuer, audience: idp.dashboardClient.clientId, clientSecret: idp.dashboardClient.clientSecret, adminGroups: ['writ-admins'], auditorGroups: [] } });
    try {
      for (const cookie of [`writ_session=${header}.${escalated}.${signature}`, 'writ_session=garbage', `writ_session=${header}.${payload}.`]) {
        assert.equal((await fetch(`${server.url}/v1/me`, { headers: { cookie } })).status, 401, cookie);
      }
      assert.equal((await fetch(`${other.url}/v1/me`, { headers: { cookie: alice.cookie } })).status, 401, 'another org key, another session key');
    } finally {
      await other.close();
    }
  });

  it('refuses a callback that was not started here, and one whose state was changed', async () => {
    const login = await fetch(`${server.url}/auth/login`, { redirect: 'manual' });
    const callbackUrl = (await idp.login(login.headers.get('location')!, 'alice')).replace('http://127.0.0.1/', `${server.url}/`);
    const noCookie = await fetch(callbackUrl, { redirect: 'manual' });
    assert.equal(noCookie.status, 400);
    assert.match(await noCookie.text(), /not started here/);
    const tampered = new URL(callbackUrl);
    tampered.searchParams.set('state', 'not-the-state');
    const wrongState = await fetch(tampered, { redirect: 'manual', headers: { cookie: cookieHeader(setCookies(login).jar) } });
    assert.equal(wrongState.status, 403);
    assert.equal(setCookies(wrongState).jar.writ_session, undefined);
  });

  it('does not sign in a person who refuses consent at the provider, or one in neither group', async () => {
    const login = await fetch(`${server.url}/auth/login`, { redirect: 'manual' });
    const refused = (await idp.login(login.headers.get('location')!, 'alice', { refuseConsent: true })).replace('http://127.0.0.1/', `${server.url}/`);
    const answer = await fetch(refused, { redirect: 'manual', headers: { cookie: cookieHeader(setCookies(login).jar) } });
    assert.equal(answer.status, 403);
    assert.match(await answer.text(), /access_denied/);
    assert.equal(setCookies(answer).jar.writ_session, undefined);

    const outsider = await startOidcProvider({ accounts: [{ accountId: 'eve', email: 'eve@example.com', emailVerified: true, name: 'Eve', groups: ['marketing'] }] });
    const strict = await startTestServer({ oidc: { issuer: outsider.issuer, audience: outsider.dashboardClient.clientId, clientSecret: outsider.dashboardClient.clientSecret, adminGroups: ['writ-admins'], auditorGroups: ['writ-auditors'] } });
    try {
      const start = await fetch(`${strict.url}/auth/login`, { redirect: 'manual' });
      const back = (await outsider.login(start.headers.get('location')!, 'eve')).replace('http://127.0.0.1/', `${strict.url}/`);
      const eve = await fetch(back, { redirect: 'manual', headers: { cookie: cookieHeader(setCookies(start).jar) } });
      assert.equal(eve.status, 403);
      assert.match(await eve.text(), /none of the groups/);
      assert.equal(setCookies(eve).jar.writ_session, undefined);
    } finally {
      await strict.close();
      await outsider.close();
    }
  });

  it('keeps the cookie under the browsers’ 4 KB for a person in hundreds of groups', async () => {
    const groups = [...Array.from({ length: 300 }, (_, i) => `org-engineering-platform-team-${i}`), 'writ-admins'];
    const busy = await startOidcProvider({ accounts: [{ accountId: 'gina', email: 'gina@example.com', emailVerified: true, name: 'Gina', groups }] });
    const other = await startTestServer({ oidc: { issuer: busy.issuer, audience: busy.dashboardClient.clientId, clientSecret: busy.dashboardClient.clientSecret, adminGroups: ['writ-admins'], auditorGroups: [] } });
    try {
      const start = await fetch(`${other.url}/auth/login`, { redirect: 'manual' });
      const back = (await busy.login(start.headers.get('location')!, 'gina')).replace('http://127.0.0.1/', `${other.url}/`);
      const callback = await fetch(back, { redirect: 'manual', headers: { cookie: cookieHeader(setCookies(start).jar) } });
      const line = setCookies(callback).raw.find((cookie) => cookie.startsWith('writ_session='))!;
      assert.ok(line.length < 4096, `${line.length} bytes`);
      const me = await (await fetch(`${other.url}/v1/me`, { headers: { cookie: line.split(';')[0] } })).json();
      assert.deepEqual([me.name, me.role], ['gina@example.com', 'admin']);
    } finally {
      await other.close();
      await busy.close();
    }
  });

  it('signs out: the CSRF header is needed, then the cookie is cleared', async () => {
    const alice = await signIn('alice');
    assert.equal((await fetch(`${server.url}/auth/logout`, { method: 'POST', headers: { cookie: alice.cookie } })).status, 403);
    const out = await fetch(`${server.url}/auth/logout`, { method: 'POST', headers: { cookie: alice.cookie, 'x-writ-csrf': alice.me.csrf } });
    assert.equal(out.status, 204);
    assert.match(setCookies(out).raw[0], /^writ_session=; Max-Age=0; Path=\/; HttpOnly; SameSite=Lax$/);
  });

  it('says there is no session, rather than failing, when nobody is signed in', async () => {
    const response = await fetch(`${server.url}/v1/me`);
    assert.equal(response.status, 401);
  });
});

describe('the one-time sign-in link of a server without an IdP', () => {
  let local: TestServer;
  const lines: string[] = [];

  before(async () => {
    local = await startTestServer({ log: (line) => lines.push(line) });
  });
  after(async () => local.close());

  it('prints a link that signs in once as the bootstrap admin, without the token in it', async () => {
    const line = lines.find((candidate) => candidate.includes('/auth/token?code='));
    assert.ok(line, lines.join('\n'));
    assert.ok(!line.includes(local.adminToken));
    const link = /(http\S+\/auth\/token\?code=\S+)/.exec(line)![1];
    const first = await fetch(link, { redirect: 'manual' });
    assert.equal(first.status, 303);
    const cookie = cookieHeader({ writ_session: setCookies(first).jar.writ_session });
    const me = await (await fetch(`${local.url}/v1/me`, { headers: { cookie } })).json();
    assert.deepEqual([me.name, me.role, me.via], ['token:bootstrap', 'admin', 'token']);
    const again = await fetch(link, { redirect: 'manual' });
    assert.equal(again.status, 401, 'the link is spent');
    assert.equal(setCookies(again).jar.writ_session, undefined);

    // Revoking the token ends the sessions it opened.
    const tokens = await (await fetch(`${local.url}/v1/tokens`, { headers: { authorization: `Bearer ${local.adminToken}` } })).json();
    const bootstrap = tokens.items.find((token: { name: string }) => token.name === 'bootstrap');
    const revoked = await fetch(`${local.url}/v1/tokens/${bootstrap.id}/revoke`, { method: 'POST', headers: { cookie, 'x-writ-csrf': me.csrf } });
    assert.equal(revoked.status, 200, await revoked.clone().text());
    assert.equal((await fetch(`${local.url}/v1/me`, { headers: { cookie } })).status, 401);
  });

  it('refuses a made-up code, and explains that there is no IdP to sign in with', async () => {
    assert.equal((await fetch(`${local.url}/auth/token?code=made-up`, { redirect: 'manual' })).status, 401);
    assert.deepEqual(await (await fetch(`${local.url}/auth/methods`)).json(), { oidc: false });
    assert.deepEqual(await (await fetch(`${server.url}/auth/methods`)).json(), { oidc: true });
    const login = await fetch(`${local.url}/auth/login`, { redirect: 'manual' });
    assert.equal(login.status, 404);
    assert.match(await login.text(), /one-time sign-in link/);
  });
});
