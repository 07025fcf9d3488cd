// Browser sessions for the dashboard: a signed, expiring cookie rather than a row in the store. Replicas share
// nothing but the store and the org key, so a key derived from the org key lets any replica read any session
// without a table, a write per sign-in or a clean-up job. What a stateless cookie cannot do, revoke early, is
// covered where it matters: sessions opened with an admin token re-check that token on every request, so
// revoking it ends them; OIDC sessions last at most SESSION_TTL_SECONDS (the IdP is asked again after that).
//
// Cookie-authenticated state-changing requests must also carry the session's CSRF value in `x-writ-csrf`; the
// page reads it from GET /v1/me. A cross-site form can neither read it nor set the header (SameSite=Lax too).
import { createHash, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { parseCookie, stringifySetCookie } from 'cookie';
import type { FastifyRequest } from 'fastify';
import { jwtVerify, SignJWT } from 'jose';
import type { Org } from './org.js';

export const SESSION_COOKIE = 'writ_session';
/** The sign-in in flight (PKCE verifier, state, nonce) between /auth/login and /auth/callback. */
export const LOGIN_COOKIE = 'writ_login';
export const CSRF_HEADER = 'x-writ-csrf';
export const SESSION_TTL_SECONDS = 8 * 3600;
const LOGIN_TTL_SECONDS = 10 * 60;
/** How long the one-time sign-in link `writ server` prints stays usable. */
export const SIGN_IN_LINK_TTL_MS = 24 * 3600 * 1000;

export interface BrowserSession {
  name: string;
  role: 'admin' | 'auditor';
  via: 'oidc' | 'token';
  /** Token sessions: the hash of the admin or auditor token, re-checked on each request. */
  tokenHash?: string;
  /** OIDC sessions: who the IdP says this is, for signed approval decisions. Groups are not kept: they gave the
   * role at sign-in, only admins decide approvals from the dashboard, and a long list would pass a cookie's 4 KB. */
  iss?: string;
  sub?: string;
  csrf: string;
  expiresAt: Date;
}

export interface PendingLogin {
  state: string;
  nonce: string;
  codeVerifier: string;
  /** Where to go after signing in: a path on this server. */
  returnTo: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The dashboard session from the cookie, when the request has one and no Authorization header. */
    browserSession?: BrowserSession;
  }
}

export class BrowserSessions {
  private readonly key: Uint8Array;
  /** One-time sign-in codes (by hash) and the token each opens a session for; this process only. */
  private readonly signInCodes = new Map<string, { tokenHash: string; expires: number }>();

  constructor(
    org: Org,
    private readonly now: () => Date,
  ) {
    // Ed25519 signatures are deterministic (RFC 8032), so every holder of the org key derives the same secret.
    const seed = org.signer.sign(new TextEncoder().encode('writ browser session key v1'));
    this.key = new Uint8Array(hkdfSync('sha256', seed, new Uint8Array(0), 'writ-session-hmac', 32));
  }

  /** A new session cookie's value, signed and expiring. */
  async seal(session: Omit<BrowserSession, 'csrf' | 'expiresAt'>): Promise<{ value: string; session: BrowserSession }> {
    const issuedAt = Math.floor(this.now().getTime() / 1000);
    const full: BrowserSession = { ...session, csrf: randomBytes(24).toString('base64url'), expiresAt: new Date((issuedAt + SESSION_TTL_SECONDS) * 1000) };
    const value = await new SignJWT({ name: full.name, role: full.role, via: full.via, tok: full.tokenHash, iss_: full.iss, sub_: full.sub, csrf: full.csrf })
      .setProtectedHeader({ alg: 'HS256', typ: 'writ-session' })
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + SESSION_TTL_SECONDS)
      .setAudience('writ-session')
      .sign(this.key);
    return { value, session: full };
  }

  /** The session a request's cookie holds, or undefined when it has none, or one forged, expired or malformed. */
  async read(request: FastifyRequest): Promise<BrowserSession | undefined> {
    const value = readCookie(request, SESSION_COOKIE);
    if (!value) return undefined;
    try {
      const { payload } = await jwtVerify(value, this.key, { audience: 'writ-session', typ: 'writ-session', algorithms: ['HS256'], currentDate: this.now() });
      const role = payload.role;
      if ((role !== 'admin' && role !== 'auditor') || (payload.via !== 'oidc' && payload.via !== 'token') || typeof payload.name !== 'string' || typeof payload.csrf !== 'string') return undefined;
      return {
        name: payload.name,
        role,
        via: payload.via,
        ...(typeof payload.tok === 'string' && { tokenHash: payload.tok }),
        ...(typeof payload.iss_ === 'string' && { iss: payload.iss_ }),
        ...(typeof payload.sub_ === 'string' && { sub: payload.sub_ }),
        csrf: payload.csrf,
        expiresAt: new Date((payload.exp ?? 0) * 1000),
      };
    } catch {
      return undefined;
    }
  }

  async sealLogin(login: PendingLogin): Promise<string> {
    return new SignJWT({ ...login })
      .setProtectedHeader({ alg: 'HS256', typ: 'writ-login' })
      .setIssuedAt(Math.floor(this.now().getTime() / 1000))
      .setExpirationTime(Math.floor(this.now().getTime() / 1000) + LOGIN_TTL_SECONDS)
      .setAudience('writ-login')
      .sign(this.key);
  }

  async readLogin(request: FastifyRequest): Promise<PendingLogin | undefined> {
    const value = readCookie(request, LOGIN_COOKIE);
    if (!value) return undefined;
    try {
      const { payload } = await jwtVerify(value, this.key, { audience: 'writ-login', typ: 'writ-login', algorithms: ['HS256'], currentDate: this.now() });
      const { state, nonce, codeVerifier, returnTo } = payload as Record<string, unknown>;
      if (typeof state !== 'string' || typeof nonce !== 'string' || typeof codeVerifier !== 'string' || typeof returnTo !== 'string') return undefined;
      return { state, nonce, codeVerifier, returnTo };
    } catch {
      return undefined;
    }
  }

  /** A one-time code that opens a session for the token with this hash (the link `writ server` prints). */
  newSignInCode(tokenHash: string): string {
    const code = randomBytes(32).toString('base64url');
    this.signInCodes.set(codeHash(code), { tokenHash, expires: this.now().getTime() + SIGN_IN_LINK_TTL_MS });
    return code;
  }

  /** Spends a one-time code: the token hash it was for, or undefined if unknown, used or expired. */
  spendSignInCode(code: string): string | undefined {
    const key = codeHash(code);
    const found = this.signInCodes.get(key);
    this.signInCodes.delete(key);
    return found && found.expires > this.now().getTime() ? found.tokenHash : undefined;
  }
}

const codeHash = (code: string) => createHash('sha256').update(code).digest('hex');

function readCookie(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  try {
    return parseCookie(header)[name];
  } catch {
    return undefined;
  }
}

/** Whether a state-changing request carries the session's CSRF value. Safe methods need none. */
export function csrfHolds(request: FastifyRequest, session: BrowserSession): boolean {
  if (request.method === 'GET' || request.method === 'HEAD' || request.method === 'OPTIONS') return true;
  const sent = request.headers[CSRF_HEADER];
  if (typeof sent !== 'string') return false;
  const a = Buffer.from(sent);
  const b = Buffer.from(session.csrf);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A Set-Cookie value: HttpOnly, SameSite=Lax, Secure when the dashboard is reached over https. */
export function setCookie(name: string, value: string, options: { secure: boolean; maxAgeSeconds: number; path?: string }): string {
  return stringifySetCookie({ name, value, httpOnly: true, sameSite: 'lax', secure: options.secure, path: options.path ?? '/', maxAge: options.maxAgeSeconds });
}

export function clearCookie(name: string, options: { secure: boolean; path?: string }): string {
  return setCookie(name, '', { ...options, maxAgeSeconds: 0 });
}
