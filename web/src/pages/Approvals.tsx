// Approvals: the calls waiting for a named reviewer, each with its exact arguments and the session it came from;
// the signed-in reviewer approves or denies with a reason, and the org-signed decision names them.
import { useEffect, useState } from 'react';
import { api } from '../api';
import { useAuth } from '../auth';
import { EmptyState } from '../components/EmptyState';
import { ErrorMessage } from '../components/ErrorMessage';
import { PageHeader } from '../components/PageHeader';
import { href, replaceParams, useRoute } from '../components/router';
import { useApi } from '../components/useApi';
import { DecisionTag, type EventRow } from './Live';

interface Approval {
  id: string;
  status: 'pending' | 'approved' | 'denied' | 'expired';
  device_id: string;
  person_id: string;
  session_id?: string;
  tool: string;
  summary: Record<string, unknown>;
  rules: string[];
  reviewers: string;
  reason: string;
  created_at: string;
  expires_at: string;
  decided_at?: string;
  decided_by?: string;
  comment?: string;
}

const STATUSES = ['pending', 'approved', 'denied', 'expired'] as const;
const REFRESH_MS = 3000;

export function Approvals() {
  const route = useRoute();
  const status = route.params.get('status') ?? 'pending';
  const approvals = useApi<{ items: Approval[] }>('/v1/approvals', { status, limit: 100 });
  // A device holds its call open while it waits, so new asks are looked for every few seconds.
  const { reload } = approvals;
  useEffect(() => {
    const timer = setInterval(reload, REFRESH_MS);
    return () => clearInterval(timer);
  }, [reload]);
  return (
    <>
      <PageHeader title="Approvals" lead="Calls a rule sent to a named reviewer. Approving lets that exact call run once it is retried; the decision is signed and names you." />
      <div className="filters">
        <label>
          Status
          <select value={status} onChange={(event) => replaceParams({ status: event.target.value })}>
            {STATUSES.map((value) => (
              <option key={value} value={value}>
                {value}
              </option>
            ))}
          </select>
        </label>
        <button type="button" onClick={approvals.reload}>
          Refresh
        </button>
      </div>
      <ErrorMessage error={approvals.error} what="load the approvals" />
      {approvals.data && approvals.data.items.length === 0 ? (
        <EmptyState title={status === 'pending' ? 'Nothing is waiting for a reviewer' : `No ${status} approvals`}>
          Calls arrive here when a rule asks for a reviewer, for example <code>@reviewers("security")</code> on an ask rule. See <code>writ policy explain</code>.
        </EmptyState>
      ) : (
        <ul className="plain grid" aria-label={`${status} approvals`}>
          {approvals.data?.items.map((approval) => (
            <li key={approval.id}>
              <ApprovalCard approval={approval} onDecided={approvals.reload} />
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

/** The tool and its input, read from the event's signed payload, as one line. */
function callOf(event: EventRow): string {
  try {
    const data = (JSON.parse(atob(event.envelope?.payload ?? '')) as { data?: { tool?: unknown; tool_input?: unknown } }).data;
    return typeof data?.tool === 'string' ? `${data.tool} ${JSON.stringify(data.tool_input ?? {}).slice(0, 160)}` : event.kind;
  } catch {
    return event.kind;
  }
}

function ApprovalCard({ approval, onDecided }: { approval: Approval; onDecided(): void }) {
  const { isAdmin, me } = useAuth();
  const [comment, setComment] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const context = useApi<{ items: EventRow[] }>(approval.session_id ? '/v1/events' : undefined, { session: approval.session_id, order: 'desc', limit: 8, kind: 'hook.PreToolUse' });
  const decide = (verdict: 'approve' | 'deny') => {
    setBusy(true);
    setError(undefined);
    api(`/v1/approvals/${approval.id}/${verdict}`, { method: 'POST', body: comment ? { comment } : {} })
      .then(onDecided, setError)
      .finally(() => setBusy(false));
  };
  const titleId = `approval-${approval.id}`;
  return (
    <article className="panel" aria-labelledby={titleId}>
      <h2 id={titleId}>
        {approval.tool} <span className={`tag ${approval.status === 'approved' ? 'ok' : approval.status === 'pending' ? 'warn' : 'bad'}`}>{approval.status}</span>
      </h2>
      <p>{approval.reason}</p>
      <dl className="facts">
        <dt>Rules</dt>
        <dd>{approval.rules.join(', ')}</dd>
        <dt>Reviewers</dt>
        <dd>{approval.reviewers}</dd>
        <dt>Device</dt>
        <dd>{approval.device_id}</dd>
        <dt>Person</dt>
        <dd>{approval.person_id}</dd>
        <dt>Session</dt>
        <dd>{approval.session_id ? <a href={href('sessions', [approval.session_id])}>{approval.session_id}</a> : '—'}</dd>
        <dt>Asked</dt>
        <dd>
          {new Date(approval.created_at).toLocaleString()}, expires {new Date(approval.expires_at).toLocaleString()}
        </dd>
        {approval.decided_by && (
          <>
            <dt>Decided</dt>
            <dd>
              by {approval.decided_by} at {approval.decided_at}
              {approval.comment && `: ${approval.comment}`}
            </dd>
          </>
        )}
      </dl>
      <h3 className="small">Exact arguments</h3>
      <pre aria-label="The exact arguments of the call">{JSON.stringify(approval.summary, null, 2)}</pre>
      {approval.session_id && (
        <details>
          <summary>Session context: the latest calls of this session</summary>
          <ErrorMessage error={context.error} what="load the session" />
          <ul className="plain lines small">
            {context.data?.items.map((event) => (
              <li key={event.index}>
                {new Date(event.time).toLocaleTimeString()} <DecisionTag decision={event.decision} /> {callOf(event)} <span className="small">{event.rules.join(', ')}</span>
              </li>
            ))}
          </ul>
        </details>
      )}
      {approval.status === 'pending' &&
        (isAdmin ? (
          <form className="stack" onSubmit={(event) => event.preventDefault()} aria-label={`Decide ${approval.tool}`}>
            <label>
              Reason (recorded with your decision as {me?.name})
              <textarea value={comment} onChange={(event) => setComment(event.target.value)} rows={2} maxLength={2000} />
            </label>
            <ErrorMessage error={error} what="record the decision" />
            <div className="page-actions">
              <button type="button" className="primary" disabled={busy} onClick={() => decide('approve')}>
                Approve
              </button>
              <button type="button" className="danger" disabled={busy} onClick={() => decide('deny')}>
                Deny
              </button>
            </div>
          </form>
        ) : (
          <p className="small">Auditors can read approvals but not decide them.</p>
        ))}
    </article>
  );
}
