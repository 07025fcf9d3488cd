// The dashboard's overview (docs/protocol.md, "Overview"): the fleet's counts, decisions per hour and the top denied
// rules since a time, all aggregated in SQL, with the maturity level and the six questions answered fleet-wide.
import type { FastifyInstance } from 'fastify';
import { assessFleet } from '../../detect/fleet-maturity.js';
import { FRESH_MS } from '../../detect/maturity.js';
import type { ServerContext } from '../app.js';
import { authenticateUser } from '../auth.js';
import { badRequest } from '../http-error.js';

const DEFAULT_WINDOW_MS = 24 * 3600 * 1000;
/** Hourly buckets for at most 92 days: about 2,200 points, still one chart. */
const MAX_WINDOW_MS = 92 * 24 * 3600 * 1000;

export function overviewRoutes(context: ServerContext) {
  const { store } = context;
  return async (app: FastifyInstance) => {
    app.get(
      '/v1/overview',
      {
        schema: {
          summary: 'The fleet at a glance (auditor)',
          description:
            'Devices, people, agents (governed / ungoverned), MCP servers (approved / unapproved), denials, sessions and pending approvals; decisions per hour (allow, deny, ask) and the top denied rules since `since` (default: the last 24 hours, at most 92 days); the fleet maturity level and the six questions.',
          tags: ['dashboard'],
          security: [{ bearer: [] }],
          querystring: { type: 'object', additionalProperties: false, properties: { since: { type: 'string', format: 'date-time' } } },
        },
      },
      async (request) => {
        await authenticateUser(request, store, context.oidc, 'auditor');
        const now = context.now();
        const { since } = request.query as { since?: string };
        const sinceMs = since === undefined ? now.getTime() - DEFAULT_WINDOW_MS : Date.parse(since);
        if (!(sinceMs <= now.getTime())) throw badRequest(`since must be a time in the past, not ${since}`);
        if (now.getTime() - sinceMs > MAX_WINDOW_MS) throw badRequest('since may be at most 92 days ago; narrow the window');
        const started = performance.now();
        const counts = await store.overview(sinceMs, now, FRESH_MS);
        const queryMs = Math.round(performance.now() - started);
        const maturity = assessFleet({ ...counts, now: now.toISOString(), query_ms: queryMs });
        return {
          since: new Date(sinceMs).toISOString(),
          now: now.toISOString(),
          devices: {
            total: counts.devices.total,
            reporting: counts.devices.reporting,
            unverified: counts.devices.unverified,
            guard_off: counts.devices.guardOff,
            self_test_failed: counts.devices.selfTestFailed,
            heartbeat_stale: counts.devices.heartbeatStale,
            posture_failing: counts.devices.postureFailing,
            posture_stale: counts.devices.postureStale,
          },
          people: counts.people,
          agents: counts.agents,
          mcp_servers: counts.mcpServers,
          denials: counts.denials,
          decisions: counts.decisions,
          sessions: counts.sessions,
          pending_approvals: counts.pendingApprovals,
          decisions_by_hour: counts.decisionsByHour.map(({ hourMs, ...rest }) => ({ hour: new Date(hourMs).toISOString(), ...rest })),
          top_denied_rules: counts.topDeniedRules,
          log: { size: counts.log.size, checkpoint_size: counts.log.checkpointSize ?? null, checkpoint_at: counts.log.checkpointAt ?? null },
          maturity,
          query_ms: queryMs,
        };
      },
    );
  };
}
