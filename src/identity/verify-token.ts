// Server side: verifies an OIDC ID token (a JWT signed by the organisation's IdP) and says who it names.
// The only importer of jose's verification API. OpenID Connect Core 1.0 §3.1.3.7; RFC 8725 (JWT BCP).
import {
  createRemoteJWKSet,
  decodeProtectedHeader,
  errors,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';

/** Who a verified token names. Never holds the token itself, so it can be recorded as it is. */
export interface VerifiedIdentity {
  iss: string;
  sub: string;
  email?: string;
  emailVerified?: boolean;
  name?: string;
  /** From the configured groups claim; empty when the IdP sends none. */
  groups: string[];
  /** Authentication methods (`pwd`, `mfa`, `hwk`…), as the IdP states them. */
  amr?: string[];
  jti?: string;
  /** `exp` as an ISO 8601 timestamp. */
  expiresAt: string;
}

export interface TokenVerifierOptions {
  /** Issuer identifier, exactly as the IdP states it in its discovery document and in `iss`. */
  issuer: string;
  /** The client id(s) tokens must be issued to (`aud`). */
  audience: string | readonly string[];
  /** Skip discovery and fetch keys from here. */
  jwksUri?: string;
  /** Leeway for `exp` and `nbf` (default 30 s). */
  clockToleranceSeconds?: number;
  /** Signature algorithms to accept (default: the asymmetric ones). `none` and HMAC are always refused. */
  allowedAlgorithms?: readonly string[];
  /** Claim that holds the person's groups (default `groups`). A dotted name is also tried as a path
   * (`realm_access.roles`) when no claim has that exact name. */
  groupsClaim?: string;
  /** Timeout for discovery and key fetches (default 5000 ms). */
  fetchTimeoutMs?: number;
}

export interface TokenVerifier {
  /** Verifies signature, `iss`, `aud`, `exp`, `nbf` and the algorithm; throws `TokenRejected` otherwise. */
  verify(token: string): Promise<VerifiedIdentity>;
}

export type TokenRejectedCode =
  | 'MALFORMED'
  | 'ALGORITHM_NOT_ALLOWED'
  | 'UNKNOWN_KEY'
  | 'BAD_SIGNATURE'
  | 'WRONG_ISSUER'
  | 'WRONG_AUDIENCE'
  | 'EXPIRED'
  | 'NOT_YET_VALID'
  | 'MISSING_CLAIM'
  | 'ISSUER_UNAVAILABLE';

/** A token that was not accepted. The message names the reason, never the token. `ISSUER_UNAVAILABLE` means the
 * IdP's discovery document or keys could not be fetched: the token may be fine, so retry later. */
export class TokenRejected extends Error {
  constructor(readonly code: TokenRejectedCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TokenRejected';
  }
}

/** Asymmetric JWS algorithms (RFC 7518 §3.1, RFC 8037). */
export const DEFAULT_ALGORITHMS: readonly string[] = [
  'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519',
];

// A token is a few KiB at most; refuse to parse anything far larger.
const MAX_TOKEN_LENGTH = 16 * 1024;

/** Builds a verifier for one issuer. Keys are discovered once and cached (jose refetches on an unknown `kid`). */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const issuer = options.issuer;
  assertSecureUrl(issuer, 'issuer', issuer);
  if (options.jwksUri !== undefined) assertSecureUrl(options.jwksUri, 'jwksUri', issuer);
  const algorithms = [...(options.allowedAlgorithms ?? DEFAULT_ALGORITHMS)];
  const unsafe = algorithms.filter((alg) => alg === 'none' || /^HS/i.test(alg));
  if (algorithms.length === 0) throw new TypeError('allowedAlgorithms is empty: no token could be accepted');
  if (unsafe.length > 0) {
    throw new TypeError(`allowedAlgorithms must list asymmetric algorithms only: \`${unsafe.join(', ')}\` is not allowed`);
  }
  const audience = typeof options.audience === 'string' ? [options.audience] : [...options.audience];
  const clockTolerance = options.clockToleranceSeconds ?? 30;
  const timeoutMs = options.fetchTimeoutMs ?? 5000;
  const groupsClaim = options.groupsClaim ?? 'groups';

  // INVARIANT: one discovery in flight or done at a time; a failed one is forgotten so the next call retries.
  let keys: Promise<JWTVerifyGetKey> | undefined;
  const loadKeys = (): Promise<JWTVerifyGetKey> => {
    if (keys) return keys;
    const pending = (async () => {
      const jwksUri = options.jwksUri ?? (await discoverJwksUri(issuer, timeoutMs));
      return unavailableOnFetchError(createRemoteJWKSet(new URL(jwksUri), { timeoutDuration: timeoutMs }));
    })();
    pending.catch(() => { if (keys === pending) keys = undefined; });
    keys = pending;
    return pending;
  };

  return {
    async verify(token) {
      // `token` is attacker-controlled: check its shape before anything parses it.
      if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH || !/^[\w-]+\.[\w-]+\.[\w-]*$/.test(token)) {
        throw new TokenRejected('MALFORMED', 'malformed token');
      }
      // Refuse what no key could make valid before anything is fetched from the IdP.
      let alg: unknown;
      try {
        ({ alg } = decodeProtectedHeader(token));
      } catch {
        throw new TokenRejected('MALFORMED', 'malformed token');
      }
      if (typeof alg !== 'string' || !algorithms.includes(alg)) throw new TokenRejected('ALGORITHM_NOT_ALLOWED', 'algorithm not allowed');
      const getKey = await loadKeys();
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, getKey, {
          issuer,
          audience,
          algorithms,
          clockTolerance,
          requiredClaims: ['sub', 'exp'],
        }));
      } catch (error) {
        throw rejection(error);
      }
      return toIdentity(payload, audience, groupsClaim);
    },
  };
}

function toIdentity(payload: JWTPayload, audience: readonly string[], groupsClaim: string): VerifiedIdentity {
  if (typeof payload.sub !== 'string' || payload.sub === '') throw new TokenRejected('MISSING_CLAIM', 'missing claim `sub`');
  // OpenID Connect Core 1.0 §3.1.3.7 (4, 5): with several audiences, `azp` names the client the token is for.
  if (Array.isArray(payload.aud) && payload.aud.length > 1 && !audience.includes(String(payload.azp))) {
    throw new TokenRejected('WRONG_AUDIENCE', 'wrong audience');
  }
  const identity: VerifiedIdentity = {
    iss: payload.iss as string,
    sub: payload.sub,
    groups: stringList(claimAt(payload, groupsClaim)) ?? [],
    expiresAt: new Date((payload.exp as number) * 1000).toISOString(),
  };
  if (typeof payload.email === 'string') identity.email = payload.email;
  if (typeof payload.email_verified === 'boolean') identity.emailVerified = payload.email_verified;
  if (typeof payload.name === 'string') identity.name = payload.name;
  const amr = stringList(payload.amr);
  if (amr) identity.amr = amr;
  if (typeof payload.jti === 'string') identity.jti = payload.jti;
  return identity;
}

function claimAt(payload: JWTPayload, name: string): unknown {
  if (name in payload || !name.includes('.')) return payload[name];
  let value: unknown = payload;
  for (const part of name.split('.')) {
    value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[part] : undefined;
  }
  return value;
}

function stringList(value: unknown): string[] | undefined {
  if (typeof value === 'string') return [value];
  if (!Array.isArray(value)) return undefined;
  return value.filter((item): item is string => typeof item === 'string');
}

// jose's errors carry the claims (`payload`); keep them out of ours, so that logging a rejection logs no token data.
function rejection(error: unknown): TokenRejected {
  if (error instanceof TokenRejected) return error;
  if (error instanceof errors.JWTExpired) return new TokenRejected('EXPIRED', 'expired');
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.reason === 'missing') return new TokenRejected('MISSING_CLAIM', `missing claim \`${error.claim}\``);
    if (error.reason === 'invalid') return new TokenRejected('MALFORMED', `malformed token: invalid claim \`${error.claim}\``);
    if (error.claim === 'iss') return new TokenRejected('WRONG_ISSUER', 'wrong issuer');
    if (error.claim === 'aud') return new TokenRejected('WRONG_AUDIENCE', 'wrong audience');
    if (error.claim === 'nbf') return new TokenRejected('NOT_YET_VALID', 'not yet valid');
    return new TokenRejected('MALFORMED', `malformed token: invalid claim \`${error.claim}\``);
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return new TokenRejected('ALGORITHM_NOT_ALLOWED', 'algorithm not allowed');
  if (error instanceof errors.JWKSNoMatchingKey) return new TokenRejected('UNKNOWN_KEY', 'unknown key');
  if (error instanceof errors.JWSSignatureVerificationFailed) return new TokenRejected('BAD_SIGNATURE', 'bad signature');
  // JWSInvalid, JWTInvalid, JOSENotSupported and anything else jose says about the token's form.
  return new TokenRejected('MALFORMED', 'malformed token');
}

// Key-set fetch failures say nothing about the token: report them as the IdP being unavailable.
function unavailableOnFetchError(jwks: ReturnType<typeof createRemoteJWKSet>): JWTVerifyGetKey {
  return async (header, token) => {
    try {
      return await jwks(header, token);
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) throw error;
      throw new TokenRejected('ISSUER_UNAVAILABLE', `identity provider unavailable: couldn't fetch its keys: ${describe(error)}`, { cause: error });
    }
  };
}

// OpenID Connect Discovery 1.0 §4: the document lives under the issuer, and names that same issuer (§4.3).
async function discoverJwksUri(issuer: string, timeoutMs: number): Promise<string> {
  const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  let metadata: { issuer?: unknown; jwks_uri?: unknown };
  try {
    const response = await fetch(url, { headers: { accept: 'application/json' }, redirect: 'error', signal: AbortSignal.timeout(timeoutMs) });
    if (response.status !== 200) throw new Error(`HTTP ${response.status}`);
    metadata = (await response.json()) as typeof metadata;
  } catch (error) {
    throw new TokenRejected('ISSUER_UNAVAILABLE', `identity provider unavailable: couldn't fetch \`${url}\`: ${describe(error)}`, { cause: error });
  }
  if (metadata.issuer !== issuer) {
    throw new TokenRejected('ISSUER_UNAVAILABLE', `identity provider misconfigured: \`${url}\` names issuer \`${String(metadata.issuer)}\`, not \`${issuer}\``);
  }
  if (typeof metadata.jwks_uri !== 'string') {
    throw new TokenRejected('ISSUER_UNAVAILABLE', `identity provider misconfigured: \`${url}\` has no \`jwks_uri\``);
  }
  try {
    assertSecureUrl(metadata.jwks_uri, 'jwks_uri', issuer);
  } catch (error) {
    throw new TokenRejected('ISSUER_UNAVAILABLE', `identity provider misconfigured: ${describe(error)}`);
  }
  return metadata.jwks_uri;
}

/** True for `http://127.0.0.1`, `http://localhost` and `http://[::1]` issuers, the only ones allowed without TLS. */
export function isLoopbackHttp(url: string): boolean {
  const parsed = parseUrl(url);
  return parsed?.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(parsed.hostname);
}

// Plain http only where nothing crosses a network: a loopback issuer (tests, a local IdP) and its own endpoints.
function assertSecureUrl(url: string, what: string, issuer: string): void {
  const parsed = parseUrl(url);
  if (!parsed) throw new TypeError(`${what} \`${url}\` is not a URL`);
  if (parsed.protocol === 'https:') return;
  if (!(isLoopbackHttp(url) && isLoopbackHttp(issuer))) {
    throw new TypeError(`${what} \`${url}\` must use https (plain http is allowed for 127.0.0.1 and localhost only)`);
  }
}

// URL.parse is Node 22+.
function parseUrl(url: string): URL | undefined {
  return URL.canParse(url) ? new URL(url) : undefined;
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return `${error.message}${cause}`;
  }
  return String(error);
}
