// The embedded store: one SQLite file through better-sqlite3 (WAL, synchronous=NORMAL). better-sqlite3 is
// synchronous, so every method does its work before its promise settles; one process owns the file, and
// busy_timeout covers a second one (for example `writ log fsck` reading while the server runs).
import Database from 'better-sqlite3';
import { borderNodeIds, completeNodes, nodeKey, type NodeId } from '../ledger/merkle.js';
import { planIngest, seqsToLookUp, type IngestPlan, type StoredLeaf } from './ingest-plan.js';
import {
  EVENT_COLUMNS,
  eventColumns,
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
  DECIDE_APPROVAL,
  decideParams,
  FIND_LIVE_APPROVAL,
  findLiveParams,
  GET_APPROVAL,
  INSERT_APPROVAL,
  insertParams,
  listApprovalsQuery,
  toApproval,
} from './approval-sql.js';
import { carriesInventory, CURRENT_INVENTORY, inventoryUpdates, inventoryWrites, storedSeqs } from './inventory-ingest.js';
import { countAgents, countMcpServers, listDeviceInventories, type InventoryFilter, type McpApproval, type Run } from './inventory-sql.js';
import { decisionCountWrites, overviewCounts } from './overview-sql.js';
import { SQLITE_MIGRATIONS } from './sqlite-schema.js';
import {
  AGENT_COLUMNS,
  AGENT_UPSERT,
  ENROL_DEVICE,
  ENROL_DEVICE_CONFLICT,
  enrolmentColumns,
  personColumns,
  SESSION_COLUMNS,
  SESSION_UPSERT,
  UPSERT_PERSON,
  UPSERT_PERSON_CONFLICT,
} from './upsert-sql.js';
import {
  StoreError,
  type AdminToken,
  type Approval,
  type ApprovalFilter,
  type ApprovalRequest,
  type ApprovalVerdict,
  type AgentSummary,
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

type Param = string | number | Buffer | null;

const BUSY_TIMEOUT_MS = 5_000;

/** Opens (or creates) the SQLite store at `path` (':memory:' for tests); call migrate() before use. */
export async function openSqliteStore(path: string): Promise<Store> {
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma('foreign_keys = OFF');
    return new SqliteStore(db);
  } catch (error) {
    db.close();
    throw new Error(`couldn't open sqlite store \`${path}\`: ${(error as Error).message}`, { cause: error });
  }
}

class SqliteStore implements Store {
  readonly kind = 'sqlite';
  readonly #db: Database.Database;
  // Statements are prepared on first use: the tables they name exist only once migrate() has run.
  readonly #statements = new Map<string, Database.Statement>();
  readonly #ingest: (deviceId: string, events: IngestEvent[], receivedAt: string) => IngestResult;

  constructor(db: Database.Database) {
    this.#db = db;
    // BEGIN IMMEDIATE takes the write lock before reading the head, so no other writer can interleave.
    this.#ingest = db.transaction(this.#ingestInTransaction.bind(this)).immediate;
  }

  async migrate(): Promise<void> {
    this.#db
      .transaction(() => {
        this.#db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)');
        const version = this.#db.prepare('SELECT coalesce(max(version), 0) AS v FROM schema_migrations').get() as { v: number };
        if (version.v > SQLITE_MIGRATIONS.length) {
          throw new Error(
            `store schema is version ${version.v}, this Writ knows ${SQLITE_MIGRATIONS.length}: hint: run the newer Writ that wrote it`,
          );
        }
        for (let v = version.v + 1; v <= SQLITE_MIGRATIONS.length; v += 1) {
          this.#db.exec(SQLITE_MIGRATIONS[v - 1]);
          this.#db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(v, new Date().toISOString());
        }
      })
      .immediate();
  }

  async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }

  async metaSetIfAbsent(key: string, value: string): Promise<string> {
    this.#run('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING', key, value);
    return (this.#get('SELECT value FROM meta WHERE key = ?', key) as { value: string }).value;
  }

  async metaGet(key: string): Promise<string | undefined> {
    return this.#get('SELECT value FROM meta WHERE key = ?', key)?.value as string | undefined;
  }

  async upsertPerson(person: Omit<Person, 'createdAt' | 'revokedAt'>, at: string): Promise<Person> {
    return toPerson(this.#get(`${UPSERT_PERSON} VALUES (?, ?, ?, ?, ?, ?, ?) ${UPSERT_PERSON_CONFLICT}`, ...personColumns(person, at))!);
  }

  async getPerson(id: string): Promise<Person | undefined> {
    const row = this.#get('SELECT * FROM people WHERE id = ?', id);
    return row && toPerson(row);
  }

  async listPeople(offset: number, limit: number): Promise<Page<Person>> {
    const items = this.#all('SELECT * FROM people ORDER BY created_at, id LIMIT ? OFFSET ?', clampLimit(limit), offset);
    return { items: items.map(toPerson), total: this.#count('SELECT count(*) AS n FROM people') };
  }

  async revokePerson(id: string, at: string): Promise<boolean> {
    return this.#run('UPDATE people SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', at, id).changes > 0;
  }

  async enrollDevice(device: Omit<Device, 'headSeq' | 'headHash' | 'revokedAt' | 'lastSeenAt'>): Promise<Device> {
    const row = this.#get(
      `${ENROL_DEVICE} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ${ENROL_DEVICE_CONFLICT}`,
      ...enrolmentColumns(device),
    );
    if (row === undefined) throw new StoreError('KEY_MISMATCH', `device \`${device.id}\` is enrolled with another key`);
    return toDevice(row);
  }

  async getDevice(id: string): Promise<Device | undefined> {
    const row = this.#get('SELECT * FROM devices WHERE id = ?', id);
    return row && toDevice(row);
  }

  async listDevices(offset: number, limit: number, search?: string): Promise<Page<Device>> {
    const params: Param[] = [];
    let where = '';
    if (search !== undefined && search !== '') {
      const pattern = containsPattern(search);
      where = `WHERE d.id LIKE ? ESCAPE '\\' OR d.hostname LIKE ? ESCAPE '\\' OR d.key_id LIKE ? ESCAPE '\\'
        OR p.email LIKE ? ESCAPE '\\' OR p.name LIKE ? ESCAPE '\\'`;
      params.push(pattern, pattern, pattern, pattern, pattern);
    }
    const from = `FROM devices d LEFT JOIN people p ON p.id = d.person_id ${where}`;
    const items = this.#all(`SELECT d.* ${from} ORDER BY d.enrolled_at, d.id LIMIT ? OFFSET ?`, ...params, clampLimit(limit), offset);
    return { items: items.map(toDevice), total: this.#count(`SELECT count(*) AS n ${from}`, ...params) };
  }

  async revokeDevice(id: string, at: string): Promise<boolean> {
    return this.#run('UPDATE devices SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', at, id).changes > 0;
  }

  async ingest(deviceId: string, events: IngestEvent[], receivedAt: string): Promise<IngestResult> {
    return this.#ingest(deviceId, events, receivedAt);
  }

  #ingestInTransaction(deviceId: string, events: IngestEvent[], receivedAt: string): IngestResult {
    const device = this.#get('SELECT person_id, revoked_at, head_seq, head_hash FROM devices WHERE id = ?', deviceId);
    if (device === undefined) throw new StoreError('UNKNOWN_DEVICE', `unknown device \`${deviceId}\``);
    if (device.revoked_at !== null) throw new StoreError('DEVICE_REVOKED', `device \`${deviceId}\` is revoked`);
    const head = { seq: device.head_seq as number, hash: device.head_hash as string };
    const logSize = this.#counter('log_size');
    const stored = new Map<number, StoredLeaf>();
    for (const seq of seqsToLookUp(head, events)) {
      const row = this.#get('SELECT hash, idx FROM events WHERE device_id = ? AND seq = ?', deviceId, seq);
      if (row !== undefined) stored.set(seq, { hash: row.hash as string, index: row.idx as number });
    }
    const plan = planIngest(head, logSize, stored, events);
    if (plan.appends.length > 0) this.#append(deviceId, device.person_id as string, plan, logSize, receivedAt);
    this.#run(
      'UPDATE devices SET head_seq = ?, head_hash = ?, last_seen_at = ? WHERE id = ?',
      plan.head.seq,
      plan.head.hash,
      receivedAt,
      deviceId,
    );
    return { sequenced: plan.sequenced, stop: plan.stop, headSeq: plan.head.seq, logSize: plan.logSize };
  }

  #append(deviceId: string, personId: string, plan: IngestPlan, logSize: number, receivedAt: string): void {
    const borderIds = borderNodeIds(logSize);
    const border = this.#nodes(borderIds);
    const borderHashes = borderIds.map((id) => {
      const hash = border.get(nodeKey(id));
      if (hash === undefined) throw new StoreError('CORRUPT', `log node ${nodeKey(id)} of size ${logSize} is missing`);
      return hash;
    });
    const nodes = completeNodes(logSize, borderHashes, plan.appends.map((append) => append.event.leafHash));
    const placeholders = EVENT_COLUMNS.map(() => '?').join(', ');
    const insertEvent = this.#statement(
      `INSERT INTO events (idx, device_id, person_id, received_at, ${EVENT_COLUMNS.join(', ')})
       VALUES (?, ?, ?, ?, ${placeholders})`,
    );
    const insertRule = this.#statement('INSERT OR IGNORE INTO event_rules (rule, idx) VALUES (?, ?)');
    for (const { event, index, timeMs } of plan.appends) {
      insertEvent.run(index, deviceId, personId, receivedAt, ...eventColumns(event, timeMs));
      for (const rule of event.rules) insertRule.run(rule, index);
    }
    const insertNode = this.#statement('INSERT INTO nodes (level, idx, hash) VALUES (?, ?, ?)');
    for (const node of nodes) insertNode.run(node.level, node.index, node.hash);
    const insertSession = this.#statement(
      `INSERT INTO sessions (${SESSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ${SESSION_UPSERT}`,
    );
    for (const s of plan.sessions) {
      insertSession.run(
        ...[s.sessionId, deviceId, personId, s.agentName, s.agentVersion ?? null, s.firstTime, s.firstMs, s.lastTime, s.lastMs],
        ...[s.events, s.denials],
      );
    }
    const insertAgent = this.#statement(`INSERT INTO agents (${AGENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?) ${AGENT_UPSERT}`);
    for (const a of plan.agents) {
      insertAgent.run(deviceId, a.agentName, a.agentVersion ?? null, a.lastTime, a.lastMs, a.events);
    }
    for (const { sql, params } of decisionCountWrites(plan.appends)) this.#statement(sql).run(...params);
    this.#run("UPDATE counters SET value = ? WHERE name = 'log_size'", plan.logSize);
    if (carriesInventory(plan.appends)) {
      const writes = inventoryWrites(deviceId, inventoryUpdates(plan.appends), storedSeqs(this.#get(CURRENT_INVENTORY, deviceId)));
      for (const { sql, params } of writes) this.#db.prepare(sql).run(...params);
    }
  }

  async logSize(): Promise<number> {
    return this.#counter('log_size');
  }

  async nodes(ids: NodeId[]): Promise<Map<string, Buffer>> {
    return this.#nodes(ids);
  }

  #nodes(ids: readonly NodeId[]): Map<string, Buffer> {
    const select = this.#statement('SELECT hash FROM nodes WHERE level = ? AND idx = ?');
    const found = new Map<string, Buffer>();
    for (const id of ids) {
      const row = select.get(id.level, id.index) as Row | undefined;
      if (row !== undefined) found.set(nodeKey(id), row.hash as Buffer);
    }
    return found;
  }

  async nodeRange(level: number, from: number, count: number): Promise<Buffer[]> {
    const rows = this.#all('SELECT hash FROM nodes WHERE level = ? AND idx >= ? AND idx < ? ORDER BY idx', level, from, from + count);
    return rows.map((row) => row.hash as Buffer);
  }

  async eventsByIndex(from: number, count: number): Promise<StoredEvent[]> {
    return this.#all('SELECT * FROM events WHERE idx >= ? AND idx < ? ORDER BY idx', from, from + count).map(toStoredEvent);
  }

  async events(filter: EventFilter): Promise<StoredEvent[]> {
    const params: Param[] = [];
    const query = eventQuery(filter, (value) => (params.push(value as Param), '?'));
    const rows = this.#all(`SELECT e.* ${query.from} ${query.where} ${query.orderBy} LIMIT ?`, ...params, query.limit);
    return rows.map(toStoredEvent);
  }

  async countEvents(filter: EventFilter): Promise<number> {
    const params: Param[] = [];
    const query = eventQuery(filter, (value) => (params.push(value as Param), '?'));
    return this.#count(`SELECT count(*) AS n ${query.from} ${query.where}`, ...params);
  }

  async eventAt(deviceId: string, seq: number): Promise<StoredEvent | undefined> {
    const row = this.#get('SELECT * FROM events WHERE device_id = ? AND seq = ?', deviceId, seq);
    return row && toStoredEvent(row);
  }

  async sessions(filter: { deviceId?: string; personId?: string; offset: number; limit: number }): Promise<Page<SessionSummary>> {
    const conditions: string[] = [];
    const params: Param[] = [];
    if (filter.deviceId !== undefined) conditions.push('device_id = ?'), params.push(filter.deviceId);
    if (filter.personId !== undefined) conditions.push('person_id = ?'), params.push(filter.personId);
    const where = conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
    const rows = this.#all(
      `SELECT * FROM sessions ${where} ORDER BY last_ms DESC, session_id LIMIT ? OFFSET ?`,
      ...params,
      clampLimit(filter.limit),
      filter.offset,
    );
    return { items: rows.map(toSession), total: this.#count(`SELECT count(*) AS n FROM sessions ${where}`, ...params) };
  }

  async agents(): Promise<AgentSummary[]> {
    return this.#all('SELECT * FROM agents ORDER BY last_ms DESC, device_id, agent_name').map(toAgent);
  }

  async addCheckpoint(checkpoint: Checkpoint): Promise<Checkpoint> {
    this.#run(
      'INSERT INTO checkpoints (size, root, note, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (size) DO NOTHING',
      checkpoint.size,
      checkpoint.root,
      checkpoint.note,
      checkpoint.createdAt,
    );
    return (await this.checkpointAt(checkpoint.size))!;
  }

  async latestCheckpoint(): Promise<Checkpoint | undefined> {
    const row = this.#get('SELECT * FROM checkpoints ORDER BY size DESC LIMIT 1');
    return row && toCheckpoint(row);
  }

  async checkpointAt(size: number): Promise<Checkpoint | undefined> {
    const row = this.#get('SELECT * FROM checkpoints WHERE size = ?', size);
    return row && toCheckpoint(row);
  }

  async listCheckpoints(offset: number, limit: number): Promise<Page<Checkpoint>> {
    const rows = this.#all('SELECT * FROM checkpoints ORDER BY size DESC LIMIT ? OFFSET ?', clampLimit(limit), offset);
    return { items: rows.map(toCheckpoint), total: this.#count('SELECT count(*) AS n FROM checkpoints') };
  }

  async addPolicyBundle(bundle: PolicyBundleRecord): Promise<void> {
    this.#changeControl(() => {
      this.#run(
        'INSERT INTO policy_bundles (hash, envelope, published_by, published_at) VALUES (?, ?, ?, ?)',
        bundle.hash,
        bundle.envelope,
        bundle.publishedBy,
        bundle.publishedAt,
      );
      return true;
    });
  }

  async activePolicyBundle(): Promise<PolicyBundleRecord | undefined> {
    const row = this.#get('SELECT * FROM policy_bundles ORDER BY id DESC LIMIT 1');
    return row && toPolicyBundle(row);
  }

  async policyBundle(hash: string): Promise<PolicyBundleRecord | undefined> {
    const row = this.#get('SELECT * FROM policy_bundles WHERE hash = ? ORDER BY id DESC LIMIT 1', hash);
    return row && toPolicyBundle(row);
  }

  async addKill(kill: Omit<KillSwitch, 'id' | 'liftedAt'>): Promise<KillSwitch> {
    let id = 0;
    this.#changeControl(() => {
      const result = this.#run(
        'INSERT INTO kills (target, reason, created_by, created_at) VALUES (?, ?, ?, ?)',
        kill.target,
        kill.reason ?? null,
        kill.createdBy,
        kill.createdAt,
      );
      id = Number(result.lastInsertRowid);
      return true;
    });
    return toKill(this.#get('SELECT * FROM kills WHERE id = ?', id)!);
  }

  async liftKill(target: string, at: string): Promise<boolean> {
    return this.#changeControl(
      () => this.#run('UPDATE kills SET lifted_at = ? WHERE target = ? AND lifted_at IS NULL', at, target).changes > 0,
    );
  }

  async activeKills(): Promise<KillSwitch[]> {
    return this.#all('SELECT * FROM kills WHERE lifted_at IS NULL ORDER BY id').map(toKill);
  }

  async controlVersion(): Promise<number> {
    return this.#counter('control_version');
  }

  // Runs `change` and, if it changed something, bumps the control version in the same transaction.
  #changeControl(change: () => boolean): boolean {
    return this.#db
      .transaction(() => {
        const changed = change();
        if (changed) this.#run("UPDATE counters SET value = value + 1 WHERE name = 'control_version'");
        return changed;
      })
      .immediate();
  }

  async createAdminToken(token: AdminToken, secretHash: string): Promise<void> {
    this.#run(
      'INSERT INTO admin_tokens (id, name, role, secret_hash, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?)',
      token.id,
      token.name,
      token.role,
      secretHash,
      token.createdAt,
      token.revokedAt ?? null,
    );
  }

  async findAdminToken(secretHash: string): Promise<AdminToken | undefined> {
    const row = this.#get('SELECT * FROM admin_tokens WHERE secret_hash = ? AND revoked_at IS NULL', secretHash);
    return row && toAdminToken(row);
  }

  async listAdminTokens(): Promise<AdminToken[]> {
    return this.#all('SELECT * FROM admin_tokens ORDER BY created_at, id').map(toAdminToken);
  }

  async revokeAdminToken(id: string, at: string): Promise<boolean> {
    return this.#run('UPDATE admin_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', at, id).changes > 0;
  }

  async setTelemetryToken(deviceId: string, secretHash: string): Promise<void> {
    this.#run(
      `INSERT INTO telemetry_tokens (secret_hash, device_id) VALUES (?, ?)
       ON CONFLICT (device_id) DO UPDATE SET secret_hash = excluded.secret_hash`,
      secretHash,
      deviceId,
    );
  }

  async deviceForTelemetryToken(secretHash: string): Promise<string | undefined> {
    const row = this.#get(
      `SELECT t.device_id FROM telemetry_tokens t JOIN devices d ON d.id = t.device_id
       WHERE t.secret_hash = ? AND d.revoked_at IS NULL`,
      secretHash,
    );
    return row?.device_id as string | undefined;
  }

  async useNonce(keyId: string, nonce: string, expiresAt: string, now: string): Promise<boolean> {
    const expiresMs = parseTimeMs(expiresAt, 'nonce expiry');
    const nowMs = parseTimeMs(now, 'now');
    return this.#db
      .transaction(() => {
        this.#run('DELETE FROM nonces WHERE expires_ms <= ?', nowMs);
        const result = this.#run(
          'INSERT INTO nonces (key_id, nonce, expires_ms) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
          keyId,
          nonce,
          expiresMs,
        );
        return result.changes > 0;
      })
      .immediate();
  }

  async requestApproval(approval: ApprovalRequest, now: string): Promise<{ approval: Approval; created: boolean }> {
    return this.#db
      .transaction(() => {
        const live = this.#get(FIND_LIVE_APPROVAL, ...findLiveParams(approval.deviceId, approval.digest, now));
        if (live !== undefined) return { approval: toApproval(live), created: false };
        this.#run(INSERT_APPROVAL, ...insertParams(approval));
        return { approval: toApproval(this.#get(GET_APPROVAL, approval.id)!), created: true };
      })
      .immediate();
  }

  async getApproval(id: string): Promise<Approval | undefined> {
    const row = this.#get(GET_APPROVAL, id);
    return row && toApproval(row);
  }

  async listApprovals(filter: ApprovalFilter): Promise<Approval[]> {
    const { sql, params } = listApprovalsQuery(filter);
    return this.#all(sql, ...params).map(toApproval);
  }

  async decideApproval(id: string, verdict: ApprovalVerdict): Promise<Approval | undefined> {
    const row = this.#get(DECIDE_APPROVAL, ...decideParams(id, verdict));
    return row && toApproval(row);
  }

  readonly #read: Run = async (sql, params) => this.#all(sql, ...params);

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
    const insert = this.#statement(
      `INSERT INTO telemetry (signal, name, time, session_id, prompt_id, tool_use_id, device_id, attributes, value)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#db.transaction(() => {
      for (const r of records) {
        insert.run(
          ...[r.signal, r.name, r.time, r.sessionId ?? null, r.promptId ?? null, r.toolUseId ?? null, r.deviceId ?? null],
          ...[JSON.stringify(r.attributes), r.value ?? null],
        );
      }
    })();
  }

  async telemetry(filter: { sessionId?: string; toolUseId?: string; limit?: number }): Promise<TelemetryRecord[]> {
    const conditions: string[] = [];
    const params: Param[] = [];
    if (filter.sessionId !== undefined) conditions.push('session_id = ?'), params.push(filter.sessionId);
    if (filter.toolUseId !== undefined) conditions.push('tool_use_id = ?'), params.push(filter.toolUseId);
    const where = conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
    return this.#all(`SELECT * FROM telemetry ${where} ORDER BY id LIMIT ?`, ...params, clampLimit(filter.limit)).map(toTelemetry);
  }

  #statement(sql: string): Database.Statement {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  #get(sql: string, ...params: Param[]): Row | undefined {
    return this.#statement(sql).get(...params) as Row | undefined;
  }

  #all(sql: string, ...params: Param[]): Row[] {
    return this.#statement(sql).all(...params) as Row[];
  }

  #run(sql: string, ...params: Param[]): Database.RunResult {
    return this.#statement(sql).run(...params);
  }

  #count(sql: string, ...params: Param[]): number {
    return (this.#get(sql, ...params) as { n: number }).n;
  }

  #counter(name: string): number {
    return (this.#get('SELECT value FROM counters WHERE name = ?', name) as { value: number }).value;
  }
}
