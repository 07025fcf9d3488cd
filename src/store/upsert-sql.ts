// Upserts both adapters run with the same SQL (SQLite 3.35+ and PostgreSQL share ON CONFLICT … DO UPDATE and
// RETURNING); only the VALUES placeholders differ, so each adapter writes its own VALUES between the two halves.
import type { Device, Person } from './store.js';

/** Enrolment, atomic in one statement: a known id is updated only when its key matches, else no row returns. */
export const ENROL_DEVICE =
  'INSERT INTO devices (id, key_id, public_key_pem, person_id, assurance, hostname, os, certificate, enrolled_at)';

// Re-enrolment keeps the head (the chain continues) and any revocation.
export const ENROL_DEVICE_CONFLICT = `
  ON CONFLICT (id) DO UPDATE SET person_id = excluded.person_id, assurance = excluded.assurance,
    hostname = excluded.hostname, os = excluded.os, certificate = excluded.certificate, enrolled_at = excluded.enrolled_at
  WHERE devices.key_id = excluded.key_id
  RETURNING *`;

/** The VALUES of ENROL_DEVICE, in order. */
export function enrolmentColumns(device: Omit<Device, 'headSeq' | 'headHash' | 'revokedAt' | 'lastSeenAt'>): (string | null)[] {
  return [
    device.id,
    device.keyId,
    device.publicKeyPem,
    device.personId,
    device.assurance,
    device.hostname ?? null,
    device.os ?? null,
    device.certificate,
    device.enrolledAt,
  ];
}

/** A person seen at sign-in: the IdP's claims replace the stored ones; creation time and revocation stay. */
export const UPSERT_PERSON = 'INSERT INTO people (id, iss, sub, email, name, groups, created_at)';

export const UPSERT_PERSON_CONFLICT = `
  ON CONFLICT (id) DO UPDATE SET email = excluded.email, name = excluded.name, groups = excluded.groups
  RETURNING *`;

/** The VALUES of UPSERT_PERSON, in order. */
export function personColumns(person: Omit<Person, 'createdAt' | 'revokedAt'>, at: string): (string | null)[] {
  return [person.id, person.iss, person.sub, person.email ?? null, person.name ?? null, JSON.stringify(person.groups), at];
}

// The session and agent summaries that ingest keeps beside the log, so that listing sessions and agents reads a
// small table instead of grouping a million events.

/** Conflict clause for `INSERT INTO sessions (SESSION_COLUMNS) …`: widens the time range, adds the counts. */
export const SESSION_UPSERT = `
  ON CONFLICT (session_id, device_id) DO UPDATE SET
    first_time = CASE WHEN excluded.first_ms < sessions.first_ms THEN excluded.first_time ELSE sessions.first_time END,
    first_ms = CASE WHEN excluded.first_ms < sessions.first_ms THEN excluded.first_ms ELSE sessions.first_ms END,
    last_time = CASE WHEN excluded.last_ms >= sessions.last_ms THEN excluded.last_time ELSE sessions.last_time END,
    agent_version = CASE WHEN excluded.last_ms >= sessions.last_ms
      THEN coalesce(excluded.agent_version, sessions.agent_version) ELSE sessions.agent_version END,
    last_ms = CASE WHEN excluded.last_ms >= sessions.last_ms THEN excluded.last_ms ELSE sessions.last_ms END,
    events = sessions.events + excluded.events,
    denials = sessions.denials + excluded.denials`;

export const SESSION_COLUMNS =
  'session_id, device_id, person_id, agent_name, agent_version, first_time, first_ms, last_time, last_ms, events, denials';

/** Conflict clause for `INSERT INTO agents (AGENT_COLUMNS) …`: keeps the latest version and time, adds the count. */
export const AGENT_UPSERT = `
  ON CONFLICT (device_id, agent_name) DO UPDATE SET
    agent_version = CASE WHEN excluded.last_ms >= agents.last_ms
      THEN coalesce(excluded.agent_version, agents.agent_version) ELSE agents.agent_version END,
    last_time = CASE WHEN excluded.last_ms >= agents.last_ms THEN excluded.last_time ELSE agents.last_time END,
    last_ms = CASE WHEN excluded.last_ms >= agents.last_ms THEN excluded.last_ms ELSE agents.last_ms END,
    events = agents.events + excluded.events`;

export const AGENT_COLUMNS = 'device_id, agent_name, agent_version, last_time, last_ms, events';
