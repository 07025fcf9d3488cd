import { approvalsMigration } from './approval-sql.js';
import { inventoryMigration } from './inventory-sql.js';
import { overviewMigration } from './overview-sql.js';

// The PostgreSQL schema as numbered, forward-only migrations (index + 1 = version). Column names match
// sqlite-schema.ts, so src/store/rows.ts maps the rows of both. Indexes and sizes are BIGINT (parsed to Number:
// a log stays far below 2^53 leaves); times are kept as the RFC 3339 text received, with *_ms for range filters.

// Advisory lock ids (pg_advisory_xact_lock takes one bigint). They are per database, so two Writ deployments in two
// schemas of one database share them: harmless, they only wait for each other.
/** Held while migrating, so replicas that start together run the DDL one after the other. */
export const MIGRATION_LOCK_ID = 0x77726974_0001; // 'writ' · 1
/** Held by every ingest transaction: the sequencer of the org log. */
export const LOG_LOCK_ID = 0x77726974_0002; // 'writ' · 2

const APPEND_ONLY = ['events', 'event_rules', 'nodes', 'checkpoints']
  .map(
    (table) => `
  CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON ${table}
    FOR EACH ROW EXECUTE FUNCTION writ_refuse_change();
  CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON ${table}
    FOR EACH STATEMENT EXECUTE FUNCTION writ_refuse_change();`,
  )
  .join('\n');

export const POSTGRES_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL);
  INSERT INTO counters (name, value) VALUES ('log_size', 0), ('control_version', 0);

  CREATE TABLE people (
    id TEXT PRIMARY KEY, iss TEXT NOT NULL, sub TEXT NOT NULL, email TEXT, name TEXT, groups TEXT NOT NULL,
    created_at TEXT NOT NULL, revoked_at TEXT
  );
  CREATE INDEX people_created ON people (created_at, id);

  CREATE TABLE devices (
    id TEXT PRIMARY KEY, key_id TEXT NOT NULL, public_key_pem TEXT NOT NULL, person_id TEXT NOT NULL,
    assurance TEXT NOT NULL, hostname TEXT, os TEXT, certificate TEXT NOT NULL, enrolled_at TEXT NOT NULL,
    revoked_at TEXT, head_seq BIGINT NOT NULL DEFAULT 0, head_hash TEXT NOT NULL DEFAULT '', last_seen_at TEXT
  );
  CREATE INDEX devices_enrolled ON devices (enrolled_at, id);

  -- The org log. INVARIANT: idx runs 0 .. log_size - 1 without holes, and rows are never changed or removed.
  CREATE TABLE events (
    idx BIGINT PRIMARY KEY, device_id TEXT NOT NULL, person_id TEXT NOT NULL,
    seq BIGINT NOT NULL, prev TEXT NOT NULL, hash TEXT NOT NULL, envelope TEXT NOT NULL,
    time TEXT NOT NULL, time_ms BIGINT NOT NULL, kind TEXT NOT NULL, session_id TEXT, tool_use_id TEXT,
    prompt_id TEXT, agent_name TEXT NOT NULL, agent_version TEXT, decision TEXT, rules TEXT NOT NULL,
    policy_hash TEXT, received_at TEXT NOT NULL
  );
  CREATE UNIQUE INDEX events_device_seq ON events (device_id, seq);
  CREATE INDEX events_device ON events (device_id, idx);
  CREATE INDEX events_time ON events (time_ms, idx);
  CREATE INDEX events_session ON events (session_id, idx);
  CREATE INDEX events_person ON events (person_id, idx);
  CREATE INDEX events_decision ON events (decision, idx);
  CREATE INDEX events_kind ON events (kind, idx);
  CREATE TABLE event_rules (rule TEXT NOT NULL, idx BIGINT NOT NULL, PRIMARY KEY (rule, idx));

  -- Complete nodes of the log's Merkle tree, level 0 holding the leaf hashes (src/ledger/merkle.ts).
  CREATE TABLE nodes (level INTEGER NOT NULL, idx BIGINT NOT NULL, hash BYTEA NOT NULL, PRIMARY KEY (level, idx));
  CREATE TABLE checkpoints (size BIGINT PRIMARY KEY, root BYTEA NOT NULL, note TEXT NOT NULL, created_at TEXT NOT NULL);

  CREATE FUNCTION writ_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION '% rows are append-only', TG_TABLE_NAME; END
  $$;
  ${APPEND_ONLY}

  CREATE TABLE sessions (
    session_id TEXT NOT NULL, device_id TEXT NOT NULL, person_id TEXT NOT NULL, agent_name TEXT NOT NULL,
    agent_version TEXT, first_time TEXT NOT NULL, first_ms BIGINT NOT NULL, last_time TEXT NOT NULL,
    last_ms BIGINT NOT NULL, events BIGINT NOT NULL, denials BIGINT NOT NULL, PRIMARY KEY (session_id, device_id)
  );
  CREATE INDEX sessions_last ON sessions (last_ms);
  CREATE INDEX sessions_device ON sessions (device_id, last_ms);
  CREATE INDEX sessions_person ON sessions (person_id, last_ms);
  CREATE TABLE agents (
    device_id TEXT NOT NULL, agent_name TEXT NOT NULL, agent_version TEXT, last_time TEXT NOT NULL,
    last_ms BIGINT NOT NULL, events BIGINT NOT NULL, PRIMARY KEY (device_id, agent_name)
  );

  CREATE TABLE policy_bundles (
    id BIGSERIAL PRIMARY KEY, hash TEXT NOT NULL, envelope TEXT NOT NULL, published_by TEXT NOT NULL,
    published_at TEXT NOT NULL
  );
  CREATE INDEX policy_bundles_hash ON policy_bundles (hash, id);
  CREATE TABLE kills (
    id BIGSERIAL PRIMARY KEY, target TEXT NOT NULL, reason TEXT, created_by TEXT NOT NULL, created_at TEXT NOT NULL,
    lifted_at TEXT
  );
  CREATE INDEX kills_active ON kills (target) WHERE lifted_at IS NULL;

  CREATE TABLE admin_tokens (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, secret_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL, revoked_at TEXT
  );
  CREATE TABLE telemetry_tokens (secret_hash TEXT PRIMARY KEY, device_id TEXT NOT NULL UNIQUE);
  CREATE TABLE nonces (
    key_id TEXT NOT NULL, nonce TEXT NOT NULL, expires_ms BIGINT NOT NULL, PRIMARY KEY (key_id, nonce)
  );
  CREATE INDEX nonces_expiry ON nonces (expires_ms);

  CREATE TABLE telemetry (
    id BIGSERIAL PRIMARY KEY, signal TEXT NOT NULL, name TEXT NOT NULL, time TEXT NOT NULL, session_id TEXT,
    prompt_id TEXT, tool_use_id TEXT, device_id TEXT, attributes TEXT NOT NULL, value DOUBLE PRECISION
  );
  CREATE INDEX telemetry_session ON telemetry (session_id, id);
  CREATE INDEX telemetry_tool_use ON telemetry (tool_use_id, id);
  `,
  approvalsMigration('BIGINT'),
  inventoryMigration('BIGINT'),
  overviewMigration('BIGINT'),
];
