// CLI side: signs a person in with the organisation's OIDC provider, by device code (RFC 8628) or by a
// browser redirected to a loopback listener (RFC 8252 §7.3, PKCE RFC 7636). The only importer of openid-client.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as client from 'openid-client';

/** Claims of a verified ID token (`iss`, `sub`, `aud`, `exp`, `iat`, then whatever the IdP adds). */
export type IdTokenClaims = client.IDToken;

export interface SignInResult {
  idToken: string;
  accessToken?: string;
  claims: IdTokenClaims;
}

interface SignInBase {
  issuer: string;
  clientId: string;
  /** Only for IdPs that give native apps a secret anyway; sent with HTTP Basic unless the IdP only takes POST. */
  clientSecret?: string;
  /** Default `openid email profile`; `openid` is added when missing. */
  scope?: string;
  signal?: AbortSignal;
}

/** What to show the person: the code, and where to enter it (RFC 8628 §3.3). */
export interface DeviceCodePrompt {
  userCode: string;
  verificationUri: string;
  verificationUriComplete?: string;
  expiresInSeconds: number;
}

export interface DeviceCodeSignInOptions extends SignInBase {
  onPrompt(info: DeviceCodePrompt): void;
}

export interface LoopbackSignInOptions extends SignInBase {
  /** Opens the authorization URL in a browser. Its promise need not settle: sign-in ends when the browser comes back. */
  openUrl(url: string): void | Promise<void>;
  /** Port to listen on at 127.0.0.1 (default: any free port; the IdP must ignore the port, RFC 8252 §7.3). */
  port?: number;
  /** Give up if the browser has not come back by then (default 5 minutes). */
  timeoutMs?: number;
}

export type SignInErrorCode =
  | 'INSECURE_ISSUER'
  | 'PROVIDER_ERROR'
  | 'DENIED'
  | 'EXPIRED'
  | 'TIMED_OUT'
  | 'ABORTED'
  | 'PORT_UNAVAILABLE'
  | 'BROWSER_FAILED';

export class SignInError extends Error {
  constructor(readonly code: SignInErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SignInError';
  }
}

const DEFAULT_SCOPE = 'openid email profile';
const DEFAULT_LOOPBACK_TIMEOUT_MS = 5 * 60_000;

/**
 * Signs in with the device authorization grant: shows a code through `onPrompt`, then polls the token endpoint at
 * the interval the IdP asks for (5 s more after each `slow_down`, RFC 8628 §3.5) until the person approves, denies,
 * or the code expires.
 * @example
 * const { claims } = await signInWithDeviceCode({ issuer, clientId: 'writ-cli',
 *   onPrompt: ({ userCode, verificationUri }) => console.log(`open ${verificationUri} and enter ${userCode}`) });
 */
export async function signInWithDeviceCode(options: DeviceCodeSignInOptions): Promise<SignInResult> {
  throwIfAborted(options.signal);
  const config = await configure(options);
  let authorization: client.DeviceAuthorizationResponse;
  try {
    authorization = await client.initiateDeviceAuthorization(config, { scope: scopeOf(options) });
  } catch (error) {
    throw providerError('device authorization request failed', error);
  }
  options.onPrompt({
    userCode: authorization.user_code,
    verificationUri: authorization.verification_uri,
    verificationUriComplete: authorization.verification_uri_complete,
    expiresInSeconds: authorization.expires_in,
  });
  const expiry = AbortSignal.timeout(authorization.expires_in * 1000);
  const signal = options.signal ? AbortSignal.any([options.signal, expiry]) : expiry;
  try {
    const tokens = client.pollDeviceAuthorizationGrant(config, authorization, undefined, { signal });
    // openid-client notices the signal only between waits (up to 5 s): stop at once, and let the poll wind down.
    const stopped = new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
    tokens.catch(() => undefined);
    stopped.catch(() => undefined);
    return toResult(await Promise.race([tokens, stopped]));
  } catch (error) {
    throwIfAborted(options.signal);
    const oauthError = error instanceof client.ResponseBodyError ? error.error : undefined;
    if (expiry.aborted || oauthError === 'expired_token') {
      throw new SignInError('EXPIRED', `the code \`${authorization.user_code}\` expired before it was approved: sign in again and enter the new code within ${minutes(authorization.expires_in)}`);
    }
    if (oauthError === 'access_denied') throw new SignInError('DENIED', 'sign-in was denied at the identity provider', { cause: error });
    throw error instanceof SignInError ? error : providerError('sign-in failed', error);
  }
}

/**
 * Signs in through the browser: listens on 127.0.0.1, opens the authorization URL (PKCE S256, state, nonce), and
 * exchanges the code the browser brings back. The listener answers one small page, then closes.
 * @example
 * const { claims } = await signInWithLoopback({ issuer, clientId: 'writ-cli', openUrl: (url) => open(url) });
 */
export async function signInWithLoopback(options: LoopbackSignInOptions): Promise<SignInResult> {
  throwIfAborted(options.signal);
  const config = await configure(options);
  const codeVerifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const codeChallenge = await client.calculatePKCECodeChallenge(codeVerifier);
  const server = createServer();
  const port = await listen(server, options.port ?? 0);
  // RFC 8252 §7.3 and §8.3: the literal loopback address, not `localhost`, and bound to it only.
  const redirectUri = `http://127.0.0.1:${port}/callback`;
  let authorizationUrl: URL;
  try {
    authorizationUrl = client.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: scopeOf(options),
      code_challenge: codeChallenge,
      code_challenge_method: 'S256',
      state,
      nonce,
    });
  } catch (error) {
    server.close();
    throw providerError('couldn\'t build the authorization URL', error);
  }

  return new Promise<SignInResult>((resolve, reject) => {
    let settled = false;
    let claimed = false;
    const finish = (error: unknown, result?: SignInResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      server.close();
      server.closeIdleConnections();
      if (result) resolve(result);
      else reject(error);
    };
    const timeoutMs = options.timeoutMs ?? DEFAULT_LOOPBACK_TIMEOUT_MS;
    const timer = setTimeout(() => finish(new SignInError('TIMED_OUT', `the browser did not come back within ${minutes(timeoutMs / 1000)}: sign in again`)), timeoutMs);
    const onAbort = () => finish(new SignInError('ABORTED', 'sign-in aborted'));
    options.signal?.addEventListener('abort', onAbort, { once: true });

    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      // Anything can connect to a loopback port: only the first redirect carrying our `state` ends the sign-in.
      const url = new URL(req.url ?? '/', redirectUri);
      if (claimed || req.method !== 'GET' || url.pathname !== '/callback' || url.searchParams.get('state') !== state) {
        answer(res, 404, 'Not found', 'This is Writ’s sign-in listener; nothing is waiting for this request.');
        return;
      }
      claimed = true;
      completeAuthorization(config, url, codeVerifier, state, nonce).then(
        (result) => {
          const who = typeof result.claims.email === 'string' ? result.claims.email : result.claims.sub;
          answer(res, 200, 'Signed in', `Writ is signed in as ${who}. You can close this tab.`, () => finish(undefined, result));
        },
        (error: unknown) => {
          const failure = providerError('sign-in failed', error);
          answer(res, 400, 'Sign-in failed', failure.message, () => finish(failure));
        },
      );
    });

    Promise.resolve()
      .then(() => options.openUrl(authorizationUrl.href))
      .catch((error: unknown) => finish(new SignInError('BROWSER_FAILED', `couldn't open the browser: ${describe(error)}: open \`${authorizationUrl.href}\` yourself`, { cause: error })));
  });
}

async function completeAuthorization(config: client.Configuration, url: URL, codeVerifier: string, state: string, nonce: string): Promise<SignInResult> {
  const error = url.searchParams.get('error');
  if (error !== null) {
    const description = url.searchParams.get('error_description');
    const detail = `\`${error}\`${description ? `: ${description}` : ''}`;
    throw new SignInError(error === 'access_denied' ? 'DENIED' : 'PROVIDER_ERROR', `the identity provider refused the sign-in: ${detail}`);
  }
  const tokens = await client.authorizationCodeGrant(config, url, {
    pkceCodeVerifier: codeVerifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  });
  return toResult(tokens);
}

// Discovery, client authentication, and the checks every response gets.
async function configure(options: SignInBase): Promise<client.Configuration> {
  if (!URL.canParse(options.issuer)) throw new TypeError(`issuer \`${options.issuer}\` is not a URL`);
  const issuer = new URL(options.issuer);
  const insecure = issuer.protocol === 'http:';
  if (insecure && !['127.0.0.1', 'localhost', '[::1]'].includes(issuer.hostname)) {
    throw new SignInError('INSECURE_ISSUER', `issuer \`${options.issuer}\` must use https (plain http is allowed for 127.0.0.1 and localhost only)`);
  }
  const execute = insecure ? [client.allowInsecureRequests] : [];
  let server: client.ServerMetadata;
  try {
    server = (await client.discovery(issuer, options.clientId, undefined, client.None(), { execute })).serverMetadata();
  } catch (error) {
    throw providerError(`couldn't discover \`${options.issuer}\``, error);
  }
  const secret = options.clientSecret;
  // RFC 8414 §2: an IdP that lists no methods supports client_secret_basic.
  const methods = server.token_endpoint_auth_methods_supported ?? ['client_secret_basic'];
  const auth = secret === undefined
    ? client.None()
    : methods.includes('client_secret_basic') ? client.ClientSecretBasic(secret) : client.ClientSecretPost(secret);
  const config = new client.Configuration(server, options.clientId, secret === undefined ? undefined : { client_secret: secret }, auth);
  if (insecure) client.allowInsecureRequests(config);
  // openid-client checks the ID token's claims (iss, aud, exp, iat, nonce); this adds its signature, against the
  // IdP's published keys, so a token is never trusted on the strength of the transport alone.
  client.enableNonRepudiationChecks(config);
  return config;
}

function toResult(tokens: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers): SignInResult {
  const claims = tokens.claims();
  if (!tokens.id_token || !claims) throw new SignInError('PROVIDER_ERROR', 'the identity provider returned no ID token: check that the `openid` scope is allowed for this client');
  return { idToken: tokens.id_token, accessToken: tokens.access_token, claims };
}

function scopeOf(options: SignInBase): string {
  const scopes = (options.scope ?? DEFAULT_SCOPE).split(/\s+/).filter(Boolean);
  return (scopes.includes('openid') ? scopes : ['openid', ...scopes]).join(' ');
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', (error) => reject(new SignInError('PORT_UNAVAILABLE', `couldn't listen on 127.0.0.1:${port}: ${describe(error)}`, { cause: error })));
    server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

function answer(res: ServerResponse, status: number, title: string, text: string, done?: () => void): void {
  const body = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>`
    + `<body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p></body></html>`;
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', connection: 'close' });
  // 'close' also fires when the browser hangs up first, so the sign-in never waits on a vanished tab.
  if (done) res.once('close', done);
  res.end(body);
}

function providerError(context: string, error: unknown): SignInError {
  if (error instanceof SignInError) return error;
  if (error instanceof client.ResponseBodyError || error instanceof client.AuthorizationResponseError) {
    const detail = error.error_description ? `: ${error.error_description}` : '';
    return new SignInError('PROVIDER_ERROR', `${context}: \`${error.error}\`${detail}`, { cause: error });
  }
  return new SignInError('PROVIDER_ERROR', `${context}: ${describe(error)}`, { cause: error });
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new SignInError('ABORTED', 'sign-in aborted', { cause: signal.reason });
}

function minutes(seconds: number): string {
  const whole = Math.max(1, Math.round(seconds / 60));
  return whole === 1 ? '1 minute' : `${whole} minutes`;
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.cause instanceof Error ? `${error.message}: ${error.cause.message}` : error.message;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
