import { approvalsMigration } from './approval-sql.js';
import { inventoryMigration } from './inventory-sql.js';
import { overviewMigration } from './overview-sql.js';

// The SQLite schema as numbered, forward-only migrations (index + 1 = version). Column names match
// postgres-schema.ts, so src/store/rows.ts maps the rows of both.

const APPEND_ONLY = ['events', 'event_rules', 'nodes', 'checkpoints']
  .map(
    (table) => `
  CREATE TRIGGER ${table}_no_update BEFORE UPDATE ON ${table} BEGIN SELECT RAISE(ABORT, '${table} are append-only'); END;
  CREATE TRIGGER ${table}_no_delete BEFORE DELETE ON ${table} BEGIN SELECT RAISE(ABORT, '${table} are append-only'); END;`,
  )
  .join('\n');

export const SQLITE_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
  INSERT INTO counters (name, value) VALUES ('log_size', 0), ('control_version', 0);

  CREATE TABLE people (
    id TEXT PRIMARY KEY, iss TEXT NOT NULL, sub TEXT NOT NULL, email TEXT, name TEXT, groups TEXT NOT NULL,
    created_at TEXT NOT NULL, revoked_at TEXT
  );
  CREATE INDEX people_created ON people (created_at, id);

  CREATE TABLE devices (
    id TEXT PRIMARY KEY, key_id TEXT NOT NULL, public_key_pem TEXT NOT NULL, person_id TEXT NOT NULL,
    assurance TEXT NOT NULL, hostname TEXT, os TEXT, certificate TEXT NOT NULL, enrolled_at TEXT NOT NULL,
    revoked_at TEXT, head_seq INTEGER NOT NULL DEFAULT 0, head_hash TEXT NOT NULL DEFAULT '', last_seen_at TEXT
  );
  CREATE INDEX devices_enrolled ON devices (enrolled_at, id);

  -- The org log. INVARIANT: idx runs 0 .. log_size - 1 without holes, and rows are never changed or removed.
  CREATE TABLE events (
    idx INTEGER PRIMARY KEY, device_id TEXT NOT NULL, person_id TEXT NOT NULL,
    seq INTEGER NOT NULL, prev TEXT NOT NULL, hash TEXT NOT NULL, envelope TEXT NOT NULL,
    time TEXT NOT NULL, time_ms INTEGER NOT NULL, kind TEXT NOT NULL, session_id TEXT, tool_use_id TEXT,
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
  CREATE TABLE event_rules (rule TEXT NOT NULL, idx INTEGER NOT NULL, PRIMARY KEY (rule, idx)) WITHOUT ROWID;

  -- Complete nodes of the log's Merkle tree, level 0 holding the leaf hashes (src/ledger/merkle.ts).
  CREATE TABLE nodes (
    level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL, PRIMARY KEY (level, idx)
  ) WITHOUT ROWID;
  CREATE TABLE checkpoints (size INTEGER PRIMARY KEY, root BLOB NOT NULL, note TEXT NOT NULL, created_at TEXT NOT NULL);
  ${APPEND_ONLY}

  CREATE TABLE sessions (
    session_id TEXT NOT NULL, device_id TEXT NOT NULL, person_id TEXT NOT NULL, agent_name TEXT NOT NULL,
    agent_version TEXT, first_time TEXT NOT NULL, first_ms INTEGER NOT NULL, last_time TEXT NOT NULL,
    last_ms INTEGER NOT NULL, events INTEGER NOT NULL, denials INTEGER NOT NULL, PRIMARY KEY (session_id, device_id)
  );
  CREATE INDEX sessions_last ON sessions (last_ms);
  CREATE INDEX sessions_device ON sessions (device_id, last_ms);
  CREATE INDEX sessions_person ON sessions (person_id, last_ms);
  CREATE TABLE agents (
    device_id TEXT NOT NULL, agent_name TEXT NOT NULL, agent_version TEXT, last_time TEXT NOT NULL,
    last_ms INTEGER NOT NULL, events INTEGER NOT NULL, PRIMARY KEY (device_id, agent_name)
  );

  CREATE TABLE policy_bundles (
    id INTEGER PRIMARY KEY AUTOINCREMENT, hash TEXT NOT NULL, envelope TEXT NOT NULL, published_by TEXT NOT NULL,
    published_at TEXT NOT NULL
  );
  CREATE INDEX policy_bundles_hash ON policy_bundles (hash, id);
  CREATE TABLE kills (
    id INTEGER PRIMARY KEY AUTOINCREMENT, target TEXT NOT NULL, reason TEXT, created_by TEXT NOT NULL,
    created_at TEXT NOT NULL, lifted_at TEXT
  );
  CREATE INDEX kills_active ON kills (target) WHERE lifted_at IS NULL;

  CREATE TABLE admin_tokens (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, secret_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL, revoked_at TEXT
  );
  CREATE TABLE telemetry_tokens (secret_hash TEXT PRIMARY KEY, device_id TEXT NOT NULL UNIQUE);
  CREATE TABLE nonces (
    key_id TEXT NOT NULL, nonce TEXT NOT NULL, expires_ms INTEGER NOT NULL, PRIMARY KEY (key_id, nonce)
  ) WITHOUT ROWID;
  CREATE INDEX nonces_expiry ON nonces (expires_ms);

  CREATE TABLE telemetry (
    id INTEGER PRIMARY KEY AUTOINCREMENT, signal TEXT NOT NULL, name TEXT NOT NULL, time TEXT NOT NULL,
    session_id TEXT, prompt_id TEXT, tool_use_id TEXT, device_id TEXT, attributes TEXT NOT NULL, value REAL
  );
  CREATE INDEX telemetry_session ON telemetry (session_id, id);
  CREATE INDEX telemetry_tool_use ON telemetry (tool_use_id, id);
  `,
  approvalsMigration('INTEGER'),
  inventoryMigration('INTEGER'),
  overviewMigration('INTEGER'),
];
