// GET /v1/export: events for a SIEM (OCSF or JSONL) or as an evidence bundle that `writ verify` checks
// offline. Everything streams page by page, so a million events never sit in memory at once.
import type { FastifyInstance } from 'fastify';
import { openEvent } from '../../core/event.js';
import { parseEnvelope } from '../../core/dsse.js';
import { toJsonlLine, toOcsfEvent } from '../../export/ocsf.js';
import { bundleEventLine, bundleHeaderLine } from '../../ledger/bundle.js';
import type { Device, EventFilter, Person, StoredEvent, Store } from '../../store/store.js';
import type { ServerContext } from '../app.js';
import { authenticateUser } from '../auth.js';
import { notFound } from '../http-error.js';
import { runRecordOf, sessionEvents, storedReviews } from './runs.js';
import { SELF_TEST_SESSION } from '../../runs/index.js';

const PAGE = 2000;

interface ExportQuery {
  format: 'bundle' | 'jsonl' | 'ocsf';
  since?: string;
  until?: string;
  person?: string;
  device?: string;
  session?: string;
}

export function exportRoutes(context: ServerContext) {
  const { store, org, log, now } = context;
  return async (app: FastifyInstance) => {
    app.get(
      '/v1/export',
      {
        schema: {
          summary: 'Export events: an evidence bundle (JSON Lines), OCSF 1.8.0 or JSONL (auditor)',
          tags: ['evidence'],
          security: [{ bearer: [] }],
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: {
              format: { type: 'string', enum: ['bundle', 'jsonl', 'ocsf'], default: 'bundle' },
              since: { type: 'string', format: 'date-time' },
              until: { type: 'string', format: 'date-time' },
              person: { type: 'string', maxLength: 100 },
              device: { type: 'string', maxLength: 100 },
              session: { type: 'string', maxLength: 200 },
            },
          },
        },
      },
      async (request, reply) => {
        await authenticateUser(request, store, context.oidc, 'auditor');
        const query = request.query as ExportQuery;
        const filter: EventFilter = {
          ...(query.since && { since: query.since }),
          ...(query.until && { until: query.until }),
          ...(query.person && { personId: query.person }),
          ...(query.device && { deviceId: query.device }),
          ...(query.session && { sessionId: query.session }),
        };
        const filtered = Object.keys(filter).length > 0;
        const directory = await loadDirectory(store);

        let lines: AsyncIterable<string>;
        if (query.format === 'bundle') {
          const checkpoint = (await log.publishCheckpoint()) ?? undefined;
          if (!checkpoint) throw notFound('the log is empty; there is nothing to export');
          const policy = await store.activePolicyBundle();
          // A bundle of exactly one session carries its run record; the verifier checks each link against the events.
          const onlySession = query.session && query.session !== SELF_TEST_SESSION && Object.keys(filter).length === 1 ? query.session : undefined;
          const runEvents = onlySession ? (await sessionEvents(store, onlySession)).filter((event) => event.index < checkpoint.size) : [];
          const runRecord = runEvents.length > 0 ? runRecordOf(onlySession!, runEvents, await storedReviews(store, onlySession!)) : undefined;
          const header = bundleHeaderLine({
            origin: org.origin,
            org_key: org.verifierKey,
            org_public_key: org.publicKeyPem,
            checkpoint: checkpoint.note,
            created_at: now().toISOString(),
            filter: { ...(query.since && { since: query.since }), ...(query.until && { until: query.until }), ...(query.person && { person: query.person }), ...(query.device && { device: query.device }), ...(query.session && { session: query.session }) },
            complete: !filtered,
            devices: [...directory.devices.values()].map((device) => ({
              id: device.id,
              key_id: device.keyId,
              public_key_pem: device.publicKeyPem,
              certificate: parseEnvelope(device.certificate),
              ...(device.hostname && { hostname: device.hostname }),
              ...(device.revokedAt && { revoked_at: device.revokedAt }),
            })),
            people: [...directory.people.values()].map((person) => ({
              id: person.id,
              iss: person.iss,
              sub: person.sub,
              ...(person.email && { email: person.email }),
              ...(person.name && { name: person.name }),
              ...(person.revokedAt && { revoked_at: person.revokedAt }),
            })),
            policy_bundles: policy ? [parseEnvelope(policy.envelope)] : [],
            ...(runRecord && { run_record: runRecord }),
          });
          lines = prepend(
            header,
            map(pages(store, { ...filter, beforeIndex: checkpoint.size }), async (event) =>
              bundleEventLine({
                index: event.index,
                envelope: event.envelope,
                ...(filtered && { proof: await log.inclusionProof(event.index, checkpoint.size) }),
              }),
            ),
          );
        } else {
          lines = map(pages(store, filter), async (event) => {
            const envelope = JSON.parse(event.envelope);
            const body = openEvent(envelope);
            const device = { id: event.deviceId, ...(directory.devices.get(event.deviceId)?.hostname && { hostname: directory.devices.get(event.deviceId)!.hostname }) };
            const person = personContext(directory.people.get(event.personId));
            return query.format === 'ocsf'
              ? JSON.stringify(toOcsfEvent(body, { index: event.index, origin: org.origin, device, ...(person && { person }) })) + '\n'
              : toJsonlLine({ index: event.index, device, ...(person && { person }), envelope, body });
          });
        }
        const name = `writ-${query.format}-${now().toISOString().replace(/[:.]/g, '-')}.${query.format === 'bundle' ? 'writ-evidence.jsonl' : 'jsonl'}`;
        reply.hijack();
        const response = reply.raw;
        response.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8', 'content-disposition': `attachment; filename="${name}"` });
        try {
          for await (const line of lines) {
            if (!response.write(line.endsWith('\n') ? line : line + '\n')) await new Promise((resolve) => response.once('drain', resolve));
          }
        } catch (error) {
          // Headers are gone; a truncated bundle fails `writ verify`, and the log says why.
          request.log.error(error);
          response.destroy(error as Error);
          return;
        }
        response.end();
      },
    );
  };
}

async function loadDirectory(store: Store): Promise<{ devices: Map<string, Device>; people: Map<string, Person> }> {
  const devices = new Map<string, Device>();
  const people = new Map<string, Person>();
  for (let offset = 0; ; offset += 1000) {
    const page = await store.listDevices(offset, 1000);
    for (const device of page.items) devices.set(device.id, device);
    if (page.items.length < 1000) break;
  }
  for (let offset = 0; ; offset += 1000) {
    const page = await store.listPeople(offset, 1000);
    for (const person of page.items) people.set(person.id, person);
    if (page.items.length < 1000) break;
  }
  return { devices, people };
}

function personContext(person: Person | undefined) {
  return person && { id: person.id, ...(person.email && { email: person.email }), ...(person.name && { name: person.name }) };
}

async function* pages(store: Store, filter: EventFilter): AsyncIterable<StoredEvent> {
  let after = -1;
  for (;;) {
    const page = await store.events({ ...filter, afterIndex: after, limit: PAGE, order: 'asc' });
    yield* page;
    if (page.length < PAGE) return;
    after = page[page.length - 1].index;
  }
}

async function* map<T, U>(source: AsyncIterable<T>, f: (value: T) => Promise<U> | U): AsyncIterable<U> {
  for await (const value of source) yield await f(value);
}

async function* prepend<T>(first: T, rest: AsyncIterable<T>): AsyncIterable<T> {
  yield first;
  yield* rest;
}
