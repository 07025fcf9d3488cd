// Live activity: the latest events, then each new one as the server pushes it (GET /v1/stream/events), filtered on the
// server. A row opens the event with its signature status and its inclusion receipt.
import { useEffect, useRef, useState } from 'react';
import { api, withQuery } from '../api';
import { EmptyState } from '../components/EmptyState';
import { ErrorMessage } from '../components/ErrorMessage';
import { PageHeader } from '../components/PageHeader';
import { href, replaceParams, useRoute } from '../components/router';

/** One event as the list and the stream send it. */
export interface EventRow {
  index: number;
  device_id: string;
  person_id: string;
  seq: number;
  time: string;
  kind: string;
  session_id?: string;
  agent: { name: string; version?: string };
  decision?: string;
  rules: string[];
  tool?: string;
  call?: string;
  /** Sent by the list endpoint (/v1/events), not by the stream. */
  envelope?: { payload: string };
}

interface EventDetail {
  event: EventRow & { hash: string; received_at: string; policy_hash?: string };
  body?: { data: Record<string, unknown>; actor: { os_user: string; assurance: string } };
  signature: { valid: boolean; key_id: string; problem?: string; device_revoked_at?: string };
  receipt: { tlog_proof: string; org_key: string } | { pending: string };
}

const FILTERS = ['person', 'device', 'agent', 'session', 'decision', 'rule'] as const;
type Filter = Record<(typeof FILTERS)[number], string>;
const MAX_ROWS = 500;
const LATEST = 50;

export function DecisionTag({ decision }: { decision?: string }) {
  if (!decision) return <span className="small">—</span>;
  return <span className={`tag ${decision}`}>{decision}</span>;
}

export function Live() {
  const route = useRoute();
  const filter = Object.fromEntries(FILTERS.map((name) => [name, route.params.get(name) ?? ''])) as Filter;
  const [draft, setDraft] = useState<Filter>(filter);
  const [rows, setRows] = useState<EventRow[]>([]);
  const [connection, setConnection] = useState<'connecting' | 'live' | 'reconnecting'>('connecting');
  const [open, setOpen] = useState<EventRow>();
  const [loaded, setLoaded] = useState(false);
  const filterKey = FILTERS.map((name) => filter[name]).join('\u0000');

  useEffect(() => {
    // The server sends the latest matching events first, then each new one; rows are keyed by log index.
    const source = new EventSource(withQuery('/v1/stream/events', { ...filter, recent: LATEST }), { withCredentials: true });
    setConnection('connecting');
    setRows([]);
    setLoaded(false);
    source.onopen = () => setConnection('live');
    source.onerror = () => setConnection('reconnecting');
    source.addEventListener('events', (message) => {
      const arrived = JSON.parse((message as MessageEvent<string>).data) as EventRow[];
      setRows((current) => {
        const known = new Set(current.map((row) => row.index));
        return [...current, ...arrived.filter((row) => !known.has(row.index))].sort((a, b) => b.index - a.index).slice(0, MAX_ROWS);
      });
    });
    // The first message is the latest events; an empty log sends none, so "loaded" also follows the open.
    source.addEventListener('open', () => setLoaded(true));
    return () => source.close();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [filterKey]);

  const apply = (event: React.FormEvent) => {
    event.preventDefault();
    replaceParams(Object.fromEntries(FILTERS.map((name) => [name, draft[name].trim() || undefined])));
  };

  return (
    <>
      <PageHeader title="Live activity" lead="Tool calls and decisions as devices upload them. Open a row for its signature and inclusion receipt.">
        <p className="small" role="status" aria-live="polite">
          Stream: <span className={connection === 'live' ? 'ok' : 'warn'}>{connection}</span>
        </p>
      </PageHeader>
      <form className="filters" onSubmit={apply} aria-label="Filter events">
        {FILTERS.filter((name) => name !== 'decision').map((name) => (
          <label key={name}>
            {name[0].toUpperCase() + name.slice(1)}
            <input value={draft[name]} onChange={(event) => setDraft({ ...draft, [name]: event.target.value })} placeholder={name === 'person' ? 'per_…' : name === 'device' ? 'dev_…' : ''} />
          </label>
        ))}
        <label>
          Decision
          <select value={draft.decision} onChange={(event) => setDraft({ ...draft, decision: event.target.value })}>
            <option value="">any</option>
            <option value="allow">allow</option>
            <option value="deny">deny</option>
            <option value="ask">ask</option>
          </select>
        </label>
        <button type="submit" className="primary">
          Apply
        </button>
      </form>
      {rows.length === 0 && loaded ? (
        <EmptyState title="No events yet">
          Events appear here as they happen. On a developer machine run <code>writ install claude-code</code> then <code>writ enroll</code>, and start a Claude Code session.
        </EmptyState>
      ) : (
        <div className="table-wrap">
          <table aria-label="Events, newest first">
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Decision</th>
                <th scope="col">Event</th>
                <th scope="col">Rules</th>
                <th scope="col">Agent</th>
                <th scope="col">Device</th>
                <th scope="col">Session</th>
              </tr>
            </thead>
            <tbody aria-live="polite" aria-relevant="additions">
              {rows.map((row) => (
                <tr key={row.index} data-decision={row.decision ?? ''} className="clickable" onClick={() => setOpen(row)}>
                  <td className="small">{new Date(row.time).toLocaleTimeString()}</td>
                  <td>
                    <DecisionTag decision={row.decision} />
                  </td>
                  <td>
                    <button type="button" className="link" onClick={(event) => { event.stopPropagation(); setOpen(row); }} aria-label={`Open event ${row.seq} of ${row.device_id}: ${row.tool ?? row.kind}`}>
                      {row.tool ? <strong>{row.tool}</strong> : row.kind}
                    </button>
                    {row.call && <div className="small">{row.call}</div>}
                  </td>
                  <td className="small">{row.rules.join(', ')}</td>
                  <td className="small">
                    {row.agent.name} {row.agent.version}
                  </td>
                  <td className="small">{row.device_id}</td>
                  <td className="small">{row.session_id ? <a href={href('sessions', [row.session_id])} onClick={(event) => event.stopPropagation()}>{row.session_id.slice(0, 12)}</a> : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {open && <EventDialog row={open} onClose={() => setOpen(undefined)} />}
    </>
  );
}

/** The event's signed body, whether its signature verifies against the device key, and its receipt in the org log. */
export function EventDialog({ row, onClose }: { row: Pick<EventRow, 'device_id' | 'seq'>; onClose(): void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [detail, setDetail] = useState<EventDetail>();
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    dialog.current?.showModal();
    api<EventDetail>(`/v1/events/${encodeURIComponent(row.device_id)}/${row.seq}/detail`).then(setDetail, setError);
  }, [row.device_id, row.seq]);
  return (
    <dialog ref={dialog} className="panel dialog" aria-labelledby="event-title" onClose={onClose}>
      <h2 id="event-title">
        Event {row.seq} of {row.device_id}
      </h2>
      <ErrorMessage error={error} what="open the event" />
      {!detail && !error && <p role="status">Loading…</p>}
      {detail && (
        <>
          <dl className="facts">
            <dt>Kind</dt>
            <dd>{detail.event.kind}</dd>
            <dt>Time</dt>
            <dd>{detail.event.time}</dd>
            <dt>Decision</dt>
            <dd>
              <DecisionTag decision={detail.event.decision} /> {detail.event.rules.join(', ')}
            </dd>
            <dt>Signature</dt>
            <dd>
              {detail.signature.valid ? (
                <span className="ok">Valid: signed by the device key {detail.signature.key_id}</span>
              ) : (
                <span className="bad">Invalid: {detail.signature.problem}</span>
              )}
              {detail.signature.device_revoked_at && <span className="warn"> (device revoked at {detail.signature.device_revoked_at})</span>}
            </dd>
            <dt>Log index</dt>
            <dd>{detail.event.index}</dd>
            <dt>Inclusion receipt</dt>
            <dd>
              {'tlog_proof' in detail.receipt ? (
                <>
                  <span className="ok">Included under a signed checkpoint.</span> Verify it offline against the org key <code>{detail.receipt.org_key}</code>.
                  <pre className="proof" aria-label="Inclusion receipt (C2SP tlog-proof)">{detail.receipt.tlog_proof}</pre>
                </>
              ) : (
                <span className="warn">{detail.receipt.pending}</span>
              )}
            </dd>
          </dl>
          <details>
            <summary>Signed event body</summary>
            <pre>{JSON.stringify(detail.body, null, 2)}</pre>
          </details>
        </>
      )}
      <form method="dialog">
        <button type="submit" autoFocus>
          Close
        </button>
      </form>
    </dialog>
  );
}
