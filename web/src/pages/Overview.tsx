// The fleet at a glance: the maturity level and the six questions answered from live data, the counts that matter,
// decisions over time and the rules that deny most. Everything comes from GET /v1/overview, counted by the server.
import { useMemo, useState } from 'react';
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { EmptyState } from '../components/EmptyState';
import { ErrorMessage } from '../components/ErrorMessage';
import { PageHeader } from '../components/PageHeader';
import { href } from '../components/router';
import { useApi } from '../components/useApi';

interface Requirement {
  level: number;
  id: string;
  requirement: string;
  met: boolean;
  detail: string;
  fix?: string;
}

interface QuestionAnswer {
  id: string;
  question: string;
  answered: 'yes' | 'partly' | 'no';
  answer: string;
}

interface OverviewData {
  since: string;
  now: string;
  devices: { total: number; reporting: number; unverified: number; guard_off: number; self_test_failed: number; heartbeat_stale: number; posture_failing: number; posture_stale: number };
  people: number;
  agents: { total: number; governed: number; ungoverned: number };
  mcp_servers: { total: number; approved: number; unapproved: number };
  denials: number;
  decisions: number;
  sessions: number;
  pending_approvals: number;
  decisions_by_hour: { hour: string; allow: number; deny: number; ask: number }[];
  top_denied_rules: { rule: string; denials: number }[];
  log: { size: number; checkpoint_at: string | null };
  maturity: { level: number; level_name: string; questions: QuestionAnswer[]; next?: { level: number; level_name: string; missing: Requirement[] } };
  query_ms: number;
}

const WINDOWS = [
  { label: 'Last 24 hours', hours: 24 },
  { label: 'Last 7 days', hours: 24 * 7 },
  { label: 'Last 30 days', hours: 24 * 30 },
];
const HOUR_MS = 3_600_000;
// Colours pass 3:1 against white for graphical objects (WCAG 1.4.11); the legend names each series too.
const SERIES = [
  { key: 'allow', name: 'Allowed', color: '#1d7a3a' },
  { key: 'ask', name: 'Asked', color: '#b26a00' },
  { key: 'deny', name: 'Denied', color: '#b42318' },
] as const;

const MARKS = { yes: { symbol: '✓', label: 'Answered', className: 'ok' }, partly: { symbol: '◐', label: 'Partly answered', className: 'warn' }, no: { symbol: '✗', label: 'Not answered', className: 'bad' } };

/** Every hour of the window, the empty ones as zeros, so the time axis is true. Days for long windows. */
function timeline(data: OverviewData, hours: number) {
  const bucketMs = hours > 24 * 7 ? 24 * HOUR_MS : HOUR_MS;
  const start = Math.floor(Date.parse(data.since) / bucketMs) * bucketMs;
  const end = Date.parse(data.now);
  const buckets = new Map<number, { allow: number; deny: number; ask: number }>();
  for (let t = start; t <= end; t += bucketMs) buckets.set(t, { allow: 0, deny: 0, ask: 0 });
  for (const row of data.decisions_by_hour) {
    const key = Math.floor(Date.parse(row.hour) / bucketMs) * bucketMs;
    const bucket = buckets.get(key);
    if (bucket) {
      bucket.allow += row.allow;
      bucket.deny += row.deny;
      bucket.ask += row.ask;
    }
  }
  const label = (t: number) =>
    bucketMs === HOUR_MS ? new Date(t).toLocaleString(undefined, { weekday: hours > 24 ? 'short' : undefined, hour: '2-digit', minute: '2-digit' }) : new Date(t).toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
  return [...buckets.entries()].map(([t, counts]) => ({ label: label(t), ...counts }));
}

function Stat({ label, value, detail, link }: { label: string; value: number; detail?: string; link?: string }) {
  const content = (
    <>
      <span className="stat-value">{value.toLocaleString()}</span>
      <span className="stat-label">{label}</span>
      {detail && <span className="stat-detail">{detail}</span>}
    </>
  );
  return <div className="panel stat">{link ? <a href={link} className="stat-link">{content}</a> : content}</div>;
}

export function Overview() {
  const [hours, setHours] = useState(24);
  const since = useMemo(() => new Date(Date.now() - hours * HOUR_MS).toISOString(), [hours]);
  const { data, error, loading } = useApi<OverviewData>('/v1/overview', { since });
  const chart = useMemo(() => (data ? timeline(data, hours) : []), [data, hours]);
  const windowLabel = WINDOWS.find((w) => w.hours === hours)!.label.toLowerCase();

  return (
    <>
      <PageHeader title="Overview" lead="Which agents run, what they can reach, who runs them, whether the devices are healthy, and the proof.">
        <label>
          Period
          <select value={hours} onChange={(event) => setHours(Number(event.target.value))}>
            {WINDOWS.map((w) => (
              <option key={w.hours} value={w.hours}>
                {w.label}
              </option>
            ))}
          </select>
        </label>
      </PageHeader>
      <ErrorMessage error={error} what="load the overview" />
      {loading && !data && <p className="loading" role="status">Loading the overview…</p>}
      {data && data.devices.total === 0 && (
        <EmptyState title="No devices yet">
          On each developer machine run <code>writ install claude-code</code> then <code>writ enroll --server {window.location.origin}</code>. Devices appear here as soon as their
          daemon reports.
        </EmptyState>
      )}
      {data && (
        <div className="grid" style={{ gap: '1.25rem', marginTop: '1rem' }}>
          <section className="panel" aria-labelledby="maturity-heading">
            <h2 id="maturity-heading">
              Maturity: <span className="maturity">level {data.maturity.level}, {data.maturity.level_name}</span>
            </h2>
            {data.maturity.next ? (
              <>
                <p className="small">To reach level {data.maturity.next.level} ({data.maturity.next.level_name}):</p>
                <ul>
                  {data.maturity.next.missing.map((item) => (
                    <li key={item.id}>
                      {item.requirement}: <span className="small">{item.detail}</span>
                      {item.fix && (
                        <>
                          {' '}
                          Next: <code>{item.fix}</code>
                        </>
                      )}
                    </li>
                  ))}
                </ul>
              </>
            ) : (
              <p>Every requirement of every level is met.</p>
            )}
          </section>

          <section aria-label="Counts" className="grid cards">
            <Stat label="Devices" value={data.devices.total} detail={`${data.devices.reporting} reporting, guard off on ${data.devices.guard_off}`} link={href('fleet')} />
            <Stat label="People" value={data.people} />
            <Stat label="Agents" value={data.agents.total} detail={`${data.agents.governed} governed, ${data.agents.ungoverned} ungoverned`} link={href('agents')} />
            <Stat label="MCP servers" value={data.mcp_servers.total} detail={`${data.mcp_servers.approved} approved, ${data.mcp_servers.unapproved} unapproved`} link={href('agents')} />
            <Stat label={`Denials, ${windowLabel}`} value={data.denials} detail={`of ${data.decisions.toLocaleString()} decisions`} link={href('live', [], { decision: 'deny' })} />
            <Stat label="Pending approvals" value={data.pending_approvals} link={href('approvals')} />
          </section>

          <section className="panel" aria-labelledby="questions-heading">
            <h2 id="questions-heading">The six questions</h2>
            <ol className="questions">
              {data.maturity.questions.map((q) => {
                const mark = MARKS[q.answered];
                return (
                  <li key={q.id}>
                    <span className={mark.className} role="img" aria-label={mark.label} title={mark.label}>
                      {mark.symbol}
                    </span>
                    <div>
                      <div>{q.question}</div>
                      <div className="answer">{q.answer}</div>
                    </div>
                  </li>
                );
              })}
            </ol>
          </section>

          <div className="grid two">
            <section className="panel" aria-labelledby="decisions-heading">
              <h2 id="decisions-heading">Decisions over time</h2>
              {data.decisions === 0 ? (
                <EmptyState title={`No decisions in the ${windowLabel}`}>
                  Run <code>writ install claude-code</code> on a device and use Claude Code: each tool call it makes is decided and shown here.
                </EmptyState>
              ) : (
                <figure style={{ margin: 0 }} aria-label={`Decisions per ${hours > 24 * 7 ? 'day' : 'hour'}: ${data.decisions} in all, ${data.denials} denied`}>
                  <ResponsiveContainer width="100%" height={260}>
                    <BarChart data={chart} margin={{ top: 8, right: 8, bottom: 0, left: 0 }}>
                      <CartesianGrid strokeDasharray="3 3" vertical={false} />
                      <XAxis dataKey="label" tick={{ fontSize: 12, fill: '#4d5561' }} minTickGap={24} />
                      <YAxis allowDecimals={false} tick={{ fontSize: 12, fill: '#4d5561' }} width={48} />
                      <Tooltip />
                      {/* Legend text in the body colour: the series colours are for shapes, not all of them pass 4.5:1 as text. */}
                      <Legend formatter={(value) => <span style={{ color: '#1b1f24' }}>{value}</span>} />
                      {SERIES.map((series) => (
                        <Bar key={series.key} dataKey={series.key} name={series.name} stackId="decisions" fill={series.color} isAnimationActive={false} />
                      ))}
                    </BarChart>
                  </ResponsiveContainer>
                </figure>
              )}
            </section>

            <section className="panel" aria-labelledby="rules-heading">
              <h2 id="rules-heading">Top denied rules</h2>
              {data.top_denied_rules.length === 0 ? (
                <EmptyState title={`Nothing denied in the ${windowLabel}`}>See the rules in force on the Policy page.</EmptyState>
              ) : (
                <figure style={{ margin: 0 }} aria-label={`Top denied rules: ${data.top_denied_rules.map((r) => `${r.rule} ${r.denials}`).join(', ')}`}>
                  <ResponsiveContainer width="100%" height={Math.max(120, data.top_denied_rules.length * 30 + 40)}>
                    <BarChart data={data.top_denied_rules} layout="vertical" margin={{ top: 0, right: 16, bottom: 0, left: 0 }}>
                      <CartesianGrid strokeDasharray="3 3" horizontal={false} />
                      <XAxis type="number" allowDecimals={false} tick={{ fontSize: 12, fill: '#4d5561' }} />
                      <YAxis type="category" dataKey="rule" width={180} tick={{ fontSize: 12, fill: '#1b1f24' }} />
                      <Tooltip />
                      <Bar dataKey="denials" name="Denials" fill="#b42318" isAnimationActive={false} />
                    </BarChart>
                  </ResponsiveContainer>
                </figure>
              )}
            </section>
          </div>

          <p className="small">
            Log: {data.log.size.toLocaleString()} events{data.log.checkpoint_at ? `, last checkpoint ${new Date(data.log.checkpoint_at).toLocaleString()}` : ', no checkpoint yet'}. {data.sessions.toLocaleString()} sessions in the {windowLabel}. Counted in {data.query_ms} ms.
          </p>
        </div>
      )}
    </>
  );
}
