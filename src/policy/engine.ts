// The only importer of cedar-wasm: checks policy files against Writ's schema, preparses them once, and
// answers authorization requests from the preparsed set.
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { createHash } from 'node:crypto';
import { buildRuleIndex, type IndexedRule, type RuleIndexStats } from './rule-index.js';
import { SCHEMA } from './schema.js';
import { TOUCHED_FLAGS, type TouchedFlag } from './session.js';
import { isCedarFile, SETTINGS_FILE, settingsOf, type PolicySettings } from './settings.js';

import type { PolicyFile } from '../core/policy-bundle.js';

export type { PolicyFile };

/** What Writ does when a rule is the determining one. */
export type RuleEffect = 'allow' | 'deny' | 'ask';

export interface Rule {
  id: string;
  file: string;
  line: number;
  effect: RuleEffect;
  /** Why the rule exists, in words for the person whose agent was stopped. */
  reason: string;
  /** How to get an exception. */
  exception: string;
  /** A permit annotated `@answer("allow")` opts in to answering `allow`, which skips the agent's own checks. */
  answersAllow: boolean;
  /** Every annotation as written, for compiling the policy to an agent's native settings (`@native`, …). */
  annotations: Readonly<Record<string, string>>;
  /** `@mode("monitor")`: the rule is decided and recorded but does not block. */
  mode: RuleMode;
  /** `@reviewers("group")` on an ask rule: the call goes to a named reviewer of that group instead of the local prompt. */
  reviewers?: string;
  /** `@touches("secrets")`: a call this rule matches, if it runs anyway (monitored, approved), marks the session. */
  touches?: TouchedFlag[];
  /** `@expires("PT1H")`-style lifetime of an approval for this rule, ISO 8601 duration; the default is one hour. */
  approvalExpiry?: string;
}

/** `enforce` blocks; `monitor` decides and records what it would have done, so a rule can be rolled out safely. */
export type RuleMode = 'enforce' | 'monitor';

export interface PolicyProblem {
  file: string;
  line: number;
  column: number;
  message: string;
}

export class PolicyError extends Error {
  constructor(readonly problems: PolicyProblem[]) {
    super(problems.map((problem) => `${problem.file}:${problem.line}:${problem.column}: ${problem.message}`).join('\n'));
  }
}

export interface EntityJson {
  uid: { type: string; id: string };
  attrs: Record<string, unknown>;
  parents: { type: string; id: string }[];
}

export interface AuthorizationRequest {
  principal: { type: string; id: string };
  action: { type: string; id: string };
  resource: { type: string; id: string };
  context: Record<string, unknown>;
  entities: EntityJson[];
}

export interface AuthorizationResult {
  allowed: boolean;
  /** Ids of the determining policies, sorted: the satisfied forbids on deny, the satisfied permits on allow. */
  rules: string[];
  /** Evaluation errors, sorted; a policy that errors does not apply, so callers must treat any error as deny. */
  errors: string[];
}

export interface PreparedPolicy {
  /** sha256 over the file names and texts: recorded with every decision. */
  hash: string;
  rules: Map<string, Rule>;
  /** Every attribute name some rule reads: requests carry only these, since marshalling dominates a request's cost. */
  attributes: ReadonlySet<string>;
  /** The policy's settings.json, or the defaults. */
  settings: PolicySettings;
  /** With `enforcedOnly`, rules in monitor mode are left out: the answer the call really gets. */
  authorize(request: AuthorizationRequest, options?: { enforcedOnly?: boolean }): AuthorizationResult;
  /** Actions some monitor-mode rule applies to: only for these does a second, enforced-only answer differ. */
  monitoredActions: ReadonlySet<string>;
  /** The rule index's make-up, when the policy was prepared with one. */
  index?: RuleIndexStats;
}

export interface PrepareOptions {
  /**
   * Screen rules in plain JS before Cedar (rule-index.ts), default true: Cedar then evaluates only the
   * rules not false for certain, and is not asked at all when every rule's answer is certain.
   */
  index?: boolean;
}

/** Parses and validates policy files against the schema; returns every problem with file:line:column. */
export function checkPolicy(allFiles: PolicyFile[]): PolicyProblem[] {
  const problems: PolicyProblem[] = settingsOf(allFiles).problems.map((problem) => ({ file: SETTINGS_FILE, line: problem.line, column: 1, message: problem.message }));
  const files = allFiles.filter(isCedarFile);
  for (const file of allFiles.filter((candidate) => !isCedarFile(candidate) && candidate.name !== SETTINGS_FILE)) {
    problems.push({ file: file.name, line: 1, column: 1, message: `a policy holds .cedar files and ${SETTINGS_FILE} only` });
  }
  for (const file of files) {
    const parsed = cedar.checkParsePolicySet({ staticPolicies: file.text });
    if (parsed.type === 'failure') {
      problems.push(...parsed.errors.map((error) => located(file, error)));
      continue;
    }
    const validation = cedar.validate({ schema: SCHEMA, policies: { staticPolicies: file.text }, validationSettings: { mode: 'strict' } });
    if (validation.type === 'failure') problems.push(...validation.errors.map((error) => located(file, error)));
    else problems.push(...validation.validationErrors.map((entry) => located(file, entry.error)));
  }
  const seen = new Map<string, string>();
  for (const rule of files.flatMap((file) => (problems.some((problem) => problem.file === file.name) ? [] : rulesOf(file)))) {
    const where = `${rule.file}:${rule.line}`;
    for (const message of annotationProblems(rule)) problems.push({ file: rule.file, line: rule.line, column: 1, message: `rule "${rule.id}": ${message}` });
    if (seen.has(rule.id)) problems.push({ file: rule.file, line: rule.line, column: 1, message: `rule id "${rule.id}" is already used at ${seen.get(rule.id)}` });
    seen.set(rule.id, where);
  }
  return problems;
}

export function preparePolicy(files: PolicyFile[], options: PrepareOptions = {}): PreparedPolicy {
  const problems = checkPolicy(files);
  if (problems.length > 0) throw new PolicyError(problems);
  const hash = policyHash(files);
  const rules = new Map<string, Rule>();
  const texts = new Map<string, string>();
  const indexed: IndexedRule[] = [];
  const attributes = new Set<string>();
  // Cedar evaluates every policy of a set for every request, so each action gets a set of only the
  // policies whose scope can match it: the same answers, at a fraction of the cost.
  const textsByAction = new Map<string, Record<string, string>>(ACTIONS.map((action) => [action, {}]));
  const enforcedTextsByAction = new Map<string, Record<string, string>>(ACTIONS.map((action) => [action, {}]));
  const monitoredActions = new Set<string>();
  for (const file of files.filter(isCedarFile)) {
    for (const { text, actions, reads, json, ...rule } of rulesOf(file)) {
      rules.set(rule.id, rule);
      texts.set(rule.id, text);
      indexed.push({ id: rule.id, permit: json?.effect === 'permit', monitor: rule.mode === 'monitor', json, actions: actions ?? ACTIONS });
      reads.forEach((name) => attributes.add(name));
      for (const action of actions ?? ACTIONS) {
        textsByAction.get(action)![rule.id] = text;
        if (rule.mode === 'monitor') monitoredActions.add(action);
        else enforcedTextsByAction.get(action)![rule.id] = text;
      }
    }
  }
  for (const action of monitoredActions) {
    expectSuccess(cedar.preparsePolicySet(`writ-${hash}-${action}-enforced`, { staticPolicies: enforcedTextsByAction.get(action)! }), `enforced policy set for ${action}`);
  }
  for (const [action, texts] of textsByAction) expectSuccess(cedar.preparsePolicySet(`writ-${hash}-${action}`, { staticPolicies: texts }), `policy set for ${action}`);
  const index = options.index === false ? undefined : buildRuleIndex(indexed);
  return {
    hash,
    rules,
    attributes,
    monitoredActions,
    settings: settingsOf(files).settings,
    ...(index && { index: index.stats }),
    authorize(request, options) {
      const enforcedOnly = options?.enforcedOnly === true && monitoredActions.has(request.action.id);
      const screening = index?.screen(request, enforcedOnly);
      if (screening?.kind === 'decided') return { allowed: screening.allowed, rules: screening.rules, errors: [] };
      if (screening) return askCedar(subsetSet(hash, screening.candidates, texts), request);
      return askCedar(`writ-${hash}-${request.action.id}${enforcedOnly ? '-enforced' : ''}`, request);
    },
  };
}

/**
 * Cedar's answer from a preparsed set, without schema validation of the request on the hot path (it
 * costs ~20% here): policies were validated when loaded, and the request builder is tested against the
 * schema. A request Cedar cannot even read (a lone surrogate in a string) is an error, so a deny.
 */
function askCedar(set: string, request: AuthorizationRequest): AuthorizationResult {
  try {
    return resultOf(cedar.statefulIsAuthorized({ ...request, preparsedPolicySetId: set, validateRequest: false } as cedar.StatefulAuthorizationCall));
  } catch (error) {
    return { allowed: false, rules: [], errors: [`cedar could not read the request: ${(error as Error).message}`] };
  }
}

function resultOf(answer: cedar.AuthorizationAnswer): AuthorizationResult {
  if (answer.type === 'failure') return { allowed: false, rules: [], errors: answer.errors.map((error) => error.message).sort() };
  const { decision, diagnostics } = answer.response;
  // Cedar keeps the determining policies in a hash set: sorting makes the answer (and the reason shown) stable.
  return { allowed: decision === 'allow', rules: [...diagnostics.reason].sort(), errors: diagnostics.errors.map((error) => `${error.policyId}: ${error.error.message}`).sort() };
}

/** Screened candidate sets live in a fixed number of Cedar slots, the least recently used reused first. */
const SUBSET_SLOTS = 256;
/** Candidate key → preparsed set id, least recently used first. Owned by subsetSet. */
const subsetSlots = new Map<string, string>();

/** The preparsed set of exactly these rules (policies with the same hash have the same rule texts). */
function subsetSet(hash: string, ids: string[], texts: Map<string, string>): string {
  const key = `${hash}\n${ids.join('\n')}`;
  let slot = subsetSlots.get(key);
  if (slot !== undefined) {
    subsetSlots.delete(key);
  } else {
    const [oldest, reused] = subsetSlots.size >= SUBSET_SLOTS ? subsetSlots.entries().next().value! : [undefined, `writ-subset-${subsetSlots.size}`];
    if (oldest !== undefined) subsetSlots.delete(oldest);
    slot = reused;
    expectSuccess(cedar.preparsePolicySet(slot, { staticPolicies: Object.fromEntries(ids.map((id) => [id, texts.get(id)!])) }), 'screened policy set');
  }
  subsetSlots.set(key, slot);
  return slot;
}

/** Every rule's text by id, for authorizeUnprepared. */
export function ruleTexts(files: PolicyFile[]): Record<string, string> {
  return Object.fromEntries(files.filter(isCedarFile).flatMap(rulesOf).map((rule) => [rule.id, rule.text]));
}

/**
 * Cedar's answer with the policy parsed for this one call, as a naive integration would: the baseline of
 * the policy-scale benchmark (one text), and a third opinion in the rule index's tests (texts by rule id).
 */
export function authorizeUnprepared(texts: string | Record<string, string>, request: AuthorizationRequest): AuthorizationResult {
  return resultOf(cedar.isAuthorized({ ...request, policies: { staticPolicies: texts }, validateRequest: false } as cedar.AuthorizationCall));
}

export function policyHash(files: PolicyFile[]): string {
  const digest = createHash('sha256');
  for (const file of [...files].sort((a, b) => (a.name < b.name ? -1 : 1))) digest.update(`${file.name}\0${file.text}\0`);
  return digest.digest('hex');
}

/** Every action of the schema; a rule that names none in its scope applies to all of them. */
const ACTIONS = ['read', 'write', 'delete', 'exec', 'fetch', 'send', 'mcp_call', 'search', 'delegate'];

type RuleWithText = Rule & { text: string; actions: string[] | undefined; reads: string[]; json: { effect?: string } | undefined };

function rulesOf(file: PolicyFile): RuleWithText[] {
  const parts = cedar.policySetTextToParts(file.text);
  if (parts.type === 'failure') return [];
  let cursor = 0;
  return (parts.policies ?? []).map((text) => {
    const offset = file.text.indexOf(text, cursor);
    if (offset >= 0) cursor = offset + text.length;
    const line = offset >= 0 ? lineAndColumn(file.text, offset).line : 1;
    const json = cedar.policyToJson(text);
    const annotations = json.type === 'success' ? ((json.json as { annotations?: Record<string, string> }).annotations ?? {}) : {};
    const effect = json.type === 'success' ? json.json.effect : 'forbid';
    const scope = json.type === 'success' ? (json.json.action as { op: string; entity?: { id: string }; entities?: { id: string }[] }) : { op: 'All' };
    return {
      id: annotations.id ?? `${file.name}:${line}`,
      file: file.name,
      line,
      effect: effect === 'permit' ? 'allow' : annotations.effect === 'ask' ? 'ask' : 'deny',
      reason: annotations.reason ?? '',
      exception: annotations.exception ?? '',
      answersAllow: effect === 'permit' && annotations.answer === 'allow',
      mode: annotations.mode === 'monitor' ? 'monitor' : 'enforce',
      ...(annotations.reviewers ? { reviewers: annotations.reviewers } : {}),
      ...(annotations.expires ? { approvalExpiry: annotations.expires } : {}),
      ...(annotations.touches ? { touches: annotations.touches.split(/[\s,]+/).filter(Boolean) as TouchedFlag[] } : {}),
      text,
      reads: json.type === 'success' ? attributeNames(json.json) : [],
      annotations,
      json: json.type === 'success' ? json.json : undefined,
      actions: scope.op === '==' ? [scope.entity!.id] : scope.op === 'in' ? (scope.entities ?? [scope.entity!]).map((entity) => entity.id) : undefined,
    };
  });
}

/** Annotations with a value Writ does not know would silently do nothing: they are errors. */
function annotationProblems(rule: RuleWithText): string[] {
  const problems: string[] = [];
  const { annotations } = rule;
  if (annotations.mode !== undefined && annotations.mode !== 'enforce' && annotations.mode !== 'monitor') problems.push(`@mode must be "enforce" or "monitor", not "${annotations.mode}"`);
  if (annotations.effect !== undefined && annotations.effect !== 'ask') problems.push(`@effect can only be "ask" (a forbid denies without it), not "${annotations.effect}"`);
  if (annotations.effect === 'ask' && rule.effect === 'allow') problems.push('@effect("ask") belongs on a forbid, not a permit');
  for (const flag of rule.touches ?? []) if (!TOUCHED_FLAGS.includes(flag)) problems.push(`@touches names "${flag}"; known: ${TOUCHED_FLAGS.join(', ')}`);
  if (annotations.expires !== undefined && !/^P(?!$)(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$/.test(annotations.expires)) problems.push(`@expires must be an ISO 8601 duration such as "PT1H" or "P1D", not "${annotations.expires}"`);
  if (annotations.reviewers !== undefined && rule.effect === 'allow') problems.push('@reviewers belongs on an ask rule');
  return problems;
}

/** Names of every attribute a policy's JSON form accesses (`.attr` and `has attr`), whatever the entity. */
function attributeNames(node: unknown, names: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((child) => attributeNames(child, names));
  else if (typeof node === 'object' && node !== null) {
    for (const [key, value] of Object.entries(node)) {
      if (key === 'attr' && typeof value === 'string') names.push(value);
      else attributeNames(value, names);
    }
  }
  return names;
}

function located(file: PolicyFile, error: cedar.DetailedError): PolicyProblem {
  const offset = error.sourceLocations?.[0]?.start ?? 0;
  const { line, column } = lineAndColumn(file.text, offset);
  const help = error.help ? ` (${error.help})` : '';
  return { file: file.name, line, column, message: error.message + help };
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}

function expectSuccess(answer: cedar.CheckParseAnswer, what: string): void {
  if (answer.type === 'failure') throw new Error(`cedar could not load the ${what}: ${answer.errors.map((error) => error.message).join('; ')}`);
}

/** One rule with the forms the rollout tools read: its text, Cedar's JSON form and the actions its scope names. */
export interface RuleForm extends Rule {
  text: string;
  /** Cedar's JSON form of the policy (effect, principal, action, resource, conditions, annotations). */
  json: Record<string, unknown> | undefined;
  /** The actions its scope names; undefined when the scope names none, so it applies to every action. */
  actions: string[] | undefined;
}

/** Every rule of the files that parse, in file order: what `writ policy lint` and `explain` look at. */
export function ruleForms(files: PolicyFile[]): RuleForm[] {
  return files.filter(isCedarFile).flatMap(rulesOf).map(({ reads: _reads, json, ...rule }) => ({ ...rule, json: json as Record<string, unknown> | undefined }));
}

/** Cedar's validator warnings (impossible policies, scopes no request can meet), with the file and line of the rule. */
export function policyWarnings(files: PolicyFile[]): PolicyProblem[] {
  return files.filter(isCedarFile).flatMap((file) => {
    const validation = cedar.validate({ schema: SCHEMA, policies: { staticPolicies: file.text }, validationSettings: { mode: 'strict' } });
    return validation.type === 'success' ? validation.validationWarnings.map((entry) => located(file, entry.error)) : [];
  });
}

/** What one rule does with one request on its own: whether it is satisfied, and the errors that stop it applying. */
export interface RuleMatch {
  id: string;
  matched: boolean;
  errors: string[];
}

/**
 * Asks Cedar about each rule alone (a one-policy set per rule), so every rule a request satisfies is seen,
 * not only the determining ones Cedar reports for the whole set.
 */
export function matchEachRule(rules: readonly RuleForm[], request: AuthorizationRequest): RuleMatch[] {
  return rules.map((rule) => {
    const answer = authorizeUnprepared({ [rule.id]: rule.text }, request);
    return { id: rule.id, matched: answer.rules.includes(rule.id), errors: answer.errors };
  });
}
