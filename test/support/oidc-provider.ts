// A real OpenID Provider for tests: oidc-provider 9 (npm) on 127.0.0.1, over plain http.
// Tests complete the person's part of each flow with the HTTP requests a browser would make (a cookie
// jar, GETs and form POSTs), never by reaching into the provider's internals.
//
//   const idp = await startOidcProvider();            // alice (writ-admins), bob (writ-auditors)
//   // device code: in onPrompt, play the person at verification_uri
//   onPrompt: ({ userCode }) => void idp.approveDevice(userCode, 'alice')     // or idp.denyDevice(userCode)
//   // loopback: log in from the authorization URL, then follow the redirect back as the browser would
//   openUrl: async (url) => void (await fetch(await idp.login(url, 'bob')))   // { refuseConsent: true } to deny
//   // tokens for a server test
//   await idp.issueIdToken({ accountId: 'alice' })                         // aud = idp.clientId (writ-cli)
//   await idp.issueIdToken({ accountId: 'alice', clientId: idp.otherClient.clientId })   // wrong audience
//   await idp.signToken({ exp: past })                                     // expired, signed with idp's own key
//   await (await startOidcProvider()).issueIdToken(…)                      // another issuer, unknown key
//   await (await startOidcProvider({ keyId: idp.keyId })).issueIdToken(…)  // bad signature under idp's kid
//   await idp.close();
//
// Scopes: `openid` (sub, amr), `email` (email, email_verified), `profile` (name, groups), `groups` (groups); the
// ID token carries all the claims its scopes grant. oidc-provider prints two warnings when first loaded (Node 20
// is below its supported runtime; in-memory adapter); both are harmless here.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
// @ts-expect-error oidc-provider ships no type declarations; the few parts used here are typed below.
import Provider from 'oidc-provider';

/** A person the provider knows; `accountId` is the `sub` of their tokens and what they type to log in. */
export interface TestAccount {
  accountId: string;
  email: string;
  emailVerified: boolean;
  name: string;
  groups: string[];
}

/** The default people: alice administers Writ, bob audits it. */
export const DEFAULT_ACCOUNTS: readonly TestAccount[] = [
  { accountId: 'alice', email: 'alice@example.com', emailVerified: true, name: 'Alice Example', groups: ['writ-admins'] },
  { accountId: 'bob', email: 'bob@example.com', emailVerified: true, name: 'Bob Example', groups: ['writ-auditors'] },
];

/** The public client a Writ CLI uses: no secret, PKCE, device code and loopback redirect. */
export const CLI_CLIENT_ID = 'writ-cli';
/** A confidential client of the same provider: its tokens are the wrong audience for Writ. */
export const OTHER_CLIENT_ID = 'other-app';
/** The dashboard's confidential client: code flow with PKCE, back to `/auth/callback` on any loopback port. */
export const DASHBOARD_CLIENT_ID = 'writ-dashboard';
export const DASHBOARD_REDIRECT = 'http://127.0.0.1/auth/callback';

export interface OidcProviderOptions {
  /** People who can sign in (default `DEFAULT_ACCOUNTS`). */
  accounts?: readonly TestAccount[];
  /** `kid` of the signing key (default: its JWK thumbprint). Give a second provider the first one's `kid` to get
   * tokens that name the first provider's key but are signed with another. */
  keyId?: string;
  /** Lifetime of issued ID tokens (default 3600 s). */
  idTokenTtlSeconds?: number;
  /** Lifetime of device codes (default 600 s). */
  deviceCodeTtlSeconds?: number;
  /** The `interval` the device authorization response advertises (default 1 s; RFC 8628 §3.2). oidc-provider itself
   * sends none, which makes clients wait the 5 s default between polls. */
  devicePollIntervalSeconds?: number;
  /** Answer `slow_down` instead of `authorization_pending` to this many device-code polls (default 0; RFC 8628 §3.5). */
  slowDownPolls?: number;
  /** Make the token endpoint return ID tokens whose payload was changed after signing (`groups: ['writ-admins']`):
   * a client that checks signatures must refuse them. */
  tamperIdTokens?: boolean;
}

/** Options for `login`. */
export interface LoginOptions {
  /** Log in, then press "Deny" on the consent page: the client receives `error=access_denied`. */
  refuseConsent?: boolean;
}

export interface TestOidcProvider {
  /** Issuer identifier, `http://127.0.0.1:<port>` (no trailing slash). */
  issuer: string;
  /** The CLI's public client (`writ-cli`). */
  clientId: string;
  /** Always undefined: the CLI client is public. Kept so options can be spread into sign-in calls. */
  clientSecret?: string;
  /** A confidential client (`client_secret_basic`) with the same grants and loopback redirect as the CLI. */
  otherClient: { clientId: string; clientSecret: string };
  /** The client `writ server` signs browsers in with (`client_secret_post`, redirect `DASHBOARD_REDIRECT`). */
  dashboardClient: { clientId: string; clientSecret: string };
  /** `kid` of the key the provider signs with and publishes at its `jwks_uri`. */
  keyId: string;
  accounts: readonly TestAccount[];
  /** Wall-clock times (ms) of every device-code token request, in order. */
  devicePolls: readonly number[];
  /** Plays the person at `verification_uri`: enters `userCode`, confirms, logs in as `accountId`, consents. */
  approveDevice(userCode: string, accountId: string): Promise<void>;
  /** Plays the person at `verification_uri`: enters `userCode`, then aborts on the confirmation page. */
  denyDevice(userCode: string): Promise<void>;
  /** Opens an authorization URL as a fresh browser, logs in as `accountId` and consents; resolves to the URL the
   * provider redirects back to (the client's `redirect_uri` with `code`/`state` or `error`), without fetching it. */
  login(url: string, accountId: string, options?: LoginOptions): Promise<string>;
  /** Runs the authorization code flow (PKCE) for `accountId` and returns the ID token the provider issues. */
  issueIdToken(options: { accountId: string; clientId?: string; scope?: string; nonce?: string }): Promise<string>;
  /** Signs any claims with the provider's own key (the one at `jwks_uri`), for tokens a provider would never issue
   * (already expired, not yet valid). Defaults: iss, aud = CLI client, sub = alice, iat = now, exp = now + 1 h. */
  signToken(claims: Record<string, unknown>, header?: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

// The little of oidc-provider's Koa context and API used here.
interface KoaContext {
  method: string;
  path: string;
  status: number;
  body: unknown;
  type: string;
  req: IncomingMessage;
  res: ServerResponse;
  redirect(url: string): void;
  oidc?: { route?: string; params?: Record<string, unknown>; client?: { clientId: string; clientName?: string } };
}
type Next = () => Promise<void>;
interface Interaction {
  uid: string;
  prompt: { name: string; details: Record<string, unknown> };
  params: Record<string, unknown>;
  session?: { accountId?: string };
  grantId?: string;
}
interface Grant {
  addOIDCScope(scope: string): void;
  addOIDCClaims(claims: unknown): void;
  addResourceScope(indicator: string, scope: string): void;
  save(): Promise<string>;
}
interface ProviderInstance {
  issuer: string;
  use(middleware: (ctx: KoaContext, next: Next) => Promise<void>): void;
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<Interaction>;
  interactionResult(req: IncomingMessage, res: ServerResponse, result: unknown, options?: { mergeWithLastSubmission?: boolean }): Promise<string>;
  urlFor(name: string): string;
  Grant: { new (init: { accountId: string; clientId: string }): Grant; find(id: string): Promise<Grant | undefined> };
}

const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
// RFC 8252 §7.3: the provider ignores the port of a native client's loopback redirect URI.
const LOOPBACK_REDIRECT = 'http://127.0.0.1/callback';

/** Starts a provider on 127.0.0.1:<random port>. Close it with `close()`. */
export async function startOidcProvider(options: OidcProviderOptions = {}): Promise<TestOidcProvider> {
  const accounts = options.accounts ?? DEFAULT_ACCOUNTS;
  const devicePolls: number[] = [];
  let slowDownsLeft = options.slowDownPolls ?? 0;

  // The issuer names the port, so listen first and hand requests to the provider once it exists.
  let handle: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.writeHead(503).end();
  const server = createServer((req, res) => handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const privateJwk: JWK = await exportJWK(privateKey);
  const keyId = options.keyId ?? (await calculateJwkThumbprint(privateJwk));
  const otherClient = { clientId: OTHER_CLIENT_ID, clientSecret: randomBytes(24).toString('base64url') };
  const dashboardClient = { clientId: DASHBOARD_CLIENT_ID, clientSecret: randomBytes(24).toString('base64url') };
  const nativeClient = {
    application_type: 'native',
    grant_types: ['authorization_code', DEVICE_CODE_GRANT],
    response_types: ['code'],
    redirect_uris: [LOOPBACK_REDIRECT],
  };

  const provider: ProviderInstance = new Provider(issuer, {
    clients: [
      { ...nativeClient, client_id: CLI_CLIENT_ID, client_name: 'Writ CLI', token_endpoint_auth_method: 'none' },
      { ...nativeClient, client_id: otherClient.clientId, client_secret: otherClient.clientSecret, client_name: 'Other app' },
      // Native, so that the loopback callback may sit on any port (RFC 8252 §7.3), as a test server's does.
      {
        application_type: 'native', grant_types: ['authorization_code'], response_types: ['code'], redirect_uris: [DASHBOARD_REDIRECT],
        client_id: dashboardClient.clientId, client_secret: dashboardClient.clientSecret, client_name: 'Writ dashboard', token_endpoint_auth_method: 'client_secret_post',
      },
    ],
    jwks: { keys: [{ ...privateJwk, kid: keyId, alg: 'RS256', use: 'sig' }] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    // `amr` (how the person logged in, `pwd` here) goes with `openid`, so every ID token carries it.
    // Groups come with `profile` (as a Keycloak group mapper or an Okta groups claim would send them) and with their
    // own `groups` scope.
    claims: { openid: ['sub', 'amr'], email: ['email', 'email_verified'], profile: ['name', 'groups'], groups: ['groups'] },
    // Put the scope's claims (email, groups) in the ID token too, not only at the userinfo endpoint.
    conformIdTokenClaims: false,
    findAccount: async (_ctx: unknown, sub: string) => {
      const account = accounts.find((candidate) => candidate.accountId === sub);
      if (!account) return undefined;
      return {
        accountId: account.accountId,
        claims: async () => ({
          sub: account.accountId,
          email: account.email,
          email_verified: account.emailVerified,
          name: account.name,
          groups: account.groups,
        }),
      };
    },
    features: {
      devInteractions: { enabled: false },
      deviceFlow: {
        enabled: true,
        userCodeInputSource: async (ctx: KoaContext, form: string, _out: unknown, error?: Error) => {
          const message = !error ? '' : error.name === 'AbortedError' ? 'the sign-in request was aborted' : 'the code is incorrect';
          ctx.body = page('Enter the code shown on your device', form + '<button type="submit" form="op.deviceInputForm">Continue</button>', message);
        },
        userCodeConfirmSource: async (ctx: KoaContext, form: string, client: { clientId: string }, _info: unknown, userCode: string) => {
          ctx.body = page(`Confirm sign-in to ${escapeHtml(client.clientId)} with code ${escapeHtml(userCode)}`,
            form + '<button type="submit" form="op.deviceConfirmForm">Continue</button>');
        },
        successSource: async (ctx: KoaContext) => {
          ctx.body = page('Signed in', '<p id="device-success">You can close this page.</p>');
        },
      },
    },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    renderError: async (ctx: KoaContext, out: Record<string, string>) => {
      ctx.type = 'html';
      ctx.body = page('Error', '', Object.entries(out).map(([key, value]) => `${key}: ${value}`).join('; '));
    },
    clientBasedCORS: () => false,
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 60,
      DeviceCode: options.deviceCodeTtlSeconds ?? 600,
      Grant: 3600,
      IdToken: options.idTokenTtlSeconds ?? 3600,
      Interaction: 600,
      Session: 3600,
    },
  });

  provider.use(async (ctx, next) => {
    const interaction = /^\/interaction\/([\w-]+)(?:\/(login|consent|abort))?$/.exec(ctx.path);
    if (interaction) return serveInteraction(provider, accounts, ctx, interaction[2]);
    await next();
    shapeResponse(ctx);
  });

  // oidc-provider sends no `interval` and never `slow_down`; many real providers do both.
  function shapeResponse(ctx: KoaContext): void {
    const body = ctx.body as Record<string, unknown> | undefined;
    if (ctx.oidc?.route === 'token' && typeof body?.id_token === 'string' && options.tamperIdTokens) {
      const [header, payload, signature] = body.id_token.split('.');
      const claims = { ...JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')), groups: ['writ-admins'] };
      ctx.body = { ...body, id_token: [header, Buffer.from(JSON.stringify(claims)).toString('base64url'), signature].join('.') };
    }
    if (ctx.oidc?.route === 'device_authorization' && ctx.status === 200 && body) {
      ctx.body = { ...body, interval: options.devicePollIntervalSeconds ?? 1 };
    }
    if (ctx.oidc?.route === 'token' && ctx.oidc.params?.grant_type === DEVICE_CODE_GRANT) {
      devicePolls.push(Date.now());
      if (body?.error === 'authorization_pending' && slowDownsLeft > 0) {
        slowDownsLeft -= 1;
        ctx.body = { error: 'slow_down', error_description: 'polling too often' };
      }
    }
  }

  handle = provider.callback();

  const login = async (url: string, accountId: string, loginOptions: LoginOptions = {}): Promise<string> => {
    const end = await completeInBrowser(issuer, url, { accountId, refuse: loginOptions.refuseConsent ?? false });
    if (end.redirect === undefined) throw new Error(`the provider did not redirect back to the client: stopped at \`${end.url}\``);
    return end.redirect;
  };

  const verificationUri = provider.urlFor('code_verification');
  const completeDevice = async (userCode: string, accountId: string | undefined): Promise<void> => {
    const end = await completeInBrowser(issuer, verificationUri, { accountId, userCode, refuse: accountId === undefined });
    const finished = accountId === undefined ? /data-error="the sign-in request was aborted"/ : /id="device-success"/;
    if (!finished.test(end.html)) throw new Error(`device flow did not finish: stopped at \`${end.url}\``);
  };

  return {
    issuer,
    clientId: CLI_CLIENT_ID,
    clientSecret: undefined,
    otherClient,
    dashboardClient,
    keyId,
    accounts,
    devicePolls,
    approveDevice: (userCode, accountId) => completeDevice(userCode, accountId),
    denyDevice: (userCode) => completeDevice(userCode, undefined),
    login,
    issueIdToken: async ({ accountId, clientId = CLI_CLIENT_ID, scope = 'openid email profile', nonce }) => {
      const verifier = randomBytes(32).toString('base64url');
      const challenge = createHash('sha256').update(verifier).digest('base64url');
      const authorize = new URL(`${issuer}/auth`);
      authorize.search = new URLSearchParams({
        client_id: clientId, response_type: 'code', redirect_uri: LOOPBACK_REDIRECT, scope,
        code_challenge: challenge, code_challenge_method: 'S256', state: randomUUID(), ...(nonce ? { nonce } : {}),
      }).toString();
      const code = new URL(await login(authorize.href, accountId)).searchParams.get('code');
      if (!code) throw new Error('the provider returned no authorization code');
      const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
      const body = new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: LOOPBACK_REDIRECT, code_verifier: verifier });
      if (clientId === otherClient.clientId) {
        headers.authorization = `Basic ${Buffer.from(`${otherClient.clientId}:${otherClient.clientSecret}`).toString('base64')}`;
      } else {
        body.set('client_id', clientId);
      }
      const response = await fetch(`${issuer}/token`, { method: 'POST', headers, body });
      const tokens = (await response.json()) as { id_token?: string; error?: string };
      if (!tokens.id_token) throw new Error(`token request failed: ${tokens.error ?? response.status}`);
      return tokens.id_token;
    },
    signToken: async (claims, header = {}) => {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ iss: issuer, aud: CLI_CLIENT_ID, sub: 'alice', iat: now, exp: now + 3600, ...claims })
        .setProtectedHeader({ alg: 'RS256', kid: keyId, typ: 'JWT', ...header })
        .sign(privateKey);
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// --- The provider's own login and consent pages (what a real IdP renders at its interactions.url) ---

async function serveInteraction(provider: ProviderInstance, accounts: readonly TestAccount[], ctx: KoaContext, action: string | undefined): Promise<void> {
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  const finish = async (result: unknown, merge: boolean) => {
    ctx.status = 303;
    ctx.redirect(await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: merge }));
  };
  const base = `/interaction/${details.uid}`;
  if (ctx.method === 'GET' && action === undefined) {
    ctx.type = 'html';
    ctx.body = details.prompt.name === 'login' ? loginPage(base) : consentPage(base, details);
    return;
  }
  if (ctx.method !== 'POST') {
    ctx.status = 405;
    return;
  }
  const form = new URLSearchParams(await readBody(ctx.req));
  if (action === 'abort') {
    return finish({ error: 'access_denied', error_description: 'End-User aborted interaction' }, false);
  }
  if (action === 'login' && details.prompt.name === 'login') {
    const account = accounts.find((candidate) => candidate.accountId === form.get('login'));
    if (!account) {
      ctx.type = 'html';
      ctx.body = loginPage(base, `no account \`${form.get('login') ?? ''}\``);
      return;
    }
    return finish({ login: { accountId: account.accountId, amr: ['pwd'] } }, false);
  }
  if (action === 'consent' && details.prompt.name === 'consent') {
    // Grant exactly what the prompt says is missing (as oidc-provider's own dev interactions do).
    const { missingOIDCScope, missingOIDCClaims, missingResourceScopes } = details.prompt.details as {
      missingOIDCScope?: string[];
      missingOIDCClaims?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
    const grant = (details.grantId ? await provider.Grant.find(details.grantId) : undefined)
      ?? new provider.Grant({ accountId: details.session?.accountId ?? '', clientId: String(details.params.client_id) });
    if (missingOIDCScope) grant.addOIDCScope(missingOIDCScope.join(' '));
    if (missingOIDCClaims) grant.addOIDCClaims(missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
    return finish({ consent: { grantId: await grant.save() } }, true);
  }
  ctx.status = 400;
  ctx.type = 'html';
  ctx.body = page('Error', '', `unexpected \`${action ?? ''}\` for prompt \`${details.prompt.name}\``);
}

function loginPage(base: string, error?: string): string {
  return page('Sign in', `<form id="login" method="post" action="${base}/login">
<input type="text" name="login" placeholder="account" autofocus>
<input type="password" name="password" placeholder="password">
<button type="submit">Sign in</button>
</form>`, error);
}

function consentPage(base: string, details: Interaction): string {
  return page(`Allow ${escapeHtml(String(details.params.client_id))} to know who you are`, `
<p>Scopes: ${escapeHtml(String(details.params.scope ?? ''))}</p>
<form id="consent" method="post" action="${base}/consent"><button type="submit">Allow</button></form>
<form id="abort" method="post" action="${base}/abort"><button type="submit">Deny</button></form>`);
}

function page(title: string, body: string, error?: string): string {
  const message = error ? `<p class="error" data-error="${escapeHtml(error)}">${escapeHtml(error)}</p>` : '';
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${title}</title></head><body><h1>${title}</h1>${message}${body}</body></html>`;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// --- A minimal browser: one cookie jar, redirects followed on the provider's origin, forms parsed and posted ---

interface PageState {
  url: string;
  html: string;
  /** Set when the provider redirected to another origin (the client); that URL is not fetched. */
  redirect?: string;
}

interface BrowserPlan {
  accountId?: string;
  userCode?: string;
  /** Deny on the consent page, or abort on the device confirmation page. */
  refuse: boolean;
}

const MAX_STEPS = 20;

async function completeInBrowser(issuer: string, startUrl: string, plan: BrowserPlan): Promise<PageState> {
  const browser = new Browser(new URL(issuer).origin);
  let state = await browser.navigate(startUrl);
  for (let step = 0; step < MAX_STEPS; step += 1) {
    if (state.redirect !== undefined) return state;
    const forms = parseForms(state.html, state.url);
    const error = /data-error="([^"]*)"/.exec(state.html)?.[1];
    const pick = (id: string) => forms.find((form) => form.id === id);
    let next: { form: ParsedForm; fields: Record<string, string> } | undefined;
    if (pick('op.deviceInputForm') && plan.userCode !== undefined && !error) {
      next = { form: pick('op.deviceInputForm')!, fields: { user_code: plan.userCode } };
    } else if (pick('op.deviceConfirmForm')) {
      next = { form: pick('op.deviceConfirmForm')!, fields: plan.refuse ? { abort: 'yes' } : {} };
    } else if (pick('login') && plan.accountId !== undefined && !error) {
      next = { form: pick('login')!, fields: { login: plan.accountId, password: 'unused' } };
    } else if (pick('consent') && pick('abort')) {
      next = { form: plan.refuse ? pick('abort')! : pick('consent')!, fields: {} };
    }
    if (!next) {
      if (error && !(plan.refuse && plan.userCode !== undefined)) throw new Error(`the provider refused: ${decodeHtml(error)}`);
      return state;
    }
    state = await browser.submit(next.form, next.fields);
  }
  throw new Error(`browser gave up after ${MAX_STEPS} steps at \`${state.url}\``);
}

interface ParsedForm {
  id?: string;
  action: string;
  method: string;
  fields: Record<string, string>;
}

function parseForms(html: string, pageUrl: string): ParsedForm[] {
  return [...html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)].map(([, attributes, inner]) => {
    const attrs = parseAttributes(attributes);
    const fields: Record<string, string> = {};
    for (const [, input] of inner.matchAll(/<input\b([^>]*)>/gi)) {
      const { name, value, type } = parseAttributes(input);
      if (name && (type === 'hidden' || value !== undefined)) fields[name] = value ?? '';
    }
    return { id: attrs.id, action: new URL(attrs.action ?? pageUrl, pageUrl).href, method: (attrs.method ?? 'get').toUpperCase(), fields };
  });
}

function parseAttributes(source: string): Record<string, string | undefined> {
  const attributes: Record<string, string | undefined> = {};
  for (const [, name, value] of source.matchAll(/([\w:.-]+)(?:\s*=\s*"([^"]*)")?/g)) {
    attributes[name.toLowerCase()] = value === undefined ? '' : decodeHtml(value);
  }
  return attributes;
}

function decodeHtml(text: string): string {
  return text
    .replace(/&#x([0-9a-f]+);/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)))
    .replace(/&#(\d+);/g, (_, dec: string) => String.fromCharCode(Number(dec)))
    .replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

interface Cookie {
  name: string;
  value: string;
  path: string;
}

class Browser {
  private cookies: Cookie[] = [];
  constructor(private readonly origin: string) {}

  navigate(url: string): Promise<PageState> {
    return this.request(url, { method: 'GET' });
  }

  submit(form: ParsedForm, fields: Record<string, string>): Promise<PageState> {
    const body = new URLSearchParams({ ...form.fields, ...fields });
    if (form.method === 'GET') {
      const url = new URL(form.action);
      url.search = body.toString();
      return this.navigate(url.href);
    }
    return this.request(form.action, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  }

  private async request(url: string, init: { method: string; body?: URLSearchParams; headers?: Record<string, string> }): Promise<PageState> {
    let current = new URL(url);
    let request = init;
    for (let hop = 0; hop < MAX_STEPS; hop += 1) {
      if (current.origin !== this.origin) return { url: current.href, html: '', redirect: current.href };
      const response = await fetch(current, {
        ...request,
        redirect: 'manual',
        headers: { ...request.headers, cookie: this.cookieHeader(current.pathname) },
      });
      this.store(response.headers.getSetCookie(), current.pathname);
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location) {
        await response.body?.cancel();
        current = new URL(location, current);
        request = { method: 'GET' };
        continue;
      }
      return { url: current.href, html: await response.text() };
    }
    throw new Error(`too many redirects from \`${url}\``);
  }

  private cookieHeader(path: string): string {
    return this.cookies
      .filter((cookie) => path === cookie.path || path.startsWith(cookie.path.endsWith('/') ? cookie.path : `${cookie.path}/`))
      .map((cookie) => `${cookie.name}=${cookie.value}`)
      .join('; ');
  }

  private store(setCookies: string[], requestPath: string): void {
    for (const line of setCookies) {
      const [pair, ...attributes] = line.split(';').map((part) => part.trim());
      const separator = pair.indexOf('=');
      const name = pair.slice(0, separator);
      const value = pair.slice(separator + 1);
      let path = requestPath.slice(0, requestPath.lastIndexOf('/')) || '/';
      let expired = false;
      for (const attribute of attributes) {
        const [key, attributeValue = ''] = attribute.split('=');
        if (key.toLowerCase() === 'path') path = attributeValue || '/';
        if (key.toLowerCase() === 'max-age' && Number(attributeValue) <= 0) expired = true;
        if (key.toLowerCase() === 'expires' && Date.parse(attributeValue) <= Date.now()) expired = true;
      }
      this.cookies = this.cookies.filter((cookie) => !(cookie.name === name && cookie.path === path));
      if (!expired) this.cookies.push({ name, value, path });
    }
  }
}
