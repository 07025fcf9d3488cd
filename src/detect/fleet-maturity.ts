// The maturity level and the six questions for a whole fleet, from the server's counts rather than one device's
// inventory: the fleet is only as far along as its weakest device. Same levels, questions and fixes as
// maturity.ts (one device); the dashboard's overview shows this. Pure: the caller counts and reads the clock.
import {
  FRESH_MS,
  INSTALL_CLAUDE,
  LEVEL_NAMES,
  QUESTIONS,
  START_DAEMON,
  type MaturityAssessment,
  type MaturityLevel,
  type QuestionAnswer,
  type Requirement,
} from './maturity.js';

/** What the server knows of the fleet: enrolled, unrevoked devices, and events in the window. */
export interface FleetFacts {
  now: string;
  devices: { total: number; unverified: number; reporting: number; guardOff: number; selfTestFailed: number; heartbeatStale: number; postureFailing: number; postureStale: number };
  people: number;
  agents: { total: number; governed: number; ungoverned: number };
  mcpServers: { total: number; approved: number; unapproved: number };
  decisions: number;
  sessions: number;
  log: { size: number; checkpointSize?: number; checkpointAt?: string };
  /** How long the server took to count all this, in milliseconds. */
  query_ms: number;
}

const ENROLL = 'writ install claude-code, then writ enroll --server URL on each device';
const plural = (count: number, one: string, many = `${one}s`) => `${count.toLocaleString('en')} ${count === 1 ? one : many}`;

export function assessFleet(facts: FleetFacts): MaturityAssessment {
  const requirements = fleetRequirements(facts);
  let level: MaturityLevel = 0;
  for (const candidate of [1, 2, 3] as const) {
    if (requirements.some((item) => item.level === candidate && !item.met)) break;
    level = candidate;
  }
  const assessment: MaturityAssessment = { level, level_name: LEVEL_NAMES[level], questions: fleetQuestions(facts), requirements };
  if (level < 3) {
    const next = (level + 1) as MaturityLevel;
    assessment.next = { level: next, level_name: LEVEL_NAMES[next], missing: requirements.filter((item) => item.level === next && !item.met) };
  }
  return assessment;
}

function fleetRequirements(facts: FleetFacts): Requirement[] {
  const { devices, agents, mcpServers, log } = facts;
  const silent = devices.total - devices.reporting;
  const guardProblems = devices.guardOff + devices.selfTestFailed + devices.heartbeatStale;
  const requirement = ({ fix, ...item }: Requirement): Requirement => (item.met ? item : { ...item, fix });
  const checkpointAge = log.checkpointAt ? Date.parse(facts.now) - Date.parse(log.checkpointAt) : NaN;
  return [
    requirement({
      level: 1,
      id: 'devices-enrolled',
      requirement: 'devices are enrolled with this server',
      met: devices.total > 0,
      detail: `${plural(devices.total, 'device')} enrolled for ${plural(facts.people, 'person', 'people')}`,
      fix: ENROLL,
    }),
    requirement({
      level: 1,
      id: 'inventory',
      requirement: 'every enrolled device reports which agents and MCP servers it has',
      met: devices.total > 0 && silent === 0,
      detail: silent === 0 ? `all ${plural(devices.total, 'device')} reported an inventory` : `${plural(silent, 'device')} never reported an inventory`,
      fix: `${START_DAEMON} on each device (it reports the inventory)`,
    }),
    requirement({
      level: 1,
      id: 'tool-calls-seen',
      requirement: "agents report their tool calls to Writ's hooks",
      met: log.size > 0,
      detail: `${plural(log.size, 'event')} in the log`,
      fix: INSTALL_CLAUDE,
    }),
    requirement({
      level: 2,
      id: 'agents-governed',
      requirement: 'every agent found on every device runs under Writ policy',
      met: agents.total > 0 && agents.governed === agents.total,
      detail: `${plural(agents.total, 'agent install')}: ${agents.governed} governed, ${agents.ungoverned} ungoverned, ${agents.total - agents.governed - agents.ungoverned} unknown`,
      fix: `${INSTALL_CLAUDE} on the devices the Fleet page shows with ungoverned agents`,
    }),
    requirement({
      level: 2,
      id: 'mcp-approved',
      requirement: 'every MCP server is approved in the register, or refused',
      met: mcpServers.unapproved === 0,
      detail: `${plural(mcpServers.total, 'MCP server')}: ${mcpServers.approved} approved, ${mcpServers.unapproved} not approved everywhere`,
      fix: 'approve or reject each on the Agents and MCP page, or kill it',
    }),
    requirement({
      level: 2,
      id: 'guard-healthy',
      requirement: 'the guard is on, passed its self-test and sent a heartbeat in the last 24 hours on every device',
      met: devices.total > 0 && guardProblems === 0,
      detail: `hooks off on ${devices.guardOff}, self-test failed on ${devices.selfTestFailed}, no heartbeat for 24 hours on ${devices.heartbeatStale}`,
      fix: `${START_DAEMON} on those devices; if the self-test fails, ${INSTALL_CLAUDE} again`,
    }),
    requirement({
      level: 3,
      id: 'verified-identity',
      requirement: 'every device is enrolled to a person verified by the identity provider (OIDC)',
      met: devices.total > 0 && devices.unverified === 0,
      detail: `${plural(devices.unverified, 'device')} enrolled without an identity provider`,
      fix: 'writ enroll --server URL --issuer URL --client-id ID on those devices',
    }),
    requirement({
      level: 3,
      id: 'posture-continuous',
      requirement: 'the posture of every device was collected in the last 24 hours',
      met: devices.total > 0 && devices.postureStale === 0,
      detail: `${plural(devices.postureStale, 'device')} with no posture from the last 24 hours`,
      fix: START_DAEMON,
    }),
    requirement({
      level: 3,
      id: 'log-checkpointed',
      requirement: "the org's transparency log has a signed checkpoint from the last 24 hours",
      met: log.size > 0 && checkpointAge <= FRESH_MS,
      detail: log.checkpointAt ? `latest checkpoint: size ${log.checkpointSize} of ${log.size}, signed ${log.checkpointAt}` : 'no checkpoint signed yet',
      fix: 'keep writ server running: it signs a checkpoint whenever the log grows',
    }),
  ];
}

function fleetQuestions(facts: FleetFacts): QuestionAnswer[] {
  const { devices, agents, mcpServers, log } = facts;
  const silent = devices.total - devices.reporting;
  const unknownAgents = agents.total - agents.governed - agents.ungoverned;
  const answer = (id: QuestionAnswer['id'], answered: QuestionAnswer['answered'], text: string, evidence: string[]): QuestionAnswer => ({ id, question: QUESTIONS[id], answered, answer: text, evidence });
  if (devices.total === 0) {
    const none = `no device is enrolled yet: ${ENROLL}`;
    return (['agents', 'access', 'identity', 'health', 'proof'] as const)
      .map((id) => answer(id, 'no', none, []))
      .concat(answer('speed', 'yes', `counted in ${facts.query_ms} ms`, []));
  }
  return [
    answer(
      'agents',
      silent === 0 ? 'yes' : 'partly',
      `${plural(agents.total, 'agent install')} on ${plural(devices.reporting, 'device')}: ${agents.governed} governed by Writ, ${agents.ungoverned} ungoverned${unknownAgents ? `, ${unknownAgents} unknown` : ''}${silent ? `; ${plural(silent, 'device')} never reported` : ''}`,
      ['fleet inventory (inventory.reported events)'],
    ),
    answer(
      'access',
      mcpServers.unapproved === 0 ? 'yes' : 'partly',
      mcpServers.total === 0 ? 'no MCP server is configured on any device' : `${plural(mcpServers.total, 'MCP server')}, ${mcpServers.unapproved} not approved everywhere they are loaded`,
      ['fleet inventory joined to the policy’s MCP register'],
    ),
    answer(
      'identity',
      devices.unverified === 0 ? 'yes' : 'partly',
      `${plural(devices.total, 'device')} enrolled to ${plural(facts.people, 'person', 'people')}; every event is signed by its device and names the person; ${devices.unverified} devices were enrolled without an identity provider`,
      ['device certificates', `${plural(facts.sessions, 'session')} in the window`],
    ),
    answer(
      'health',
      devices.postureStale === 0 ? 'yes' : devices.postureStale < devices.total ? 'partly' : 'no',
      `${plural(devices.postureFailing, 'device')} failing a posture check; ${plural(devices.postureStale, 'device')} with no posture from the last 24 hours; guard off on ${devices.guardOff}, self-test failed on ${devices.selfTestFailed}`,
      ['posture.changed and guard.heartbeat events'],
    ),
    answer(
      'proof',
      log.checkpointAt ? 'yes' : log.size > 0 ? 'partly' : 'no',
      log.size === 0 ? 'nothing is recorded yet' : `${plural(log.size, 'event')} in the org's transparency log${log.checkpointAt ? `, latest signed checkpoint ${log.checkpointAt} (size ${log.checkpointSize}); an evidence bundle checks with writ verify` : ', not yet checkpointed'}`,
      ['the Merkle log and its signed checkpoints'],
    ),
    answer('speed', 'yes', `answered for the whole fleet in ${facts.query_ms} ms, from data the devices push as it changes`, []),
  ];
}
