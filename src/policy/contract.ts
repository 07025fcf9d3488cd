// A task contract: the box one session works in, written before it starts (docs/contracts.md). It is parsed
// strictly, and judged on the normaliser's actions, so a command is never read a second, different way.
// A contract only narrows: its verdict can turn an allow into a deny or a stop, never the other way.
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import type { Action, CallEnvironment } from './actions.js';
import { describeAction } from './decide.js';
import { argumentFacts, isWritingTool } from './mcp.js';
import { isUnder } from './paths.js';
import type { TouchedFlag } from './session.js';
import { globMatches, type ContractCategory, type PolicySettings } from './settings.js';

export interface TaskContract {
  task: string;
  allowed: {
    /** Path globs the session may read and edit; absent: anywhere in the project. */
    read_edit?: string[];
    /** Command prefixes (words) every exec must start with; absent: any command. */
    commands?: string[];
  };
  /** Phrases of the policy's categories (settings.json `categories`), normalised to lower case. */
  blocked: string[];
  stop_if: string[];
  rollback?: Partial<Record<RollbackField, string>>;
}

export const ROLLBACK_FIELDS = ['change', 'undo', 'data_risk', 'trigger', 'owner'] as const;
export type RollbackField = (typeof ROLLBACK_FIELDS)[number];

/** Built in rather than a category: a write outside `allowed.read_edit`, or outside the project. */
export const WIDER_SERVICE_BOUNDARY = 'wider service boundary';

export const MAX_CONTRACT_CHARS = 64 * 1024;

export interface ContractProblem {
  line: number;
  message: string;
}

export class ContractError extends Error {
  constructor(readonly problems: ContractProblem[]) {
    super(problems.map((problem) => `line ${problem.line}: ${problem.message}`).join('\n'));
  }
}

export type ContractOutcome = 'inside' | 'outside' | 'stop' | 'needs_rollback';

export interface ContractVerdict {
  outcome: ContractOutcome;
  /** The clause that decided: `blocked: migrations`, `allowed.read_edit`, `stop_if: schema change`, `rollback`. */
  clause: string;
  /** The contract's own words, as the agent is shown them. */
  quote: string;
  /** What the call did that met the clause; empty when inside. */
  reason: string;
  /** The phrase of a stop_if, blocked or high-risk category, when one decided. */
  phrase?: string;
}

/** Every phrase a contract may use with these settings. */
export function knownPhrases(settings: PolicySettings): string[] {
  return [...new Set([...Object.keys(settings.categories ?? {}), WIDER_SERVICE_BOUNDARY])].sort();
}

export function normalisePhrase(phrase: string): string {
  return phrase.trim().toLowerCase().replace(/\s+/g, ' ');
}

/** Parses a contract's YAML; any problem, with its line, is a ContractError and nothing else is thrown. */
export function parseContract(text: string, settings: PolicySettings): TaskContract {
  if (typeof text !== 'string') throw new ContractError([{ line: 1, message: 'a contract must be text' }]);
  if (text.length > MAX_CONTRACT_CHARS) throw new ContractError([{ line: 1, message: `a contract must be at most ${MAX_CONTRACT_CHARS} characters` }]);
  const lineCounter = new LineCounter();
  let document: ReturnType<typeof parseDocument>;
  try {
    document = parseDocument(text, { lineCounter, uniqueKeys: true });
  } catch (error) {
    throw new ContractError([{ line: 1, message: `not YAML: ${(error as Error).message}` }]);
  }
  if (document.errors.length > 0) {
    throw new ContractError(document.errors.map((error) => ({ line: error.linePos?.[0].line ?? 1, message: error.message.split('\n')[0]! })));
  }
  const problems: ContractProblem[] = [];
  const lineOf = (node: unknown) => {
    const range = (node as Node | null)?.range;
    return range ? lineCounter.linePos(range[0]).line : 1;
  };
  const fail = (node: unknown, message: string) => problems.push({ line: lineOf(node), message });
  const contract: TaskContract = { task: '', allowed: {}, blocked: [], stop_if: [] };
  const root = document.contents;
  if (!isMap(root)) throw new ContractError([{ line: lineOf(root), message: 'a contract is a YAML mapping with task, allowed, blocked, stop_if and rollback' }]);
  let sawTask = false;
  for (const pair of root.items) {
    const key = scalarString(pair.key);
    if (key === 'task') {
      sawTask = true;
      const task = scalarString(pair.value)?.trim();
      if (!task) fail(pair.value ?? pair.key, 'task must be a non-empty sentence');
      else contract.task = task;
    } else if (key === 'allowed') {
      contract.allowed = allowed(pair.value, fail);
    } else if (key === 'blocked' || key === 'stop_if') {
      contract[key] = phrases(pair.value, key, settings, fail);
    } else if (key === 'rollback') {
      contract.rollback = rollback(pair.value, fail);
    } else {
      fail(pair.key, `unknown key "${key ?? String(pair.key)}" (known: task, allowed, blocked, stop_if, rollback)`);
    }
  }
  if (!sawTask) problems.push({ line: 1, message: 'a contract needs a task' });
  if (problems.length > 0) throw new ContractError(problems.sort((a, b) => a.line - b.line));
  return contract;
}

type Fail = (node: unknown, message: string) => void;

function scalarString(node: unknown): string | undefined {
  return isScalar(node) && typeof node.value === 'string' ? node.value : undefined;
}

/** A YAML list of non-empty strings. */
function stringList(node: unknown, name: string, fail: Fail): string[] {
  if (!isSeq(node)) {
    fail(node, `${name} must be a list of strings`);
    return [];
  }
  const items: string[] = [];
  for (const item of node.items) {
    const text = scalarString(item)?.trim();
    if (text) items.push(text);
    else fail(item, `${name} must hold only non-empty strings`);
  }
  return items;
}

function allowed(node: unknown, fail: Fail): TaskContract['allowed'] {
  if (!isMap(node)) {
    fail(node, 'allowed must be a mapping with read_edit and commands');
    return {};
  }
  const result: TaskContract['allowed'] = {};
  for (const pair of node.items) {
    const key = scalarString(pair.key);
    if (key === 'read_edit' || key === 'commands') result[key] = stringList(pair.value, `allowed.${key}`, fail);
    else fail(pair.key, `unknown key "allowed.${key ?? String(pair.key)}" (known: read_edit, commands)`);
  }
  return result;
}

function phrases(node: unknown, name: string, settings: PolicySettings, fail: Fail): string[] {
  if (!isSeq(node)) {
    fail(node, `${name} must be a list of phrases`);
    return [];
  }
  const known = knownPhrases(settings);
  const result: string[] = [];
  for (const item of node.items) {
    const text = scalarString(item);
    const phrase = text === undefined ? '' : normalisePhrase(text);
    if (phrase === '') fail(item, `${name} must hold only non-empty phrases`);
    else if (!known.includes(phrase)) fail(item, `${name}: unknown phrase "${phrase}" (known: ${known.join(', ')})`);
    else if (!result.includes(phrase)) result.push(phrase);
  }
  return result;
}

function rollback(node: unknown, fail: Fail): TaskContract['rollback'] {
  if (!isMap(node)) {
    fail(node, `rollback must be a mapping with ${ROLLBACK_FIELDS.join(', ')}`);
    return undefined;
  }
  const result: Partial<Record<RollbackField, string>> = {};
  for (const pair of node.items) {
    const key = scalarString(pair.key);
    if (!(ROLLBACK_FIELDS as readonly string[]).includes(key ?? '')) {
      fail(pair.key, `unknown key "rollback.${key ?? String(pair.key)}" (known: ${ROLLBACK_FIELDS.join(', ')})`);
      continue;
    }
    const text = scalarString(pair.value)?.trim();
    if (text) result[key as RollbackField] = text;
    else fail(pair.value ?? pair.key, `rollback.${key} must be a non-empty string`);
  }
  return result;
}

/** Where the call happens, as far as the contract cares. */
export type ContractPlace = Pick<CallEnvironment, 'projectDir' | 'home' | 'tempDirs'>;

/**
 * Judges one call's actions against a contract. `touched` holds the session flags this call sets (session.ts
 * touchedBy). Order: a named stop_if, then a block, then the wider service boundary, then the box; last, a
 * high-risk edit needs a rollback note.
 */
export function evaluateContract(contract: TaskContract, actions: readonly Action[], touched: ReadonlySet<TouchedFlag>, settings: PolicySettings, place: ContractPlace): ContractVerdict {
  const categories = settings.categories ?? {};
  const matchPhrase = (phrase: string) => (phrase === WIDER_SERVICE_BOUNDARY ? widerBoundary(contract, actions, place) : categoryMatch(categories[phrase], actions, touched, place, 'any'));
  const stopOn = (phrase: string): ContractVerdict | undefined => {
    const reason = matchPhrase(phrase);
    return reason === undefined ? undefined : { outcome: 'stop', clause: `stop_if: ${phrase}`, quote: `stop_if: ${phrase}`, reason, phrase };
  };
  for (const phrase of contract.stop_if.filter((name) => name !== WIDER_SERVICE_BOUNDARY)) {
    const stop = stopOn(phrase);
    if (stop) return stop;
  }
  for (const phrase of contract.blocked) {
    const reason = matchPhrase(phrase);
    if (reason !== undefined) return { outcome: 'outside', clause: `blocked: ${phrase}`, quote: `blocked: ${phrase}`, reason, phrase };
  }
  // The catch-all boundary comes after the named blocks, which tell the agent more.
  const boundary = contract.stop_if.includes(WIDER_SERVICE_BOUNDARY) ? stopOn(WIDER_SERVICE_BOUNDARY) : undefined;
  if (boundary) return boundary;
  const outsideBox = outsideAllowed(contract, actions, place);
  if (outsideBox) return { outcome: 'outside', ...outsideBox };
  const risky = highRiskEdit(actions, touched, settings, place);
  if (risky && !(contract.rollback?.undo && contract.rollback.owner)) {
    const missing = ['undo', 'owner'].filter((field) => !contract.rollback?.[field as RollbackField]);
    return { outcome: 'needs_rollback', clause: 'rollback', quote: `rollback: (no ${missing.join(', no ')})`, reason: risky.reason, phrase: risky.phrase };
  }
  return { outcome: 'inside', clause: 'allowed', quote: `task: ${contract.task}`, reason: '' };
}

/** The first high-risk category an edit of this call matches: a write, a matched command or a writing MCP tool. */
export function highRiskEdit(actions: readonly Action[], touched: ReadonlySet<TouchedFlag>, settings: PolicySettings, place: ContractPlace): { phrase: string; reason: string } | undefined {
  for (const [phrase, category] of Object.entries(settings.categories ?? {})) {
    if (!category.high_risk) continue;
    const reason = categoryMatch(category, actions, touched, place, 'edits');
    if (reason !== undefined) return { phrase, reason };
  }
  return undefined;
}

/** What the agent is told; the contract's own words are quoted. */
export function contractMessage(verdict: ContractVerdict, contract: TaskContract | undefined): string {
  const task = contract ? ` The contract's task: "${contract.task}".` : '';
  switch (verdict.outcome) {
    case 'inside':
      return '';
    case 'outside':
      return `Writ denied this call: blocked by the task contract ("${verdict.quote}"): ${verdict.reason}.${task} Stay inside the contract, or ask its author to change it.`;
    case 'stop':
      return `Writ stopped the session: the task contract says to stop on ("${verdict.quote}"): ${verdict.reason}.${task} Hand back to the contract's author before going on.`;
    case 'needs_rollback':
      return `Writ denied this call: it is a high-risk edit ("${verdict.phrase}": ${verdict.reason}) and ${contract ? `the task contract has no rollback note ("${verdict.quote}"). Add rollback.undo and rollback.owner to the contract and attach it again (writ contract attach <session> FILE)` : 'the session has no task contract. Attach a contract with a rollback note (undo and owner): writ run --contract FILE, or writ contract attach <session> FILE'}.${task}`;
  }
}

/** A write outside `allowed.read_edit` (when given) or outside the project and temporary directories. */
function widerBoundary(contract: TaskContract, actions: readonly Action[], place: ContractPlace): string | undefined {
  for (const action of actions) {
    if (action.kind !== 'write' && action.kind !== 'delete') continue;
    const inProject = isUnder(action.path, place.projectDir);
    if (!inProject && place.tempDirs.some((dir) => isUnder(action.path, dir))) continue;
    if (!inProject) return `${describeAction(action)}, outside the project`;
    if (contract.allowed.read_edit && !pathInside(action.path, action.recursive, contract.allowed.read_edit, place)) return `${describeAction(action)}, outside allowed.read_edit`;
  }
  return undefined;
}

/** Builtins that run nothing and change nothing by themselves (a redirection is a write action of its own). */
const INERT_PROGRAMS = new Set(['cd', 'pwd', 'true', 'false', 'echo', 'printf', 'test', '[', ':']);

function outsideAllowed(contract: TaskContract, actions: readonly Action[], place: ContractPlace): Omit<ContractVerdict, 'outcome'> | undefined {
  const { read_edit: readEdit, commands } = contract.allowed;
  for (const action of actions) {
    if (readEdit && (action.kind === 'read' || action.kind === 'write' || action.kind === 'delete') && !pathInside(action.path, action.recursive, readEdit, place)) {
      return { clause: 'allowed.read_edit', quote: `allowed.read_edit: [${readEdit.join(', ')}]`, reason: describeAction(action) };
    }
    if (action.kind === 'write' || action.kind === 'delete') {
      if (!isUnder(action.path, place.projectDir) && !place.tempDirs.some((dir) => isUnder(action.path, dir))) {
        return { clause: 'allowed', quote: `task: ${contract.task}`, reason: `${describeAction(action)}, outside the project` };
      }
    }
    if (commands && action.kind === 'exec' && !INERT_PROGRAMS.has(action.program) && !commandInside(action, commands)) {
      return { clause: 'allowed.commands', quote: `allowed.commands: [${commands.join(', ')}]`, reason: describeAction(action) };
    }
  }
  return undefined;
}

/** A prefix matches on words: `npm test -- billing/export` admits `npm test -- billing/export --watch`, not `npm testing`. */
function commandInside(action: Extract<Action, { kind: 'exec' }>, prefixes: readonly string[]): boolean {
  if (action.opaque !== '' || action.remoteCode) return false;
  const words = [action.program, ...action.args];
  return prefixes.some((prefix) => {
    const wanted = prefix.split(/\s+/).filter(Boolean);
    return wanted.length > 0 && wanted.length <= words.length && wanted.every((word, index) => words[index] === word);
  });
}

function categoryMatch(category: ContractCategory | undefined, actions: readonly Action[], touched: ReadonlySet<TouchedFlag>, place: ContractPlace, scope: 'any' | 'edits'): string | undefined {
  // A phrase the settings no longer define matches everything: the daemon denies rather than guess.
  if (!category) return 'the policy no longer defines this phrase';
  for (const action of actions) {
    if (matchesAction(category, action, place, scope)) return describeAction(action);
  }
  if (scope === 'any') {
    const flag = category.flags?.find((name) => touched.has(name));
    if (flag) return `the call touches ${flag.replace('_', ' ')}${actions[0] ? ` (${describeAction(actions[0])})` : ''}`;
  }
  return undefined;
}

function matchesAction(category: ContractCategory, action: Action, place: ContractPlace, scope: 'any' | 'edits'): boolean {
  switch (action.kind) {
    case 'read':
      return scope === 'any' && (category.paths ?? []).some((pattern) => pathMatches(pattern, action.path, place));
    case 'write':
    case 'delete':
      return [...(category.paths ?? []), ...(category.writes ?? [])].some((pattern) => pathMatches(pattern, action.path, place));
    case 'exec':
      return (category.commands ?? []).some((pattern) => globMatches(pattern, action.line));
    case 'fetch':
    case 'send':
      return scope === 'any' && (category.hosts ?? []).some((pattern) => globMatches(pattern, action.host));
    case 'mcp_call':
      return category.mcp_writes === true && isWritingTool(action.tool, argumentFacts(action));
    default:
      return false;
  }
}

/** Inside when a glob matches the path; a recursive action only when a `dir/**` glob covers its whole tree. */
function pathInside(path: string, recursive: boolean, patterns: readonly string[], place: ContractPlace): boolean {
  return patterns.some((pattern) => {
    if (!recursive) return pathMatches(pattern, path, place);
    return pattern.endsWith('/**') && pathMatches(pattern, path, place);
  });
}

/**
 * Path globs: `**` any number of directories, `*` and `?` within one name. `/…` and `~/…` are absolute;
 * anything else is relative to the project and never matches outside it. `dir/**` matches `dir` too.
 */
export function pathMatches(pattern: string, path: string, place: Pick<ContractPlace, 'projectDir' | 'home'>): boolean {
  let subject = path;
  let absolute = pattern;
  if (pattern === '~' || pattern.startsWith('~/')) absolute = place.home + pattern.slice(1);
  else if (!pattern.startsWith('/')) {
    if (!isUnder(path, place.projectDir) || path === place.projectDir) return false;
    subject = path.slice(place.projectDir.replace(/\/$/, '').length + 1);
  }
  return pathGlob(absolute).test(subject);
}

/** Compiled globs: the same few dozen patterns are matched on every call. */
const compiledGlobs = new Map<string, RegExp>();
const MAX_COMPILED_GLOBS = 4096;

function pathGlob(pattern: string): RegExp {
  let compiled = compiledGlobs.get(pattern);
  if (!compiled) {
    if (compiledGlobs.size >= MAX_COMPILED_GLOBS) compiledGlobs.clear();
    compiled = compilePathGlob(pattern);
    compiledGlobs.set(pattern, compiled);
  }
  return compiled;
}

function compilePathGlob(pattern: string): RegExp {
  const whole = pattern.endsWith('/**') ? pattern.slice(0, -3) : pattern;
  let expression = '';
  for (let index = 0; index < whole.length; index++) {
    const char = whole[index]!;
    if (char === '*' && whole[index + 1] === '*') {
      const slash = whole[index + 2] === '/';
      expression += slash ? '(?:[^/]*/)*' : '.*';
      index += slash ? 2 : 1;
    } else if (char === '*') expression += '[^/]*';
    else if (char === '?') expression += '[^/]';
    else expression += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${expression}${whole === pattern ? '' : '(?:/.*)?'}$`);
}
