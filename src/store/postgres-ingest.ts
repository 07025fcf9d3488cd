// The PostgreSQL sequencer: one ingest batch inside a transaction that holds the log's advisory lock. Whatever
// the batch size, it is about a dozen statements: each multi-row write is one INSERT … SELECT FROM unnest(arrays).
import type pg from 'pg';
import { borderNodeIds, completeNodes, nodeKey, type NodeId } from '../ledger/merkle.js';
import { numbered } from './approval-sql.js';
import { planIngest, seqsToLookUp, type IngestPlan, type StoredLeaf } from './ingest-plan.js';
import { carriesInventory, CURRENT_INVENTORY, inventoryUpdates, inventoryWrites, storedSeqs } from './inventory-ingest.js';
import { decisionCountWrites } from './overview-sql.js';
import { LOG_LOCK_ID } from './postgres-schema.js';
import { EVENT_COLUMNS, eventColumns, type Row } from './rows.js';
import { StoreError, type IngestEvent, type IngestResult } from './store.js';
import { AGENT_COLUMNS, AGENT_UPSERT, SESSION_COLUMNS, SESSION_UPSERT } from './upsert-sql.js';

export type Queryable = Pick<pg.PoolClient, 'query'>;

const EVENT_SQL_TYPES: Record<(typeof EVENT_COLUMNS)[number], string> = {
  seq: 'bigint',
  prev: 'text',
  hash: 'text',
  envelope: 'text',
  time: 'text',
  time_ms: 'bigint',
  kind: 'text',
  session_id: 'text',
  tool_use_id: 'text',
  prompt_id: 'text',
  agent_name: 'text',
  agent_version: 'text',
  decision: 'text',
  rules: 'text',
  policy_hash: 'text',
};

const INSERT_EVENTS = `
  INSERT INTO events (idx, device_id, person_id, received_at, ${EVENT_COLUMNS.join(', ')})
  SELECT u.idx, $2, $3, $4, ${EVENT_COLUMNS.map((c) => `u.${c}`).join(', ')}
  FROM unnest($1::bigint[], ${EVENT_COLUMNS.map((c, i) => `$${i + 5}::${EVENT_SQL_TYPES[c]}[]`).join(', ')})
    AS u(idx, ${EVENT_COLUMNS.join(', ')})`;

const INSERT_SESSIONS = `
  INSERT INTO sessions (${SESSION_COLUMNS})
  SELECT u.session_id, $1, $2, u.agent_name, u.agent_version, u.first_time, u.first_ms, u.last_time, u.last_ms,
    u.events, u.denials
  FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::text[], $9::bigint[], $10::bigint[],
    $11::bigint[]) AS u(session_id, agent_name, agent_version, first_time, first_ms, last_time, last_ms, events, denials)
  ${SESSION_UPSERT}`;

const INSERT_AGENTS = `
  INSERT INTO agents (${AGENT_COLUMNS})
  SELECT $1, u.agent_name, u.agent_version, u.last_time, u.last_ms, u.events
  FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[])
    AS u(agent_name, agent_version, last_time, last_ms, events)
  ${AGENT_UPSERT}`;

/** Runs one ingest on `client`, which must be inside a transaction (the lock is released at its end). */
export async function ingestInTransaction(
  client: Queryable,
  deviceId: string,
  events: readonly IngestEvent[],
  receivedAt: string,
): Promise<IngestResult> {
  // INVARIANT: the log lock is taken before anything is read, so log_size and the border nodes are current.
  await client.query('SELECT pg_advisory_xact_lock($1)', [LOG_LOCK_ID]);
  // FOR UPDATE orders this ingest with a concurrent revocation or re-enrolment of the device.
  const { rows } = await client.query(
    `SELECT d.person_id, d.revoked_at, d.head_seq, d.head_hash, c.value AS log_size
     FROM devices d, counters c WHERE d.id = $1 AND c.name = 'log_size' FOR UPDATE OF d`,
    [deviceId],
  );
  const device = rows[0] as Row | undefined;
  if (device === undefined) throw new StoreError('UNKNOWN_DEVICE', `unknown device \`${deviceId}\``);
  if (device.revoked_at !== null) throw new StoreError('DEVICE_REVOKED', `device \`${deviceId}\` is revoked`);
  const head = { seq: device.head_seq as number, hash: device.head_hash as string };
  const logSize = device.log_size as number;
  const stored = new Map<number, StoredLeaf>();
  const seqs = seqsToLookUp(head, events);
  if (seqs.length > 0) {
    const found = await client.query('SELECT seq, hash, idx FROM events WHERE device_id = $1 AND seq = ANY($2::bigint[])', [
      deviceId,
      seqs,
    ]);
    for (const row of found.rows) stored.set(row.seq, { hash: row.hash, index: row.idx });
  }
  const plan = planIngest(head, logSize, stored, events);
  if (plan.appends.length > 0) await append(client, deviceId, device.person_id as string, plan, logSize, receivedAt);
  await client.query('UPDATE devices SET head_seq = $1, head_hash = $2, last_seen_at = $3 WHERE id = $4', [
    plan.head.seq,
    plan.head.hash,
    receivedAt,
    deviceId,
  ]);
  return { sequenced: plan.sequenced, stop: plan.stop, headSeq: plan.head.seq, logSize: plan.logSize };
}

async function append(
  client: Queryable,
  deviceId: string,
  personId: string,
  plan: IngestPlan,
  logSize: number,
  receivedAt: string,
): Promise<void> {
  const borderIds = borderNodeIds(logSize);
  const border = await readNodes(client, borderIds);
  const borderHashes = borderIds.map((id) => {
    const hash = border.get(nodeKey(id));
    if (hash === undefined) throw new StoreError('CORRUPT', `log node ${nodeKey(id)} of size ${logSize} is missing`);
    return hash;
  });
  const nodes = completeNodes(logSize, borderHashes, plan.appends.map((a) => a.event.leafHash));

  const columns = EVENT_COLUMNS.map(() => [] as unknown[]);
  for (const { event, timeMs } of plan.appends) eventColumns(event, timeMs).forEach((value, i) => columns[i].push(value));
  await client.query(INSERT_EVENTS, [plan.appends.map((a) => a.index), deviceId, personId, receivedAt, ...columns]);

  const rules = plan.appends.flatMap(({ event, index }) => [...new Set(event.rules)].map((rule) => ({ rule, index })));
  if (rules.length > 0) {
    await client.query('INSERT INTO event_rules (rule, idx) SELECT * FROM unnest($1::text[], $2::bigint[])', [
      rules.map((r) => r.rule),
      rules.map((r) => r.index),
    ]);
  }
  await client.query('INSERT INTO nodes (level, idx, hash) SELECT * FROM unnest($1::int[], $2::bigint[], $3::bytea[])', [
    nodes.map((node) => node.level),
    nodes.map((node) => node.index),
    nodes.map((node) => node.hash),
  ]);

  const s = plan.sessions;
  if (s.length > 0) {
    await client.query(INSERT_SESSIONS, [
      deviceId,
      personId,
      s.map((x) => x.sessionId),
      s.map((x) => x.agentName),
      s.map((x) => x.agentVersion ?? null),
      s.map((x) => x.firstTime),
      s.map((x) => x.firstMs),
      s.map((x) => x.lastTime),
      s.map((x) => x.lastMs),
      s.map((x) => x.events),
      s.map((x) => x.denials),
    ]);
  }
  const a = plan.agents;
  await client.query(INSERT_AGENTS, [
    deviceId,
    a.map((x) => x.agentName),
    a.map((x) => x.agentVersion ?? null),
    a.map((x) => x.lastTime),
    a.map((x) => x.lastMs),
    a.map((x) => x.events),
  ]);
  for (const { sql, params } of decisionCountWrites(plan.appends)) await client.query(numbered(sql), params);
  await client.query("UPDATE counters SET value = $1 WHERE name = 'log_size'", [plan.logSize]);
  if (carriesInventory(plan.appends)) {
    const stored = storedSeqs((await client.query(numbered(CURRENT_INVENTORY), [deviceId])).rows[0] as Row | undefined);
    for (const { sql, params } of inventoryWrites(deviceId, inventoryUpdates(plan.appends), stored)) await client.query(numbered(sql), params);
  }
}

/** Hashes of the complete nodes among `ids`, keyed by nodeKey; one query for any number of ids. */
export async function readNodes(client: Queryable, ids: readonly NodeId[]): Promise<Map<string, Buffer>> {
  const found = new Map<string, Buffer>();
  if (ids.length === 0) return found;
  const { rows } = await client.query(
    `SELECT n.level, n.idx, n.hash FROM unnest($1::int[], $2::bigint[]) AS q(level, idx)
     JOIN nodes n ON n.level = q.level AND n.idx = q.idx`,
    [ids.map((id) => id.level), ids.map((id) => id.index)],
  );
  for (const row of rows) found.set(nodeKey({ level: row.level, index: row.idx }), row.hash);
  return found;
}
