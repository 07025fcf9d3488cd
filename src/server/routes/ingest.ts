// POST /v1/ingest: a device uploads its signed, chained events. Every envelope is checked before anything
// is stored; one bad event refuses the whole batch, so a batch is stored entirely or not at all.
import { createPublicKey } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { canonicalBytes } from '../../core/canonical-json.js';
import { sha256Hex } from '../../core/digest.js';
import { verifyEnvelopeAsync, type Envelope } from '../../core/dsse.js';
import { openEvent, type EventBody } from '../../core/event.js';
import { leafHash } from '../../ledger/merkle.js';
import type { Device, IngestEvent, IngestResult, StoredEvent } from '../../store/store.js';
import type { ServerContext } from '../app.js';
import { authenticateDevice } from '../auth.js';
import { badRequest, forbidden } from '../http-error.js';

export const MAX_BATCH_EVENTS = 1000;

const envelopeSchema = {
  type: 'object',
  required: ['payloadType', 'payload', 'signatures'],
  properties: {
    payloadType: { type: 'string' },
    payload: { type: 'string' },
    signatures: {
      type: 'array',
      minItems: 1,
      maxItems: 4,
      items: { type: 'object', required: ['keyid', 'sig'], properties: { keyid: { type: 'string' }, sig: { type: 'string' } } },
    },
  },
} as const;

export function ingestRoutes(context: ServerContext) {
  return async (app: FastifyInstance) => {
    app.post(
      '/v1/ingest',
      {
        schema: {
          summary: 'Upload a batch of signed events (device-signed request)',
          tags: ['devices'],
          security: [{ deviceSignature: [] }],
          body: {
            type: 'object',
            required: ['events'],
            additionalProperties: false,
            properties: { events: { type: 'array', minItems: 1, maxItems: MAX_BATCH_EVENTS, items: envelopeSchema } },
          },
        },
      },
      async (request) => {
        const device = await authenticateDevice(request, context.store, context.now);
        const { events } = request.body as { events: Envelope[] };
        const checked = await checkEvents(device, events);
        const receivedAt = context.now().toISOString();
        const result = await context.store.ingest(device.id, checked, receivedAt);
        context.events.publish(newlyLogged(device, checked, result.sequenced, receivedAt));
        return {
          head_seq: result.headSeq,
          log_size: result.logSize,
          sequenced: result.sequenced,
          ...(result.stop && { stop: result.stop }),
        };
      },
    );
  };
}

/** Verifies every envelope against the device's certified key; throws on the first that fails. */
export async function checkEvents(device: Device, envelopes: Envelope[]): Promise<IngestEvent[]> {
  const keys = new Map([[device.keyId, createPublicKey(device.publicKeyPem)]]);
  let lastSeq = 0;
  const claimed = envelopes.map((raw, position) => {
    const envelope: Envelope = {
      payloadType: raw.payloadType,
      payload: raw.payload,
      signatures: raw.signatures.map(({ keyid, sig }) => ({ keyid, sig })),
    };
    let body: EventBody;
    try {
      body = openEvent(envelope); // shape and canonical form; the signature is checked below
    } catch (error) {
      throw badRequest(`event ${position}: ${(error as Error).message}`, { position });
    }
    if (body.device.id !== device.id || body.device.key_id !== device.keyId) {
      throw forbidden(`event ${position} (seq ${body.seq}) names device ${body.device.id}; a device uploads only its own events`);
    }
    if (body.seq <= lastSeq) throw badRequest(`event ${position}: seq ${body.seq} does not follow seq ${lastSeq}; send events in order`, { position });
    lastSeq = body.seq;
    return { envelope, body };
  });
  const verdicts = await Promise.all(claimed.map(({ envelope }) => verifyEnvelopeAsync(envelope, keys)));
  return claimed.map(({ envelope, body }, position) => {
    const verdict = verdicts[position];
    if (!verdict.ok) throw badRequest(`event ${position}: ${verdict.problem}`, { position });
    const entry = Buffer.from(canonicalBytes(envelope));
    const decision = (body.data.decision ?? undefined) as { decision?: unknown; rules?: unknown; policy_hash?: unknown } | undefined;
    return {
      seq: body.seq,
      prev: body.prev,
      hash: sha256Hex(verdict.payload), // the payload is the body's canonical bytes, so this is eventHash(body)
      leafHash: leafHash(entry),
      envelope: entry.toString('utf8'),
      time: body.time,
      kind: body.kind,
      sessionId: body.session_id,
      toolUseId: body.tool_use_id,
      promptId: body.prompt_id,
      agentName: body.agent.name,
      agentVersion: body.agent.version,
      decision: typeof decision?.decision === 'string' ? decision.decision : undefined,
      rules: Array.isArray(decision?.rules) ? decision.rules.filter((rule): rule is string => typeof rule === 'string') : [],
      policyHash: typeof decision?.policy_hash === 'string' ? decision.policy_hash : undefined,
    };
  });
}

/** The events of a committed batch that the log did not hold before, as the store now keeps them (for the live stream). */
function newlyLogged(device: Device, checked: IngestEvent[], sequenced: IngestResult['sequenced'], receivedAt: string): StoredEvent[] {
  const bySeq = new Map(checked.map((event) => [event.seq, event]));
  return sequenced
    .filter((entry) => !entry.duplicate)
    .map(({ seq, index }) => {
      const { leafHash: _leafHash, ...event } = bySeq.get(seq)!;
      return { ...event, index, deviceId: device.id, personId: device.personId, receivedAt };
    });
}
