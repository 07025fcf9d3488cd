// Task contracts on the device: stored by hash under $WRIT_HOME/contracts, bound to a session on its first
// hook (or by `writ contract attach`), the binding kept in the journal's meta table so a restarted daemon
// still enforces it, and applied after the policy has decided. A contract only narrows; a contract that
// cannot be read or no longer parses denies.
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writePrivateFileAtomic } from '../home/writ-home.js';
import { preToolUseOutput, stopOutput } from '../agents/claude-code/hook-contract.js';
import { contractMessage, evaluateContract, highRiskEdit, parseContract, type ContractVerdict, type TaskContract } from '../policy/contract.js';
import { touchedBy, type CallEnvironment, type Decision, type PreparedPolicy, type TouchedFlag } from '../policy/index.js';
import type { Journal } from './journal.js';

const META_PREFIX = 'session.contract:';
const STOPPED_PREFIX = 'session.contract-stopped:';
const CONTRACT_ID = /^[0-9a-f]{64}$/;
const MAX_SESSION_ID = 256;

export function contractsDir(writHome: string): string {
  return join(writHome, 'contracts');
}

export function contractHash(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Stores a contract's text by its sha256 (directory 0700, file 0600) and returns the hex hash. */
export function storeContract(writHome: string, text: string): string {
  const dir = contractsDir(writHome);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const hash = contractHash(text);
  writePrivateFileAtomic(join(dir, `${hash}.yaml`), text);
  return hash;
}

export class ContractUnavailable extends Error {}

const parsedContracts = new Map<string, TaskContract>();
const MAX_PARSED_CONTRACTS = 256;

/** Reads a stored contract and parses it with the policy in force; the text must still hash to its name. */
export function loadContract(writHome: string, hash: string, policy: PreparedPolicy): TaskContract {
  if (!CONTRACT_ID.test(hash)) throw new ContractUnavailable(`"${hash.slice(0, 80)}" is not a contract id (64 hex digits)`);
  let text: string;
  try {
    text = readFileSync(join(contractsDir(writHome), `${hash}.yaml`), 'utf8');
  } catch (error) {
    throw new ContractUnavailable(`contract ${hash.slice(0, 12)} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  if (contractHash(text) !== hash) throw new ContractUnavailable(`contract ${hash.slice(0, 12)} was changed after it was attached`);
  // The same text under the same policy parses the same way: the file is still read and hashed on every call.
  const key = `${hash}:${policy.hash}`;
  const known = parsedContracts.get(key);
  if (known) return known;
  try {
    const contract = parseContract(text, policy.settings);
    if (parsedContracts.size >= MAX_PARSED_CONTRACTS) parsedContracts.clear();
    parsedContracts.set(key, contract);
    return contract;
  } catch (error) {
    throw new ContractUnavailable(`contract ${hash.slice(0, 12)} no longer parses with the policy in force: ${(error as Error).message}`);
  }
}

/** The `contract` field of a PreToolUse decision (shared event format). */
export interface DecisionContract {
  hash: string;
  outcome: ContractVerdict['outcome'];
  clause: string;
  quote: string;
}

/** The policy's answer to one call, as decidePreToolUse gives it. */
export interface Decided {
  decision: Decision;
  output: string;
  env?: CallEnvironment;
}

export interface Narrowed {
  decision: Decision;
  output: string;
  contract?: DecisionContract;
}

export interface ContractBookDeps {
  journal: Journal;
  writHome: string;
  policy(): PreparedPolicy;
  /** Appends a signed journal event. */
  record(kind: string, data: Record<string, unknown>, ids: { session_id: string; tool_use_id?: string }): void;
}

export class ContractBook {
  readonly #bound = new Map<string, string>();

  constructor(private readonly deps: ContractBookDeps) {}

  /** The contract hash bound to a session, if any. */
  boundTo(session: string): string | undefined {
    if (session === '') return undefined;
    const known = this.#bound.get(session);
    if (known) return known;
    const stored = this.deps.journal.getMeta(META_PREFIX + session);
    if (stored) this.#bound.set(session, stored);
    return stored;
  }

  /**
   * Binds a contract to a session and records `contract.attached`. A session met through `writ run` keeps its
   * first contract; `writ contract attach` (replace) may change it. Throws ContractUnavailable when it cannot be read.
   */
  attach(session: string, hash: string, options: { replace: boolean; source?: string }): TaskContract {
    if (session === '' || session.length > MAX_SESSION_ID) throw new ContractUnavailable('a session id is 1 to 256 characters');
    const contract = loadContract(this.deps.writHome, hash, this.deps.policy());
    const current = this.boundTo(session);
    if (current === hash || (current && !options.replace)) return contract;
    this.deps.journal.setMeta(META_PREFIX + session, hash);
    this.#bound.set(session, hash);
    // A contract attached by its author resumes a stopped session.
    if (current) this.deps.journal.setMeta(STOPPED_PREFIX + session, '');
    this.deps.record('contract.attached', { contract_hash: `sha256:${hash}`, contract, ...(options.source && { source: options.source }) }, { session_id: session });
    return contract;
  }

  /** A hook of a session started under `writ run --contract`: bind it on first sight; errors surface at decision time. */
  meet(session: string | undefined, header: string | undefined): void {
    if (!session || !header || this.boundTo(session)) return;
    try {
      this.attach(session, header, { replace: false });
    } catch {
      // The PreToolUse that follows denies: its session names a contract that cannot be used.
    }
  }

  /**
   * The policy's decision narrowed by the session's contract. A deny stays a deny; a stop answers
   * `continue: false`; a session without a contract only meets the policy's setting for high-risk edits.
   */
  narrow(session: string, header: string | undefined, toolUseId: string | undefined, decided: Decided): Narrowed {
    try {
      return this.#narrow(session, header, toolUseId, decided);
    } catch (error) {
      const hash = header ?? this.#bound.get(session);
      const reason = `Writ denied this call because applying the session's task contract failed (${(error as Error).message}).`;
      return { ...deny(decided.decision, 'contract.error', reason), ...(hash && { contract: { hash: `sha256:${hash}`, outcome: 'outside', clause: 'contract', quote: '' } }) };
    }
  }

  #narrow(session: string, header: string | undefined, toolUseId: string | undefined, decided: Decided): Narrowed {
    const policy = this.deps.policy();
    this.meet(session, header);
    const hash = this.boundTo(session) ?? header;
    const touched = decided.env && decided.decision.actions.length > 0 ? touchedBy(decided.decision, policy.rules, decided.env, policy.settings) : new Set<TouchedFlag>();
    if (hash === undefined) return this.withoutContract(decided, touched);
    let contract: TaskContract;
    try {
      contract = loadContract(this.deps.writHome, hash, policy);
    } catch (error) {
      const reason = `Writ denied this call: the session's task contract cannot be used (${(error as Error).message}).`;
      const contractField: DecisionContract = { hash: `sha256:${hash}`, outcome: 'outside', clause: 'contract', quote: '' };
      return { ...deny(decided.decision, 'contract.unavailable', reason), contract: contractField };
    }
    const place = decided.env ?? { projectDir: '/', home: '/', tempDirs: [] };
    // A stop holds for the rest of the session: Claude Code 2.1.x ignores continue:false next to a deny, so
    // every later call is denied here too.
    const stopped = this.deps.journal.getMeta(STOPPED_PREFIX + session);
    if (stopped) {
      const { clause, message } = JSON.parse(stopped) as { clause: string; message: string };
      const denied = deny(decided.decision, 'contract.stopped', message);
      return { decision: denied.decision, output: stopOutput(message, denied.decision.reason), contract: { hash: `sha256:${hash}`, outcome: 'stop', clause, quote: clause } };
    }
    const verdict = evaluateContract(contract, decided.decision.actions, touched, policy.settings, place);
    const field: DecisionContract = { hash: `sha256:${hash}`, outcome: verdict.outcome, clause: verdict.clause, quote: verdict.quote };
    if (verdict.outcome === 'inside') return { ...decided, contract: field };
    const message = contractMessage(verdict, contract);
    if (verdict.outcome === 'stop') {
      this.deps.journal.setMeta(STOPPED_PREFIX + session, JSON.stringify({ clause: verdict.clause, message }));
      this.deps.record('contract.stopped', { contract_hash: `sha256:${hash}`, condition: verdict.phrase ?? verdict.clause, reason: verdict.reason }, { session_id: session, ...(toolUseId && { tool_use_id: toolUseId }) });
      const denied = deny(decided.decision, 'contract.stop', message);
      return { decision: denied.decision, output: stopOutput(message, denied.decision.reason), contract: field };
    }
    // A policy deny keeps its own reason; the contract's verdict is still recorded.
    if (decided.decision.decision === 'deny') return { ...decided, contract: field };
    return { ...deny(decided.decision, verdict.outcome === 'outside' ? 'contract.outside' : 'contract.needs-rollback', message), contract: field };
  }

  private withoutContract(decided: Decided, touched: ReadonlySet<TouchedFlag>): Narrowed {
    const policy = this.deps.policy();
    const answer = policy.settings.high_risk_without_contract ?? 'allow';
    if (answer === 'allow' || decided.decision.decision === 'deny' || !decided.env) return decided;
    if (answer === 'ask' && decided.decision.decision === 'ask') return decided;
    const risky = highRiskEdit(decided.decision.actions, touched, policy.settings, decided.env);
    if (!risky) return decided;
    const message = contractMessage({ outcome: 'needs_rollback', clause: 'rollback', quote: '', reason: risky.reason, phrase: risky.phrase }, undefined);
    const decision: Decision = { ...decided.decision, decision: answer, explicitAllow: false, rules: ['contract.required'], reason: message };
    return { decision, output: preToolUseOutput(decision) };
  }
}

function deny(decision: Decision, rule: string, reason: string): { decision: Decision; output: string } {
  const denied: Decision = decision.decision === 'deny' ? decision : { ...decision, decision: 'deny', explicitAllow: false, rules: [rule], reason };
  return { decision: denied, output: preToolUseOutput(denied) };
}

/** Where `writ contract attach` asks the daemon to bind a stored contract to a running session. */
export const CONTRACT_ATTACH_PATH = '/v1/contracts/attach';

/** Answers an attach request `{ session_id, contract_hash, source? }`: 200 with the bound contract, 400 with the problem. */
export function answerAttach(book: ContractBook, body: string): { status: number; body: string } {
  let request: { session_id?: unknown; contract_hash?: unknown; source?: unknown };
  try {
    request = JSON.parse(body) as typeof request;
  } catch {
    return { status: 400, body: 'the attach request is not JSON' };
  }
  if (typeof request !== 'object' || request === null) return { status: 400, body: 'the attach request must be a JSON object' };
  const { session_id: session, contract_hash: hash, source } = request;
  if (typeof session !== 'string' || typeof hash !== 'string') return { status: 400, body: 'the attach request needs session_id and contract_hash strings' };
  if (source !== undefined && (typeof source !== 'string' || source.length > 4096)) return { status: 400, body: 'source must be a file path' };
  try {
    const contract = book.attach(session, hash.replace(/^sha256:/, ''), { replace: true, ...(source && { source }) });
    return { status: 200, body: JSON.stringify({ session_id: session, contract_hash: `sha256:${hash.replace(/^sha256:/, '')}`, contract }) };
  } catch (error) {
    if (error instanceof ContractUnavailable) return { status: 400, body: error.message };
    return { status: 500, body: `the contract could not be attached: ${(error as Error).message}` };
  }
}
