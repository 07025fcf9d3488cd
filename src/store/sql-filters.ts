// WHERE clauses both adapters share: the SQL is the same in both dialects, only the placeholders differ, so the
// caller passes `param`, which binds a value and returns its placeholder (`?` for SQLite, `$n` for PostgreSQL).
import { StoreError, type EventFilter } from './store.js';

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 10_000;

export type BindParam = (value: unknown) => string;

export interface EventQuery {
  from: string; // 'FROM …' naming the events table `e`
  where: string; // '' or 'WHERE …'
  orderBy: string; // 'ORDER BY …'
  limit: number;
}

/**
 * The clauses of an event listing, `SELECT e.* ${from} ${where} ${orderBy} LIMIT n`; every filter is served by
 * an index (see the schemas). A rule filter drives the query from event_rules' (rule, idx) key, which yields
 * that rule's events already in index order: a page costs about `limit` lookups whether the rule is rare or common.
 */
export function eventQuery(filter: EventFilter, param: BindParam): EventQuery {
  const conditions: string[] = [];
  let from = 'FROM events e';
  let key = 'e.idx';
  if (filter.rule !== undefined) {
    from = 'FROM event_rules r JOIN events e ON e.idx = r.idx';
    key = 'r.idx';
    conditions.push(`r.rule = ${param(filter.rule)}`);
  }
  if (filter.afterIndex !== undefined) conditions.push(`${key} > ${param(filter.afterIndex)}`);
  if (filter.beforeIndex !== undefined) conditions.push(`${key} < ${param(filter.beforeIndex)}`);
  if (filter.since !== undefined) conditions.push(`e.time_ms >= ${param(parseTimeMs(filter.since, 'since'))}`);
  if (filter.until !== undefined) conditions.push(`e.time_ms < ${param(parseTimeMs(filter.until, 'until'))}`);
  if (filter.deviceId !== undefined) conditions.push(`e.device_id = ${param(filter.deviceId)}`);
  if (filter.personId !== undefined) conditions.push(`e.person_id = ${param(filter.personId)}`);
  if (filter.sessionId !== undefined) conditions.push(`e.session_id = ${param(filter.sessionId)}`);
  if (filter.kind !== undefined) conditions.push(`e.kind = ${param(filter.kind)}`);
  if (filter.decision !== undefined) conditions.push(`e.decision = ${param(filter.decision)}`);
  return {
    from,
    where: conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`,
    orderBy: `ORDER BY ${key} ${filter.order === 'desc' ? 'DESC' : 'ASC'}`,
    limit: clampLimit(filter.limit),
  };
}

/** A page size within [1, MAX_LIMIT], DEFAULT_LIMIT when absent. */
export function clampLimit(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return DEFAULT_LIMIT;
  return Math.min(MAX_LIMIT, Math.max(1, Math.floor(limit)));
}

/** A LIKE pattern matching `text` anywhere, with LIKE's wildcards escaped (use with ESCAPE '\'). */
export function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** Epoch milliseconds of an RFC 3339 time; the store compares instants, never strings. */
export function parseTimeMs(time: string, what: string): number {
  const ms = Date.parse(time);
  if (Number.isNaN(ms)) throw new StoreError('INVALID_INPUT', `${what}: \`${time}\` is not RFC 3339`);
  return ms;
}
