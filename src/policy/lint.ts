// Finds what a policy's author most likely did not mean: rules that can never fire, rules another rule makes
// redundant, ask rules that cannot say why. Schema and syntax errors come first, from checkPolicy.
import { checkPolicy, policyWarnings, ruleForms, type PolicyFile, type RuleForm } from './engine.js';

export type LintSeverity = 'error' | 'warning' | 'info';

export type LintKind = 'schema' | 'duplicate-id' | 'never-fires' | 'shadowed' | 'monitor-mode' | 'ask-without-reason';

export interface LintFinding {
  severity: LintSeverity;
  kind: LintKind;
  file: string;
  line: number;
  /** The rule it is about, when it is about one. */
  rule?: string;
  message: string;
}

/** Every finding, in file and line order. Errors and warnings should fail a check; information should not. */
export function lintPolicy(files: PolicyFile[]): LintFinding[] {
  const findings: LintFinding[] = checkPolicy(files).map((problem) => ({
    severity: 'error',
    kind: /^rule id ".*" is already used at /.test(problem.message) ? 'duplicate-id' : 'schema',
    file: problem.file,
    line: problem.line,
    message: problem.column > 1 ? `column ${problem.column}: ${problem.message}` : problem.message,
  }));
  const broken = new Set(findings.filter((finding) => finding.kind === 'schema').map((finding) => finding.file));
  const rules = ruleForms(files.filter((file) => !broken.has(file.name)));
  const at = (file: string, line: number) => rules.find((rule) => rule.file === file && rule.line === line);
  const neverFires = new Set<string>();
  for (const warning of policyWarnings(files.filter((file) => !broken.has(file.name)))) {
    const rule = at(warning.file, warning.line);
    // Cedar says `policy0`: the rule's own id reads better.
    const message = warning.message.replace(/^for policy `[^`]*`, /, '');
    // Cedar may give one rule several reasons: one finding per rule, with all of them.
    const earlier = findings.find((finding) => finding.kind === 'never-fires' && finding.file === warning.file && finding.line === warning.line);
    if (earlier) earlier.message += `; ${message}`;
    else findings.push({ severity: 'warning', kind: 'never-fires', file: warning.file, line: warning.line, ...(rule && { rule: rule.id }), message: `can never fire: ${message}` });
    if (rule) neverFires.add(rule.id);
  }
  for (const rule of rules) {
    const where = { file: rule.file, line: rule.line, rule: rule.id };
    // Cedar's strict validation already rejects an empty action scope (`action in []`); it does not see
    // conditions that contradict each other on their own terms.
    const contradiction = rule.json && contradictionIn(conjunctsOf(rule.json.conditions));
    if (contradiction) {
      neverFires.add(rule.id);
      findings.push({ severity: 'warning', kind: 'never-fires', ...where, message: `can never fire: ${contradiction}` });
    }
    if (rule.mode === 'monitor') findings.push({ severity: 'info', kind: 'monitor-mode', ...where, message: `in monitor mode: its ${rule.effect} is recorded, not enforced` });
    if (rule.effect === 'ask' && rule.reason.trim() === '') findings.push({ severity: 'warning', kind: 'ask-without-reason', ...where, message: 'asks without @reason: the person asked cannot tell why' });
  }
  const live = rules.filter((rule) => !neverFires.has(rule.id));
  for (const [index, rule] of live.entries()) {
    const by = live.find((other, otherIndex) => other !== rule && shadows(other, rule) && !(otherIndex > index && shadows(rule, other)));
    if (by) {
      findings.push({
        severity: 'warning',
        kind: 'shadowed',
        file: rule.file,
        line: rule.line,
        rule: rule.id,
        message: `shadowed by "${by.id}" (${by.file}:${by.line}): every call it matches, that ${by.effect} rule matches too (a syntactic check on scopes and conditions)`,
      });
    }
  }
  return findings.sort((a, b) => (a.file === b.file ? a.line - b.line : a.file < b.file ? -1 : 1));
}

const STRENGTH = { allow: 0, ask: 1, deny: 2 } as const;

/**
 * Whether `y` matches every call `x` matches with an effect at least as strong, so `x` changes no decision.
 * Syntactic: `y`'s scope covers `x`'s, and each of `y`'s conditions has a disjunct whose conjuncts are all
 * among `x`'s conjuncts. A permit is never reported: permits only matter when no forbid matches.
 */
function shadows(y: RuleForm, x: RuleForm): boolean {
  if (x.effect === 'allow' || y.effect === 'allow' || !x.json || !y.json) return false;
  if (STRENGTH[y.effect] < STRENGTH[x.effect]) return false;
  // A monitored rule blocks nothing, so it cannot stand in for an enforced one.
  if (y.mode === 'monitor' && x.mode === 'enforce') return false;
  if (!scopeCovers(y.json.principal, x.json.principal) || !scopeCovers(y.json.resource, x.json.resource)) return false;
  if (y.actions !== undefined && (x.actions === undefined || !x.actions.every((action) => y.actions!.includes(action)))) return false;
  const have = new Set(conjunctsOf(x.json.conditions).map(canonical));
  return clausesOf(y.json.conditions).every((disjuncts) => disjuncts.some((conjuncts) => conjuncts.every((conjunct) => have.has(canonical(conjunct)))));
}

/** Two conditions a rule needs that cannot both hold: `c` and `!c`, or `a == 1` and `a == 2`. */
function contradictionIn(conjuncts: unknown[]): string | undefined {
  const all = new Set(conjuncts.map(canonical));
  if (conjuncts.some((conjunct) => all.has(canonical(negate(conjunct))))) return 'it needs a condition and its negation';
  const equals = new Map<string, string>();
  for (const conjunct of conjuncts) {
    const pair = (conjunct as { '=='?: { left: unknown; right: unknown } })['=='];
    const value = (pair?.right as { Value?: unknown } | undefined)?.Value;
    if (!pair || value === undefined) continue;
    const left = canonical(pair.left);
    const seen = equals.get(left);
    if (seen !== undefined && seen !== canonical(value)) return `it needs one attribute to equal both ${seen} and ${canonical(value)}`;
    equals.set(left, canonical(value));
  }
  return undefined;
}

function scopeCovers(y: unknown, x: unknown): boolean {
  return (y as { op?: string } | undefined)?.op === 'All' || canonical(y) === canonical(x);
}

interface Condition {
  kind: 'when' | 'unless';
  body: unknown;
}

/** Every condition `x` needs to hold, as a flat list (Cedar joins clauses with `&&`; `unless` is a negation). */
function conjunctsOf(conditions: unknown): unknown[] {
  return ((conditions as Condition[] | undefined) ?? []).flatMap(({ kind, body }) => (kind === 'when' ? split(body, '&&') : split(body, '||').map(negate)));
}

/** Each clause of `y` as disjuncts of conjuncts: the clause holds when all conjuncts of some disjunct hold. */
function clausesOf(conditions: unknown): unknown[][][] {
  return ((conditions as Condition[] | undefined) ?? []).map(({ kind, body }) =>
    kind === 'when' ? split(body, '||').map((disjunct) => split(disjunct, '&&')) : split(body, '&&').map((part) => [negate(part)]),
  );
}

function split(node: unknown, op: '&&' | '||'): unknown[] {
  const pair = (node as Record<string, { left: unknown; right: unknown }> | undefined)?.[op];
  return pair ? [...split(pair.left, op), ...split(pair.right, op)] : [node];
}

function negate(node: unknown): unknown {
  const inner = (node as { '!'?: { arg: unknown } })['!'];
  return inner ? inner.arg : { '!': { arg: node } };
}

/** JSON with sorted keys: two conditions written alike compare equal. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
