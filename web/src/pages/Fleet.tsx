// Every device with its person, OS, posture (each check and when it was checked), agents and versions, and the
// guard's health. Search and filters go to /v1/inventory/devices, which pages on the server; filters live in the URL.
import { useEffect, useState } from 'react';
import { EmptyState } from '../components/EmptyState';
import { ErrorMessage } from '../components/ErrorMessage';
import { PageHeader } from '../components/PageHeader';
import { Pager } from '../components/Pager';
import { replaceParams, useRoute } from '../components/router';
import { useApi } from '../components/useApi';
import type { Page } from '../api';

interface DeviceRow {
  device_id: string;
  person_id: string;
  person_email: string | null;
  hostname?: string;
  os?: string;
  collected_at?: string;
  agents: { id: string; name: string; version?: string; governance: string; running: boolean }[];
  mcp_servers: { name: string; approval: string }[];
  posture: { name: string; status: 'pass' | 'fail' | 'unknown'; value?: unknown; checked_at?: string }[];
  guard: { agents: { agent: string; hooks_installed: boolean }[]; heartbeat_at?: string; policy_hash?: string; self_test?: { passed: boolean; at?: string; detail?: string } };
}

const PAGE_SIZE = 50;
const POSTURE_CHECKS = ['disk_encrypted', 'firewall', 'endpoint_protection', 'screen_lock', 'os_version', 'patch_age'];
const GUARD_FILTERS = [
  { value: '', label: 'Any' },
  { value: 'off', label: 'Hooks off' },
  { value: 'self_test_failed', label: 'Self-test failed' },
  { value: 'stale:60', label: 'No heartbeat for 1 hour' },
  { value: 'stale:1440', label: 'No heartbeat for 24 hours' },
  { value: 'off,self_test_failed,stale:60', label: 'Any guard problem' },
];
const FILTER_KEYS = ['q', 'person', 'agent', 'version_lt', 'guard', 'posture', 'approval'] as const;
type Filters = Record<(typeof FILTER_KEYS)[number], string>;

const STALE_MS = 24 * 3600 * 1000;

function ago(time?: string): string {
  if (!time) return 'never';
  const minutes = Math.round((Date.now() - Date.parse(time)) / 60_000);
  if (minutes < 1) return 'just now';
  if (minutes < 60) return `${minutes} min ago`;
  if (minutes < 48 * 60) return `${Math.round(minutes / 60)} h ago`;
  return `${Math.round(minutes / 1440)} days ago`;
}

const STATUS_CLASS = { pass: 'ok', fail: 'bad', unknown: 'unknown' } as const;

function Posture({ checks }: { checks: DeviceRow['posture'] }) {
  if (checks.length === 0) return <span className="unknown">not collected</span>;
  return (
    <ul className="plain">
      {checks.map((check) => (
        <li key={check.name}>
          <span className={STATUS_CLASS[check.status]}>
            {check.name.replace(/_/g, ' ')}: {check.status}
          </span>{' '}
          <span className="small" title={check.checked_at}>
            ({ago(check.checked_at)})
          </span>
        </li>
      ))}
    </ul>
  );
}

function Guard({ guard }: { guard: DeviceRow['guard'] }) {
  const off = guard.agents.filter((a) => !a.hooks_installed);
  const stale = !guard.heartbeat_at || Date.now() - Date.parse(guard.heartbeat_at) > STALE_MS;
  return (
    <ul className="plain">
      <li className={guard.agents.length === 0 ? 'unknown' : off.length ? 'bad' : 'ok'}>
        {guard.agents.length === 0 ? 'guard: not reported' : off.length ? `hooks off: ${off.map((a) => a.agent).join(', ')}` : 'guard on'}
      </li>
      <li className={stale ? 'warn' : undefined}>
        heartbeat <span title={guard.heartbeat_at}>{ago(guard.heartbeat_at)}</span>
      </li>
      <li className={!guard.self_test ? 'unknown' : guard.self_test.passed ? 'ok' : 'bad'} title={guard.self_test?.detail}>
        self-test {!guard.self_test ? 'not run' : guard.self_test.passed ? 'passed' : 'failed'}
        {guard.self_test?.at && <span className="small"> ({ago(guard.self_test.at)})</span>}
      </li>
    </ul>
  );
}

export function Fleet() {
  const { params } = useRoute();
  const filters = Object.fromEntries(FILTER_KEYS.map((key) => [key, params.get(key) ?? ''])) as Filters;
  const offset = Number(params.get('offset') ?? 0) || 0;
  // The search box answers as you type, but asks the server only once typing pauses.
  const [search, setSearch] = useState(filters.q);
  useEffect(() => {
    const timer = setTimeout(() => search !== filters.q && update({ q: search }), 300);
    return () => clearTimeout(timer);
  });
  const update = (changes: Partial<Filters> & { offset?: string }) => replaceParams({ ...filters, offset: undefined, ...changes });
  const { data, error, loading } = useApi<Page<DeviceRow>>('/v1/inventory/devices', { ...filters, offset, limit: PAGE_SIZE });
  const [postureCheck, postureStatus] = filters.posture ? filters.posture.split('=') : ['', ''];
  const filtered = FILTER_KEYS.some((key) => filters[key]);

  return (
    <>
      <PageHeader title="Fleet" lead="Every device: who uses it, its posture, its agents and whether Writ's guard is on." />
      <form className="filters" role="search" aria-label="Filter devices" onSubmit={(event) => event.preventDefault()}>
        <label>
          Search
          <input type="search" value={search} onChange={(event) => setSearch(event.target.value)} placeholder="hostname, device id or email" maxLength={200} />
        </label>
        <label>
          Agent
          <select value={filters.agent} onChange={(event) => update({ agent: event.target.value })}>
            <option value="">Any</option>
            <option value="claude-code">Claude Code</option>
            <option value="codex-cli">Codex</option>
            <option value="gemini-cli">Gemini CLI</option>
            <option value="copilot-cli">Copilot CLI</option>
            <option value="cursor">Cursor</option>
          </select>
        </label>
        <label>
          Agent older than
          <input value={filters.version_lt} onChange={(event) => update({ version_lt: event.target.value.trim() })} placeholder="e.g. 2.1.0" size={9} pattern="[0-9A-Za-z.+-]*" />
        </label>
        <label>
          Guard
          <select value={filters.guard} onChange={(event) => update({ guard: event.target.value })}>
            {GUARD_FILTERS.map((option) => (
              <option key={option.value} value={option.value}>
                {option.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Posture check
          <select value={postureCheck} onChange={(event) => update({ posture: event.target.value ? `${event.target.value}=${postureStatus || 'fail'}` : '' })}>
            <option value="">Any</option>
            {POSTURE_CHECKS.map((check) => (
              <option key={check} value={check}>
                {check.replace(/_/g, ' ')}
              </option>
            ))}
          </select>
        </label>
        <label>
          Posture status
          <select value={postureStatus} disabled={!postureCheck} onChange={(event) => update({ posture: `${postureCheck}=${event.target.value}` })}>
            <option value="fail">failing</option>
            <option value="unknown">unknown</option>
            <option value="fail|unknown">failing or unknown</option>
            <option value="pass">passing</option>
          </select>
        </label>
        <label>
          MCP servers
          <select value={filters.approval} onChange={(event) => update({ approval: event.target.value })}>
            <option value="">Any</option>
            <option value="unapproved">has an unapproved one</option>
            <option value="denied">has a denied one</option>
          </select>
        </label>
        {filtered && (
          <button
            type="button"
            onClick={() => {
              setSearch('');
              replaceParams({});
            }}
          >
            Clear filters
          </button>
        )}
      </form>
      <ErrorMessage error={error} what="load the devices" />
      {data && data.total === 0 && !filtered && (
        <EmptyState title="No devices yet">
          Run <code>writ install claude-code</code> then <code>writ enroll --server {window.location.origin}</code> on a developer machine; it appears here when its daemon
          reports its inventory.
        </EmptyState>
      )}
      {data && data.total === 0 && filtered && <EmptyState title="No device matches these filters">Change or clear the filters.</EmptyState>}
      {data && data.total > 0 && (
        <>
          <p className="small" aria-live="polite">
            {data.total.toLocaleString()} devices{filtered ? ' match' : ''}
            {loading ? '; updating…' : ''}
          </p>
          <div className="table-wrap">
            <table>
              <caption className="small" style={{ textAlign: 'left', padding: '0.5rem 0.6rem' }}>
                Devices by id; times are when each fact was last reported.
              </caption>
              <thead>
                <tr>
                  <th scope="col">Device</th>
                  <th scope="col">Person</th>
                  <th scope="col">Posture</th>
                  <th scope="col">Agents</th>
                  <th scope="col">Enforcement</th>
                </tr>
              </thead>
              <tbody>
                {data.items.map((device) => (
                  <tr key={device.device_id}>
                    <th scope="row" style={{ fontWeight: 'normal' }}>
                      <div>{device.hostname ?? 'unnamed host'}</div>
                      <div className="small">{device.os ?? 'OS unknown'}</div>
                      <div className="small">
                        <code title={device.device_id}>{device.device_id.slice(0, 16)}…</code>
                      </div>
                    </th>
                    <td>
                      <button type="button" className="link" onClick={() => update({ person: device.person_email ?? device.person_id })} title="Show only this person's devices">
                        {device.person_email ?? device.person_id}
                      </button>
                    </td>
                    <td>
                      <Posture checks={device.posture} />
                    </td>
                    <td>
                      {device.agents.length === 0 ? (
                        <span className="unknown">none found</span>
                      ) : (
                        <ul className="plain">
                          {device.agents.map((agent) => (
                            <li key={`${agent.id}@${agent.version}`}>
                              {agent.name} {agent.version ?? <span className="unknown">(version unknown)</span>}{' '}
                              <span className={agent.governance === 'governed' ? 'ok' : agent.governance === 'ungoverned' ? 'bad' : 'unknown'}>{agent.governance}</span>
                            </li>
                          ))}
                        </ul>
                      )}
                      {device.mcp_servers.length > 0 && (
                        <div className="small">
                          MCP: {device.mcp_servers.length} ({device.mcp_servers.filter((s) => s.approval !== 'approved').length} not approved)
                        </div>
                      )}
                    </td>
                    <td>
                      <Guard guard={device.guard} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pager offset={offset} limit={PAGE_SIZE} total={data.total} onChange={(next) => update({ offset: String(next) })} label="Devices" />
        </>
      )}
    </>
  );
}
