// Sessions and run records: the sessions list (paged on the server), and per session what it was asked, what it
// read, changed, ran and called, what was denied and approved, every line linked to its signed event.
import { useState } from 'react';
import { api, type Page } from '../api';
import { useAuth } from '../auth';
import { EmptyState } from '../components/EmptyState';
import { ErrorMessage } from '../components/ErrorMessage';
import { PageHeader } from '../components/PageHeader';
import { Pager } from '../components/Pager';
import { href, replaceParams, useRoute } from '../components/router';
import { useApi } from '../components/useApi';
import { EventDialog } from './Live';

interface SessionSummary {
  sessionId: string;
  deviceId: string;
  personId: string;
  agentName: string;
  agentVersion?: string;
  firstTime: string;
  lastTime: string;
  events: number;
  denials: number;
}

interface EventRef {
  device: string;
  seq: number;
  hash: string;
}

interface RunRecord {
  session_id: string;
  status: string;
  started_at?: string;
  last_event_at?: string;
  events: number;
  request: { prompts: { text: string; ref: EventRef }[] };
  delegator?: { os_user: string; assurance: string; device_id: string };
  agent: { name?: string; versions: string[]; permission_modes: string[]; policy_hashes: string[] };
  files_inspected: { path: string; refs: EventRef[] }[];
  files_changed: { path: string; edits: number; lines_added: number; lines_removed: number; refs: EventRef[] }[];
  commits: { id: string; branch: string; ref: EventRef }[];
  tools: { name: string; calls: number }[];
  mcp_servers: { server: string; tools: string[]; calls: number }[];
  commands: { command: string; outcome: string; exit_code?: number; ref: EventRef }[];
  denials: { tool: string; target: string; rules: string[]; reason: string; ref: EventRef }[];
  approvals: { via: string; tool?: string; outcome: string; by?: string; ref: EventRef }[];
  tests: { command: string; framework: string; outcome: string; ref: EventRef }[];
  test_gaps: { path: string }[];
  claims?: { final_message: string };
  reviews: { decision: string; comment: string; reviewer: { subject: string; email?: string }; at: string }[];
}

const LIMIT = 50;

export function Sessions() {
  const route = useRoute();
  const session = route.rest[0];
  return session ? <RunRecordView session={session} /> : <SessionList />;
}

function SessionList() {
  const route = useRoute();
  const device = route.params.get('device') ?? '';
  const person = route.params.get('person') ?? '';
  const offset = Number(route.params.get('offset') ?? 0) || 0;
  const [draft, setDraft] = useState({ device, person });
  const sessions = useApi<Page<SessionSummary>>('/v1/sessions', { offset, limit: LIMIT, device, person });
  return (
    <>
      <PageHeader title="Sessions" lead="Each agent session, newest first. Open one for its run record: what it was asked, what it read, changed, ran and called." />
      <form
        className="filters"
        aria-label="Filter sessions"
        onSubmit={(event) => {
          event.preventDefault();
          replaceParams({ device: draft.device.trim() || undefined, person: draft.person.trim() || undefined });
        }}
      >
        <label>
          Device
          <input value={draft.device} onChange={(event) => setDraft({ ...draft, device: event.target.value })} placeholder="dev_…" />
        </label>
        <label>
          Person
          <input value={draft.person} onChange={(event) => setDraft({ ...draft, person: event.target.value })} placeholder="per_…" />
        </label>
        <button type="submit" className="primary">
          Apply
        </button>
      </form>
      <ErrorMessage error={sessions.error} what="load the sessions" />
      {sessions.data && sessions.data.total === 0 ? (
        <EmptyState title="No sessions yet">
          Run <code>writ install claude-code</code> then <code>writ enroll</code> on a developer machine, and start a Claude Code session there.
        </EmptyState>
      ) : (
        sessions.data && (
          <>
            <div className="table-wrap">
              <table aria-label="Sessions">
                <thead>
                  <tr>
                    <th scope="col">Session</th>
                    <th scope="col">Agent</th>
                    <th scope="col">Device</th>
                    <th scope="col">Person</th>
                    <th scope="col">Started</th>
                    <th scope="col">Last event</th>
                    <th scope="col">Events</th>
                    <th scope="col">Denials</th>
                  </tr>
                </thead>
                <tbody>
                  {sessions.data.items.map((item) => (
                    <tr key={item.sessionId}>
                      <th scope="row">
                        <a href={href('sessions', [item.sessionId])}>{item.sessionId.slice(0, 18)}</a>
                      </th>
                      <td>
                        {item.agentName} {item.agentVersion}
                      </td>
                      <td className="small">{item.deviceId}</td>
                      <td className="small">{item.personId}</td>
                      <td className="small">{new Date(item.firstTime).toLocaleString()}</td>
                      <td className="small">{new Date(item.lastTime).toLocaleString()}</td>
                      <td>{item.events}</td>
                      <td className={item.denials > 0 ? 'bad' : undefined}>{item.denials}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <Pager offset={offset} limit={LIMIT} total={sessions.data.total} onChange={(next) => replaceParams({ device: device || undefined, person: person || undefined, offset: String(next) })} label="Sessions" />
          </>
        )
      )}
    </>
  );
}

function Ref({ target, onOpen }: { target: EventRef; onOpen(ref: EventRef): void }) {
  return (
    <button type="button" className="link small" onClick={() => onOpen(target)} aria-label={`Open signed event ${target.seq} of ${target.device}`}>
      #{target.seq}
    </button>
  );
}

function RunRecordView({ session }: { session: string }) {
  const { isAdmin } = useAuth();
  const run = useApi<{ record: RunRecord }>(`/v1/runs/${encodeURIComponent(session)}`);
  const [open, setOpen] = useState<EventRef>();
  const record = run.data?.record;
  return (
    <>
      <PageHeader title={`Run record ${session.slice(0, 18)}`} lead="Every line links to the signed event it comes from.">
        <a className="button" href={href('sessions')}>
          All sessions
        </a>
        <a className="button" href={`/v1/export?format=bundle&session=${encodeURIComponent(session)}`} download>
          Evidence bundle
        </a>
      </PageHeader>
      <ErrorMessage error={run.error} what="load the run record" />
      {!record && run.loading && <p role="status">Loading…</p>}
      {record && (
        <div className="grid">
          <section className="panel" aria-labelledby="run-summary">
            <h2 id="run-summary">Summary</h2>
            <dl className="facts">
              <dt>Status</dt>
              <dd>{record.status}</dd>
              <dt>Agent</dt>
              <dd>
                {record.agent.name} {record.agent.versions.join(', ')} ({record.agent.permission_modes.join(', ') || 'mode unknown'})
              </dd>
              <dt>By</dt>
              <dd>{record.delegator ? `${record.delegator.os_user} on ${record.delegator.device_id} (${record.delegator.assurance})` : '—'}</dd>
              <dt>Time</dt>
              <dd>
                {record.started_at} – {record.last_event_at}
              </dd>
              <dt>Events</dt>
              <dd>{record.events}</dd>
            </dl>
          </section>
          <Section title="Asked" empty="No prompt was recorded." items={record.request.prompts} render={(prompt) => (<>{prompt.text} <Ref target={prompt.ref} onOpen={setOpen} /></>)} />
          <Section title="Read" empty="No files were read." items={record.files_inspected} render={(file) => (<><code>{file.path}</code> {file.refs.slice(0, 3).map((ref) => <Ref key={ref.seq} target={ref} onOpen={setOpen} />)}</>)} />
          <Section title="Changed" empty="No files were changed." items={record.files_changed} render={(file) => (<><code>{file.path}</code> <span className="small">{file.edits} edits, +{file.lines_added} −{file.lines_removed}</span> {file.refs.slice(0, 3).map((ref) => <Ref key={ref.seq} target={ref} onOpen={setOpen} />)}</>)} />
          <Section title="Ran" empty="No commands were run." items={record.commands} render={(command) => (<><code>{command.command}</code> <span className={command.outcome === 'succeeded' ? 'ok' : command.outcome === 'no-result' ? 'small' : 'bad'}>{command.outcome}{command.exit_code !== undefined && ` (exit ${command.exit_code})`}</span> <Ref target={command.ref} onOpen={setOpen} /></>)} />
          <Section title="Tools and MCP servers called" empty="No tools were called." items={[...record.tools.map((tool) => `${tool.name}: ${tool.calls}`), ...record.mcp_servers.map((server) => `MCP ${server.server}: ${server.calls} calls (${server.tools.join(', ')})`)]} render={(line) => <>{line}</>} />
          <Section title="Denied" empty="Nothing was denied." items={record.denials} render={(denial) => (<><span className="bad">{denial.tool}</span> <code>{denial.target}</code> — {denial.reason} <span className="small">({denial.rules.join(', ')})</span> <Ref target={denial.ref} onOpen={setOpen} /></>)} />
          <Section title="Approvals" empty="No approvals were asked for." items={record.approvals} render={(approval) => (<>{approval.tool ?? 'call'}: <span className={approval.outcome === 'granted' ? 'ok' : approval.outcome === 'denied' ? 'bad' : 'warn'}>{approval.outcome}</span>{approval.by && ` by ${approval.by}`} ({approval.via}) <Ref target={approval.ref} onOpen={setOpen} /></>)} />
          <Section title="Tests" empty="No tests were run." items={record.tests} render={(test) => (<><code>{test.command}</code> {test.framework}: <span className={test.outcome === 'succeeded' ? 'ok' : 'bad'}>{test.outcome}</span> <Ref target={test.ref} onOpen={setOpen} /></>)} />
          <Section title="Commits" empty="No commits." items={record.commits} render={(commit) => (<><code>{commit.id.slice(0, 12)}</code> on {commit.branch} <Ref target={commit.ref} onOpen={setOpen} /></>)} />
          {record.claims && (
            <section className="panel" aria-labelledby="run-claims">
              <h2 id="run-claims">The agent's own summary (a claim, not evidence)</h2>
              <p>{record.claims.final_message}</p>
            </section>
          )}
          <Section title="Reviews" empty="Not reviewed yet." items={record.reviews} render={(review) => (<><strong>{review.decision}</strong> by {review.reviewer.email ?? review.reviewer.subject} at {review.at}{review.comment && `: ${review.comment}`}</>)} />
          {isAdmin && <ReviewForm session={session} onDone={run.reload} />}
        </div>
      )}
      {open && <EventDialog row={{ device_id: open.device, seq: open.seq }} onClose={() => setOpen(undefined)} />}
    </>
  );
}

function Section<T>({ title, items, empty, render }: { title: string; items: T[]; empty: string; render(item: T): React.ReactNode }) {
  const id = `run-${title.toLowerCase().replace(/[^a-z]+/g, '-')}`;
  return (
    <section className="panel" aria-labelledby={id}>
      <h2 id={id}>
        {title} <span className="small">({items.length})</span>
      </h2>
      {items.length === 0 ? (
        <p className="small">{empty}</p>
      ) : (
        <ul className="plain lines">
          {items.slice(0, 200).map((item, position) => (
            <li key={position}>{render(item)}</li>
          ))}
          {items.length > 200 && <li className="small">and {items.length - 200} more (in the evidence bundle)</li>}
        </ul>
      )}
    </section>
  );
}

function ReviewForm({ session, onDone }: { session: string; onDone(): void }) {
  const [decision, setDecision] = useState('accept');
  const [comment, setComment] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  return (
    <section className="panel" aria-labelledby="run-review">
      <h2 id="run-review">Record your review</h2>
      <form
        className="stack"
        onSubmit={(event) => {
          event.preventDefault();
          setBusy(true);
          setError(undefined);
          api(`/v1/runs/${encodeURIComponent(session)}/review`, { method: 'POST', body: { decision, comment } })
            .then(() => {
              setComment('');
              onDone();
            }, setError)
            .finally(() => setBusy(false));
        }}
      >
        <label>
          Decision
          <select value={decision} onChange={(event) => setDecision(event.target.value)}>
            <option value="accept">accept</option>
            <option value="needs-changes">needs changes</option>
            <option value="reject">reject</option>
          </select>
        </label>
        <label>
          Comment
          <textarea value={comment} onChange={(event) => setComment(event.target.value)} rows={3} />
        </label>
        <ErrorMessage error={error} what="record the review" />
        <div>
          <button type="submit" className="primary" disabled={busy}>
            Sign and record review
          </button>
        </div>
      </form>
    </section>
  );
}
