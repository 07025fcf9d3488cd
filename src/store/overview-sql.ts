// The dashboard overview's aggregates, shared by both adapters: counts over the fleet inventory, the log and the
// approvals, decisions per hour and the top denied rules, all computed in SQL (`?` placeholders; PostgreSQL numbers
// them) so a fleet of 10,000 devices and a million events is never read row by row.
import type { FleetFacts } from '../detect/fleet-maturity.js';
import type { Statement } from './inventory-ingest.js';
import type { Run } from './inventory-sql.js';
import type { IngestEvent } from './store.js';

export const HOUR_MS = 3_600_000;

/**
 * Migration 4 of both schemas: decisions and denied rules counted per hour as ingest appends them, so the overview
 * reads a few hundred rows for a day instead of grouping every event (a million in a day on a large fleet). The
 * counts of events already in the log are filled in here.
 */
export function overviewMigration(bigint: string): string {
  return `
  CREATE TABLE decision_hours (hour_ms ${bigint} NOT NULL, decision TEXT NOT NULL, events ${bigint} NOT NULL, PRIMARY KEY (hour_ms, decision));
  CREATE TABLE denied_rule_hours (hour_ms ${bigint} NOT NULL, rule TEXT NOT NULL, events ${bigint} NOT NULL, PRIMARY KEY (hour_ms, rule));
  INSERT INTO decision_hours (hour_ms, decision, events)
    SELECT time_ms / ${HOUR_MS} * ${HOUR_MS}, decision, count(*) FROM events WHERE decision IS NOT NULL GROUP BY time_ms / ${HOUR_MS} * ${HOUR_MS}, decision;
  INSERT INTO denied_rule_hours (hour_ms, rule, events)
    SELECT e.time_ms / ${HOUR_MS} * ${HOUR_MS}, r.rule, count(*) FROM events e JOIN event_rules r ON r.idx = e.idx
    WHERE e.decision = 'deny' GROUP BY e.time_ms / ${HOUR_MS} * ${HOUR_MS}, r.rule;
  `;
}

const ADD_DECISIONS = `INSERT INTO decision_hours (hour_ms, decision, events) VALUES (?, ?, ?)
  ON CONFLICT (hour_ms, decision) DO UPDATE SET events = decision_hours.events + excluded.events`;
const ADD_DENIED_RULES = `INSERT INTO denied_rule_hours (hour_ms, rule, events) VALUES (?, ?, ?)
  ON CONFLICT (hour_ms, rule) DO UPDATE SET events = denied_rule_hours.events + excluded.events`;

/** The hourly counts an ingest batch adds, one upsert per hour and decision or rule (a batch spans few hours). */
export function decisionCountWrites(appends: readonly { event: IngestEvent; timeMs: number }[]): Statement[] {
  const decisions = new Map<string, number>();
  const rules = new Map<string, number>();
  const add = (counts: Map<string, number>, key: string) => counts.set(key, (counts.get(key) ?? 0) + 1);
  for (const { event, timeMs } of appends) {
    if (event.decision === undefined || event.decision === null) continue;
    const hour = Math.floor(timeMs / HOUR_MS) * HOUR_MS;
    add(decisions, JSON.stringify([hour, event.decision]));
    if (event.decision === 'deny') for (const rule of new Set(event.rules)) add(rules, JSON.stringify([hour, rule]));
  }
  const writes = (sql: string, counts: Map<string, number>) => [...counts].map(([key, events]) => ({ sql, params: [...(JSON.parse(key) as [number, string]), events] }));
  return [...writes(ADD_DECISIONS, decisions), ...writes(ADD_DENIED_RULES, rules)];
}

const TOP_RULES = 10;

/** The fleet's facts as the maturity assessment reads them, plus the window's denials, approvals and charts. */
export interface OverviewCounts extends Omit<FleetFacts, 'now' | 'query_ms'> {
  /** In the window. */
  denials: number;
  pendingApprovals: number;
  /** One row per hour with any decision, oldest first; `hourMs` is the hour's start. */
  decisionsByHour: { hourMs: number; allow: number; deny: number; ask: number }[];
  topDeniedRules: { rule: string; denials: number }[];
}

const n = (value: unknown): number => Number(value ?? 0);

/** The overview for the window from `sinceMs` to now; "stale" means older than `staleMs` before `nowMs`. */
export async function overviewCounts(run: Run, sinceMs: number, nowMs: number, staleMs: number): Promise<OverviewCounts> {
  const staleBefore = nowMs - staleMs;
  const [devices] = await run(
    `SELECT count(*) AS total, count(CASE WHEN d.assurance <> 'oidc' THEN 1 END) AS unverified, count(CASE WHEN i.inventory_seq IS NOT NULL THEN 1 END) AS reporting,
       count(CASE WHEN EXISTS (SELECT 1 FROM inventory_guard g WHERE g.device_id = d.id AND g.hooks_installed = 0) THEN 1 END) AS guard_off,
       count(CASE WHEN i.self_test_passed = 0 THEN 1 END) AS self_test_failed,
       count(CASE WHEN i.heartbeat_ms IS NULL OR i.heartbeat_ms < ? THEN 1 END) AS heartbeat_stale,
       count(CASE WHEN EXISTS (SELECT 1 FROM inventory_posture c WHERE c.device_id = d.id AND c.status = 'fail') THEN 1 END) AS posture_failing,
       count(CASE WHEN i.posture_at IS NULL OR i.posture_at < ? THEN 1 END) AS posture_stale
     FROM devices d LEFT JOIN inventory_devices i ON i.device_id = d.id WHERE d.revoked_at IS NULL`,
    [staleBefore, new Date(staleBefore).toISOString()],
  );
  const [people] = await run('SELECT count(*) AS n FROM people WHERE revoked_at IS NULL', []);
  const [agents] = await run(
    `SELECT count(*) AS total, count(CASE WHEN a.governance = 'governed' THEN 1 END) AS governed,
       count(CASE WHEN a.governance = 'ungoverned' THEN 1 END) AS ungoverned
     FROM inventory_agents a JOIN devices d ON d.id = a.device_id AND d.revoked_at IS NULL`,
    [],
  );
  // A server (name and fingerprint) counts as approved only where every device that loads it has it approved.
  const [mcp] = await run(
    `SELECT count(*) AS total, count(CASE WHEN s.not_approved = 0 THEN 1 END) AS approved, count(CASE WHEN s.not_approved > 0 THEN 1 END) AS unapproved
     FROM (SELECT m.name, m.fingerprint, count(CASE WHEN m.approval <> 'approved' THEN 1 END) AS not_approved
           FROM inventory_mcp_servers m JOIN devices d ON d.id = m.device_id AND d.revoked_at IS NULL GROUP BY m.name, m.fingerprint) s`,
    [],
  );
  // Whole hours: the window starts at the top of the hour `sinceMs` falls in.
  const sinceHour = Math.floor(sinceMs / HOUR_MS) * HOUR_MS;
  const hours = await run('SELECT hour_ms, decision, events FROM decision_hours WHERE hour_ms >= ? ORDER BY hour_ms', [sinceHour]);
  const rules = await run(
    `SELECT rule, sum(events) AS denials FROM denied_rule_hours WHERE hour_ms >= ? GROUP BY rule ORDER BY sum(events) DESC, rule LIMIT ${TOP_RULES}`,
    [sinceHour],
  );
  const [sessions] = await run('SELECT count(*) AS n FROM sessions WHERE last_ms >= ?', [sinceMs]);
  const [pending] = await run(`SELECT count(*) AS n FROM approvals WHERE status = 'pending' AND expires_ms > ?`, [nowMs]);
  const [size] = await run(`SELECT value FROM counters WHERE name = 'log_size'`, []);
  const [checkpoint] = await run('SELECT size, created_at FROM checkpoints ORDER BY size DESC LIMIT 1', []);
  const byHour = new Map<number, { hourMs: number; allow: number; deny: number; ask: number }>();
  for (const row of hours) {
    const hourMs = n(row.hour_ms);
    const bucket = byHour.get(hourMs) ?? { hourMs, allow: 0, deny: 0, ask: 0 };
    const decision = row.decision as string;
    if (decision === 'allow' || decision === 'deny' || decision === 'ask') bucket[decision] += n(row.events);
    byHour.set(hourMs, bucket);
  }
  const decisionsByHour = [...byHour.values()];
  return {
    devices: {
      total: n(devices.total),
      unverified: n(devices.unverified),
      reporting: n(devices.reporting),
      guardOff: n(devices.guard_off),
      selfTestFailed: n(devices.self_test_failed),
      heartbeatStale: n(devices.heartbeat_stale),
      postureFailing: n(devices.posture_failing),
      postureStale: n(devices.posture_stale),
    },
    people: n(people.n),
    agents: { total: n(agents.total), governed: n(agents.governed), ungoverned: n(agents.ungoverned) },
    mcpServers: { total: n(mcp.total), approved: n(mcp.approved), unapproved: n(mcp.unapproved) },
    denials: decisionsByHour.reduce((sum, hour) => sum + hour.deny, 0),
    decisions: decisionsByHour.reduce((sum, hour) => sum + hour.allow + hour.deny + hour.ask, 0),
    sessions: n(sessions.n),
    pendingApprovals: n(pending.n),
    decisionsByHour,
    topDeniedRules: rules.map((row) => ({ rule: row.rule as string, denials: n(row.denials) })),
    log: { size: n(size?.value), ...(checkpoint && { checkpointSize: n(checkpoint.size), checkpointAt: checkpoint.created_at as string }) },
  };
}
