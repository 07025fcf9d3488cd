// Agents and the MCP register: every agent version and every MCP server across the fleet, with the register's owner,
// purpose and access from the policy in force; admins approve (pin the fingerprint), reject or kill a server here.
import { useEffect, useRef, useState } from 'react';
import { api, type Page } from '../api';
import { useAuth } from '../auth';
import { EmptyState } from '../components/EmptyState';
import { ErrorMessage } from '../components/ErrorMessage';
import { PageHeader } from '../components/PageHeader';
import { Pager } from '../components/Pager';
import { useApi } from '../components/useApi';

interface RegisterEntry {
  trust: 'internal' | 'external';
  fingerprint?: string;
  owner?: string;
  purpose?: string;
  access?: 'read-only' | 'write';
}

interface McpServerRow {
  name: string;
  fingerprint: string;
  devices: number;
  approved: number;
  unapproved: number;
  denied: number;
  register?: RegisterEntry;
  killed: boolean;
}

interface McpRegister {
  total: number;
  policy_hash?: string;
  items: McpServerRow[];
  registered_only: { name: string; register: RegisterEntry }[];
}

interface AgentRow {
  id: string;
  name: string;
  version?: string;
  devices: number;
  governed: number;
  ungoverned: number;
  unknown: number;
}

interface DeviceWithServers {
  device_id: string;
  hostname?: string;
  person_id: string;
  mcp_servers: { name: string; fingerprint: string; agent: string; scope: string }[];
}

const LIMIT = 50;
const REFRESH_MS = 10_000;

export function Agents() {
  const { isAdmin } = useAuth();
  const [approval, setApproval] = useState('');
  const [offset, setOffset] = useState(0);
  const servers = useApi<McpRegister>('/v1/dashboard/mcp-register', { approval, offset, limit: LIMIT });
  const agents = useApi<Page<AgentRow>>('/v1/inventory/agents', { limit: 100 });
  // Devices report their inventory on their own schedule; the register is read again while the page is open.
  const { reload } = servers;
  useEffect(() => {
    const timer = setInterval(reload, REFRESH_MS);
    return () => clearInterval(timer);
  }, [reload]);
  const [approving, setApproving] = useState<McpServerRow>();
  const [outcome, setOutcome] = useState<string>();
  const [failure, setFailure] = useState<unknown>();

  const act = async (what: string, run: () => Promise<unknown>) => {
    setFailure(undefined);
    setOutcome(undefined);
    try {
      await run();
      setOutcome(what);
      servers.reload();
    } catch (error) {
      setFailure(error);
    }
  };
  const kill = (server: McpServerRow) => {
    const reason = window.prompt(`Kill ${server.name} on every device? Give a reason (recorded with the kill switch).`);
    if (reason === null) return;
    void act(`Killed ${server.name}: every device now denies its tools.`, () => api('/v1/kills', { method: 'POST', body: { target: `mcp:${server.name}`, ...(reason && { reason }) } }));
  };
  const lift = (server: McpServerRow) => void act(`Lifted the kill switch on ${server.name}.`, () => api(`/v1/kills/${encodeURIComponent(`mcp:${server.name}`)}`, { method: 'DELETE' }));
  const reject = (server: McpServerRow) => {
    if (!window.confirm(`Take ${server.name} out of the register and publish the policy?`)) return;
    void act(`Rejected ${server.name}: it is unapproved again.`, () => api('/v1/dashboard/mcp-register/reject', { method: 'POST', body: { name: server.name } }));
  };

  return (
    <>
      <PageHeader title="Agents and MCP servers" lead="Which agents run across the fleet, whether Writ governs them, and every MCP server they load with its register entry." />
      {outcome && (
        <p className="notice ok" role="status">
          {outcome}
        </p>
      )}
      <ErrorMessage error={failure} />

      <section aria-labelledby="mcp-heading">
        <h2 id="mcp-heading">MCP register</h2>
        <div className="filters">
          <label>
            Approval
            <select
              value={approval}
              onChange={(event) => {
                setApproval(event.target.value);
                setOffset(0);
              }}
            >
              <option value="">any</option>
              <option value="unapproved">unapproved on some device</option>
              <option value="denied">denied (pins do not match)</option>
              <option value="approved">approved</option>
            </select>
          </label>
          {servers.data?.policy_hash && <p className="small">Register from policy {servers.data.policy_hash.slice(0, 19)}…</p>}
        </div>
        <ErrorMessage error={servers.error} what="load the MCP servers" />
        {servers.data && servers.data.total === 0 && servers.data.registered_only.length === 0 ? (
          <EmptyState title="No MCP servers reported yet">
            Devices report the MCP servers their agents load. Run <code>writ install claude-code</code> then <code>writ enroll</code> on a developer machine.
          </EmptyState>
        ) : (
          servers.data && (
            <>
              <div className="table-wrap">
                <table aria-label="MCP servers">
                  <thead>
                    <tr>
                      <th scope="col">Server</th>
                      <th scope="col">Status</th>
                      <th scope="col">Devices</th>
                      <th scope="col">Owner</th>
                      <th scope="col">Purpose</th>
                      <th scope="col">Access</th>
                      <th scope="col">Actions</th>
                    </tr>
                  </thead>
                  <tbody>
                    {servers.data.items.map((server) => (
                      <ServerRow key={`${server.name} ${server.fingerprint}`} server={server} isAdmin={isAdmin} onApprove={() => setApproving(server)} onReject={() => reject(server)} onKill={() => kill(server)} onLift={() => lift(server)} />
                    ))}
                    {servers.data.registered_only.map(({ name, register }) => (
                      <tr key={`registered ${name}`}>
                        <th scope="row">{name}</th>
                        <td>
                          <span className="tag ok">registered</span> <span className="small">not seen on any device</span>
                        </td>
                        <td>0</td>
                        <td>{register.owner ?? '—'}</td>
                        <td>{register.purpose ?? '—'}</td>
                        <td>{register.access ?? '—'}</td>
                        <td />
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              <Pager offset={offset} limit={LIMIT} total={servers.data.total} onChange={setOffset} label="MCP servers" />
            </>
          )
        )}
      </section>

      <section aria-labelledby="agents-heading" style={{ marginTop: '2rem' }}>
        <h2 id="agents-heading">Agents</h2>
        <ErrorMessage error={agents.error} what="load the agents" />
        {agents.data && agents.data.total === 0 ? (
          <EmptyState title="No agents reported yet">
            Run <code>writ install claude-code</code> then <code>writ enroll</code> on a developer machine; its daemon reports the agents it finds.
          </EmptyState>
        ) : (
          agents.data && (
            <div className="table-wrap">
              <table aria-label="Agents by version">
                <thead>
                  <tr>
                    <th scope="col">Agent</th>
                    <th scope="col">Version</th>
                    <th scope="col">Devices</th>
                    <th scope="col">Governed</th>
                    <th scope="col">Ungoverned</th>
                    <th scope="col">Unknown</th>
                  </tr>
                </thead>
                <tbody>
                  {agents.data.items.map((agent) => (
                    <tr key={`${agent.id} ${agent.version}`}>
                      <th scope="row">{agent.name}</th>
                      <td>{agent.version ?? '—'}</td>
                      <td>{agent.devices}</td>
                      <td className="ok">{agent.governed}</td>
                      <td className={agent.ungoverned > 0 ? 'bad' : undefined}>{agent.ungoverned}</td>
                      <td>{agent.unknown}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        )}
      </section>
      {approving && (
        <ApproveDialog
          server={approving}
          onClose={() => setApproving(undefined)}
          onApprove={(body) =>
            act(`Approved ${approving.name}: a new policy bundle is published and devices take it in force.`, async () => {
              await api('/v1/dashboard/mcp-register/approve', { method: 'POST', body: { name: approving.name, fingerprint: approving.fingerprint, ...body } });
              setApproving(undefined);
            })
          }
        />
      )}
    </>
  );
}

function status(server: McpServerRow): { label: string; className: string } {
  if (server.killed) return { label: 'killed', className: 'bad' };
  if (server.denied > 0) return { label: `denied on ${server.denied}`, className: 'bad' };
  if (server.unapproved > 0) return { label: `unapproved on ${server.unapproved}`, className: 'warn' };
  return { label: 'approved', className: 'ok' };
}

function ServerRow({ server, isAdmin, onApprove, onReject, onKill, onLift }: { server: McpServerRow; isAdmin: boolean; onApprove(): void; onReject(): void; onKill(): void; onLift(): void }) {
  const [showDevices, setShowDevices] = useState(false);
  const where = useApi<Page<DeviceWithServers>>(showDevices ? '/v1/inventory/devices' : undefined, { mcp: server.fingerprint, limit: 20 });
  const { label, className } = status(server);
  const pinned = server.register?.fingerprint === server.fingerprint;
  return (
    <>
      <tr>
        <th scope="row">
          {server.name}
          <div className="small" title={server.fingerprint}>
            <code>{server.fingerprint.slice(0, 19)}…</code>
          </div>
        </th>
        <td>
          <span className={`tag ${className}`}>{label}</span>
          {pinned && server.unapproved + server.denied > 0 && <div className="small">pinned in the register; devices report it approved after their next inventory</div>}
        </td>
        <td>
          <button type="button" className="link" aria-expanded={showDevices} onClick={() => setShowDevices(!showDevices)}>
            {server.devices} {server.devices === 1 ? 'device' : 'devices'}
          </button>
        </td>
        <td>{server.register?.owner ?? '—'}</td>
        <td>{server.register?.purpose ?? '—'}</td>
        <td>{server.register?.access ?? '—'}</td>
        <td>
          {isAdmin ? (
            <div className="row-actions">
              {!pinned && (
                <button type="button" className="primary" onClick={onApprove} aria-label={`Approve ${server.name}`}>
                  Approve
                </button>
              )}
              {server.register && (
                <button type="button" onClick={onReject} aria-label={`Reject ${server.name}`}>
                  Reject
                </button>
              )}
              {server.killed ? (
                <button type="button" onClick={onLift} aria-label={`Lift the kill switch on ${server.name}`}>
                  Lift kill
                </button>
              ) : (
                <button type="button" className="danger" onClick={onKill} aria-label={`Kill ${server.name}`}>
                  Kill
                </button>
              )}
            </div>
          ) : (
            <span className="small">read-only</span>
          )}
        </td>
      </tr>
      {showDevices && (
        <tr>
          <td colSpan={7}>
            <ErrorMessage error={where.error} what="load where it is configured" />
            {where.data && (
              <ul className="plain small" aria-label={`Where ${server.name} is configured`}>
                {where.data.items.map((device) =>
                  device.mcp_servers
                    .filter((entry) => entry.fingerprint === server.fingerprint)
                    .map((entry) => (
                      <li key={`${device.device_id} ${entry.agent} ${entry.scope}`}>
                        {device.hostname ?? device.device_id} — {entry.agent}, {entry.scope} configuration
                      </li>
                    )),
                )}
                {where.data.total > where.data.items.length && <li>and {where.data.total - where.data.items.length} more devices (Fleet page, filter by MCP server)</li>}
              </ul>
            )}
          </td>
        </tr>
      )}
    </>
  );
}

function ApproveDialog({ server, onClose, onApprove }: { server: McpServerRow; onClose(): void; onApprove(body: Partial<RegisterEntry>): Promise<void> }) {
  const [owner, setOwner] = useState(server.register?.owner ?? '');
  const [purpose, setPurpose] = useState(server.register?.purpose ?? '');
  const [access, setAccess] = useState<'' | 'read-only' | 'write'>(server.register?.access ?? '');
  const [trust, setTrust] = useState<'internal' | 'external'>(server.register?.trust ?? 'external');
  const [busy, setBusy] = useState(false);
  const dialog = useRef<HTMLDialogElement>(null);
  // Modal: focus stays in the dialog and Escape cancels.
  useEffect(() => dialog.current?.showModal(), []);
  return (
    <dialog ref={dialog} className="panel dialog" aria-labelledby="approve-title" onClose={onClose}>
      <h2 id="approve-title">Approve {server.name}</h2>
      <p className="small">
        Pins fingerprint <code>{server.fingerprint}</code> in the register of the policy in force and publishes it, signed.
      </p>
      <form
        className="stack"
        onSubmit={(event) => {
          event.preventDefault();
          setBusy(true);
          void onApprove({ trust, ...(owner && { owner }), ...(purpose && { purpose }), ...(access && { access }) }).finally(() => setBusy(false));
        }}
      >
        <label>
          Owner
          <input value={owner} onChange={(event) => setOwner(event.target.value)} placeholder="team or person who answers for it" autoFocus />
        </label>
        <label>
          Purpose
          <input value={purpose} onChange={(event) => setPurpose(event.target.value)} />
        </label>
        <label>
          Access
          <select value={access} onChange={(event) => setAccess(event.target.value as typeof access)}>
            <option value="">not stated</option>
            <option value="read-only">read-only</option>
            <option value="write">write-capable</option>
          </select>
        </label>
        <label>
          Its results are
          <select value={trust} onChange={(event) => setTrust(event.target.value as typeof trust)}>
            <option value="external">external (untrusted content)</option>
            <option value="internal">internal (the organisation's own data)</option>
          </select>
        </label>
        <div className="page-actions">
          <button type="submit" className="primary" disabled={busy}>
            Approve and publish
          </button>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </dialog>
  );
}
