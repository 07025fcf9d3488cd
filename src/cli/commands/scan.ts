// writ scan: what AI agents and MCP servers this device has, whether Writ governs them, the device's posture,
// and the seeds' six questions with the maturity level. It only reads: the journal read-only, enrollment.json,
// the agents' own files. Anything broken becomes a finding, never a failed scan (exit code 0).
import { existsSync } from 'node:fs';
import { homedir, hostname, userInfo } from 'node:os';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { parseEnvelope } from '../../core/dsse.js';
import { openEvent } from '../../core/event.js';
import type { DeviceInventory, Finding, SelfTestResult } from '../../core/inventory.js';
import { assessMaturity, type EvidenceFacts, type MaturityAssessment } from '../../detect/maturity.js';
import { claudeCodeGuardState } from '../../agents/claude-code/guard.js';
import type { PolicyFile } from '../../core/policy-bundle.js';
import { readPersistedControl } from '../../daemon/control-client.js';
import { orgPublicKey, readEnrollment, type Enrollment } from '../../daemon/enrollment.js';
import { collectPosture } from '../../daemon/posture-collector.js';
import { discoverDevice } from '../../discovery/index.js';
import { policyDirFor, readPolicyDir } from '../../home/policy-files.js';
import { DEFAULT_SETTINGS, settingsOf, type PolicySettings } from '../../policy/settings.js';
import { verifyJournal } from '../../daemon/journal.js';
import { loadPublicKey } from '../../daemon/keys.js';
import { INCLUDED_SEQ_KEY, LOG_CHECKPOINT_KEY } from '../../daemon/uploader.js';
import { openLogCheckpoint } from '../../ledger/log-checkpoint.js';
import { parseVerifierKey } from '../../ledger/note.js';
import { resolveWritHome, type WritHome } from '../../home/writ-home.js';
import { UsageError, type Command } from '../command.js';

export interface ScanReport {
  inventory: DeviceInventory;
  assessment: MaturityAssessment;
  facts: EvidenceFacts;
}

export interface ScanOptions {
  home: WritHome;
  /** A project whose own MCP configuration (.mcp.json, .codex, .gemini) is read too. */
  projectDir?: string;
  env?: NodeJS.ProcessEnv;
  /** Where agent binaries are looked for, replacing PATH and the install places (discovery's pathEnv). */
  pathEnv?: string;
  now?: () => Date;
}

/** Collects the inventory and the evidence, then assesses them; the duration covers all of it. */
export async function scanDevice(options: ScanOptions): Promise<ScanReport> {
  const started = performance.now();
  const now = options.now ?? (() => new Date());
  const findings: Finding[] = [];
  const { evidence, enrollment } = readEvidence(options.home, findings);
  const inventory = await collectInventory(options, enrollment, findings);
  if (evidence.self_test) inventory.guard!.self_test = evidence.self_test;
  inventory.findings.push(...findings);
  const facts: EvidenceFacts = { ...evidence, now: now().toISOString(), scan_ms: performance.now() - started };
  return { inventory, assessment: assessMaturity(inventory, facts), facts };
}

// Discovery's 3 s default is too short for Gemini CLI's --version, which needs about 2.7 s of CPU (6-10 s of wall
// time on a loaded machine), and an unconfirmed version turns an installed agent into "leftovers". Only a hung
// binary ever waits this long.
const VERSION_TIMEOUT_MS = 20_000;

async function collectInventory(options: ScanOptions, enrollment: Enrollment | undefined, findings: Finding[]): Promise<DeviceInventory> {
  const env = options.env ?? process.env;
  const userHome = env.HOME ?? homedir();
  const collectedAt = (options.now ?? (() => new Date()))().toISOString();
  const settings = registerSettings(options.home, enrollment, findings);
  // Discovery and posture run side by side: both mostly wait on other programs (--version, systemctl, lsblk).
  const [discovery, posture] = await Promise.all([
    discoverDevice({ home: userHome, ...(options.projectDir && { projectDir: options.projectDir }), settings, versionTimeoutMs: VERSION_TIMEOUT_MS, ...(options.pathEnv !== undefined && { pathEnv: options.pathEnv }) }).catch((error: Error) => {
      findings.push({ severity: 'error', subject: 'discovery', message: `agent discovery failed: ${error.message}` });
      return { agents: [], mcp_servers: [], findings: [] };
    }),
    collectPosture({ env }).catch((error: Error) => {
      findings.push({ severity: 'warning', subject: 'posture', message: `posture checks failed: ${error.message}` });
      return undefined;
    }),
  ]);
  const guard = claudeCodeGuardState({ home: userHome, ...(options.projectDir && { projectDir: options.projectDir }) });
  return {
    v: 1,
    collected_at: collectedAt,
    agents: discovery.agents,
    mcp_servers: discovery.mcp_servers,
    ...(posture && { posture }),
    guard: { agents: [guard], uncovered_calls: [] },
    findings: discovery.findings,
  };
}

/** The MCP register is in the policy in force: the org's bundle when one is kept, else the device's policy directory. */
function registerSettings(home: WritHome, enrollment: Enrollment | undefined, findings: Finding[]): PolicySettings {
  let files: PolicyFile[] | undefined;
  if (enrollment) {
    const problem = (line: string) => findings.push({ severity: 'warning', subject: 'policy', message: line });
    files = readPersistedControl(home, orgPublicKey(enrollment), problem).bundle?.files;
  }
  try {
    files ??= readPolicyDir(policyDirFor(undefined, home.policy));
  } catch (error) {
    findings.push({ severity: 'warning', subject: 'policy', message: `${(error as Error).message}; every MCP server counts as unapproved`, path: home.policy });
    return DEFAULT_SETTINGS;
  }
  const { settings, problems } = settingsOf(files);
  for (const problem of problems) findings.push({ severity: 'warning', subject: 'policy', message: `settings.json line ${problem.line}: ${problem.message}` });
  return settings;
}

type Evidence = Omit<EvidenceFacts, 'now' | 'scan_ms'>;

/** enrollment.json and the journal, each read on its own so one broken file does not hide the other. */
function readEvidence(home: WritHome, findings: Finding[]): { evidence: Evidence; enrollment?: Enrollment } {
  const evidence: Evidence = {};
  try {
    evidence.os_user = userInfo().username;
  } catch {
    // No passwd entry (some containers): the scan goes on without a name.
  }
  let enrollment: Enrollment | undefined;
  try {
    enrollment = readEnrollment(home.enrollment);
  } catch (error) {
    evidence.enrollment_problem = (error as Error).message;
    findings.push({ severity: 'error', subject: 'enrollment', message: (error as Error).message, path: home.enrollment });
  }
  if (enrollment) {
    const { email, id, iss } = enrollment.person;
    evidence.enrollment = { server: enrollment.server, device_id: enrollment.device_id, assurance: enrollment.assurance, person: { id, iss, ...(email && { email }) } };
  }
  if (!existsSync(home.journal)) return { evidence, enrollment };
  try {
    Object.assign(evidence, readJournalEvidence(home, enrollment?.org));
  } catch (error) {
    evidence.journal = { events: 0, verified: false, problem: (error as Error).message };
    findings.push({ severity: 'error', subject: 'journal', message: `cannot read the journal: ${(error as Error).message}`, path: home.journal });
  }
  return { evidence, enrollment };
}

// Kinds whose signed data names the policy in force; the latest one wins.
const POLICY_EVENT_KINDS = ['daemon.start', 'policy.loaded'];
const HEARTBEAT_KIND = 'guard.heartbeat';

function readJournalEvidence(home: WritHome, org: { origin: string; verifier_key: string } | undefined): Partial<Evidence> {
  // Read-only, like writ log: the scan may run while the daemon writes.
  const db = new Database(home.journal, { readonly: true, fileMustExist: true });
  const evidence: Partial<Evidence> = {};
  try {
    const latest = (kinds: string[]) => {
      const row = db.prepare(`SELECT envelope FROM events WHERE kind IN (${kinds.map(() => '?').join(',')}) ORDER BY seq DESC LIMIT 1`).pluck().get(...kinds) as string | undefined;
      return row === undefined ? undefined : openEvent(parseEnvelope(row));
    };
    const meta = (key: string) => db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(key) as string | undefined;
    const last = db.prepare('SELECT time FROM events ORDER BY seq DESC LIMIT 1').pluck().get() as string | undefined;

    const policyEvent = latest(POLICY_EVENT_KINDS);
    const policyHash = policyEvent?.data.policy_hash;
    if (typeof policyHash === 'string') evidence.policy = { hash: policyHash, org_bundle: typeof policyEvent?.data.bundle === 'string', loaded_at: policyEvent!.time };

    const selfTest = latest([HEARTBEAT_KIND])?.data.self_test as SelfTestResult | undefined;
    if (isSelfTest(selfTest)) evidence.self_test = selfTest;

    const note = meta(LOG_CHECKPOINT_KEY);
    if (note !== undefined) {
      // The daemon stores a checkpoint only after verifying it; check again, against the key pinned at enrolment.
      let size = 0;
      let witnessed = false;
      try {
        if (org) ({ size } = openLogCheckpoint(note, parseVerifierKey(org.verifier_key), org.origin));
        witnessed = org !== undefined;
      } catch {
        witnessed = false;
      }
      const included = Number(meta(INCLUDED_SEQ_KEY) ?? 0);
      evidence.checkpoint = { size, witnessed, ...(Number.isSafeInteger(included) && included > 0 && { included_seq: included }) };
    }

    const verdict = verifyJournal(home.journal, loadPublicKey(home.root));
    evidence.journal = verdict.ok
      ? { events: verdict.events, verified: true, ...(last && { last_event_at: last }) }
      : { events: db.prepare('SELECT count(*) FROM events').pluck().get() as number, verified: false, problem: verdict.problem };
  } finally {
    db.close();
  }
  return evidence;
}

function isSelfTest(value: unknown): value is SelfTestResult {
  const test = value as SelfTestResult | undefined;
  return typeof test?.at === 'string' && typeof test.passed === 'boolean' && typeof test.detail === 'string';
}

/** The text report: what needs attention first, then the inventory, the six questions and the level. */
export function renderScan({ inventory, assessment, facts }: ScanReport, host: string): string {
  const lines: string[] = [`writ scan of ${host}${facts.os_user ? ` as ${facts.os_user}` : ''}, ${facts.now}`, ''];
  const ungoverned = inventory.agents.filter((agent) => agent.governance !== 'governed');
  const unapproved = inventory.mcp_servers.filter((server) => server.approval === 'unapproved');
  const failing = inventory.posture?.checks.filter((check) => check.status === 'fail') ?? [];
  const problems = inventory.findings.filter((finding) => finding.severity !== 'info');
  if (ungoverned.length + unapproved.length + failing.length + problems.length > 0) {
    lines.push('Needs attention');
    for (const agent of ungoverned) lines.push(`  ! agent ${agent.id}${agent.version ? ` ${agent.version}` : ''} is ${agent.governance}: ${agent.governance_reason}`);
    for (const server of unapproved) lines.push(`  ! MCP server ${server.name} (${server.agent}, ${server.scope}) is not approved: ${serverTarget(server)}`);
    for (const check of failing) lines.push(`  ! posture ${check.name} fails${check.reason ? `: ${check.reason}` : ''}`);
    for (const finding of problems) lines.push(`  ! ${finding.severity} ${finding.subject}: ${finding.message}${finding.path ? ` (${finding.path})` : ''}`);
    lines.push('');
  }
  lines.push(`Agents (${inventory.agents.length})`);
  for (const agent of sortFirst(inventory.agents, (agent) => agent.governance !== 'governed')) {
    lines.push(`  ${agent.id.padEnd(14)} ${(agent.version ?? '?').padEnd(10)} ${agent.governance.padEnd(10)} ${agent.running ? 'running' : 'not running'}`);
  }
  lines.push('', `MCP servers (${inventory.mcp_servers.length})`);
  for (const server of sortFirst(inventory.mcp_servers, (server) => server.approval === 'unapproved')) {
    const env = server.env_names.length ? ` env: ${server.env_names.join(', ')}` : '';
    const headers = server.header_names.length ? ` headers: ${server.header_names.join(', ')}` : '';
    lines.push(`  ${server.name.padEnd(16)} ${server.approval.padEnd(10)} ${server.agent}/${server.scope} ${server.transport} ${serverTarget(server)}${env}${headers}`);
  }
  lines.push('', 'Posture');
  if (!inventory.posture) lines.push('  not collected');
  for (const check of sortFirst(inventory.posture?.checks ?? [], (check) => check.status === 'fail')) {
    lines.push(`  ${check.name.padEnd(20)} ${check.status.padEnd(8)} ${check.value !== undefined ? String(check.value) : ''}${check.reason ? `  ${check.reason}` : ''}`);
  }
  lines.push('', 'The six questions');
  assessment.questions.forEach((question, index) => {
    lines.push(`  ${index + 1}. ${question.question}`, `     ${question.answered.toUpperCase()}: ${question.answer}`);
  });
  lines.push('', `Maturity: level ${assessment.level}, ${assessment.level_name}`);
  if (assessment.next) {
    lines.push(`  For level ${assessment.next.level} (${assessment.next.level_name}):`);
    for (const item of assessment.next.missing) lines.push(`  - ${item.requirement}: ${item.detail}`, `    fix: ${item.fix}`);
  }
  return lines.join('\n') + '\n';
}

function serverTarget(server: DeviceInventory['mcp_servers'][number]): string {
  return server.url ?? [server.command, ...(server.args ?? [])].filter(Boolean).join(' ');
}

function sortFirst<T>(items: T[], first: (item: T) => boolean): T[] {
  return [...items.filter(first), ...items.filter((item) => !first(item))];
}

export const scanCommand: Command = {
  usage: 'scan [--json] [--project DIR] [--home DIR]',
  summary: "list this device's AI agents, MCP servers and posture, ungoverned first, then the six questions and the maturity level",
  options: { json: { type: 'boolean' }, project: { type: 'string' }, home: { type: 'string' } },
  async run({ values, positionals }) {
    if (positionals.length > 0) throw new UsageError(`scan takes no arguments, not "${positionals.join(' ')}"`);
    const report = await scanDevice({ home: resolveWritHome(values.home as string | undefined), projectDir: values.project ? resolve(values.project as string) : undefined });
    if (values.json) process.stdout.write(JSON.stringify({ ...report.inventory, assessment: report.assessment, evidence: report.facts }, null, 2) + '\n');
    else process.stdout.write(renderScan(report, hostname()));
    return 0;
  },
};
