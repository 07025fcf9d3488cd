// Evidence: the latest signed checkpoint of the org log, its size, what devices report when they check it, and an
// evidence bundle for a chosen period, person, device or session that `writ verify` checks offline.
import { useState } from 'react';
import { withQuery } from '../api';
import { EmptyState } from '../components/EmptyState';
import { ErrorMessage } from '../components/ErrorMessage';
import { PageHeader } from '../components/PageHeader';
import { useApi } from '../components/useApi';
import { EventDialog } from './Live';

interface EvidenceState {
  log_size: number;
  origin: string;
  org_key: string;
  checkpoint?: { size: number; root: string; note: string; created_at: string };
  device_alarms: { total: number; recent: { device_id: string; seq: number; time: string; problem: string }[] };
}

export function Evidence() {
  const evidence = useApi<EvidenceState>('/v1/dashboard/evidence');
  const [period, setPeriod] = useState({ since: '', until: '', person: '', device: '', session: '' });
  const [open, setOpen] = useState<{ device_id: string; seq: number }>();
  const state = evidence.data;
  const iso = (local: string) => (local ? new Date(local).toISOString() : undefined);
  const download = withQuery('/v1/export', {
    format: 'bundle',
    since: iso(period.since),
    until: iso(period.until),
    person: period.person.trim(),
    device: period.device.trim(),
    session: period.session.trim(),
  });
  const field = (name: keyof typeof period, label: string, type = 'text', placeholder = '') => (
    <label>
      {label}
      <input type={type} value={period[name]} placeholder={placeholder} onChange={(event) => setPeriod({ ...period, [name]: event.target.value })} />
    </label>
  );

  return (
    <>
      <PageHeader title="Evidence" lead="The org log every event is in, as signed checkpoints, and bundles anyone can verify offline with writ verify." />
      <ErrorMessage error={evidence.error} what="load the log state" />
      {state && (
        <div className="grid two">
          <section className="panel" aria-labelledby="checkpoint">
            <h2 id="checkpoint">Latest signed checkpoint</h2>
            {state.checkpoint ? (
              <>
                <dl className="facts">
                  <dt>Log size</dt>
                  <dd>{state.log_size.toLocaleString()} entries</dd>
                  <dt>Checkpoint size</dt>
                  <dd>{state.checkpoint.size.toLocaleString()}</dd>
                  <dt>Signed at</dt>
                  <dd>{new Date(state.checkpoint.created_at).toLocaleString()}</dd>
                  <dt>Root</dt>
                  <dd>
                    <code>{state.checkpoint.root}</code>
                  </dd>
                  <dt>Org key</dt>
                  <dd>
                    <code>{state.org_key}</code>
                  </dd>
                </dl>
                <details>
                  <summary>The signed note</summary>
                  <pre>{state.checkpoint.note}</pre>
                </details>
              </>
            ) : state.log_size > 0 ? (
              <p role="status">
                {state.log_size.toLocaleString()} entries, not yet covered by a signed checkpoint; the server signs one within seconds (and for every bundle).
              </p>
            ) : (
              <EmptyState title="The log is empty">
                Events are logged as devices upload them. Run <code>writ install claude-code</code> then <code>writ enroll</code> on a developer machine.
              </EmptyState>
            )}
          </section>
          <section className="panel" aria-labelledby="consistency">
            <h2 id="consistency">Consistency as devices see it</h2>
            <p className="small">Every device checks each new checkpoint against the last one it verified, with a consistency proof, and checks its own events are included. A failure is a signed log.alarm event.</p>
            {state.device_alarms.total === 0 ? (
              <p className="ok">No device has reported a log alarm.</p>
            ) : (
              <>
                <p className="bad">
                  {state.device_alarms.total} log {state.device_alarms.total === 1 ? 'alarm' : 'alarms'} reported by devices.
                </p>
                <ul className="plain lines small">
                  {state.device_alarms.recent.map((alarm) => (
                    <li key={`${alarm.device_id} ${alarm.seq}`}>
                      {new Date(alarm.time).toLocaleString()} {alarm.device_id}: {alarm.problem}{' '}
                      <button type="button" className="link" onClick={() => setOpen({ device_id: alarm.device_id, seq: alarm.seq })}>
                        open
                      </button>
                    </li>
                  ))}
                </ul>
              </>
            )}
          </section>
        </div>
      )}
      <section className="panel" aria-labelledby="bundle" style={{ marginTop: '1.5rem' }}>
        <h2 id="bundle">Build an evidence bundle</h2>
        <p className="small">
          Leave everything empty for the whole log. The bundle holds the events, the devices' certificates, the policy and a signed checkpoint; check it with <code>writ verify FILE --org-key KEY</code>.
        </p>
        <div className="filters">
          {field('since', 'From', 'datetime-local')}
          {field('until', 'Until', 'datetime-local')}
          {field('person', 'Person', 'text', 'per_…')}
          {field('device', 'Device', 'text', 'dev_…')}
          {field('session', 'Session')}
        </div>
        <button type="button" className="primary" disabled={!state?.log_size} onClick={() => window.location.assign(download)}>
          Download evidence bundle
        </button>
      </section>
      {open && <EventDialog row={open} onClose={() => setOpen(undefined)} />}
    </>
  );
}
