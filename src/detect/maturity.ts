// The six questions of the seeds and the maturity level (0 blind, 1 visible, 2 governed, 3 provable), answered
// for one device from its inventory and the evidence Writ keeps. Pure: the caller reads the files and the clock.
// docs/scan.md defines each level's requirements; this file is their only implementation.
import type { Assurance } from '../core/certificate.js';
import type { AgentFinding, DeviceInventory, McpServerFinding, SelfTestResult } from '../core/inventory.js';

/** What the device can show about identity and evidence, read by the caller (enrollment.json, the journal). */
export interface EvidenceFacts {
  /** RFC 3339; freshness of posture and self-test is judged against it. */
  now: string;
  /** The account the scan ran as; a name on a device, not a verified person. */
  os_user?: string;
  enrollment?: { server: string; device_id: string; assurance: Assurance; person: { id: string; email?: string; iss: string } };
  /** Why enrollment.json could not be used, when it exists but is broken. */
  enrollment_problem?: string;
  /** Absent when there is no journal. */
  journal?: { events: number; verified: boolean; problem?: string; last_event_at?: string };
  /** The last log checkpoint of the org server this device verified itself (witnessed), and the last seq proven in it. */
  checkpoint?: { size: number; witnessed: boolean; included_seq?: number };
  /** The policy the daemon last loaded: its hash, and whether it came from an org-signed bundle. */
  policy?: { hash: string; org_bundle: boolean; loaded_at?: string };
  /** Defaults to the guard report's self-test in the inventory. */
  self_test?: SelfTestResult;
  /** How long the scan took to collect everything, in milliseconds: the answer to "how fast". */
  scan_ms: number;
}

export type MaturityLevel = 0 | 1 | 2 | 3;
export const LEVEL_NAMES = ['blind', 'visible', 'governed', 'provable'] as const;
export type LevelName = (typeof LEVEL_NAMES)[number];

/** One requirement of one level: met or not, and what makes it met. */
export interface Requirement {
  level: 1 | 2 | 3;
  id: string;
  /** What must be true, in the seeds' terms. */
  requirement: string;
  met: boolean;
  /** What the data says (met or not). */
  detail: string;
  /** The command (or action) that meets it; absent when met. */
  fix?: string;
}

export type QuestionId = 'agents' | 'access' | 'identity' | 'health' | 'proof' | 'speed';

export interface QuestionAnswer {
  id: QuestionId;
  /** The seeds' wording. */
  question: string;
  /** yes: answered fully from evidence; partly: answered with gaps named in `answer`; no: cannot be answered here. */
  answered: 'yes' | 'partly' | 'no';
  answer: string;
  /** The facts behind the answer, each naming where it came from. */
  evidence: string[];
}

export interface MaturityAssessment {
  level: MaturityLevel;
  level_name: LevelName;
  questions: QuestionAnswer[];
  /** Every requirement of every level, met or not, in level order. */
  requirements: Requirement[];
  /** The next level and exactly what is missing for it; absent at level 3. */
  next?: { level: MaturityLevel; level_name: LevelName; missing: Requirement[] };
}

export const QUESTIONS: Record<QuestionId, string> = {
  agents: 'Do we even know which agents are running?',
  access: 'What can they access? Which tools are connected? Which MCP servers? Are there MCP servers attached that nobody approved?',
  identity: 'Who is running them? Can we tie each agent session back to a specific person on a specific device?',
  health: 'Are those devices healthy? Encrypted, firewall on, endpoint protection running, right now?',
  proof: 'Can we prove what happened, and that the record has not been tampered with?',
  speed: 'How fast can we answer these questions?',
};

/** Posture and self-test older than this are not "right now": the daemon refreshes both far more often. */
export const FRESH_MS = 24 * 60 * 60 * 1000;

export const START_DAEMON = 'writ daemon --detach';
export const INSTALL_CLAUDE = 'writ install claude-code --scope user';

export function assessMaturity(inventory: DeviceInventory, facts: EvidenceFacts): MaturityAssessment {
  const requirements = levelRequirements(inventory, facts);
  let level: MaturityLevel = 0;
  for (const candidate of [1, 2, 3] as const) {
    if (requirements.some((item) => item.level === candidate && !item.met)) break;
    level = candidate;
  }
  const assessment: MaturityAssessment = { level, level_name: LEVEL_NAMES[level], questions: sixQuestions(inventory, facts), requirements };
  if (level < 3) {
    const next = (level + 1) as MaturityLevel;
    assessment.next = { level: next, level_name: LEVEL_NAMES[next], missing: requirements.filter((item) => item.level === next && !item.met) };
  }
  return assessment;
}

function levelRequirements(inventory: DeviceInventory, facts: EvidenceFacts): Requirement[] {
  const now = Date.parse(facts.now);
  const errors = inventory.findings.filter((finding) => finding.severity === 'error');
  const governed = inventory.agents.filter((agent) => agent.governance === 'governed');
  const notGoverned = inventory.agents.filter((agent) => agent.governance !== 'governed');
  const unapproved = inventory.mcp_servers.filter((server) => server.approval === 'unapproved');
  const knownChecks = inventory.posture?.checks.filter((check) => check.status !== 'unknown') ?? [];
  const postureAge = inventory.posture ? now - Date.parse(inventory.posture.collected_at) : NaN;
  const selfTest = facts.self_test ?? inventory.guard?.self_test;
  const selfTestAge = selfTest ? now - Date.parse(selfTest.at) : NaN;
  const journal = facts.journal;
  const requirement = ({ fix, ...item }: Requirement): Requirement => (item.met ? item : { ...item, fix });
  return [
    requirement({
      level: 1,
      id: 'inventory',
      requirement: 'every agent and MCP configuration on the device was read',
      met: errors.length === 0,
      detail: errors.length === 0 ? `${inventory.agents.length} agents and ${inventory.mcp_servers.length} MCP servers found, nothing unreadable` : `unreadable: ${errors.map((finding) => `${finding.subject}${finding.path ? ` (${finding.path})` : ''}: ${finding.message}`).join('; ')}`,
      fix: 'repair or remove the files named in the findings, then run writ scan again',
    }),
    requirement({
      level: 1,
      id: 'tool-calls-seen',
      requirement: "at least one agent reports its tool calls to Writ's hooks",
      met: governed.length > 0,
      detail: governed.length > 0 ? `hooks active for ${governed.map((agent) => agent.id).join(', ')}` : 'no agent has Writ hooks active',
      fix: INSTALL_CLAUDE,
    }),
    requirement({
      level: 1,
      id: 'journal',
      requirement: 'a journal records the tool calls',
      met: (journal?.events ?? 0) > 0,
      detail: journal ? `${journal.events} events in the journal` : 'no journal on this device',
      fix: START_DAEMON,
    }),
    requirement({
      level: 1,
      id: 'posture',
      requirement: 'the device posture is collected',
      met: knownChecks.length > 0,
      detail: inventory.posture ? `${knownChecks.length} of ${inventory.posture.checks.length} posture checks have an answer` : 'no posture collected',
      fix: `${START_DAEMON} (it collects posture), or run writ scan with the privileges the unknown checks name`,
    }),
    requirement({
      level: 2,
      id: 'agents-governed',
      requirement: 'every agent found runs under Writ policy',
      met: inventory.agents.length > 0 && notGoverned.length === 0,
      detail: notGoverned.length > 0 ? `not governed: ${notGoverned.map((agent) => `${agent.id} (${agent.governance_reason})`).join('; ')}` : `${governed.length} of ${inventory.agents.length} agents governed`,
      fix: notGoverned.map(agentFix).join('; ') || INSTALL_CLAUDE,
    }),
    requirement({
      level: 2,
      id: 'mcp-approved',
      requirement: 'every MCP server is approved in the register, or refused',
      met: unapproved.length === 0,
      detail: unapproved.length === 0 ? `${inventory.mcp_servers.length} MCP servers, none unapproved` : `unapproved: ${unapproved.map(serverLabel).join(', ')}`,
      fix: `add each to the MCP register in the policy settings and writ policy publish DIR, or block it: ${unapproved.map((server) => `writ kill mcp:${server.name}`).join(', ')}`,
    }),
    requirement({
      level: 2,
      id: 'policy-in-force',
      requirement: 'a policy is loaded and enforced at runtime',
      met: facts.policy !== undefined,
      detail: facts.policy ? `policy ${facts.policy.hash}${facts.policy.loaded_at ? ` loaded ${facts.policy.loaded_at}` : ''}` : 'the journal names no loaded policy',
      fix: START_DAEMON,
    }),
    requirement({
      level: 2,
      id: 'guard-self-test',
      requirement: 'the guard proved itself in the last 24 hours (self-test passed)',
      met: selfTest !== undefined && selfTest.passed && selfTestAge <= FRESH_MS,
      detail: selfTest ? `self-test ${selfTest.passed ? 'passed' : `failed: ${selfTest.detail}`} at ${selfTest.at}` : 'no self-test recorded',
      fix: `${START_DAEMON} (it runs the self-test); if it fails, writ install claude-code again`,
    }),
    requirement({
      level: 2,
      id: 'posture-continuous',
      requirement: 'the posture is continuous: collected in the last 24 hours',
      met: postureAge <= FRESH_MS,
      detail: inventory.posture ? `collected ${inventory.posture.collected_at}` : 'no posture collected',
      fix: START_DAEMON,
    }),
    requirement({
      level: 3,
      id: 'verified-identity',
      requirement: 'the device is enrolled to a verified person (OIDC)',
      met: facts.enrollment?.assurance === 'oidc',
      detail: facts.enrollment
        ? `enrolled as ${personLabel(facts.enrollment.person)} with assurance ${facts.enrollment.assurance}`
        : facts.enrollment_problem ?? 'not enrolled',
      fix: 'writ enroll --server URL --issuer URL --client-id ID',
    }),
    requirement({
      level: 3,
      id: 'journal-verifies',
      requirement: "the journal's signatures and hash chain verify",
      met: journal?.verified === true && journal.events > 0,
      detail: journal ? (journal.verified ? `${journal.events} events verified` : `does not verify: ${journal.problem ?? 'unknown problem'}`) : 'no journal',
      fix: journal && !journal.verified ? 'writ verify, then investigate the event it names: the journal was altered' : START_DAEMON,
    }),
    requirement({
      level: 3,
      id: 'log-witnessed',
      requirement: "the journal is in the org's transparency log, proven by a checkpoint this device verified",
      met: facts.checkpoint?.witnessed === true && (facts.checkpoint.included_seq ?? 0) > 0,
      detail: facts.checkpoint
        ? `checkpoint of size ${facts.checkpoint.size} ${facts.checkpoint.witnessed ? 'verified' : 'not verified'} by this device${facts.checkpoint.included_seq ? `, events up to ${facts.checkpoint.included_seq} proven included` : ', no event proven included yet'}`
        : 'no server checkpoint verified',
      fix: facts.enrollment ? `keep the daemon running enrolled to ${facts.enrollment.server}: ${START_DAEMON}` : 'writ enroll --server URL, then writ daemon --detach',
    }),
    requirement({
      level: 3,
      id: 'org-policy',
      requirement: "the policy in force is the org's signed bundle",
      met: facts.policy?.org_bundle === true,
      detail: facts.policy ? (facts.policy.org_bundle ? 'org-signed policy bundle in force' : 'a local policy directory is in force') : 'no policy loaded',
      fix: 'writ policy publish DIR (an admin, on the server), then the enrolled daemon loads it',
    }),
  ];
}

function agentFix(agent: AgentFinding): string {
  if (agent.id === 'claude-code') return INSTALL_CLAUDE;
  return `Writ has no hooks for ${agent.name} yet: remove it or accept it ungoverned`;
}

function sixQuestions(inventory: DeviceInventory, facts: EvidenceFacts): QuestionAnswer[] {
  return [agentsAnswer(inventory), accessAnswer(inventory), identityAnswer(facts), healthAnswer(inventory, facts), proofAnswer(facts), speedAnswer(facts)];
}

function agentsAnswer(inventory: DeviceInventory): QuestionAnswer {
  const running = inventory.agents.filter((agent) => agent.running);
  const ungoverned = inventory.agents.filter((agent) => agent.governance !== 'governed');
  const errors = inventory.findings.filter((finding) => finding.severity === 'error');
  return {
    id: 'agents',
    question: QUESTIONS.agents,
    answered: errors.length > 0 ? 'partly' : 'yes',
    answer:
      inventory.agents.length === 0
        ? 'no agent found on this device'
        : `${inventory.agents.length} agents installed, ${running.length} running now, ${ungoverned.length} not governed by Writ${errors.length > 0 ? `; ${errors.length} sources could not be read` : ''}`,
    evidence: inventory.agents.map(
      (agent) => `${agent.id} ${agent.version ?? '(version unconfirmed)'}: ${agent.running ? 'running' : 'not running'}, ${agent.governance} (${agent.evidence.map((item) => item.path ?? item.source).join(', ')})`,
    ),
  };
}

function accessAnswer(inventory: DeviceInventory): QuestionAnswer {
  const servers = inventory.mcp_servers;
  const unapproved = servers.filter((server) => server.approval === 'unapproved');
  const withSecrets = servers.filter((server) => server.env_names.length > 0 || server.header_names.length > 0);
  const registered = servers.filter((server) => server.register?.data?.length);
  return {
    id: 'access',
    question: QUESTIONS.access,
    // What an unregistered server can reach is unknown: the register is where the org writes it down.
    answered: unapproved.length === 0 ? 'yes' : 'partly',
    answer:
      servers.length === 0
        ? 'no MCP server is configured; agents have their built-in tools only'
        : `${servers.length} MCP servers, ${unapproved.length} not approved by anyone; ${withSecrets.length} are given credentials by environment or header; ${registered.length} have their data reach in the register`,
    evidence: servers.map(
      (server) =>
        `${serverLabel(server)} [${server.approval}] ${server.transport} ${server.url ?? [server.command, ...(server.args ?? [])].join(' ')}` +
        `${server.env_names.length ? ` env ${server.env_names.join(',')}` : ''}${server.register?.data?.length ? ` reaches ${server.register.data.join(', ')}` : ''} (${server.file})`,
    ),
  };
}

function identityAnswer(facts: EvidenceFacts): QuestionAnswer {
  const enrollment = facts.enrollment;
  const evidence = [
    ...(enrollment ? [`enrolled to ${enrollment.server} as device ${enrollment.device_id}, person ${personLabel(enrollment.person)}, assurance ${enrollment.assurance}`] : []),
    ...(facts.enrollment_problem ? [`enrolment unusable: ${facts.enrollment_problem}`] : []),
    ...(facts.os_user ? [`OS user ${facts.os_user}`] : []),
  ];
  if (enrollment?.assurance === 'oidc') {
    return { id: 'identity', question: QUESTIONS.identity, answered: 'yes', answer: `every event this device signs names ${personLabel(enrollment.person)}, verified by ${enrollment.person.iss}, on device ${enrollment.device_id}`, evidence };
  }
  if (enrollment) {
    return { id: 'identity', question: QUESTIONS.identity, answered: 'partly', answer: `events name the device ${enrollment.device_id} and the OS user vouched for by an enrolment token, not a person verified by an identity provider`, evidence };
  }
  const who = facts.os_user ? `the OS user ${facts.os_user}` : 'an OS user';
  return { id: 'identity', question: QUESTIONS.identity, answered: 'no', answer: `not enrolled: sessions are tied to ${who} on this device only, a name in a log, not a verified identity`, evidence };
}

function healthAnswer(inventory: DeviceInventory, facts: EvidenceFacts): QuestionAnswer {
  const posture = inventory.posture;
  if (!posture) return { id: 'health', question: QUESTIONS.health, answered: 'no', answer: 'no posture collected', evidence: [] };
  const failing = posture.checks.filter((check) => check.status === 'fail');
  const unknown = posture.checks.filter((check) => check.status === 'unknown');
  const fresh = Date.parse(facts.now) - Date.parse(posture.collected_at) <= FRESH_MS;
  const verdict = failing.length > 0 ? `not healthy: ${failing.map((check) => check.name).join(', ')} failing` : unknown.length > 0 ? 'no check fails, but some could not be answered' : 'healthy';
  return {
    id: 'health',
    question: QUESTIONS.health,
    answered: unknown.length === 0 && fresh ? 'yes' : unknown.length < posture.checks.length ? 'partly' : 'no',
    answer: `${verdict} (collected ${posture.collected_at}${fresh ? '' : ', stale'})${unknown.length ? `; unknown: ${unknown.map((check) => check.name).join(', ')}` : ''}`,
    evidence: posture.checks.map((check) => `${check.name}: ${check.status}${check.value !== undefined ? ` (${String(check.value)})` : ''}${check.reason ? `, ${check.reason}` : ''}${check.source ? ` [${check.source}]` : ''}`),
  };
}

function proofAnswer(facts: EvidenceFacts): QuestionAnswer {
  const { journal, checkpoint, enrollment } = facts;
  const evidence = [
    journal ? `journal: ${journal.events} events, ${journal.verified ? 'signatures and hash chain verify' : `does not verify: ${journal.problem ?? ''}`}${journal.last_event_at ? `, last ${journal.last_event_at}` : ''}` : 'no journal',
    checkpoint ? `org log checkpoint size ${checkpoint.size}, ${checkpoint.witnessed ? 'verified by this device' : 'not verified'}${checkpoint.included_seq ? `, events up to ${checkpoint.included_seq} proven included` : ''}` : 'no org log checkpoint verified',
    ...(facts.policy ? [`policy ${facts.policy.hash}${facts.policy.org_bundle ? ' (org-signed bundle)' : ' (local)'}`] : []),
  ];
  if (!journal || journal.events === 0) return { id: 'proof', question: QUESTIONS.proof, answered: 'no', answer: 'nothing is recorded on this device', evidence };
  if (!journal.verified) return { id: 'proof', question: QUESTIONS.proof, answered: 'no', answer: `the journal does not verify (${journal.problem ?? 'unknown problem'}): the record cannot be trusted`, evidence };
  if (checkpoint?.witnessed && (checkpoint.included_seq ?? 0) > 0 && enrollment?.assurance === 'oidc') {
    return { id: 'proof', question: QUESTIONS.proof, answered: 'yes', answer: `every event is signed by this device, chained, and proven in the org's transparency log; anyone with the org key can check an export with writ verify`, evidence };
  }
  return {
    id: 'proof',
    question: QUESTIONS.proof,
    answered: 'partly',
    answer: `the device's journal is signed and chained, so tampering on this device shows${checkpoint?.witnessed ? '' : ", but it is not yet in an org log it could not rewrite alone"}${enrollment?.assurance === 'oidc' ? '' : ', and it is not tied to a verified person'}`,
    evidence,
  };
}

function speedAnswer(facts: EvidenceFacts): QuestionAnswer {
  const seconds = (facts.scan_ms / 1000).toFixed(facts.scan_ms < 10_000 ? 2 : 0);
  return {
    id: 'speed',
    question: QUESTIONS.speed,
    answered: 'yes',
    answer: `${seconds} s for this device, measured by this scan${facts.enrollment ? `; the fleet's answers are on ${facts.enrollment.server} (writ fleet devices)` : '; across a fleet only once devices are enrolled'}`,
    evidence: [`scan took ${Math.round(facts.scan_ms)} ms`],
  };
}

function serverLabel(server: McpServerFinding): string {
  return `${server.agent}/${server.scope}/${server.name}`;
}

function personLabel(person: { id: string; email?: string }): string {
  return person.email ? `${person.email} (${person.id})` : person.id;
}
