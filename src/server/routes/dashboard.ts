// The dashboard's own reads and actions, each built on what the API already has: one event with its signature
// and inclusion receipt, the MCP register joined to the fleet inventory (approve and reject publish a new policy
// bundle through the one publish path), the policy in force rule by rule, a candidate's replay against recorded
// decisions, and the state of the log. Auditors read; only admins change anything, checked here.
import { createPublicKey } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { openEvent, type EventBody } from '../../core/event.js';
import { parseEnvelope, verifyEnvelopeAsync } from '../../core/dsse.js';
import { openPolicyBundle, type PolicyBundle, type PolicyFile } from '../../core/policy-bundle.js';
import {
  lintPolicy,
  parsePolicySettings,
  PolicyError,
  preparePolicy,
  ruleForms,
  SETTINGS_FILE,
  type ReplayEvent,
} from '../../policy/index.js';
import type { McpServerSettings } from '../../policy/settings.js';
import type { McpApproval } from '../../store/inventory-sql.js';
import type { StoredEvent } from '../../store/store.js';
import type { ServerContext } from '../app.js';
import { authenticateUser } from '../auth.js';
import { badRequest, conflict, HttpError, notFound } from '../http-error.js';
import { eventJson } from './admin.js';
import { policyFilesSchema, publishPolicy } from './control.js';
import { replayInWorker } from '../replay-worker.js';

const page = {
  offset: { type: 'integer', minimum: 0, default: 0 },
  limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
} as const;

/** The most recorded events one replay reads (about 10-30 s of a worker's time on a loaded machine); narrow `since` for more. */
const MAX_REPLAY_EVENTS = 50_000;
const REPLAY_PAGE = 2000;
const DEFAULT_REPLAY_WINDOW_MS = 24 * 3600 * 1000;
const RECENT_ALARMS = 20;
const FINGERPRINT = '^sha256:[0-9a-f]{64}$';
// A register name is a JSON object key in settings.json; `__proto__` would not survive being read back.
const SERVER_NAME = '^(?!__proto__$)[A-Za-z0-9_.:-]{1,200}$';


/** The bundle in force, opened with the org key (a bundle the org did not sign is never shown as in force). */
async function activeBundle(context: ServerContext): Promise<{ hash: string; bundle: PolicyBundle } | undefined> {
  const stored = await context.store.activePolicyBundle();
  return stored && openPolicyBundle(parseEnvelope(stored.envelope), context.org.publicKey);
}

/** The register's own entry for a server (never an inherited property such as `constructor`). */
function registerEntry(register: Record<string, McpServerSettings>, name: string): McpServerSettings | undefined {
  return Object.hasOwn(register, name) ? register[name] : undefined;
}

/** The policy files with the MCP register entry of `name` replaced (or removed when `entry` is undefined). */
export function withRegisterEntry(files: PolicyFile[], name: string, entry: McpServerSettings | undefined): PolicyFile[] {
  const existing = files.find((file) => file.name === SETTINGS_FILE);
  let settings: Record<string, unknown> = {};
  if (existing) {
    try {
      settings = JSON.parse(existing.text) as Record<string, unknown>;
    } catch (error) {
      throw conflict(`the settings.json in force is not JSON (${(error as Error).message}); publish a fixed policy first`);
    }
    if (settings === null || typeof settings !== 'object' || Array.isArray(settings)) throw conflict('the settings.json in force is not a JSON object; publish a fixed policy first');
  }
  // No prototype: a server named `__proto__` or `constructor` is an entry like any other.
  const servers: Record<string, McpServerSettings> = Object.assign(Object.create(null), settings.mcp_servers ?? {});
  if (entry) servers[name] = entry;
  else delete servers[name];
  const text = JSON.stringify({ ...settings, mcp_servers: servers }, null, 2) + '\n';
  return [...files.filter((file) => file.name !== SETTINGS_FILE), { name: SETTINGS_FILE, text }];
}

interface RegisterBody {
  name: string;
  fingerprint?: string;
  trust?: 'internal' | 'external';
  owner?: string;
  purpose?: string;
  access?: 'read-only' | 'write';
  comment?: string;
}

export function dashboardRoutes(context: ServerContext) {
  const { store, org, log, now } = context;
  const user = (request: Parameters<typeof authenticateUser>[0], role: 'admin' | 'auditor') => authenticateUser(request, store, context.oidc, role);

  return async (app: FastifyInstance) => {
    app.get(
      '/v1/events/:device/:seq/detail',
      {
        schema: {
          summary: 'One event with its signature checked against the device key and its inclusion receipt (auditor)',
          tags: ['evidence'],
          security: [{ bearer: [] }],
          params: {
            type: 'object',
            required: ['device', 'seq'],
            properties: { device: { type: 'string', maxLength: 100 }, seq: { type: 'integer', minimum: 1 } },
          },
        },
      },
      async (request) => {
        await user(request, 'auditor');
        const { device: deviceId, seq } = request.params as { device: string; seq: number };
        const [event, device] = await Promise.all([store.eventAt(deviceId, seq), store.getDevice(deviceId)]);
        if (!event || !device) throw notFound(`no event ${seq} of device ${deviceId}`);
        const envelope = parseEnvelope(event.envelope);
        const verdict = await verifyEnvelopeAsync(envelope, new Map([[device.keyId, createPublicKey(device.publicKeyPem)]]));
        let body: EventBody | undefined;
        try {
          body = openEvent(envelope);
        } catch {
          body = undefined;
        }
        const signature = verdict.ok
          ? { valid: true, key_id: verdict.keyId, device_revoked_at: device.revokedAt }
          : { valid: false, key_id: device.keyId, problem: verdict.problem };
        let receipt: { tlog_proof: string; org_key: string } | { pending: string };
        try {
          receipt = { tlog_proof: await log.receipt(event.index), org_key: org.verifierKey };
        } catch (error) {
          if (!(error instanceof HttpError) || error.status !== 404) throw error;
          receipt = { pending: error.message };
        }
        return { event: eventJson(event), body, signature, receipt };
      },
    );

    app.get(
      '/v1/dashboard/mcp-register',
      {
        schema: {
          summary: 'MCP servers across the fleet joined to the register in the policy in force and the kill switches (auditor)',
          tags: ['inventory'],
          security: [{ bearer: [] }],
          querystring: { type: 'object', additionalProperties: false, properties: { approval: { type: 'string', enum: ['approved', 'unapproved', 'denied'] }, ...page } },
        },
      },
      async (request) => {
        await user(request, 'auditor');
        const { approval, offset, limit } = request.query as { approval?: McpApproval; offset: number; limit: number };
        const [servers, bundle, kills] = await Promise.all([store.inventoryMcpServers({ ...(approval && { approval }), offset, limit }), activeBundle(context), store.activeKills()]);
        const settingsFile = bundle?.bundle.files.find((file) => file.name === SETTINGS_FILE);
        const register = settingsFile ? parsePolicySettings(settingsFile.text).settings.mcp_servers : {};
        const killed = new Set(kills.map((kill) => kill.target));
        return {
          total: servers.total,
          policy_hash: bundle?.hash,
          items: servers.items.map((server) => ({ ...server, register: registerEntry(register, server.name), killed: killed.has(`mcp:${server.name}`) })),
          // Entries of the register no device reports yet: approved ahead of use.
          registered_only: offset === 0 ? Object.entries(register).filter(([name]) => !servers.items.some((server) => server.name === name)).map(([name, entry]) => ({ name, register: entry })) : [],
        };
      },
    );

    app.post(
      '/v1/dashboard/mcp-register/approve',
      {
        schema: {
          summary: "Approve an MCP server: pin its fingerprint in the register with its owner, purpose and access, and publish the policy (admin)",
          tags: ['policy'],
          security: [{ bearer: [] }],
          body: {
            type: 'object',
            required: ['name', 'fingerprint'],
            additionalProperties: false,
            properties: {
              name: { type: 'string', pattern: SERVER_NAME },
              fingerprint: { type: 'string', pattern: FINGERPRINT },
              trust: { type: 'string', enum: ['internal', 'external'] },
              owner: { type: 'string', minLength: 1, maxLength: 200 },
              purpose: { type: 'string', minLength: 1, maxLength: 1000 },
              access: { type: 'string', enum: ['read-only', 'write'] },
              comment: { type: 'string', maxLength: 2000 },
            },
          },
        },
      },
      async (request, reply) => {
        const caller = await user(request, 'admin');
        const body = request.body as RegisterBody;
        const bundle = await activeBundle(context);
        if (!bundle) throw conflict('no policy bundle is in force; publish one (writ policy publish) before approving servers in its register');
        const current = registerEntry(parsePolicySettings(bundle.bundle.files.find((file) => file.name === SETTINGS_FILE)?.text ?? '{}').settings.mcp_servers, body.name);
        // The fingerprint pins exactly what was reviewed; older package or url pins would describe something else.
        const { package: _package, url: _url, ...kept } = current ?? { trust: 'external' as const };
        const entry: McpServerSettings = {
          ...kept,
          trust: body.trust ?? kept.trust,
          fingerprint: body.fingerprint,
          ...(body.owner && { owner: body.owner }),
          ...(body.purpose && { purpose: body.purpose }),
          ...(body.access && { access: body.access }),
        };
        const files = withRegisterEntry(bundle.bundle.files, body.name, entry);
        const published = await publishPolicy(context, caller.name, files, body.comment ?? `approved MCP server ${body.name} (${body.fingerprint})`);
        return reply.status(201).send({ ...published, register: entry });
      },
    );

    app.post(
      '/v1/dashboard/mcp-register/reject',
      {
        schema: {
          summary: 'Take an MCP server out of the register (it is unapproved again) and publish the policy (admin); to stop it at once, kill it too',
          tags: ['policy'],
          security: [{ bearer: [] }],
          body: { type: 'object', required: ['name'], additionalProperties: false, properties: { name: { type: 'string', pattern: SERVER_NAME }, comment: { type: 'string', maxLength: 2000 } } },
        },
      },
      async (request, reply) => {
        const caller = await user(request, 'admin');
        const { name, comment } = request.body as { name: string; comment?: string };
        const bundle = await activeBundle(context);
        if (!bundle) throw conflict('no policy bundle is in force, so no register to take a server out of');
        const settings = bundle.bundle.files.find((file) => file.name === SETTINGS_FILE);
        if (!settings || !registerEntry(parsePolicySettings(settings.text).settings.mcp_servers, name)) {
          throw conflict(`${name} is not in the register; it is already unapproved (kill it to block it on every device)`);
        }
        const published = await publishPolicy(context, caller.name, withRegisterEntry(bundle.bundle.files, name, undefined), comment ?? `rejected MCP server ${name}`);
        return reply.status(201).send(published);
      },
    );

    app.get('/v1/dashboard/policy', { schema: { summary: 'The policy in force: its hash and each rule with effect, mode and reason (auditor)', tags: ['policy'], security: [{ bearer: [] }] } }, async (request) => {
      await user(request, 'auditor');
      const stored = await store.activePolicyBundle();
      const bundle = await activeBundle(context);
      if (!stored || !bundle) return { active: null };
      const { files } = bundle.bundle;
      return {
        active: {
          hash: bundle.hash,
          published_by: stored.publishedBy,
          published_at: stored.publishedAt,
          comment: bundle.bundle.comment,
          files: files.map((file) => ({ name: file.name, text: file.text })),
          rules: ruleForms(files).map((rule) => ({
            id: rule.id,
            file: rule.file,
            line: rule.line,
            effect: rule.effect,
            mode: rule.mode,
            reason: rule.reason,
            ...(rule.reviewers && { reviewers: rule.reviewers }),
            ...(rule.actions && { actions: rule.actions }),
          })),
          findings: lintPolicy(files),
        },
      };
    });

    app.post(
      '/v1/dashboard/policy/replay',
      {
        schema: {
          summary: 'Replay recorded PreToolUse decisions against candidate policy files; the changes are paged (auditor)',
          tags: ['policy'],
          security: [{ bearer: [] }],
          body: {
            type: 'object',
            required: ['files'],
            additionalProperties: false,
            properties: { files: policyFilesSchema, since: { type: 'string', format: 'date-time' }, ...page },
          },
        },
      },
      async (request) => {
        await user(request, 'auditor');
        const { files, since, offset, limit } = request.body as { files: PolicyFile[]; since?: string; offset: number; limit: number };
        let policy;
        try {
          policy = preparePolicy(files);
        } catch (error) {
          if (error instanceof PolicyError) throw badRequest('the candidate policy does not validate', { problems: error.problems.map((p) => `${p.file}:${p.line}: ${p.message}`) });
          throw error;
        }
        const from = since ?? new Date(now().getTime() - DEFAULT_REPLAY_WINDOW_MS).toISOString();
        const recorded: ReplayEvent[] = [];
        let truncated = false;
        for (let after = -1; ; ) {
          const batch: StoredEvent[] = await store.events({ since: from, afterIndex: after, limit: REPLAY_PAGE, order: 'asc' });
          for (const event of batch) {
            if (!event.kind.startsWith('hook.')) continue;
            const body = openEvent(parseEnvelope(event.envelope));
            recorded.push({ time: body.time, kind: body.kind, data: body.data, session_id: body.session_id, tool_use_id: body.tool_use_id, agent: body.agent, actor: body.actor });
          }
          if (recorded.length >= MAX_REPLAY_EVENTS) {
            truncated = true;
            break;
          }
          if (batch.length < REPLAY_PAGE) break;
          after = batch[batch.length - 1].index;
        }
        const report = await replayInWorker({ files, events: recorded }).catch((error: Error) => {
          throw new HttpError(503, 'replay_failed', `the replay did not finish: ${error.message}`);
        });
        return {
          policy_hash: policy.hash,
          since: from,
          truncated,
          replayed: report.replayed,
          unchanged: report.unchanged,
          changed_by: report.changedBy,
          total_changes: report.changes.length,
          changes: report.changes.slice(offset, offset + limit),
          unreplayable: report.unreplayable.length,
          unreplayable_sample: report.unreplayable.slice(0, 20),
        };
      },
    );

    app.get('/v1/dashboard/evidence', { schema: { summary: 'The latest signed checkpoint, the log size and what devices report of the log (auditor)', tags: ['evidence'], security: [{ bearer: [] }] } }, async (request) => {
      await user(request, 'auditor');
      const [size, checkpoint, alarms, recent] = await Promise.all([
        store.logSize(),
        store.latestCheckpoint(),
        store.countEvents({ kind: 'log.alarm' }),
        store.events({ kind: 'log.alarm', order: 'desc', limit: RECENT_ALARMS }),
      ]);
      return {
        log_size: size,
        origin: org.origin,
        org_key: org.verifierKey,
        checkpoint: checkpoint && { size: checkpoint.size, root: checkpoint.root.toString('base64'), note: checkpoint.note, created_at: checkpoint.createdAt },
        // Devices check every checkpoint against the last they verified; a failure is a signed log.alarm event.
        device_alarms: {
          total: alarms,
          recent: recent.map((event) => {
            const data = openEvent(parseEnvelope(event.envelope)).data;
            return { device_id: event.deviceId, seq: event.seq, time: event.time, problem: typeof data.problem === 'string' ? data.problem : 'log alarm' };
          }),
        },
      };
    });
  };
}
