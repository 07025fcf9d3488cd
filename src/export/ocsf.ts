// Writ events as OCSF 1.8.0 events for SIEMs (Splunk, Security Lake, Datadog …), and as plain JSON Lines.
// One Writ event becomes one OCSF event: its class follows the first action the policy saw (audit-policy.md
// §3.1), the decision goes on it through the security_control profile, and what OCSF has no place for goes
// in `unmapped`, so nothing of the signed body is lost. Pure: bodies in, objects out.
import type { Envelope } from '../core/dsse.js';
import { eventHash, type EventBody } from '../core/event.js';

export const OCSF_VERSION = '1.8.0';

/** Where an event sits and who stands behind it: what the log and the device certificate add to a body. */
export interface OcsfContext {
  index: number; // leaf index in the org log
  origin?: string; // the log's origin, used as metadata.log_name
  device: { id: string; hostname?: string };
  person?: { id: string; email?: string; name?: string };
}

/** An OCSF event: the attributes used here, as a plain JSON object. */
export type OcsfEvent = Record<string, unknown> & {
  activity_id: number;
  category_uid: number;
  class_uid: number;
  type_uid: number;
  time: number;
  severity_id: number;
  metadata: Record<string, unknown>;
};

interface OcsfClass {
  class_uid: number;
  class_name: string;
  category_uid: number;
  category_name: string;
  activity_id: number;
  activity_name: string;
  /** Class-specific attributes (process, file, api, http_request, …). */
  attributes: Record<string, unknown>;
}

interface DecisionData {
  decision?: string;
  answer?: string;
  mode?: string;
  rules?: string[];
  reason?: string;
  policy_hash?: string;
}

const SYSTEM = { category_uid: 1, category_name: 'System Activity' };
const NETWORK = { category_uid: 4, category_name: 'Network Activity' };
const APPLICATION = { category_uid: 6, category_name: 'Application Activity' };

// OCSF http_activity activity_id by HTTP method.
const HTTP_ACTIVITIES: Record<string, [number, string]> = {
  CONNECT: [1, 'Connect'],
  DELETE: [2, 'Delete'],
  GET: [3, 'Get'],
  HEAD: [4, 'Head'],
  OPTIONS: [5, 'Options'],
  POST: [6, 'Post'],
  PUT: [7, 'Put'],
  TRACE: [8, 'Trace'],
  PATCH: [9, 'Patch'],
};

const FILE_ACTIVITIES: Record<string, [number, string]> = { read: [2, 'Read'], write: [3, 'Update'], delete: [4, 'Delete'] };

const SEVERITY: Record<number, string> = { 1: 'Informational', 2: 'Low', 3: 'Medium' };

/** Maps one Writ event body, with its log index, device and person, to an OCSF 1.8.0 event. */
export function toOcsfEvent(body: EventBody, context: OcsfContext): OcsfEvent {
  const data = body.data;
  const decision = isRecord(data.decision) ? (data.decision as DecisionData) : undefined;
  const ocsfClass = classFor(body, context);
  const control = decision ? securityControl(decision, data) : undefined;
  const severityId = decision?.decision === 'deny' ? 3 : decision?.decision === 'ask' ? 2 : 1;
  const status = statusOf(body, decision);
  const time = Date.parse(body.time);
  return {
    activity_id: ocsfClass.activity_id,
    activity_name: ocsfClass.activity_name,
    category_uid: ocsfClass.category_uid,
    category_name: ocsfClass.category_name,
    class_uid: ocsfClass.class_uid,
    class_name: ocsfClass.class_name,
    type_uid: ocsfClass.class_uid * 100 + ocsfClass.activity_id,
    type_name: `${ocsfClass.class_name}: ${ocsfClass.activity_name}`,
    time: Number.isNaN(time) ? 0 : time,
    severity_id: severityId,
    severity: SEVERITY[severityId],
    message: messageFor(body, decision),
    ...status,
    metadata: {
      version: OCSF_VERSION,
      product: { name: 'Writ', vendor_name: 'Writ' },
      uid: eventHash(body),
      ...(context.origin !== undefined ? { log_name: context.origin } : {}),
      sequence: context.index,
      original_time: body.time,
      ...(body.session_id !== undefined ? { correlation_uid: body.session_id } : {}),
      profiles: control ? ['host', 'security_control'] : ['host'],
    },
    actor: {
      user: {
        ...(context.person ? { uid: context.person.id } : {}),
        ...(context.person?.email !== undefined ? { email_addr: context.person.email } : {}),
        name: context.person?.name ?? body.actor.os_user,
        type_id: 1,
        type: 'User',
      },
      app_name: body.agent.name,
    },
    device: {
      uid: context.device.id,
      ...(context.device.hostname !== undefined ? { hostname: context.device.hostname } : {}),
      type_id: 0,
      type: 'Unknown',
    },
    ...ocsfClass.attributes,
    ...control,
    unmapped: {
      kind: body.kind,
      seq: body.seq,
      prev: body.prev,
      key_id: body.device.key_id,
      os_user: body.actor.os_user,
      assurance: body.actor.assurance,
      agent: body.agent,
      ...(body.session_id !== undefined ? { session_id: body.session_id } : {}),
      ...(body.tool_use_id !== undefined ? { tool_use_id: body.tool_use_id } : {}),
      ...(body.prompt_id !== undefined ? { prompt_id: body.prompt_id } : {}),
      data,
    },
  };
}

/** One line of the plain JSONL export, ending in a newline: index, device, person, the envelope and its body. */
export function toJsonlLine(event: {
  index: number;
  device: OcsfContext['device'];
  person?: OcsfContext['person'];
  envelope: Envelope;
  body: EventBody;
}): string {
  const { index, device, person, envelope, body } = event;
  return `${JSON.stringify({ index, device, ...(person ? { person } : {}), envelope, body })}\n`;
}

// The class follows the first action the normaliser found; a call without actions (PostToolUse) is
// classed by its tool, and events that are no tool call by their kind.
function classFor(body: EventBody, context: OcsfContext): OcsfClass {
  const actions = Array.isArray(body.data.actions) ? body.data.actions.filter(isRecord) : [];
  const action = actions[0] ?? actionForTool(body.data);
  if (action) {
    const mapped = classForAction(action, context);
    if (mapped) return mapped;
  }
  const lifecycle = lifecycleActivity(body.kind);
  if (lifecycle) {
    return {
      ...APPLICATION,
      class_uid: 6002,
      class_name: 'Application Lifecycle',
      activity_id: lifecycle[0],
      activity_name: lifecycle[1],
      attributes: { app: { name: body.agent.name, ...(body.agent.version !== undefined ? { version: body.agent.version } : {}) } },
    };
  }
  return { category_uid: 0, category_name: 'Uncategorized', class_uid: 0, class_name: 'Base Event', activity_id: 99, activity_name: body.kind, attributes: {} };
}

function classForAction(action: Record<string, unknown>, context: OcsfContext): OcsfClass | undefined {
  const kind = action.kind;
  if (kind === 'exec') {
    return {
      ...SYSTEM,
      class_uid: 1007,
      class_name: 'Process Activity',
      activity_id: 1,
      activity_name: 'Launch',
      attributes: { process: { name: text(action.program), ...(typeof action.line === 'string' ? { cmd_line: action.line } : {}) } },
    };
  }
  if (kind === 'read' || kind === 'write' || kind === 'delete') {
    const [activityId, activityName] = FILE_ACTIVITIES[kind];
    const path = text(action.path);
    return {
      ...SYSTEM,
      class_uid: 1001,
      class_name: 'File System Activity',
      activity_id: activityId,
      activity_name: activityName,
      // Whether the path is a regular file is not known when the call is decided; a recursive action covers a folder.
      attributes: { file: { name: path.slice(path.lastIndexOf('/') + 1) || path, path, ...(action.recursive === true ? { type_id: 2, type: 'Folder' } : { type_id: 0, type: 'Unknown' }) } },
    };
  }
  if (kind === 'mcp_call') {
    return {
      ...APPLICATION,
      class_uid: 6003,
      class_name: 'API Activity',
      activity_id: 99,
      activity_name: 'Call',
      attributes: {
        api: { operation: text(action.tool), service: { name: text(action.server) } },
        src_endpoint: endpointOf(context),
      },
    };
  }
  if (kind === 'fetch' || kind === 'send') {
    const method = text(action.method).toUpperCase();
    const [activityId, activityName] = HTTP_ACTIVITIES[method] ?? (method === '' ? [0, 'Unknown'] : [99, method]);
    const port = typeof action.port === 'number' ? action.port : undefined;
    return {
      ...NETWORK,
      class_uid: 4002,
      class_name: 'HTTP Activity',
      activity_id: activityId,
      activity_name: activityName,
      attributes: {
        http_request: {
          ...(method !== '' ? { http_method: method } : {}),
          url: {
            url_string: text(action.url),
            hostname: text(action.host),
            ...(port !== undefined ? { port } : {}),
            ...(typeof action.scheme === 'string' && action.scheme !== '' ? { scheme: action.scheme } : {}),
          },
        },
        src_endpoint: endpointOf(context),
        dst_endpoint: { hostname: text(action.host), ...(port !== undefined ? { port } : {}) },
      },
    };
  }
  if (kind === 'search') {
    return {
      ...APPLICATION,
      class_uid: 6001,
      class_name: 'Web Resources Activity',
      activity_id: 5,
      activity_name: 'Search',
      attributes: { web_resources: [{ name: text(action.query), type: 'search query' }] },
    };
  }
  return undefined;
}

// PostToolUse and PostToolUseFailure carry the tool and its input, not the normalised actions.
function actionForTool(data: Record<string, unknown>): Record<string, unknown> | undefined {
  const tool = data.tool;
  if (typeof tool !== 'string') return undefined;
  const input = isRecord(data.tool_input) ? data.tool_input : {};
  const path = typeof input.file_path === 'string' ? input.file_path : typeof input.notebook_path === 'string' ? input.notebook_path : undefined;
  if (tool === 'Bash' && typeof input.command === 'string') return { kind: 'exec', program: input.command.trim().split(/\s+/)[0] ?? '', line: input.command };
  if (tool === 'Read' && path) return { kind: 'read', path, recursive: false };
  if ((tool === 'Write' || tool === 'Edit' || tool === 'MultiEdit' || tool === 'NotebookEdit') && path) return { kind: 'write', path, recursive: false };
  if (tool === 'WebFetch' && typeof input.url === 'string') {
    try {
      const url = new URL(input.url);
      return { kind: 'fetch', url: input.url, host: url.hostname, scheme: url.protocol.replace(/:$/, ''), method: 'GET' };
    } catch {
      return { kind: 'fetch', url: input.url, host: '', method: 'GET' };
    }
  }
  if (tool === 'WebSearch' && typeof input.query === 'string') return { kind: 'search', query: input.query };
  const mcp = /^mcp__(.+?)__(.+)$/.exec(tool);
  if (mcp) return { kind: 'mcp_call', server: mcp[1], tool: mcp[2] };
  return undefined;
}

function lifecycleActivity(kind: string): [number, string] | undefined {
  if (kind === 'hook.SessionStart' || kind === 'daemon.start') return [3, 'Start'];
  if (kind === 'hook.SessionEnd' || kind === 'daemon.stop') return [4, 'Stop'];
  return undefined;
}

// security_control profile: allow → Allowed; deny → Denied / Blocked; ask → a Challenge before any action;
// monitor mode only observes and logs what the decision would have been.
function securityControl(decision: DecisionData, data: Record<string, unknown>): Record<string, unknown> {
  const monitor = decision.mode === 'monitor' || data.mode === 'monitor';
  const [actionId, action, dispositionId, disposition] = monitor
    ? [3, 'Observed', 17, 'Logged']
    : decision.decision === 'deny'
      ? [2, 'Denied', 2, 'Blocked']
      : decision.decision === 'ask'
        ? [0, 'Unknown', 23, 'Challenge']
        : decision.decision === 'allow'
          ? decision.answer === 'silent'
            ? [1, 'Allowed', 16, 'No Action'] // Writ did not object; the agent's own permission checks still apply
            : [1, 'Allowed', 1, 'Allowed']
          : [0, 'Unknown', 0, 'Unknown'];
  const rules = Array.isArray(decision.rules) ? decision.rules.filter((rule): rule is string => typeof rule === 'string') : [];
  return {
    action_id: actionId,
    action,
    disposition_id: dispositionId,
    disposition,
    policy: {
      uid: rules[0] ?? 'default',
      name: rules.length > 0 ? rules.join(', ') : 'default',
      ...(typeof decision.policy_hash === 'string' ? { version: decision.policy_hash } : {}),
      ...(typeof decision.reason === 'string' && decision.reason !== '' ? { desc: decision.reason } : {}),
      is_applied: true,
    },
    is_alert: decision.decision === 'deny',
  };
}

function statusOf(body: EventBody, decision: DecisionData | undefined): Record<string, unknown> {
  if (body.kind === 'hook.PostToolUseFailure') return { status_id: 2, status: 'Failure', ...(typeof body.data.error === 'string' ? { status_detail: body.data.error } : {}) };
  if (body.kind === 'hook.PostToolUse') return { status_id: 1, status: 'Success' };
  if (decision?.decision === 'deny' && decision.mode !== 'monitor') return { status_id: 2, status: 'Failure', ...(decision.reason ? { status_detail: decision.reason } : {}) };
  return {};
}

function messageFor(body: EventBody, decision: DecisionData | undefined): string {
  const data = body.data;
  const input = isRecord(data.tool_input) ? data.tool_input : {};
  const detail = [input.command, input.file_path, input.url, input.query].find((value): value is string => typeof value === 'string');
  const tool = typeof data.tool === 'string' ? ` ${data.tool}` : '';
  const verdict = decision?.decision ? ` → ${decision.decision}${decision.rules?.length ? ` (${decision.rules.join(', ')})` : ''}` : '';
  return `${body.kind}${tool}${detail !== undefined ? `: ${detail.replace(/\s+/g, ' ').slice(0, 200)}` : ''}${verdict}`;
}

function endpointOf(context: OcsfContext): Record<string, unknown> {
  return { uid: context.device.id, ...(context.device.hostname !== undefined ? { hostname: context.device.hostname } : {}) };
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
