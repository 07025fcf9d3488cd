// "Is the guard really on?": the daemon's signed answer. Every interval it records `guard.heartbeat` (each
// agent's guard state, the self-test, calls the agent's own record shows without a Writ decision, and the
// policy in force); at start and whenever it changes, `inventory.reported` (agents, MCP servers, posture and
// guard). Both go through the daemon's `record`, so they are signed, chained and uploaded like every event.
// Discovery runs off the hook path, bounded in time.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { canonicalJson } from '../core/canonical-json.js';
import { sha256Hex } from '../core/digest.js';
import type { DeviceInventory, Finding, GuardAgentState, GuardReport, PostureReport } from '../core/inventory.js';
import type { HookPayload } from '../agents/claude-code/hook-contract.js';
import { claudeCodeGuardState } from '../agents/claude-code/guard.js';
import { discoverDevice } from '../discovery/index.js';
import type { WritHome } from '../home/writ-home.js';
import type { Decision, PreparedPolicy } from '../policy/index.js';
import { checkCoverage, type CoverageResult } from './coverage.js';
import type { Journal } from './journal.js';
import { runSelfTest, type SelfTest } from './self-test.js';

export const DEFAULT_GUARD_INTERVAL_MS = 5 * 60 * 1000;
const DEFAULT_DISCOVERY_TIMEOUT_MS = 30_000;
/** The first inventory waits until start-up has settled, so discovery's probes do not compete with the first hooks. */
const DEFAULT_FIRST_INVENTORY_DELAY_MS = 10_000;
/** Uncovered calls already reported are not repeated; the memory of them is bounded. */
const MAX_REMEMBERED_CALLS = 10_000;
const MAX_CALLS_PER_REPORT = 200;

/** What a ConfigChange leaves of the guard: undefined while Writ's hooks are still in force. */
export function configChangeVerdict(payload: HookPayload, state: GuardAgentState): { event: Record<string, unknown>; output: string } | undefined {
  if (state.hooks_installed) return undefined;
  const file = typeof payload.file_path === 'string' ? payload.file_path : undefined;
  const source = typeof payload.source === 'string' ? payload.source : undefined;
  // Claude Code lets a hook block any settings change except to policy (managed) settings.
  const blocked = source !== 'policy_settings';
  const what = state.settings.some((settings) => settings.disable_all_hooks) ? 'sets disableAllHooks' : "removes Writ's hooks";
  const reason = `Writ blocked this settings change: it ${what}${file ? ` (${file})` : ''}, which turns off Writ's guard, so this session keeps the settings it had. The file on disk is already changed: undo the change, or reinstall with \`writ install claude-code\`.`;
  return {
    event: { agent: state.agent, ...(source && { source }), ...(file && { file }), state, blocked },
    output: blocked ? JSON.stringify({ decision: 'block', reason }) : '',
  };
}

/** The device's inventory without the guard, from discovery and the posture collector. */
export type InventoryParts = Pick<DeviceInventory, 'agents' | 'mcp_servers' | 'findings'> & { posture?: PostureReport };

export interface GuardReporterOptions {
  record(kind: string, data: Record<string, unknown>): void;
  /** Each governed agent's guard state as its settings now stand. */
  guardStates(): GuardAgentState[];
  /** The self-test through the installed hook, for Claude Code's state. */
  selfTest(guard: GuardAgentState): Promise<SelfTest>;
  /** Transcript calls since `since` with no PreToolUse decision. */
  coverage(since: Date): Promise<CoverageResult>;
  /** Discovery and posture; absent, the inventory holds the guard alone. */
  inventory?(): Promise<InventoryParts>;
  policyHash(): string;
  bundle(): string | undefined;
  kills(): readonly string[];
  intervalMs?: number;
  discoveryTimeoutMs?: number;
  firstInventoryDelayMs?: number;
  now(): Date;
  log(line: string): void;
}

/** A heartbeat as recorded, with what it cost. */
export interface GuardHeartbeat extends GuardReport {
  policy_hash: string;
  bundle?: string;
  kills: string[];
  findings: Finding[];
  duration_ms: number;
}

export class GuardReporter {
  #timer: NodeJS.Timeout | undefined;
  #firstInventory: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | undefined;
  #last: GuardHeartbeat | undefined;
  #since: Date;
  #reported = new Set<string>();
  #inventoryHash: string | undefined;
  #stopped = false;

  constructor(private readonly options: GuardReporterOptions) {
    // The first heartbeat looks back one interval before start-up, so calls made while the daemon was down are seen.
    this.#since = new Date(options.now().getTime() - this.interval());
  }

  start(): void {
    // Each tick checks the guard, then looks for inventory changes; neither runs on a hook's path.
    this.#timer = setInterval(() => {
      void this.heartbeat()
        .catch((error) => this.options.log(`guard heartbeat: ${(error as Error).message}`))
        .then(() => this.reportInventory())
        .catch((error) => this.options.log(`inventory: ${(error as Error).message}`));
    }, this.interval());
    this.#timer.unref();
    this.#firstInventory = setTimeout(
      () => void this.reportInventory().catch((error) => this.options.log(`inventory: ${(error as Error).message}`)),
      this.options.firstInventoryDelayMs ?? DEFAULT_FIRST_INVENTORY_DELAY_MS,
    );
    this.#firstInventory.unref();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    clearTimeout(this.#firstInventory);
    await this.#running?.catch(() => {});
  }

  last(): GuardHeartbeat | undefined {
    return this.#last;
  }

  /** Checks the guard now and records `guard.heartbeat`; heartbeats never overlap (a second caller shares the first). */
  heartbeat(): Promise<GuardHeartbeat> {
    if (this.#running) return this.#running.then(() => this.heartbeat());
    const run = this.#heartbeat();
    this.#running = run.finally(() => (this.#running = undefined));
    return run;
  }

  async #heartbeat(): Promise<GuardHeartbeat> {
    const started = performance.now();
    const checkedFrom = this.options.now();
    const findings: Finding[] = [];
    const agents = this.#guardStates(findings);
    const claude = agents.find((agent) => agent.agent === 'claude-code');
    const selfTest = claude ? await this.options.selfTest(claude) : undefined;
    let coverage: CoverageResult = { uncovered_calls: [], findings: [], transcripts: 0 };
    try {
      coverage = await this.options.coverage(this.#since);
      this.#since = checkedFrom;
    } catch (error) {
      findings.push({ severity: 'warning', subject: 'coverage', message: `the transcripts could not be checked: ${(error as Error).message}` });
    }
    findings.push(...coverage.findings);
    const fresh = coverage.uncovered_calls.filter((call) => !this.#reported.has(call.tool_use_id));
    for (const call of fresh) this.#remember(call.tool_use_id);
    if (fresh.length > MAX_CALLS_PER_REPORT) findings.push({ severity: 'warning', subject: 'coverage', message: `${fresh.length} uncovered calls; only the first ${MAX_CALLS_PER_REPORT} are listed` });
    const bundle = this.options.bundle();
    const heartbeat: GuardHeartbeat = {
      agents,
      ...(selfTest && { self_test: selfTest }),
      uncovered_calls: fresh.slice(0, MAX_CALLS_PER_REPORT),
      policy_hash: this.options.policyHash(),
      ...(bundle && { bundle }),
      kills: [...this.options.kills()],
      findings,
      duration_ms: 0,
    };
    heartbeat.duration_ms = Math.round(performance.now() - started);
    if (!this.#stopped) this.options.record('guard.heartbeat', { ...heartbeat });
    this.#last = heartbeat;
    return heartbeat;
  }

  /** Records `inventory.reported` when the inventory differs from the last one reported (always the first time). */
  async reportInventory(): Promise<DeviceInventory | undefined> {
    const findings: Finding[] = [];
    let parts: InventoryParts = { agents: [], mcp_servers: [], findings: [] };
    if (this.options.inventory) {
      const timeout = this.options.discoveryTimeoutMs ?? DEFAULT_DISCOVERY_TIMEOUT_MS;
      try {
        parts = await withTimeout(this.options.inventory(), timeout, `discovery took longer than ${timeout} ms`);
      } catch (error) {
        findings.push({ severity: 'warning', subject: 'discovery', message: (error as Error).message });
      }
    }
    const guard: GuardReport = { agents: this.#guardStates(findings), ...(this.#last?.self_test && { self_test: this.#last.self_test }), uncovered_calls: [] };
    const inventory: DeviceInventory = {
      v: 1,
      collected_at: this.options.now().toISOString(),
      agents: parts.agents,
      mcp_servers: parts.mcp_servers,
      ...(parts.posture && { posture: parts.posture }),
      guard,
      findings: [...parts.findings, ...findings],
    };
    const hash = inventoryHash(inventory);
    if (hash === this.#inventoryHash || this.#stopped) return undefined;
    this.#inventoryHash = hash;
    this.options.record('inventory.reported', { ...inventory, inventory_hash: hash });
    return inventory;
  }

  #guardStates(findings: Finding[]): GuardAgentState[] {
    try {
      return this.options.guardStates();
    } catch (error) {
      findings.push({ severity: 'error', subject: 'guard', message: `the guard state could not be read: ${(error as Error).message}` });
      return [];
    }
  }

  #remember(id: string): void {
    if (this.#reported.size >= MAX_REMEMBERED_CALLS) this.#reported.delete(this.#reported.values().next().value!);
    this.#reported.add(id);
  }

  private interval(): number {
    return this.options.intervalMs ?? DEFAULT_GUARD_INTERVAL_MS;
  }
}

/** What makes two inventories different: not when they were taken, nor how old the posture answers are. */
export function inventoryHash(inventory: DeviceInventory): string {
  const posture = inventory.posture && { ...inventory.posture, collected_at: undefined, patch_age_days: undefined, checks: inventory.posture.checks.map((check) => ({ ...check, checked_at: undefined, value: check.name === 'patch_age' ? undefined : check.value })) };
  return `sha256:${sha256Hex(canonicalJson(JSON.parse(JSON.stringify({ agents: inventory.agents, mcp_servers: inventory.mcp_servers, posture, guard: inventory.guard?.agents }))))}`;
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)))]).finally(() => clearTimeout(timer));
}

/** What `DaemonOptions.guard` may set. */
export interface GuardDaemonOptions {
  /** Heartbeat interval (default 5 min). */
  intervalMs?: number;
  /** The user's home, where Claude Code's settings and transcripts are (default: this process's). */
  userHome?: string;
  /** Claude Code's managed settings directory (default: the platform's). */
  managedDir?: string;
  /** false: no agent and MCP discovery, the inventory holds posture and guard only. */
  discovery?: boolean;
  discoveryTimeoutMs?: number;
  /** Delay of the first inventory after start (default 10 s). */
  firstInventoryDelayMs?: number;
}

export interface DaemonGuardDeps {
  options?: GuardDaemonOptions;
  home: WritHome;
  journal: Pick<Journal, 'list' | 'head'>;
  record(kind: string, data: Record<string, unknown>): void;
  /** The daemon's own decision on a payload, for choosing the self-test's canary. */
  decide(payload: HookPayload): Decision;
  policy(): PreparedPolicy;
  bundle(): string | undefined;
  kills(): readonly string[];
  now(): Date;
  log(line: string): void;
}

export interface DaemonGuard {
  reporter: GuardReporter;
  /** Claude Code's guard state now, with a project's own settings when one is named. */
  state(projectDir?: string): GuardAgentState;
}

/** The daemon's guard: Claude Code's settings under the user's home, its transcripts, discovery and posture.json. */
export function guardReporterFor(deps: DaemonGuardDeps): DaemonGuard {
  const options = deps.options ?? {};
  const userHome = options.userHome ?? homedir();
  const claudeDir = process.env.CLAUDE_CONFIG_DIR ?? join(userHome, '.claude');
  const state = (projectDir?: string) => claudeCodeGuardState({ home: userHome, ...(projectDir && { projectDir }), ...(options.managedDir && { managedDir: options.managedDir }) });
  // Transcripts named by SessionStart payloads, in case they live outside claudeDir; the first check reads
  // back a bounded stretch of the journal, later ones only what is new.
  let seenSeq = Math.max(0, (deps.journal.head()?.seq ?? 0) - 10_000);
  const namedTranscripts = new Set<string>();
  const coverage = (since: Date): Promise<CoverageResult> => {
    for (const event of deps.journal.list({ since: seenSeq })) {
      seenSeq = event.seq;
      const path = event.body.kind === 'hook.SessionStart' ? event.body.data.transcript_path : undefined;
      if (typeof path === 'string' && path.endsWith('.jsonl') && namedTranscripts.size < 1000) namedTranscripts.add(path);
    }
    return checkCoverage({
      claudeDir,
      since,
      transcripts: [...namedTranscripts],
      hookEvents: (session) => deps.journal.list({ sessionId: session }).map((event) => ({ toolUseId: event.body.tool_use_id, kind: event.body.kind, index: event.seq })),
    });
  };
  const inventory = async (): Promise<InventoryParts> => {
    const found = options.discovery === false ? { agents: [], mcp_servers: [], findings: [] } : await discoverDevice({ home: userHome, settings: deps.policy().settings, ...(options.managedDir && { managedDir: options.managedDir }) });
    const posture = readPostureReport(deps.home.posture);
    return { ...found, ...(posture && { posture }) };
  };
  const reporter = new GuardReporter({
    record: deps.record,
    guardStates: () => [state()],
    selfTest: (guard) => runSelfTest({ guard, decide: deps.decide, home: userHome, now: deps.now }),
    coverage,
    inventory,
    policyHash: () => deps.policy().hash,
    bundle: deps.bundle,
    kills: deps.kills,
    now: deps.now,
    log: deps.log,
    ...(options.intervalMs !== undefined && { intervalMs: options.intervalMs }),
    ...(options.discoveryTimeoutMs !== undefined && { discoveryTimeoutMs: options.discoveryTimeoutMs }),
    ...(options.firstInventoryDelayMs !== undefined && { firstInventoryDelayMs: options.firstInventoryDelayMs }),
  });
  return { reporter, state };
}

/** posture.json as the posture collector writes it; undefined when absent or not a report. */
function readPostureReport(path: string): PostureReport | undefined {
  try {
    const value = JSON.parse(readFileSync(path, 'utf8')) as PostureReport;
    return typeof value === 'object' && value !== null && Array.isArray(value.checks) ? value : undefined;
  } catch {
    return undefined;
  }
}
