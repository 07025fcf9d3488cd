// The only importer of cedar-wasm: checks policy files against Writ's schema, preparses them once, and
// answers authorization requests from the preparsed set.
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { createHash } from 'node:crypto';
import { SCHEMA } from './schema.js';
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
  /** `@mode("monitor")`: the rule is decided and recorded but does not block. */
  mode: RuleMode;
  /** `@reviewers("group")` on an ask rule: the call goes to a named reviewer of that group instead of the local prompt. */
  reviewers?: string;
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
  /** Ids of the determining policies: the satisfied forbids on deny, the satisfied permits on allow. */
  rules: string[];
  /** Evaluation errors; a policy that errors does not apply, so callers must treat any error as deny. */
  errors: string[];
}

export interface PreparedPolicy {
  /** sha256 over the file names and texts: recorded with every decision. */
  hash: string;
  rules: Map<string, Rule>;
  /** Every attribute name some rule reads: requests carry only these, since marshalling dominates a request's cost. */
  attributes: ReadonlySet<string>;
  /** With `enforcedOnly`, rules in monitor mode are left out: the answer the call really gets. */
  /** The policy's settings.json, or the defaults. */
  settings: PolicySettings;
  authorize(request: AuthorizationRequest, options?: { enforcedOnly?: boolean }): AuthorizationResult;
  /** Actions some monitor-mode rule applies to: only for these does a second, enforced-only answer differ. */
  monitoredActions: ReadonlySet<string>;
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
    if (seen.has(rule.id)) problems.push({ file: rule.file, line: rule.line, column: 1, message: `rule id "${rule.id}" is already used at ${seen.get(rule.id)}` });
    seen.set(rule.id, where);
  }
  return problems;
}

export function preparePolicy(files: PolicyFile[]): PreparedPolicy {
  const problems = checkPolicy(files);
  if (problems.length > 0) throw new PolicyError(problems);
  const hash = policyHash(files);
  const rules = new Map<string, Rule>();
  const attributes = new Set<string>();
  // Cedar evaluates every policy of a set for every request, so each action gets a set of only the
  // policies whose scope can match it: the same answers, at a fraction of the cost.
  const textsByAction = new Map<string, Record<string, string>>(ACTIONS.map((action) => [action, {}]));
  const enforcedTextsByAction = new Map<string, Record<string, string>>(ACTIONS.map((action) => [action, {}]));
  const monitoredActions = new Set<string>();
  for (const file of files.filter(isCedarFile)) {
    for (const { text, actions, reads, ...rule } of rulesOf(file)) {
      rules.set(rule.id, rule);
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
  return {
    hash,
    rules,
    attributes,
    monitoredActions,
    settings: settingsOf(files).settings,
    authorize(request, options) {
      const enforced = options?.enforcedOnly && monitoredActions.has(request.action.id) ? '-enforced' : '';
      const answer = cedar.statefulIsAuthorized({
        ...request,
        preparsedPolicySetId: `writ-${hash}-${request.action.id}${enforced}`,
        // Requests are not re-validated against the schema on the hot path (it costs ~20% here):
        // policies were validated when loaded, and the request builder is tested against the schema.
        validateRequest: false,
      } as cedar.StatefulAuthorizationCall);
      if (answer.type === 'failure') return { allowed: false, rules: [], errors: answer.errors.map((error) => error.message) };
      const { decision, diagnostics } = answer.response;
      return { allowed: decision === 'allow', rules: diagnostics.reason, errors: diagnostics.errors.map((error) => `${error.policyId}: ${error.error.message}`) };
    },
  };
}

export function policyHash(files: PolicyFile[]): string {
  const digest = createHash('sha256');
  for (const file of [...files].sort((a, b) => (a.name < b.name ? -1 : 1))) digest.update(`${file.name}\0${file.text}\0`);
  return digest.digest('hex');
}

/** Every action of the schema; a rule that names none in its scope applies to all of them. */
const ACTIONS = ['read', 'write', 'delete', 'exec', 'fetch', 'send', 'mcp_call', 'search', 'delegate'];

type RuleWithText = Rule & { text: string; actions: string[] | undefined; reads: string[] };

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
      text,
      reads: json.type === 'success' ? attributeNames(json.json) : [],
      actions: scope.op === '==' ? [scope.entity!.id] : scope.op === 'in' ? (scope.entities ?? [scope.entity!]).map((entity) => entity.id) : undefined,
    };
  });
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
