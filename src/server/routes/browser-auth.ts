// Signing a browser in to the dashboard (docs/dashboard.md, "Sign-in"): OIDC authorization code with PKCE through
// openid-client, or, with no IdP, the one-time link `writ server` prints for its admin token. Either ends in the
// session cookie of browser-session.ts; GET /v1/me says who it is, its role and the CSRF value to send.
import * as client from 'openid-client';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ServerContext } from '../app.js';
import { authenticateUser, identityCaller, verifyIdentity, type OidcAccess } from '../auth.js';
import { BrowserSessions, clearCookie, LOGIN_COOKIE, SESSION_COOKIE, SESSION_TTL_SECONDS, setCookie } from '../browser-session.js';
import { HttpError } from '../http-error.js';

const SCOPE = 'openid email profile groups';
const LOGIN_TTL_SECONDS = 10 * 60;

export interface BrowserAuthOptions {
  /** The URL browsers reach this server at (the OIDC redirect URI is under it); default: the request's own. */
  publicUrl?: string;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A sign-in failure as a page a person can read, with the way back. */
function failurePage(reply: FastifyReply, status: number, message: string) {
  return reply
    .status(status)
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .send(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Writ: sign-in failed</title></head><body><main><h1>Sign-in failed</h1><p>${escapeHtml(message)}</p><p><a href="/">Back to Writ</a></p></main></body></html>`);
}

/** Only a path on this server, never another origin (`//evil`, `/\\evil`), may be where sign-in returns to. */
function localPath(value: unknown): string {
  return typeof value === 'string' && /^\/(?![/\\])[\x21-\x7e]{0,500}$/.test(value) ? value : '/';
}

export function browserAuthRoutes(context: ServerContext, sessions: BrowserSessions, options: BrowserAuthOptions = {}) {
  const { store } = context;
  let configuration: Promise<client.Configuration> | undefined;

  const baseUrl = (request: FastifyRequest) => options.publicUrl ?? `${request.protocol}://${request.host}`;
  const secure = (request: FastifyRequest) => baseUrl(request).startsWith('https:');

  /** The IdP's metadata, fetched once; a failure is forgotten so the next sign-in tries again. */
  const discover = (login: NonNullable<OidcAccess['login']>): Promise<client.Configuration> => {
    configuration ??= client
      .discovery(
        new URL(login.issuer),
        login.clientId,
        login.clientSecret,
        login.clientSecret ? client.ClientSecretPost(login.clientSecret) : client.None(),
        // A plain-http issuer is only ever a local one (tests, a laptop); the CLI checks --oidc-issuer's scheme.
        login.issuer.startsWith('http:') ? { execute: [client.allowInsecureRequests] } : undefined,
      )
      .catch((error: Error) => {
        configuration = undefined;
        throw new HttpError(503, 'idp_unavailable', `the identity provider at ${login.issuer} did not answer: ${error.message}`);
      });
    return configuration;
  };

  const startSession = async (request: FastifyRequest, reply: FastifyReply, fields: Parameters<BrowserSessions['seal']>[0], returnTo: string) => {
    const { value } = await sessions.seal(fields);
    return reply
      .header('set-cookie', [setCookie(SESSION_COOKIE, value, { secure: secure(request), maxAgeSeconds: SESSION_TTL_SECONDS }), clearCookie(LOGIN_COOKIE, { secure: secure(request), path: '/auth' })])
      .header('cache-control', 'no-store')
      .header('referrer-policy', 'no-referrer')
      .redirect(returnTo, 303);
  };

  return async (app: FastifyInstance) => {
    const hidden = { schema: { hide: true } };

    // Public, so the sign-in page offers only the ways this server has.
    app.get('/auth/methods', hidden, async () => ({ oidc: Boolean(context.oidc?.login) }));

    app.get('/auth/login', hidden, async (request, reply) => {
      const login = context.oidc?.login;
      if (!login) return failurePage(reply, 404, 'This server has no identity provider configured. Use the one-time sign-in link that `writ server` printed when it started.');
      let config: client.Configuration;
      try {
        config = await discover(login);
      } catch (error) {
        return failurePage(reply, 503, (error as Error).message);
      }
      const pending = {
        state: client.randomState(),
        nonce: client.randomNonce(),
        codeVerifier: client.randomPKCECodeVerifier(),
        returnTo: localPath((request.query as { return?: unknown }).return),
      };
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: `${baseUrl(request)}/auth/callback`,
        scope: SCOPE,
        code_challenge: await client.calculatePKCECodeChallenge(pending.codeVerifier),
        code_challenge_method: 'S256',
        state: pending.state,
        nonce: pending.nonce,
      });
      return reply
        .header('set-cookie', setCookie(LOGIN_COOKIE, await sessions.sealLogin(pending), { secure: secure(request), maxAgeSeconds: LOGIN_TTL_SECONDS, path: '/auth' }))
        .header('cache-control', 'no-store')
        .redirect(url.href, 302);
    });

    app.get('/auth/callback', hidden, async (request, reply) => {
      const oidc = context.oidc;
      if (!oidc?.login) return failurePage(reply, 404, 'This server has no identity provider configured.');
      const pending = await sessions.readLogin(request);
      if (!pending) return failurePage(reply, 400, 'This sign-in was not started here or took longer than 10 minutes. Start again.');
      let idToken: string | undefined;
      try {
        const config = await discover(oidc.login);
        const tokens = await client.authorizationCodeGrant(config, new URL(request.url, baseUrl(request)), {
          pkceCodeVerifier: pending.codeVerifier,
          expectedState: pending.state,
          expectedNonce: pending.nonce,
          idTokenExpected: true,
        });
        idToken = tokens.id_token;
      } catch (error) {
        const refused = error instanceof client.AuthorizationResponseError ? `the identity provider refused: ${error.error}` : (error as Error).message;
        return failurePage(reply, error instanceof HttpError ? error.status : 403, `Sign-in did not complete: ${refused}`);
      }
      try {
        // The same checks as a bearer ID token: signature, issuer, audience, expiry, and the groups claim.
        const identity = await verifyIdentity(oidc, idToken ?? '', 'sign-in');
        const caller = identityCaller(oidc, identity);
        return await startSession(request, reply, { name: caller.name, role: caller.role as 'admin' | 'auditor', via: 'oidc', iss: identity.iss, sub: identity.sub }, pending.returnTo);
      } catch (error) {
        return failurePage(reply, error instanceof HttpError ? error.status : 403, (error as Error).message);
      }
    });

    // The link `writ server` prints: a code good for one sign-in, never the token itself.
    app.get('/auth/token', hidden, async (request, reply) => {
      const code = (request.query as { code?: unknown }).code;
      const tokenHash = typeof code === 'string' && code.length <= 100 ? sessions.spendSignInCode(code) : undefined;
      if (!tokenHash) return failurePage(reply, 401, 'This sign-in link is unknown, already used or expired. Restart `writ server` for a new one.');
      const token = await store.findAdminToken(tokenHash);
      if (!token || token.revokedAt || token.role === 'enroller') return failurePage(reply, 401, 'The token this link was for is revoked or cannot sign in.');
      return startSession(request, reply, { name: `token:${token.name}`, role: token.role, via: 'token', tokenHash }, '/');
    });

    app.post('/auth/logout', hidden, async (request, reply) => {
      // Signing out changes state, so a session needs its CSRF header here too (else any site could sign you out).
      if (request.browserSession) await authenticateUser(request, store, context.oidc, 'auditor');
      return reply.header('set-cookie', clearCookie(SESSION_COOKIE, { secure: secure(request) })).status(204).send();
    });

    app.get(
      '/v1/me',
      {
        schema: {
          summary: 'Who is calling (auditor)',
          description: 'The caller’s name and role; for a dashboard session also the CSRF value its state-changing requests must send in `x-writ-csrf`, and when the session ends.',
          tags: ['auth'],
          security: [{ bearer: [] }],
        },
      },
      async (request, reply) => {
        const caller = await authenticateUser(request, store, context.oidc, 'auditor');
        const session = request.headers.authorization ? undefined : request.browserSession;
        reply.header('cache-control', 'no-store');
        return {
          name: caller.name,
          role: caller.role,
          via: session ? session.via : 'bearer',
          csrf: session?.csrf ?? '',
          expires_at: session?.expiresAt.toISOString() ?? null,
        };
      },
    );
  };
}

/** Reads the dashboard session on every request that has no Authorization header (root-level hook). */
export function readBrowserSessions(app: FastifyInstance, sessions: BrowserSessions): void {
  app.addHook('onRequest', async (request) => {
    if (!request.headers.authorization && request.headers.cookie) {
      const session = await sessions.read(request);
      if (session) request.browserSession = session;
    }
  });
}
