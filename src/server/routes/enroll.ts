// POST /v1/enroll: binds a device key to a person. The request is signed with the new key (proof that the
// caller holds it); the person is proven by an OIDC ID token, or, without an IdP, vouched for by an
// enrolment token and recorded with the weaker assurance `local-os-user`.
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { deviceIdFor, issueDeviceCertificate } from '../../core/certificate.js';
import { keyIdFor } from '../../core/dsse.js';
import type { ServerContext } from '../app.js';
import { authenticateKeyHolder, authenticateUser, newSecretToken, verifyIdentity } from '../auth.js';
import { badRequest, conflict, unauthorized } from '../http-error.js';

export function enrollRoutes(context: ServerContext) {
  const { store, org, now } = context;
  return async (app: FastifyInstance) => {
    app.post(
      '/v1/enroll',
      {
        schema: {
          summary: 'Enrol a device for a person (request signed with the new device key)',
          tags: ['devices'],
          security: [{ bearer: [] }],
          body: {
            type: 'object',
            required: ['public_key_pem'],
            additionalProperties: false,
            properties: {
              public_key_pem: { type: 'string', maxLength: 4096 },
              id_token: { type: 'string', maxLength: 16384 },
              hostname: { type: 'string', maxLength: 255 },
              os: { type: 'string', maxLength: 255 },
              os_user: { type: 'string', maxLength: 255 },
            },
          },
        },
      },
      async (request) => {
        const body = request.body as { public_key_pem: string; id_token?: string; hostname?: string; os?: string; os_user?: string };
        const publicKey = parsePublicKey(body.public_key_pem);
        const keyId = keyIdFor(publicKey);
        await authenticateKeyHolder(request, keyId, publicKey, store, now); // proof of possession of the new key

        const at = now().toISOString();
        const { assurance, person } = body.id_token
          ? await oidcPerson(context, body.id_token)
          : await localPerson(context, request, body.os_user, body.hostname);
        const stored = await store.upsertPerson(person, at);
        if (stored.revokedAt) throw unauthorized(`${stored.email ?? stored.sub} was revoked at ${stored.revokedAt}`);

        const deviceId = deviceIdFor(keyId);
        const existing = await store.getDevice(deviceId);
        if (existing?.revokedAt) throw unauthorized(`device ${deviceId} was revoked at ${existing.revokedAt}; make a new device key to enrol again`);
        const certificate = issueDeviceCertificate(
          {
            origin: org.origin,
            device_id: deviceId,
            key_id: keyId,
            public_key: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
            person: { id: stored.id, iss: stored.iss, sub: stored.sub, ...(stored.email && { email: stored.email }) },
            assurance,
            issued_at: at,
          },
          org.signer,
        );
        try {
          await store.enrollDevice({
            id: deviceId,
            keyId,
            publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }) as string,
            personId: stored.id,
            assurance,
            ...(body.hostname && { hostname: body.hostname }),
            ...(body.os && { os: body.os }),
            certificate: JSON.stringify(certificate),
            enrolledAt: at,
          });
        } catch (error) {
          throw conflict(`device ${deviceId} cannot be enrolled: ${(error as Error).message}`);
        }
        const telemetry = newSecretToken();
        await store.setTelemetryToken(deviceId, telemetry.hash);
        return {
          device_id: deviceId,
          assurance,
          person: { id: stored.id, iss: stored.iss, sub: stored.sub, email: stored.email },
          certificate,
          org: { origin: org.origin, verifier_key: org.verifierKey, public_key_pem: org.publicKeyPem },
          telemetry_token: telemetry.secret,
        };
      },
    );
  };
}

function parsePublicKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    throw badRequest('public_key_pem is not a PEM public key');
  }
  if (key.asymmetricKeyType !== 'ed25519') throw badRequest(`device keys are Ed25519, not ${key.asymmetricKeyType}`);
  return key;
}

async function oidcPerson(context: ServerContext, idToken: string) {
  if (!context.oidc) throw badRequest('this server has no OIDC issuer configured; enrol with an enrolment token');
  const identity = await verifyIdentity(context.oidc, idToken, 'ID token');
  return {
    assurance: 'oidc' as const,
    person: {
      id: personId(identity.iss, identity.sub),
      iss: identity.iss,
      sub: identity.sub,
      // Only an email the IdP verified names the person in certificates.
      ...(identity.email && identity.emailVerified && { email: identity.email }),
      ...(identity.name && { name: identity.name }),
      groups: identity.groups,
    },
  };
}

async function localPerson(context: ServerContext, request: FastifyRequest, osUser?: string, hostname?: string) {
  const caller = await authenticateUser(request, context.store, context.oidc, 'enroller');
  if (!osUser || !hostname) throw badRequest('enrolment without an ID token needs os_user and hostname');
  const sub = `${osUser}@${hostname}`;
  return {
    assurance: 'local-os-user' as const,
    person: { id: personId('local', sub), iss: 'local', sub, name: `${sub} (vouched for by ${caller.name})`, groups: [] },
  };
}

export function personId(iss: string, sub: string): string {
  return `per_${createHash('sha256').update(`${iss}\n${sub}`).digest('hex').slice(0, 16)}`;
}
