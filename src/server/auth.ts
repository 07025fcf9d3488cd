// Who is calling: an admin or auditor (admin token or OIDC bearer token), or an enrolled device (a
// request signed with its key). Every route names which it needs; nothing is open but health and the log.
import { createHash, createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { deviceIdFor } from '../core/certificate.js';
import { checkRequestSignature, readRequestSignature, MAX_CLOCK_SKEW_MS, type RequestSignature } from '../core/request-signature.js';
import type { Device, Role, Store } from '../store/store.js';
import { TokenRejected, type TokenVerifier, type VerifiedIdentity } from '../identity/verify-token.js';
import { forbidden, HttpError, unauthorized } from './http-error.js';
import { csrfHolds, CSRF_HEADER, type BrowserSession } from './browser-session.js';

export interface Caller {
  name: string; // 'token:<name>' or the person's email / sub
  role: Role;
}

export interface OidcAccess {
  verifier: TokenVerifier;
  adminGroups: string[];
  auditorGroups: string[];
  /** The dashboard's browser sign-in (authorization code with PKCE); its client id is the token audience. */
  login?: { issuer: string; clientId: string; clientSecret?: string };
}

/** Writ's own admin, auditor and enroller tokens start with this; any other bearer token is taken as an OIDC ID token. */
export const TOKEN_PREFIX = 'writ_';

/** A new secret token and the hash the store keeps of it (the secret itself is shown once, never stored). */
export function newSecretToken(): { secret: string; hash: string } {
  const secret = TOKEN_PREFIX + randomBytes(24).toString('base64url');
  return { secret, hash: hashSecret(secret) };
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) throw unauthorized('Authorization must be "Bearer <token>"');
  return match[1];
}

const RANK: Record<Role, number> = { enroller: 0, auditor: 1, admin: 2 };

/** Resolves the caller from a bearer token and checks it holds at least `needed` (enrollers hold only their own role). */
export async function authenticateUser(request: FastifyRequest, store: Store, oidc: OidcAccess | undefined, needed: Role): Promise<Caller> {
  const token = bearerToken(request);
  const session = request.browserSession;
  if (!token && !session) throw unauthorized('this endpoint needs an admin token, an OIDC bearer token or a dashboard session');
  const caller = !token ? await sessionCaller(request, store, session!) : token.startsWith(TOKEN_PREFIX) ? await tokenCaller(store, token) : await oidcCaller(oidc, token);
  const allowed = needed === 'enroller' ? caller.role === 'enroller' || caller.role === 'admin' : caller.role !== 'enroller' && RANK[caller.role] >= RANK[needed];
  if (!allowed) throw forbidden(`${caller.name} has role ${caller.role}; this needs ${needed}`);
  return caller;
}

/** A dashboard session: its CSRF header on state-changing requests, and a token session's token still valid. */
async function sessionCaller(request: FastifyRequest, store: Store, session: BrowserSession): Promise<Caller> {
  if (!csrfHolds(request, session)) throw forbidden(`a dashboard request that changes anything needs the ${CSRF_HEADER} header from GET /v1/me`);
  if (session.via === 'oidc') return { name: session.name, role: session.role };
  return tokenHashCaller(store, session.tokenHash ?? '');
}

async function tokenCaller(store: Store, token: string): Promise<Caller> {
  return tokenHashCaller(store, hashSecret(token));
}

async function tokenHashCaller(store: Store, tokenHash: string): Promise<Caller> {
  const found = await store.findAdminToken(tokenHash);
  if (!found || found.revokedAt) throw unauthorized('unknown or revoked token');
  return { name: `token:${found.name}`, role: found.role };
}

async function oidcCaller(oidc: OidcAccess | undefined, token: string): Promise<Caller> {
  if (!oidc) throw unauthorized('this server has no OIDC issuer configured; use an admin token');
  return identityCaller(oidc, await verifyIdentity(oidc, token, 'token'));
}

/** An IdP-verified person's name and role, from their groups. */
export function identityCaller(oidc: OidcAccess, identity: VerifiedIdentity): Caller {
  const name = identity.emailVerified && identity.email ? identity.email : identity.sub;
  if (identity.groups.some((group) => oidc.adminGroups.includes(group))) return { name, role: 'admin' };
  if (identity.groups.some((group) => oidc.auditorGroups.includes(group))) return { name, role: 'auditor' };
  throw forbidden(`${name} is in none of the groups that may use this API`);
}

/** Verifies an OIDC token; an unreachable IdP is the server's trouble (503), anything else the token's (401). */
export async function verifyIdentity(oidc: OidcAccess, token: string, what: string): Promise<VerifiedIdentity> {
  try {
    return await oidc.verifier.verify(token);
  } catch (error) {
    if (error instanceof TokenRejected && error.code === 'ISSUER_UNAVAILABLE') throw new HttpError(503, 'idp_unavailable', error.message);
    throw unauthorized(`${what} refused: ${(error as Error).message}`);
  }
}

/** Checks a device-signed request: known, unrevoked device and person, fresh time, unused nonce, valid signature. */
export async function authenticateDevice(request: FastifyRequest, store: Store, now: () => Date): Promise<Device> {
  const signature = requestSignature(request);
  const device = await store.getDevice(deviceIdFor(signature.keyId));
  if (!device || device.keyId !== signature.keyId) throw unauthorized(`no device is enrolled with key ${signature.keyId}`);
  checkSignature(request, signature, createPublicKey(device.publicKeyPem), now);
  if (device.revokedAt) throw forbidden(`device ${device.id} was revoked at ${device.revokedAt}`);
  const person = await store.getPerson(device.personId);
  if (person?.revokedAt) throw forbidden(`${person.email ?? person.sub} was revoked at ${person.revokedAt}`);
  await spendNonce(signature, store, now);
  return device;
}

/** Checks that a request is signed by `publicKey` (a key not yet enrolled) and spends its nonce. */
export async function authenticateKeyHolder(request: FastifyRequest, keyId: string, publicKey: KeyObject, store: Store, now: () => Date): Promise<void> {
  const signature = requestSignature(request);
  if (signature.keyId !== keyId) throw unauthorized(`the request is signed by another key (${signature.keyId}) than ${keyId}`);
  checkSignature(request, signature, publicKey, now);
  await spendNonce(signature, store, now);
}

function requestSignature(request: FastifyRequest): RequestSignature {
  try {
    return readRequestSignature(request.headers);
  } catch (error) {
    throw unauthorized(`the request must be signed with the device key: ${(error as Error).message}`);
  }
}

function checkSignature(request: FastifyRequest, signature: RequestSignature, publicKey: KeyObject, now: () => Date): void {
  const parts = { method: request.method, path: request.url, body: request.rawBody ?? Buffer.alloc(0) };
  const checked = checkRequestSignature(parts, signature, publicKey, now().getTime());
  if (!checked.ok) throw unauthorized(checked.problem);
}

async function spendNonce(signature: RequestSignature, store: Store, now: () => Date): Promise<void> {
  const expires = new Date(signature.time + 2 * MAX_CLOCK_SKEW_MS).toISOString();
  if (!(await store.useNonce(signature.keyId, signature.nonce, expires, now().toISOString()))) {
    throw unauthorized('request replayed: its nonce was already used');
  }
}
