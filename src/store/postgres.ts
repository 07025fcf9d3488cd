// The scale-out store: PostgreSQL through a `pg` Pool, shared by several server replicas. Ingest takes the log's
// advisory lock inside its transaction, so the replicas sequence one log; batches are written with a handful of
// multi-row statements (unnest of arrays). A lost connection rejects the query in flight (the caller retries; ingest
// is idempotent) and the pool opens new connections once PostgreSQL is back.
import pg from 'pg';
import type { NodeId } from '../ledger/merkle.js';
import { ingestInTransaction, readNodes, type Queryable } from './postgres-ingest.js';
import { MIGRATION_LOCK_ID, POSTGRES_MIGRATIONS } from './postgres-schema.js';
import { countAgents, countMcpServers, listDeviceInventories, type InventoryFilter, type McpApproval, type Run } from './inventory-sql.js';
import { overviewCounts } from './overview-sql.js';
import {
  APPROVAL_LOCK_ID,
  DECIDE_APPROVAL,
  decideParams,
  FIND_LIVE_APPROVAL,
  findLiveParams,
  GET_APPROVAL,
  INSERT_APPROVAL,
  insertParams,
  listApprovalsQuery,
  numbered,
  toApproval,
} from './approval-sql.js';
import {
  toAdminToken,
  toAgent,
  toCheckpoint,
  toDevice,
  toKill,
  toPerson,
  toPolicyBundle,
  toSession,
  toStoredEvent,
  toTelemetry,
  type Row,
} from './rows.js';
import { clampLimit, containsPattern, eventQuery, parseTimeMs } from './sql-filters.js';
import {
  StoreError,
  type AdminToken,
  type AgentSummary,
  type Approval,
  type ApprovalFilter,
  type ApprovalRequest,
  type ApprovalVerdict,
  type Checkpoint,
  type Device,
  type EventFilter,
  type IngestEvent,
  type IngestResult,
  type KillSwitch,
  type Page,
  type Person,
  type PolicyBundleRecord,
  type SessionSummary,
  type Store,
  type StoredEvent,
  type TelemetryRecord,
} from './store.js';
import {
  ENROL_DEVICE,
  ENROL_DEVICE_CONFLICT,
  enrolmentColumns,
  personColumns,
  UPSERT_PERSON,
  UPSERT_PERSON_CONFLICT,
} from './upsert-sql.js';

export interface PostgresStoreOptions {
  poolSize?: number; // connections per replica, default 10
}

// BIGINT (int8) arrives as text by default; every BIGINT here is an index, size or count below 2^53.
const INT8_OID = 20;
const TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary' ? Number : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

// A dead replica's open transaction would hold the log lock until TCP notices; PostgreSQL ends it sooner.
const IDLE_IN_TRANSACTION_TIMEOUT_MS = 60_000;
const CONNECT_TIMEOUT_MS = 10_000;

/** Opens a pool on `url` (postgres://…); call migrate() before use. Connections open lazily. */
export async function openPostgresStore(url: string, options: PostgresStoreOptions = {}): Promise<Store> {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    types: TYPES,
    fallback_application_name: 'writ', // a URL's application_name wins
    keepAlive: true,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    idle_in_transaction_session_timeout: IDLE_IN_TRANSACTION_TIMEOUT_MS,
  });
  // An idle connection that dies (a restart, a failover) is dropped from the pool; without a listener the
  // 'error' event would end the process.
  pool.on('error', () => {});
  return new PostgresStore(pool);
}

class PostgresStore implements Store {
  readonly kind = 'postgres';
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async migrate(): Promise<void> {
    await this.#transaction(async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_ID]);
      await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)');
      const { rows } = await client.query('SELECT coalesce(max(version), 0) AS v FROM schema_migrations');
      const current = Number(rows[0].v);
      if (current > POSTGRES_MIGRATIONS.length) {
        throw new Error(
          `store schema is version ${current}, this Writ knows ${POSTGRES_MIGRATIONS.length}: hint: run the newer Writ that wrote it`,
        );
      }
      for (let v = current + 1; v <= POSTGRES_MIGRATIONS.length; v += 1) {
        await client.query(POSTGRES_MIGRATIONS[v - 1]);
        await client.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [v, new Date().toISOString()]);
      }
    });
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }

  async metaSetIfAbsent(key: string, value: string): Promise<string> {
    await this.#query('INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING', [key, value]);
    return (await this.#one('SELECT value FROM meta WHERE key = $1', [key]))!.value as string;
  }

  async metaGet(key: string): Promise<string | undefined> {
    return (await this.#one('SELECT value FROM meta WHERE key = $1', [key]))?.value as string | undefined;
  }

  async upsertPerson(person: Omit<Person, 'createdAt' | 'revokedAt'>, at: string): Promise<Person> {
    const sql = `${UPSERT_PERSON} VALUES ($1, $2, $3, $4, $5, $6, $7) ${UPSERT_PERSON_CONFLICT}`;
    return toPerson((await this.#one(sql, personColumns(person, at)))!);
  }

  async getPerson(id: string): Promise<Person | undefined> {
    const row = await this.#one('SELECT * FROM people WHERE id = $1', [id]);
    return row && toPerson(row);
  }

  async listPeople(offset: number, limit: number): Promise<Page<Person>> {
    const rows = await this.#query('SELECT * FROM people ORDER BY created_at, id LIMIT $1 OFFSET $2', [clampLimit(limit), offset]);
    return { items: rows.map(toPerson), total: await this.#count('SELECT count(*) AS n FROM people') };
  }

  async revokePerson(id: string, at: string): Promise<boolean> {
    return (await this.#changes('UPDATE people SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL', [at, id])) > 0;
  }

  async enrollDevice(device: Omit<Device, 'headSeq' | 'headHash' | 'revokedAt' | 'lastSeenAt'>): Promise<Device> {
    const sql = `${ENROL_DEVICE} VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ${ENROL_DEVICE_CONFLICT}`;
    const row = await this.#one(sql, enrolmentColumns(device));
    if (row === undefined) throw new StoreError('KEY_MISMATCH', `device \`${device.id}\` is enrolled with another key`);
    return toDevice(row);
  }

  async getDevice(id: string): Promise<Device | undefined> {
    const row = await this.#one('SELECT * FROM devices WHERE id = $1', [id]);
    return row && toDevice(row);
  }

  async listDevices(offset: number, limit: number, search?: string): Promise<Page<Device>> {
    const params: unknown[] = [];
    let where = '';
    if (search !== undefined && search !== '') {
      params.push(containsPattern(search));
      where = `WHERE d.id ILIKE $1 OR d.hostname ILIKE $1 OR d.key_id ILIKE $1 OR p.email ILIKE $1 OR p.name ILIKE $1`;
    }
    const from = `FROM devices d LEFT JOIN people p ON p.id = d.person_id ${where}`;
    const n = params.length;
    const rows = await this.#query(`SELECT d.* ${from} ORDER BY d.enrolled_at, d.id LIMIT $${n + 1} OFFSET $${n + 2}`, [
      ...params,
      clampLimit(limit),
      offset,
    ]);
    return { items: rows.map(toDevice), total: await this.#count(`SELECT count(*) AS n ${from}`, params) };
  }

  async revokeDevice(id: string, at: string): Promise<boolean> {
    return (await this.#changes('UPDATE devices SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL', [at, id])) > 0;
  }

  async ingest(deviceId: string, events: IngestEvent[], receivedAt: string): Promise<IngestResult> {
    return this.#transaction((client) => ingestInTransaction(client, deviceId, events, receivedAt));
  }

  async logSize(): Promise<number> {
    return (await this.#one("SELECT value FROM counters WHERE name = 'log_size'"))!.value as number;
  }

  async nodes(ids: NodeId[]): Promise<Map<string, Buffer>> {
    return readNodes(this.#pool, ids);
  }

  async nodeRange(level: number, from: number, count: number): Promise<Buffer[]> {
    const rows = await this.#query('SELECT hash FROM nodes WHERE level = $1 AND idx >= $2 AND idx < $3 ORDER BY idx', [
      level,
      from,
      from + count,
    ]);
    return rows.map((row) => row.hash as Buffer);
  }

  async eventsByIndex(from: number, count: number): Promise<StoredEvent[]> {
    const rows = await this.#query('SELECT * FROM events WHERE idx >= $1 AND idx < $2 ORDER BY idx', [from, from + count]);
    return rows.map(toStoredEvent);
  }

  async events(filter: EventFilter): Promise<StoredEvent[]> {
    const params: unknown[] = [];
    const query = eventQuery(filter, (value) => `$${params.push(value)}`);
    const rows = await this.#query(
      `SELECT e.* ${query.from} ${query.where} ${query.orderBy} LIMIT $${params.length + 1}`,
      [...params, query.limit],
    );
    return rows.map(toStoredEvent);
  }

  async countEvents(filter: EventFilter): Promise<number> {
    const params: unknown[] = [];
    const query = eventQuery(filter, (value) => `$${params.push(value)}`);
    return this.#count(`SELECT count(*) AS n ${query.from} ${query.where}`, params);
  }

  async eventAt(deviceId: string, seq: number): Promise<StoredEvent | undefined> {
    const row = await this.#one('SELECT * FROM events WHERE device_id = $1 AND seq = $2', [deviceId, seq]);
    return row && toStoredEvent(row);
  }

  async sessions(filter: { deviceId?: string; personId?: string; offset: number; limit: number }): Promise<Page<SessionSummary>> {
    const conditions: string[] = [];
    const params: unknown[] = [];
    if (filter.deviceId !== undefined) conditions.push(`device_id = $${params.push(filter.deviceId)}`);
    if (filter.personId !== undefined) conditions.push(`person_id = $${params.push(filter.personId)}`);
    const where = conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
    const n = params.length;
    const rows = await this.#query(
      `SELECT * FROM sessions ${where} ORDER BY last_ms DESC, session_id LIMIT $${n + 1} OFFSET $${n + 2}`,
      [...params, clampLimit(filter.limit), filter.offset],
    );
    return { items: rows.map(toSession), total: await this.#count(`SELECT count(*) AS n FROM sessions ${where}`, params) };
  }

  async agents(): Promise<AgentSummary[]> {
    return (await this.#query('SELECT * FROM agents ORDER BY last_ms DESC, device_id, agent_name')).map(toAgent);
  }

  async addCheckpoint(checkpoint: Checkpoint): Promise<Checkpoint> {
    await this.#query('INSERT INTO checkpoints (size, root, note, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (size) DO NOTHING', [
      checkpoint.size,
      checkpoint.root,
      checkpoint.note,
      checkpoint.createdAt,
    ]);
    return (await this.checkpointAt(checkpoint.size))!;
  }

  async latestCheckpoint(): Promise<Checkpoint | undefined> {
    const row = await this.#one('SELECT * FROM checkpoints ORDER BY size DESC LIMIT 1');
    return row && toCheckpoint(row);
  }

  async checkpointAt(size: number): Promise<Checkpoint | undefined> {
    const row = await this.#one('SELECT * FROM checkpoints WHERE size = $1', [size]);
    return row && toCheckpoint(row);
  }

  async listCheckpoints(offset: number, limit: number): Promise<Page<Checkpoint>> {
    const rows = await this.#query('SELECT * FROM checkpoints ORDER BY size DESC LIMIT $1 OFFSET $2', [clampLimit(limit), offset]);
    return { items: rows.map(toCheckpoint), total: await this.#count('SELECT count(*) AS n FROM checkpoints') };
  }

  async addPolicyBundle(bundle: PolicyBundleRecord): Promise<void> {
    await this.#changeControl(async (client) => {
      await client.query('INSERT INTO policy_bundles (hash, envelope, published_by, published_at) VALUES ($1, $2, $3, $4)', [
        bundle.hash,
        bundle.envelope,
        bundle.publishedBy,
        bundle.publishedAt,
      ]);
      return true;
    });
  }

  async activePolicyBundle(): Promise<PolicyBundleRecord | undefined> {
    const row = await this.#one('SELECT * FROM policy_bundles ORDER BY id DESC LIMIT 1');
    return row && toPolicyBundle(row);
  }

  async policyBundle(hash: string): Promise<PolicyBundleRecord | undefined> {
    const row = await this.#one('SELECT * FROM policy_bundles WHERE hash = $1 ORDER BY id DESC LIMIT 1', [hash]);
    return row && toPolicyBundle(row);
  }

  async addKill(kill: Omit<KillSwitch, 'id' | 'liftedAt'>): Promise<KillSwitch> {
    let added: KillSwitch | undefined;
    await this.#changeControl(async (client) => {
      const { rows } = await client.query(
        'INSERT INTO kills (target, reason, created_by, created_at) VALUES ($1, $2, $3, $4) RETURNING *',
        [kill.target, kill.reason ?? null, kill.createdBy, kill.createdAt],
      );
      added = toKill(rows[0]);
      return true;
    });
    return added!;
  }

  async liftKill(target: string, at: string): Promise<boolean> {
    return this.#changeControl(async (client) => {
      const result = await client.query('UPDATE kills SET lifted_at = $1 WHERE target = $2 AND lifted_at IS NULL', [at, target]);
      return (result.rowCount ?? 0) > 0;
    });
  }

  async activeKills(): Promise<KillSwitch[]> {
    return (await this.#query('SELECT * FROM kills WHERE lifted_at IS NULL ORDER BY id')).map(toKill);
  }

  async controlVersion(): Promise<number> {
    return (await this.#one("SELECT value FROM counters WHERE name = 'control_version'"))!.value as number;
  }

  // Runs `change` and, if it changed something, bumps the control version in the same transaction.
  async #changeControl(change: (client: Queryable) => Promise<boolean>): Promise<boolean> {
    return this.#transaction(async (client) => {
      const changed = await change(client);
      if (changed) await client.query("UPDATE counters SET value = value + 1 WHERE name = 'control_version'");
      return changed;
    });
  }

  async createAdminToken(token: AdminToken, secretHash: string): Promise<void> {
    await this.#query(
      'INSERT INTO admin_tokens (id, name, role, secret_hash, created_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6)',
      [token.id, token.name, token.role, secretHash, token.createdAt, token.revokedAt ?? null],
    );
  }

  async findAdminToken(secretHash: string): Promise<AdminToken | undefined> {
    const row = await this.#one('SELECT * FROM admin_tokens WHERE secret_hash = $1 AND revoked_at IS NULL', [secretHash]);
    return row && toAdminToken(row);
  }

  async listAdminTokens(): Promise<AdminToken[]> {
    return (await this.#query('SELECT * FROM admin_tokens ORDER BY created_at, id')).map(toAdminToken);
  }

  async revokeAdminToken(id: string, at: string): Promise<boolean> {
    return (await this.#changes('UPDATE admin_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL', [at, id])) > 0;
  }

  async setTelemetryToken(deviceId: string, secretHash: string): Promise<void> {
    await this.#query(
      `INSERT INTO telemetry_tokens (secret_hash, device_id) VALUES ($1, $2)
       ON CONFLICT (device_id) DO UPDATE SET secret_hash = excluded.secret_hash`,
      [secretHash, deviceId],
    );
  }

  async deviceForTelemetryToken(secretHash: string): Promise<string | undefined> {
    const row = await this.#one(
      `SELECT t.device_id FROM telemetry_tokens t JOIN devices d ON d.id = t.device_id
       WHERE t.secret_hash = $1 AND d.revoked_at IS NULL`,
      [secretHash],
    );
    return row?.device_id as string | undefined;
  }

  async useNonce(keyId: string, nonce: string, expiresAt: string, now: string): Promise<boolean> {
    const expiresMs = parseTimeMs(expiresAt, 'nonce expiry');
    const nowMs = parseTimeMs(now, 'now');
    await this.#query('DELETE FROM nonces WHERE expires_ms <= $1', [nowMs]);
    const inserted = await this.#changes(
      'INSERT INTO nonces (key_id, nonce, expires_ms) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
      [keyId, nonce, expiresMs],
    );
    return inserted > 0;
  }

  async requestApproval(approval: ApprovalRequest, now: string): Promise<{ approval: Approval; created: boolean }> {
    return this.#transaction(async (client) => {
      // Serialises requests for approvals, so two at once for one call cannot both insert.
      await client.query('SELECT pg_advisory_xact_lock($1)', [APPROVAL_LOCK_ID]);
      const live = (await client.query(numbered(FIND_LIVE_APPROVAL), findLiveParams(approval.deviceId, approval.digest, now))).rows[0] as Row | undefined;
      if (live !== undefined) return { approval: toApproval(live), created: false };
      await client.query(numbered(INSERT_APPROVAL), insertParams(approval));
      return { approval: toApproval((await client.query(numbered(GET_APPROVAL), [approval.id])).rows[0] as Row), created: true };
    });
  }

  async getApproval(id: string): Promise<Approval | undefined> {
    const row = await this.#one(numbered(GET_APPROVAL), [id]);
    return row && toApproval(row);
  }

  async listApprovals(filter: ApprovalFilter): Promise<Approval[]> {
    const { sql, params } = listApprovalsQuery(filter);
    return (await this.#query(numbered(sql), params)).map(toApproval);
  }

  async decideApproval(id: string, verdict: ApprovalVerdict): Promise<Approval | undefined> {
    const row = await this.#one(numbered(DECIDE_APPROVAL), decideParams(id, verdict));
    return row && toApproval(row);
  }

  readonly #read: Run = (sql, params) => this.#query(numbered(sql), params);

  async deviceInventories(filter: InventoryFilter, now: Date) {
    return listDeviceInventories(this.#read, filter, now);
  }

  async inventoryAgents(offset: number, limit: number) {
    return countAgents(this.#read, offset, limit);
  }

  async inventoryMcpServers(filter: { approval?: McpApproval; offset: number; limit: number }) {
    return countMcpServers(this.#read, filter);
  }

  async overview(sinceMs: number, now: Date, staleMs: number) {
    return overviewCounts(this.#read, sinceMs, now.getTime(), staleMs);
  }

  async addTelemetry(records: TelemetryRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.#query(
      `INSERT INTO telemetry (signal, name, time, session_id, prompt_id, tool_use_id, device_id, attributes, value)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
         $8::text[], $9::float8[])`,
      [
        records.map((r) => r.signal),
        records.map((r) => r.name),
        records.map((r) => r.time),
        records.map((r) => r.sessionId ?? null),
        records.map((r) => r.promptId ?? null),
        records.map((r) => r.toolUseId ?? null),
        records.map((r) => r.deviceId ?? null),
        records.map((r) => JSON.stringify(r.attributes)),
        records.map((r) => r.value ?? null),
      ],
    );
  }

  async telemetry(filter: { sessionId?: string; toolUseId?: string; limit?: number }): Promise<TelemetryRecord[]> {
    const conditions: string[] = [];
    const params: unknown[] = [];
    if (filter.sessionId !== undefined) conditions.push(`session_id = $${params.push(filter.sessionId)}`);
    if (filter.toolUseId !== undefined) conditions.push(`tool_use_id = $${params.push(filter.toolUseId)}`);
    const where = conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
    const rows = await this.#query(`SELECT * FROM telemetry ${where} ORDER BY id LIMIT $${params.length + 1}`, [
      ...params,
      clampLimit(filter.limit),
    ]);
    return rows.map(toTelemetry);
  }

  // One transaction on one connection. A connection that fails mid-transaction (its ROLLBACK fails too) is
  // destroyed rather than returned to the pool.
  async #transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect();
    // While checked out, the pool does not listen for the client's errors; the query in flight rejects anyway.
    const ignore = (): void => {};
    client.on('error', ignore);
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch((rollbackError: Error) => {
        broken = rollbackError;
      });
      throw error;
    } finally {
      client.off('error', ignore);
      client.release(broken);
    }
  }

  async #query(sql: string, params: unknown[] = []): Promise<Row[]> {
    return (await this.#pool.query(sql, params)).rows as Row[];
  }

  async #one(sql: string, params: unknown[] = []): Promise<Row | undefined> {
    return (await this.#query(sql, params))[0];
  }

  async #changes(sql: string, params: unknown[]): Promise<number> {
    return (await this.#pool.query(sql, params)).rowCount ?? 0;
  }

  async #count(sql: string, params: unknown[] = []): Promise<number> {
    return (await this.#one(sql, params))!.n as number;
  }
}
