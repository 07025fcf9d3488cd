// The approvals table, shared by both adapters: its migration (the same DDL for both but the integer type), the
// statements (written with `?`, numbered for PostgreSQL by `numbered`) and the row mapping.
import type { Approval, ApprovalFilter, ApprovalRequest, ApprovalVerdict } from './store.js';
import type { Row } from './rows.js';
import { clampLimit, parseTimeMs } from './sql-filters.js';

/** Migration 2 of both schemas; `bigint` is INTEGER on SQLite and BIGINT on PostgreSQL. */
export function approvalsMigration(bigint: string): string {
  return `
  CREATE TABLE approvals (
    id TEXT PRIMARY KEY, device_id TEXT NOT NULL, person_id TEXT NOT NULL, digest TEXT NOT NULL, session_id TEXT,
    tool TEXT NOT NULL, summary TEXT NOT NULL, rules TEXT NOT NULL, reviewers TEXT NOT NULL, reason TEXT NOT NULL,
    status TEXT NOT NULL, created_at TEXT NOT NULL, created_ms ${bigint} NOT NULL, expires_at TEXT NOT NULL,
    expires_ms ${bigint} NOT NULL, decided_at TEXT, decided_by TEXT, comment TEXT, decision TEXT
  );
  CREATE INDEX approvals_call ON approvals (device_id, digest, created_ms);
  CREATE INDEX approvals_created ON approvals (created_ms);
  CREATE INDEX approvals_status ON approvals (status, created_ms);
  `;
}

type Param = string | number | null;

/** PostgreSQL advisory lock held while an approval is looked up and inserted ('writ' · 3; see postgres-schema.ts). */
export const APPROVAL_LOCK_ID = 0x77726974_0003;

export const FIND_LIVE_APPROVAL =
  'SELECT * FROM approvals WHERE device_id = ? AND digest = ? AND expires_ms > ? ORDER BY created_ms DESC, id LIMIT 1';

export const INSERT_APPROVAL = `INSERT INTO approvals (id, device_id, person_id, digest, session_id, tool, summary, rules, reviewers, reason,
  status, created_at, created_ms, expires_at, expires_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?)`;

export const GET_APPROVAL = 'SELECT * FROM approvals WHERE id = ?';

export const DECIDE_APPROVAL = `UPDATE approvals SET status = ?, decided_at = ?, decided_by = ?, comment = ?, decision = ?
  WHERE id = ? AND status = 'pending' AND expires_ms > ? RETURNING *`;

export function findLiveParams(deviceId: string, digest: string, now: string): Param[] {
  return [deviceId, digest, parseTimeMs(now, 'now')];
}

export function insertParams(approval: ApprovalRequest): Param[] {
  return [
    approval.id,
    approval.deviceId,
    approval.personId,
    approval.digest,
    approval.sessionId ?? null,
    approval.tool,
    JSON.stringify(approval.summary),
    JSON.stringify(approval.rules),
    approval.reviewers,
    approval.reason,
    approval.createdAt,
    parseTimeMs(approval.createdAt, 'approval creation time'),
    approval.expiresAt,
    parseTimeMs(approval.expiresAt, 'approval expiry'),
  ];
}

export function decideParams(id: string, verdict: ApprovalVerdict): Param[] {
  const { status, decidedAt, decidedBy, comment, decision } = verdict;
  return [status, decidedAt, decidedBy, comment ?? null, decision, id, parseTimeMs(decidedAt, 'decision time')];
}

/** A filtered, newest-first listing. */
export function listApprovalsQuery(filter: ApprovalFilter): { sql: string; params: Param[] } {
  const conditions: string[] = [];
  const params: Param[] = [];
  if (filter.status !== undefined) conditions.push('status = ?'), params.push(filter.status);
  if (filter.deviceId !== undefined) conditions.push('device_id = ?'), params.push(filter.deviceId);
  const where = conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
  params.push(clampLimit(filter.limit));
  return { sql: `SELECT * FROM approvals ${where} ORDER BY created_ms DESC, id LIMIT ?`, params };
}

/** `?` placeholders → PostgreSQL's `$1`, `$2`, … in order. */
export function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${(n += 1)}`);
}

export function toApproval(row: Row): Approval {
  const approval: Approval = {
    id: row.id as string,
    deviceId: row.device_id as string,
    personId: row.person_id as string,
    digest: row.digest as string,
    tool: row.tool as string,
    summary: JSON.parse(row.summary as string) as Record<string, unknown>,
    rules: JSON.parse(row.rules as string) as string[],
    reviewers: row.reviewers as string,
    reason: row.reason as string,
    status: row.status as Approval['status'],
    createdAt: row.created_at as string,
    expiresAt: row.expires_at as string,
  };
  // Optional fields are absent, not undefined, so records compare equal whichever adapter read them.
  for (const [key, column] of [['sessionId', 'session_id'], ['decidedAt', 'decided_at'], ['decidedBy', 'decided_by'], ['comment', 'comment'], ['decision', 'decision']] as const) {
    if (row[column] !== null && row[column] !== undefined) approval[key] = row[column] as string;
  }
  return approval;
}
