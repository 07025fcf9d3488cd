// Cedar expressions in their JSON form compiled to plain-JS evaluators over one request, for the part of
// Cedar that Writ's rules use. Each evaluator follows Cedar's semantics exactly, errors and short-circuits
// included (https://docs.cedarpolicy.com/policies/syntax-operators.html); whatever it does not know
// (extension functions, records, tags, templates, unusual values) evaluates to UNKNOWN, and the rule is
// left to Cedar.
import type { EntityJson } from './engine.js';

/** The evaluator cannot tell: anything may happen in Cedar, an error included. */
export const UNKNOWN: unique symbol = Symbol('unknown');
/** Cedar raises an evaluation error here (a missing attribute, a type error). */
export const ERROR: unique symbol = Symbol('error');
export type Outcome = typeof UNKNOWN | typeof ERROR;

type Primitive = string | number | boolean;

export class EntityRef {
  constructor(
    readonly type: string,
    readonly id: string,
  ) {}
}

export class CedarSet {
  /** For a set of primitives only: constant-time `contains`. */
  private readonly primitives: Set<Primitive> | undefined;
  constructor(readonly items: Value[]) {
    // Below a handful of items, a scan beats building a Set (most request sets are a command's arguments).
    this.primitives = items.length > 8 && items.every(isPrimitive) ? new Set(items as Primitive[]) : undefined;
  }
  has(value: Value): boolean | Outcome {
    if (this.primitives && isPrimitive(value)) return this.primitives.has(value);
    let unknown = false;
    for (const item of this.items) {
      const same = equal(item, value);
      if (same === true) return true;
      if (same === UNKNOWN) unknown = true;
    }
    return unknown ? UNKNOWN : false;
  }
}

export class CedarRecord {
  constructor(readonly attrs: Record<string, unknown>) {}
}

export type Value = Primitive | EntityRef | CedarSet | CedarRecord | Outcome;

/** One request as the evaluators see it. */
export interface RequestView {
  principal: EntityRef;
  action: EntityRef;
  resource: EntityRef;
  context: CedarRecord;
  entity(ref: EntityRef): EntityJson | undefined;
  /** fromJson, converting each set or record of the request once however many rules read it. */
  convert(raw: unknown): Value;
  /** ancestorKeys, computed once per entity of the request. */
  ancestors(entity: EntityRef): Set<string>;
}

export type Evaluator = (view: RequestView) => Value;

export interface Compiled {
  evaluate: Evaluator;
  /** False when some part of the expression evaluates to UNKNOWN whatever the request. */
  understood: boolean;
  /** The value, when it does not depend on the request. */
  constant?: Value;
}

const unknown: Compiled = { evaluate: () => UNKNOWN, understood: false };

export function isOutcome(value: Value): value is Outcome {
  return value === UNKNOWN || value === ERROR;
}

function isPrimitive(value: unknown): value is Primitive {
  return typeof value === 'string' || typeof value === 'boolean' || typeof value === 'number';
}

/** Cedar's `==`: values of different types are unequal, never an error. */
export function equal(a: Value, b: Value): boolean | Outcome {
  if (a === b) return true;
  if (a instanceof EntityRef) return b instanceof EntityRef && a.type === b.type && a.id === b.id;
  if (a instanceof CedarSet && b instanceof CedarSet) {
    const within = (x: CedarSet, y: CedarSet) => x.items.every((item) => y.has(item) === true);
    if (within(a, b) && within(b, a)) return true;
    return a.items.some((item) => b.has(item) === UNKNOWN) || b.items.some((item) => a.has(item) === UNKNOWN) ? UNKNOWN : false;
  }
  if (a instanceof CedarRecord || b instanceof CedarRecord) return UNKNOWN;
  return false;
}

/** An attribute value as Cedar would read it from the request's JSON (no schema is given at request time). */
export function fromJson(raw: unknown): Value {
  switch (typeof raw) {
    case 'string':
    case 'boolean':
      return raw;
    case 'number':
      return Number.isSafeInteger(raw) ? raw : UNKNOWN;
    case 'object': {
      if (Array.isArray(raw)) {
        const items = raw.map(fromJson);
        return items.some(isOutcome) ? UNKNOWN : new CedarSet(items);
      }
      return isRecordJson(raw) ? new CedarRecord(raw as Record<string, unknown>) : UNKNOWN;
    }
    default:
      return UNKNOWN;
  }
}

/**
 * A plain JSON object that Cedar reads as a record: no escape (`__entity`, `__extn` or any other `__` key),
 * nor a bare `{ type, id }`, which Cedar may read as an entity reference.
 */
export function isRecordJson(raw: unknown): boolean {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return false;
  const prototype = Object.getPrototypeOf(raw);
  if (prototype !== Object.prototype && prototype !== null) return false;
  const keys = Object.keys(raw);
  return !keys.some((key) => key.startsWith('__')) && !(keys.length === 2 && keys.includes('type') && keys.includes('id'));
}

/** A literal of the policy's JSON form. */
function literal(raw: unknown): Value {
  if (typeof raw === 'object' && raw !== null && !Array.isArray(raw)) {
    const entity = (raw as { __entity?: { type?: unknown; id?: unknown } }).__entity;
    if (Object.keys(raw).length === 1 && typeof entity?.type === 'string' && typeof entity.id === 'string') return new EntityRef(entity.type, entity.id);
    return UNKNOWN;
  }
  return fromJson(raw);
}

/** `e.attr`: an error when the entity or the attribute is missing (JSON drops `undefined`, so Cedar never sees it). */
export function attribute(view: RequestView, of: Value, name: string): Value {
  const attrs = of instanceof EntityRef ? view.entity(of)?.attrs : of instanceof CedarRecord ? of.attrs : undefined;
  if (attrs === undefined) return isOutcome(of) ? of : ERROR;
  const raw = Object.hasOwn(attrs, name) ? attrs[name] : undefined;
  if (raw === undefined) return ERROR;
  return typeof raw === 'object' ? view.convert(raw) : fromJson(raw);
}

function hasAttribute(view: RequestView, of: Value, name: string): Value {
  if (of instanceof EntityRef) {
    const attrs = view.entity(of)?.attrs;
    return attrs !== undefined && Object.hasOwn(attrs, name) && attrs[name] !== undefined;
  }
  if (of instanceof CedarRecord) return Object.hasOwn(of.attrs, name) && of.attrs[name] !== undefined;
  return isOutcome(of) ? of : ERROR;
}

/** Cedar's `in`: the entity itself or any ancestor through the request's entities, transitively. */
function isIn(view: RequestView, entity: EntityRef, targets: EntityRef[]): boolean {
  const ancestors = view.ancestors(entity);
  return targets.some((target) => ancestors.has(`${target.type}\0${target.id}`));
}

/** The entity's own key and its ancestors' (`type\0id`), following parents through the request's entities. */
export function ancestorKeys(view: RequestView, entity: EntityRef): Set<string> {
  const seen = new Set<string>([`${entity.type}\0${entity.id}`]);
  const pending = [entity];
  while (pending.length > 0) {
    for (const raw of view.entity(pending.pop()!)?.parents ?? []) {
      const parent = (raw as { __entity?: { type: string; id: string } }).__entity ?? raw;
      const key = `${parent.type}\0${parent.id}`;
      if (!seen.has(key)) seen.add(key), pending.push(new EntityRef(parent.type, parent.id));
    }
  }
  return seen;
}

function inEntities(view: RequestView, left: Value, right: Value): Value {
  if (isOutcome(left)) return left;
  if (isOutcome(right)) return right;
  if (!(left instanceof EntityRef)) return ERROR;
  if (right instanceof EntityRef) return isIn(view, left, [right]);
  if (right instanceof CedarSet && right.items.every((item) => item instanceof EntityRef)) return isIn(view, left, right.items as EntityRef[]);
  return ERROR;
}

/** A `like` pattern: `Wildcard` matches any sequence of characters, `Literal`s match themselves (`\*` is a literal). */
export function compileLike(pattern: unknown): ((text: string) => boolean) | undefined {
  if (!Array.isArray(pattern)) return undefined;
  const segments = [''];
  for (const element of pattern) {
    if (element === 'Wildcard') segments.push('');
    else if (typeof (element as { Literal?: unknown })?.Literal === 'string') segments[segments.length - 1] += (element as { Literal: string }).Literal;
    else return undefined;
  }
  if (segments.length === 1) return (text) => text === segments[0];
  const prefix = segments[0]!;
  const suffix = segments[segments.length - 1]!;
  const middles = segments.slice(1, -1).filter((segment) => segment !== '');
  return (text) => {
    if (text.length < prefix.length + suffix.length || !text.startsWith(prefix) || !text.endsWith(suffix)) return false;
    const end = text.length - suffix.length;
    let at = prefix.length;
    // Leftmost-first placement of each literal is optimal when the only wildcard is `*`.
    for (const middle of middles) {
      const found = text.indexOf(middle, at);
      if (found < 0 || found + middle.length > end) return false;
      at = found + middle.length;
    }
    return true;
  };
}

type Binary = { left: unknown; right: unknown };

/** Compiles one expression of a policy's JSON form. Never throws: what it cannot read is UNKNOWN. */
export function compileExpr(expr: unknown): Compiled {
  if (typeof expr !== 'object' || expr === null || Array.isArray(expr)) return unknown;
  const keys = Object.keys(expr);
  if (keys.length !== 1) return unknown;
  const op = keys[0]!;
  const body = (expr as Record<string, unknown>)[op] as Record<string, unknown>;
  switch (op) {
    case 'Value': {
      const value = literal(body);
      return { evaluate: () => value, understood: !isOutcome(value), constant: value };
    }
    case 'Var':
      if (body === ('principal' as unknown)) return { evaluate: (view) => view.principal, understood: true };
      if (body === ('action' as unknown)) return { evaluate: (view) => view.action, understood: true };
      if (body === ('resource' as unknown)) return { evaluate: (view) => view.resource, understood: true };
      if (body === ('context' as unknown)) return { evaluate: (view) => view.context, understood: true };
      return unknown;
    case '!':
      return unary(body?.arg, (a) => (typeof a === 'boolean' ? !a : ERROR));
    case 'neg':
      return unary(body?.arg, (a) => (typeof a === 'number' ? safe(-a) : ERROR));
    case 'isEmpty':
      return unary(body?.arg, (a) => (a instanceof CedarSet ? a.items.length === 0 : ERROR));
    case '==':
      return binary(body as Binary, equal);
    case '!=':
      return binary(body as Binary, (a, b) => {
        const same = equal(a, b);
        return isOutcome(same) ? same : !same;
      });
    case 'in':
      return binary(body as Binary, (a, b, view) => inEntities(view, a, b));
    case '<':
      return binary(body as Binary, (a, b) => compare(a, b, (x, y) => x < y));
    case '<=':
      return binary(body as Binary, (a, b) => compare(a, b, (x, y) => x <= y));
    case '>':
      return binary(body as Binary, (a, b) => compare(a, b, (x, y) => x > y));
    case '>=':
      return binary(body as Binary, (a, b) => compare(a, b, (x, y) => x >= y));
    case '+':
      return binary(body as Binary, (a, b) => arithmetic(a, b, (x, y) => x + y));
    case '-':
      return binary(body as Binary, (a, b) => arithmetic(a, b, (x, y) => x - y));
    case '*':
      return binary(body as Binary, (a, b) => arithmetic(a, b, (x, y) => x * y));
    case 'contains':
      return binary(body as Binary, (a, b) => (a instanceof CedarSet ? a.has(b) : ERROR));
    case 'containsAll':
      return binary(body as Binary, (a, b) => (a instanceof CedarSet && b instanceof CedarSet ? quantify(b.items, (item) => a.has(item), false) : ERROR));
    case 'containsAny':
      return binary(body as Binary, (a, b) => (a instanceof CedarSet && b instanceof CedarSet ? quantify(b.items, (item) => a.has(item), true) : ERROR));
    case '&&':
    case '||':
      return logical(op, body as Binary);
    case '.': {
      const of = compileExpr(body?.left);
      const name = body?.attr;
      if (typeof name !== 'string') return unknown;
      return { evaluate: (view) => attribute(view, of.evaluate(view), name), understood: of.understood };
    }
    case 'has': {
      const of = compileExpr(body?.left);
      const path = Array.isArray(body?.attr) && body.attr.length === 1 ? body.attr[0] : body?.attr;
      if (typeof path !== 'string') return unknown;
      return { evaluate: (view) => hasAttribute(view, of.evaluate(view), path), understood: of.understood };
    }
    case 'like': {
      const of = compileExpr(body?.left);
      const match = compileLike(body?.pattern);
      if (!match) return unknown;
      return unary(body?.left, (a) => (typeof a === 'string' ? match(a) : ERROR), of);
    }
    case 'is': {
      const type = body?.entity_type;
      if (typeof type !== 'string') return unknown;
      const of = compileExpr(body?.left);
      const within = body?.in === undefined ? undefined : compileExpr(body.in);
      return {
        evaluate: (view) => {
          const a = of.evaluate(view);
          if (isOutcome(a)) return a;
          if (!(a instanceof EntityRef)) return ERROR;
          if (a.type !== type) return false;
          return within ? inEntities(view, a, within.evaluate(view)) : true;
        },
        understood: of.understood && (within?.understood ?? true),
      };
    }
    case 'if-then-else': {
      const [test, then, otherwise] = [compileExpr(body?.if), compileExpr(body?.then), compileExpr(body?.else)];
      return {
        evaluate: (view) => {
          const a = test.evaluate(view);
          if (a === true) return then.evaluate(view);
          if (a === false) return otherwise.evaluate(view);
          return isOutcome(a) ? a : ERROR;
        },
        understood: test.understood && then.understood && otherwise.understood,
      };
    }
    case 'Set': {
      if (!Array.isArray(body)) return unknown;
      const items = (body as unknown[]).map(compileExpr);
      const understood = items.every((item) => item.understood);
      if (understood && items.every((item) => item.constant !== undefined)) {
        const constant = new CedarSet(items.map((item) => item.constant!));
        return { evaluate: () => constant, understood, constant };
      }
      return {
        evaluate: (view) => {
          const values: Value[] = [];
          for (const item of items) {
            const value = item.evaluate(view);
            if (isOutcome(value)) return value;
            values.push(value);
          }
          return new CedarSet(values);
        },
        understood,
      };
    }
    default:
      // Records, tags, slots, extension functions (`ip(…)`, `.isInRange(…)`, `decimal`, `datetime`, …).
      return unknown;
  }
}

function unary(arg: unknown, apply: (a: Exclude<Value, Outcome>) => Value, compiled = compileExpr(arg)): Compiled {
  const evaluate = compiled.evaluate;
  return {
    evaluate: (view) => {
      const a = evaluate(view);
      return isOutcome(a) ? a : apply(a);
    },
    understood: compiled.understood,
  };
}

function binary(body: Binary, apply: (a: Value, b: Value, view: RequestView) => Value): Compiled {
  const left = compileExpr(body?.left);
  const right = compileExpr(body?.right);
  // Cedar evaluates left before right: the left operand's error is the one reported.
  return {
    evaluate: (view) => {
      const a = left.evaluate(view);
      if (isOutcome(a)) return a;
      const b = right.evaluate(view);
      return isOutcome(b) ? b : apply(a, b, view);
    },
    understood: left.understood && right.understood,
  };
}

function logical(op: '&&' | '||', body: Binary): Compiled {
  const [left, right] = [compileExpr(body?.left), compileExpr(body?.right)];
  const decisive = op === '||';
  return {
    evaluate: (view) => {
      const a = left.evaluate(view);
      if (a === decisive) return a;
      if (a !== !decisive) return isOutcome(a) ? a : ERROR;
      const b = right.evaluate(view);
      return typeof b === 'boolean' || isOutcome(b) ? b : ERROR;
    },
    understood: left.understood && right.understood,
  };
}

function compare(a: Value, b: Value, test: (x: number, y: number) => boolean): Value {
  // Other comparable types (datetime, duration) are extension values, which are UNKNOWN before this point.
  return typeof a === 'number' && typeof b === 'number' ? test(a, b) : ERROR;
}

/** Within the safe integers there is no i64 overflow; beyond them, Cedar decides. */
function arithmetic(a: Value, b: Value, apply: (x: number, y: number) => number): Value {
  if (typeof a === 'number' && typeof b === 'number') return safe(apply(a, b));
  return ERROR;
}

function safe(result: number): Value {
  return Number.isSafeInteger(result) ? result : UNKNOWN;
}

/** `containsAll` (every item) or `containsAny` (some item): a certain answer beats an unknown one. */
function quantify(items: Value[], test: (item: Value) => boolean | Outcome, decisive: boolean): Value {
  let unknown = false;
  for (const item of items) {
    const result = test(item);
    if (result === decisive) return decisive;
    if (result === UNKNOWN) unknown = true;
  }
  return unknown ? UNKNOWN : !decisive;
}
