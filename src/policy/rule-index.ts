// A rule index in front of Cedar. Each rule's JSON form is compiled into a plain-JS evaluator (rule-eval.ts)
// that answers true, false, error or unknown for a request, and rules are indexed by the attribute value
// their first condition tests (`resource.program == "npm"`, `["gh", "aws"].contains(resource.program)`,
// `resource.remote_code`). A request then evaluates only the rules its values can reach. Cedar stays
// authoritative: a rule that is not false for certain goes to Cedar unless every rule's answer is certain.
//
// INVARIANT: a rule is left out of Cedar's set only when Cedar would evaluate it to false without an error,
// so Cedar's answer over the rest (decision, determining rules, errors) equals its answer over all of them.
import type { AuthorizationRequest, EntityJson } from './engine.js';
import { ancestorKeys, CedarRecord, compileExpr, EntityRef, fromJson, isOutcome, isRecordJson, type Evaluator, type RequestView, type Value } from './rule-eval.js';

/** A rule as the index needs it: its Cedar JSON form and the actions its scope names. */
export interface IndexedRule {
  id: string;
  permit: boolean;
  /** `@mode("monitor")`: left out of an enforced-only answer. */
  monitor: boolean;
  /** The rule's JSON form (`policyToJson`). */
  json: unknown;
  actions: readonly string[];
}

/** What screening found for one request. */
export type Screening =
  /** Every rule's answer is certain: Cedar would answer exactly this. */
  | { kind: 'decided'; allowed: boolean; rules: string[] }
  /** Cedar must answer, but over these rules only (sorted ids; the others are false for certain). */
  | { kind: 'cedar'; candidates: string[] };

export interface RuleIndexStats {
  rules: number;
  /** Rules reached through an attribute value's table rather than tried for every request. */
  keyed: number;
  /** Ids of the rules with some construct the evaluator leaves to Cedar (an extension function, a record, …). */
  partial: string[];
}

export interface RuleIndex {
  /**
   * Undefined for an action no rule names, or a request the evaluators cannot read: the caller then asks
   * Cedar about the action's whole set. With `enforcedOnly`, monitor-mode rules are left out.
   */
  screen(request: AuthorizationRequest, enforcedOnly?: boolean): Screening | undefined;
  stats: RuleIndexStats;
}

interface CompiledRule {
  id: string;
  permit: boolean;
  monitor: boolean;
  evaluate: Evaluator;
}

/** Rules whose first condition tests one attribute against literals, by the attribute's value. */
interface KeyedGroup {
  read: Evaluator;
  /** `resource.flag` and `!resource.flag` error on a value that is not a boolean; `==` and `contains` never do. */
  boolean: boolean;
  table: Map<unknown, CompiledRule[]>;
  all: CompiledRule[];
}

interface Bucket {
  keyed: KeyedGroup[];
  scanned: CompiledRule[];
}

type Json = Record<string, unknown>;

const NONE: CompiledRule[] = [];

export function buildRuleIndex(rules: IndexedRule[]): RuleIndex {
  const buckets = new Map<string, { keyed: Map<string, KeyedGroup>; scanned: CompiledRule[] }>();
  const stats: RuleIndexStats = { rules: rules.length, keyed: 0, partial: [] };
  for (const rule of rules) {
    const { scope, conditions } = conditionChain(rule.json);
    const compiled = compileExpr([...scope, ...conditions].reduce((left, right) => ({ '&&': { left, right } }), { Value: true } as unknown));
    const entry: CompiledRule = { id: rule.id, permit: rule.permit, monitor: rule.monitor, evaluate: compiled.evaluate };
    if (!compiled.understood) stats.partial.push(rule.id);
    const key = keyOf(conditions[0]);
    if (key) stats.keyed++;
    for (const action of rule.actions) {
      const bucket = buckets.get(action) ?? buckets.set(action, { keyed: new Map(), scanned: [] }).get(action)!;
      if (!key) {
        bucket.scanned.push(entry);
        continue;
      }
      const name = `${key.boolean}:${JSON.stringify(key.attribute)}`;
      const group = bucket.keyed.get(name) ?? bucket.keyed.set(name, { read: compileExpr(key.attribute).evaluate, boolean: key.boolean, table: new Map(), all: [] }).get(name)!;
      group.all.push(entry);
      for (const value of new Set(key.values)) group.table.set(value, [...(group.table.get(value) ?? []), entry]);
    }
  }
  const frozen = new Map<string, Bucket>([...buckets].map(([action, bucket]) => [action, { keyed: [...bucket.keyed.values()], scanned: bucket.scanned }]));
  return {
    stats,
    screen(request, enforcedOnly = false) {
      const bucket = frozen.get(request.action?.id);
      if (!bucket) return undefined;
      const view = viewOf(request);
      if (!view) return undefined;
      const forbids: string[] = [];
      const permits: string[] = [];
      const uncertain: string[] = [];
      const visit = (rule: CompiledRule) => {
        if (enforcedOnly && rule.monitor) return;
        const answer = rule.evaluate(view);
        if (answer === false) return;
        if (answer === true) (rule.permit ? permits : forbids).push(rule.id);
        else uncertain.push(rule.id);
      };
      for (const group of bucket.keyed) {
        const value = group.read(view);
        const reached = isOutcome(value) || (group.boolean && typeof value !== 'boolean') ? group.all : (group.table.get(value) ?? NONE);
        for (const rule of reached) visit(rule);
      }
      for (const rule of bucket.scanned) visit(rule);
      if (uncertain.length === 0 && view.plain) {
        // Cedar: any satisfied forbid denies; otherwise any satisfied permit allows; otherwise deny.
        return forbids.length > 0 ? { kind: 'decided', allowed: false, rules: forbids.sort() } : { kind: 'decided', allowed: permits.length > 0, rules: permits.sort() };
      }
      return { kind: 'cedar', candidates: [...forbids, ...permits, ...uncertain].sort() };
    },
  };
}

/**
 * The rule's scope (but its action, which picks the bucket) and its conditions: the conjuncts Cedar
 * evaluates in order, `unless { e }` as `!e`.
 */
function conditionChain(json: unknown): { scope: unknown[]; conditions: unknown[] } {
  const policy = (json ?? {}) as { principal?: Json; resource?: Json; conditions?: { kind?: string; body?: unknown }[] };
  const chain: unknown[] = [];
  for (const variable of ['principal', 'resource'] as const) {
    const scope = policy[variable] ?? {};
    const entity = { Value: { __entity: unwrapUid(scope.entity) } };
    const left = { Var: variable };
    if (scope.op === 'All') continue;
    else if (scope.op === '==' && scope.entity) chain.push({ '==': { left, right: entity } });
    else if (scope.op === 'in' && scope.entity) chain.push({ in: { left, right: entity } });
    else if (scope.op === 'is') {
      const within = (scope.in as Json | undefined)?.entity;
      chain.push({ is: { left, entity_type: scope.entity_type, ...(within ? { in: { Value: { __entity: unwrapUid(within) } } } : {}) } });
    } else chain.push({ unknown: [] });
  }
  const conditions = (Array.isArray(policy.conditions) ? policy.conditions : [{}]).map((clause) => (clause?.kind === 'when' ? clause.body : clause?.kind === 'unless' ? { '!': { arg: clause.body } } : { unknown: [] }));
  return { scope: chain, conditions };
}

function unwrapUid(uid: unknown): unknown {
  return (uid as { __entity?: unknown } | undefined)?.__entity ?? uid;
}

interface Key {
  attribute: unknown;
  values: unknown[];
  boolean: boolean;
}

/**
 * The attribute test Cedar evaluates first after the scope (which never errors), if it is one of
 * `attr == literal`, `[literals].contains(attr)`, `attr` or `!attr`. When it is false, the rule is false
 * without an error, whatever follows.
 */
function keyOf(condition: unknown): Key | undefined {
  let first = condition;
  while (isOp(first, '&&')) first = ((first as Json)['&&'] as Json | null)?.left;
  if (isAttribute(first)) return { attribute: first, values: [true], boolean: true };
  const negated = isOp(first, '!') ? ((first as Json)['!'] as Json | null)?.arg : undefined;
  if (isAttribute(negated)) return { attribute: negated, values: [false], boolean: true };
  if (isOp(first, '==')) {
    const { left, right } = ((first as Json)['=='] ?? {}) as Json;
    if (isAttribute(left) && primitiveLiteral(right) !== undefined) return { attribute: left, values: [primitiveLiteral(right)], boolean: false };
    if (isAttribute(right) && primitiveLiteral(left) !== undefined) return { attribute: right, values: [primitiveLiteral(left)], boolean: false };
  }
  if (isOp(first, 'contains')) {
    const { left, right } = ((first as Json).contains ?? {}) as Json;
    const items = isOp(left, 'Set') && Array.isArray((left as Json).Set) ? ((left as Json).Set as unknown[]).map(primitiveLiteral) : [];
    if (isAttribute(right) && items.length > 0 && items.every((item) => item !== undefined)) return { attribute: right, values: items, boolean: false };
  }
  return undefined;
}

function isOp(node: unknown, op: string): boolean {
  return typeof node === 'object' && node !== null && Object.keys(node).length === 1 && op in node;
}

/** `principal.a`, `resource.a`, `context.a`, `context.a.b`, … */
function isAttribute(node: unknown): boolean {
  if (!isOp(node, '.')) return false;
  const { left, attr } = ((node as Json)['.'] ?? {}) as Json;
  return typeof attr === 'string' && ((isOp(left, 'Var') && ['principal', 'resource', 'context'].includes((left as Json).Var as string)) || isAttribute(left));
}

function primitiveLiteral(node: unknown): string | number | boolean | undefined {
  if (!isOp(node, 'Value')) return undefined;
  const value = (node as Json).Value;
  return typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isSafeInteger(value)) ? value : undefined;
}

type View = RequestView & { plain: boolean };

/**
 * The request as the evaluators see it, or undefined when its shape is beyond them. `plain` is false
 * when Cedar might read the request differently or refuse it (values other than strings, booleans, safe
 * integers and sets of them; ill-formed strings or type names; duplicate entities): then Cedar answers.
 */
function viewOf(request: AuthorizationRequest): View | undefined {
  const principal = refOf(request.principal);
  const action = refOf(request.action);
  const resource = refOf(request.resource);
  const context = request.context;
  const entities = request.entities;
  if (!principal || !action || !resource || !isRecord(context) || !Array.isArray(entities)) return undefined;
  let plain = [principal, action, resource].every(isPlainRef) && isPlainRecord(context);
  const seen = new Set<string>();
  const uids: EntityRef[] = [];
  for (const entity of entities) {
    const uid = refOf(entity?.uid);
    if (!uid || !isRecord(entity.attrs ?? {}) || !Array.isArray(entity.parents ?? [])) return undefined;
    const key = `${uid.type}\0${uid.id}`;
    const parents = (entity.parents ?? []).map(refOf);
    if (!parents.every((parent) => parent !== undefined)) return undefined;
    plain &&= isPlainRef(uid) && !seen.has(key) && isRecord(entity.attrs) && isPlainRecord(entity.attrs) && Array.isArray(entity.parents) && parents.every((parent) => isPlainRef(parent!));
    seen.add(key);
    uids.push(uid);
  }
  const find = (ref: EntityRef): EntityJson | undefined => {
    for (let index = uids.length - 1; index >= 0; index--) {
      if (uids[index]!.id === ref.id && uids[index]!.type === ref.type) return entities[index];
    }
    return undefined;
  };
  // Rules read the principal's and the resource's attributes hundreds of times a request: look them up once.
  const [principalEntity, resourceEntity] = [find(principal), find(resource)];
  const converted = new Map<unknown, Value>();
  const ancestors = new Map<string, Set<string>>();
  const view: View = {
    principal,
    action,
    resource,
    context: new CedarRecord(context),
    plain,
    entity: (ref) => (ref === resource ? resourceEntity : ref === principal ? principalEntity : find(ref)),
    convert(raw) {
      let value = converted.get(raw);
      if (value === undefined) converted.set(raw, (value = fromJson(raw)));
      return value;
    },
    ancestors(entity) {
      const key = `${entity.type}\0${entity.id}`;
      let keys = ancestors.get(key);
      if (keys === undefined) ancestors.set(key, (keys = ancestorKeys(view, entity)));
      return keys;
    },
  };
  return view;
}

function refOf(uid: unknown): EntityRef | undefined {
  const { type, id } = (unwrapUid(uid) ?? {}) as { type?: unknown; id?: unknown };
  return typeof type === 'string' && typeof id === 'string' ? new EntityRef(type, id) : undefined;
}

const TYPE_NAME = /^[_a-zA-Z][_a-zA-Z0-9]*(::[_a-zA-Z][_a-zA-Z0-9]*)*$/;
const RESERVED = new Set(['true', 'false', 'if', 'then', 'else', 'in', 'is', 'like', 'has', '__cedar']);
const plainTypes = new Set<string>();

function isPlainRef(ref: { type: string; id: string }): boolean {
  if (!plainTypes.has(ref.type)) {
    if (!TYPE_NAME.test(ref.type) || ref.type.split('::').some((part) => RESERVED.has(part))) return false;
    plainTypes.add(ref.type);
  }
  return isWellFormed(ref.id);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A record whose attributes (undefined ones are dropped on the way to Cedar) are all plain values. */
function isPlainRecord(record: Record<string, unknown>, depth = 0): boolean {
  if (!isRecordJson(record) || depth > 8) return false;
  for (const name in record) {
    if (!Object.hasOwn(record, name) || !isWellFormed(name)) return false;
    if (record[name] !== undefined && !isPlainValue(record[name], depth + 1)) return false;
  }
  return true;
}

/** A string, boolean, safe integer, or a set or record of such values. */
function isPlainValue(value: unknown, depth: number): boolean {
  if (typeof value === 'boolean') return true;
  if (typeof value === 'string') return isWellFormed(value);
  if (typeof value === 'number') return Number.isSafeInteger(value);
  if (Array.isArray(value)) return depth <= 8 && value.every((item) => isPlainValue(item, depth + 1));
  return isPlainRecord(value as Record<string, unknown>, depth);
}

/** Cedar's strings are Unicode scalar values: a lone surrogate cannot even reach it. */
function isWellFormed(text: string): boolean {
  return (text as string & { isWellFormed(): boolean }).isWellFormed();
}
