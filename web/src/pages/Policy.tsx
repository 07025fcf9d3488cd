// Policy: the signed bundle in force with its hash, rule by rule (effect, monitor or enforce, reason); a candidate
// edited here is replayed against recorded decisions on the server, and admins publish it.
import { useEffect, useState } from 'react';
import { api } from '../api';
import { useAuth } from '../auth';
import { EmptyState } from '../components/EmptyState';
import { ErrorMessage } from '../components/ErrorMessage';
import { PageHeader } from '../components/PageHeader';
import { Pager } from '../components/Pager';
import { useApi } from '../components/useApi';

interface PolicyFile {
  name: string;
  text: string;
}

interface ActivePolicy {
  active: null | {
    hash: string;
    published_by: string;
    published_at: string;
    comment?: string;
    files: PolicyFile[];
    rules: { id: string; file: string; line: number; effect: 'allow' | 'deny' | 'ask'; mode: 'enforce' | 'monitor'; reason: string; reviewers?: string }[];
    findings: { severity: string; file: string; line: number; rule?: string; message: string }[];
  };
}

interface Verdict {
  decision: string;
  rules: string[];
}

interface ReplayAnswer {
  policy_hash: string;
  since: string;
  truncated: boolean;
  replayed: number;
  unchanged: number;
  changed_by: Record<string, number>;
  total_changes: number;
  changes: { time: string; session: string; tool: string; call: string; before: Verdict; after: Verdict; direction: string }[];
  unreplayable: number;
}

const LIMIT = 50;
const effectClass = { allow: 'allow', deny: 'deny', ask: 'ask' } as const;

export function Policy() {
  const { isAdmin } = useAuth();
  const policy = useApi<ActivePolicy>('/v1/dashboard/policy');
  const active = policy.data?.active;
  const [candidate, setCandidate] = useState<PolicyFile[]>([]);
  const [since, setSince] = useState('');
  const [offset, setOffset] = useState(0);
  const [replay, setReplay] = useState<ReplayAnswer>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState<string>();
  const [published, setPublished] = useState<string>();

  useEffect(() => {
    if (active) setCandidate(active.files);
  }, [active]);

  const runReplay = (at: number) => {
    setBusy('replay');
    setError(undefined);
    setOffset(at);
    api<ReplayAnswer>('/v1/dashboard/policy/replay', { method: 'POST', body: { files: candidate, offset: at, limit: LIMIT, ...(since && { since: new Date(since).toISOString() }) } })
      .then(setReplay, setError)
      .finally(() => setBusy(undefined));
  };
  const publish = () => {
    if (!window.confirm('Publish this policy to every device?')) return;
    setBusy('publish');
    setError(undefined);
    api<{ hash: string }>('/v1/policy/bundles', { method: 'POST', body: { files: candidate } })
      .then((answer) => {
        setPublished(answer.hash);
        policy.reload();
      }, setError)
      .finally(() => setBusy(undefined));
  };
  const addFiles = async (list: FileList | null) => {
    if (!list) return;
    const added = await Promise.all([...list].map(async (file) => ({ name: file.name, text: await file.text() })));
    setCandidate((current) => [...current.filter((file) => !added.some((other) => other.name === file.name)), ...added]);
  };

  return (
    <>
      <PageHeader title="Policy" lead="The signed policy every device enforces, rule by rule. Try a change against recorded decisions before publishing it." />
      <ErrorMessage error={policy.error} what="load the policy" />
      {policy.data && !active && (
        <EmptyState title="No policy bundle is published">
          Devices enforce their local standard policy. Publish one with <code>writ policy publish --policy DIR</code>, or upload files below.
        </EmptyState>
      )}
      {active && (
        <section className="panel" aria-labelledby="in-force">
          <h2 id="in-force">In force</h2>
          <dl className="facts">
            <dt>Hash</dt>
            <dd>
              <code>{active.hash}</code>
            </dd>
            <dt>Published</dt>
            <dd>
              by {active.published_by} at {new Date(active.published_at).toLocaleString()}
              {active.comment && ` — ${active.comment}`}
            </dd>
            <dt>Rules</dt>
            <dd>
              {active.rules.length} ({active.rules.filter((rule) => rule.mode === 'monitor').length} in monitor mode)
            </dd>
          </dl>
          <div className="table-wrap">
            <table aria-label="Rules in force">
              <thead>
                <tr>
                  <th scope="col">Rule</th>
                  <th scope="col">Effect</th>
                  <th scope="col">Mode</th>
                  <th scope="col">Reason</th>
                  <th scope="col">Where</th>
                </tr>
              </thead>
              <tbody>
                {active.rules.map((rule) => (
                  <tr key={rule.id}>
                    <th scope="row">
                      <code>{rule.id}</code>
                    </th>
                    <td>
                      <span className={`tag ${effectClass[rule.effect]}`}>{rule.effect}</span>
                      {rule.reviewers && <div className="small">reviewers: {rule.reviewers}</div>}
                    </td>
                    <td>{rule.mode === 'monitor' ? <span className="tag warn">monitor</span> : 'enforce'}</td>
                    <td>{rule.reason}</td>
                    <td className="small">
                      {rule.file}:{rule.line}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {active.findings.length > 0 && (
            <details>
              <summary>Lint findings ({active.findings.length})</summary>
              <ul className="plain lines small">
                {active.findings.map((finding, position) => (
                  <li key={position}>
                    {finding.severity} {finding.file}:{finding.line} {finding.rule && <code>{finding.rule}</code>} {finding.message}
                  </li>
                ))}
              </ul>
            </details>
          )}
        </section>
      )}

      <section className="panel" aria-labelledby="candidate" style={{ marginTop: '1.5rem' }}>
        <h2 id="candidate">Candidate</h2>
        <p className="small">Edit the files in force or add .cedar files and a settings.json. Replay decides the recorded calls again with the candidate and lists what would change.</p>
        <div className="filters">
          <label>
            Add files
            <input type="file" multiple accept=".cedar,.json" onChange={(event) => void addFiles(event.target.files)} />
          </label>
          <label>
            Replay calls since
            <input type="datetime-local" value={since} onChange={(event) => setSince(event.target.value)} />
          </label>
        </div>
        {candidate.map((file, position) => (
          <details key={file.name}>
            <summary>
              {file.name}{' '}
              <button type="button" className="link small" onClick={() => setCandidate(candidate.filter((_, other) => other !== position))} aria-label={`Remove ${file.name} from the candidate`}>
                remove
              </button>
            </summary>
            <label htmlFor={`candidate-${position}`}>Text of {file.name}</label>
            <textarea
                id={`candidate-${position}`}
                className="code"
                rows={14}
                value={file.text}
                spellCheck={false}
                onChange={(event) => setCandidate(candidate.map((other, index) => (index === position ? { ...other, text: event.target.value } : other)))}
              />
          </details>
        ))}
        <div className="page-actions" style={{ marginTop: '0.75rem' }}>
          <button type="button" className="primary" disabled={candidate.length === 0 || busy !== undefined} onClick={() => runReplay(0)}>
            {busy === 'replay' ? 'Replaying…' : 'Replay against recorded decisions'}
          </button>
          {isAdmin ? (
            <button type="button" disabled={candidate.length === 0 || busy !== undefined} onClick={publish}>
              Publish to every device
            </button>
          ) : (
            <span className="small">Auditors cannot publish.</span>
          )}
        </div>
        <ErrorMessage error={error} />
        {published && (
          <p className="notice ok" role="status">
            Published <code>{published}</code>; connected devices take it in force now.
          </p>
        )}
        {replay && (
          <div aria-live="polite">
            <h3>Replay of {replay.policy_hash.slice(0, 19)}… since {new Date(replay.since).toLocaleString()}</h3>
            <p>
              {replay.replayed} calls replayed: {replay.unchanged} unchanged, {replay.total_changes} would change
              {Object.keys(replay.changed_by).length > 0 && ` (${Object.entries(replay.changed_by).map(([direction, count]) => `${direction} ${count}`).join(', ')})`}, {replay.unreplayable} could not be replayed faithfully.
              {replay.truncated && ' Only the first 50,000 events were read: choose a later start.'}
            </p>
            {replay.changes.length > 0 && (
              <>
                <div className="table-wrap">
                  <table aria-label="Decisions that would change">
                    <thead>
                      <tr>
                        <th scope="col">Time</th>
                        <th scope="col">Change</th>
                        <th scope="col">Call</th>
                        <th scope="col">Before</th>
                        <th scope="col">After</th>
                        <th scope="col">Session</th>
                      </tr>
                    </thead>
                    <tbody>
                      {replay.changes.map((change, position) => (
                        <tr key={position}>
                          <td className="small">{new Date(change.time).toLocaleString()}</td>
                          <th scope="row">{change.direction}</th>
                          <td>
                            <strong>{change.tool}</strong> <span className="small">{change.call}</span>
                          </td>
                          <td>
                            <span className={`tag ${change.before.decision}`}>{change.before.decision}</span> <span className="small">{change.before.rules.join(', ')}</span>
                          </td>
                          <td>
                            <span className={`tag ${change.after.decision}`}>{change.after.decision}</span> <span className="small">{change.after.rules.join(', ')}</span>
                          </td>
                          <td className="small">{change.session.slice(0, 12)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
                <Pager offset={offset} limit={LIMIT} total={replay.total_changes} onChange={runReplay} label="Changes" />
              </>
            )}
          </div>
        )}
      </section>
    </>
  );
}
