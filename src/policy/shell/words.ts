// Turns a shell word node into the strings bash would pass to the program: quotes and escapes removed,
// `~` and variables expanded, braces expanded. Globs are kept as patterns and flagged.
import type { SyntaxNode } from './parse.js';

/** A word's possible values; `undefined` when they depend on something only known at run time. */
export interface Word {
  values: string[] | undefined;
  raw: string;
  glob: boolean;
  /** Its text comes from the network (`$(curl …)`, `<(wget -O- …)`). */
  network?: boolean;
}

export interface WordContext {
  /** What `~` stands for: $HOME as the line has it, undefined when only known at run time. */
  home: string | undefined;
  variable(name: string): string[] | undefined;
  userHome(user: string): string;
  /** Static value of `$(…)`, or undefined when it cannot be known without running it. */
  substitute(node: SyntaxNode): string | undefined;
  /** The `/dev/fd/N` path bash gives a process substitution, so what it prints can follow the path. */
  pipePath?(node: SyntaxNode): string;
}

// Sentinels for characters that are special only when unquoted.
const BRACE_OPEN = '\u0001';
const BRACE_COMMA = '\u0002';
const BRACE_CLOSE = '\u0003';
const GLOB_STAR = '\u0004';
const GLOB_QUESTION = '\u0005';
const GLOB_BRACKET = '\u0006';
const SENTINELS = /[\u0001-\u0006]/g;

export function evaluateWord(node: SyntaxNode, ctx: WordContext): Word {
  const pieces = pieceList(node, ctx, true);
  if (pieces === undefined) return { values: undefined, raw: node.text, glob: false };
  const joined = pieces.join('');
  const glob = /[\u0004-\u0006]/.test(joined);
  const expanded = expandBraces(joined);
  if (expanded === undefined) return { values: undefined, raw: node.text, glob };
  const values = expanded.map((value) =>
    value.replace(SENTINELS, (sentinel) => ({ '\u0001': '{', '\u0002': ',', '\u0003': '}', '\u0004': '*', '\u0005': '?', '\u0006': '[' })[sentinel]!),
  );
  return { values, raw: node.text, glob };
}

/** Concatenated pieces; unquoted special characters are sentinel-marked. */
function pieceList(node: SyntaxNode, ctx: WordContext, first: boolean): string[] | undefined {
  switch (node.type) {
    case 'word':
    case 'number':
    case 'command_name': {
      if (node.type === 'command_name' && node.namedChildCount > 0 && node.namedChildren[0]!.type !== 'word') {
        return pieceList(node.namedChildren[0]!, ctx, first);
      }
      const text = unquotedWord(node.text, ctx, first);
      return text === undefined ? undefined : [text];
    }
    case 'raw_string':
      return [node.text.slice(1, -1)];
    case 'ansi_c_string':
      return [decodeAnsiC(node.text.slice(2, -1))];
    case 'translated_string':
      return pieceList(node.namedChildren[0]!, ctx, false);
    case 'string':
      return doubleQuoted(node, ctx);
    case 'concatenation': {
      const parts: string[] = [];
      for (const [index, child] of node.namedChildren.entries()) {
        const part = pieceList(child!, ctx, first && index === 0);
        if (part === undefined) return undefined;
        parts.push(part.join(''));
      }
      return concatWithGaps(node, parts);
    }
    case 'simple_expansion':
    case 'expansion': {
      const values = expansionValue(node, ctx);
      if (!values || values.length === 0) return undefined;
      // A loop variable takes each of its values in turn: expand it like the alternatives of a brace.
      return [values.length === 1 ? values[0]! : BRACE_OPEN + values.join(BRACE_COMMA) + BRACE_CLOSE];
    }
    case 'process_substitution':
      // bash passes `<(…)` and `>(…)` as a pipe's path; what runs inside is analysed where it runs.
      return [ctx.pipePath?.(node) ?? '/dev/fd/63'];
    case 'command_substitution': {
      const value = ctx.substitute(node);
      return value === undefined ? undefined : [value.replace(/\n+$/, '')];
    }
    default:
      return undefined;
  }
}

// tree-sitter drops literal characters such as `{` `}` `,` between named children of a concatenation;
// recover them from the source text so brace expansion still sees them.
function concatWithGaps(node: SyntaxNode, pieces: string[]): string[] {
  const children = node.namedChildren;
  if (children.length !== pieces.length) return pieces;
  const out: string[] = [];
  let cursor = node.startIndex;
  children.forEach((child, index) => {
    if (child!.startIndex > cursor) out.push(markUnquoted(node.text.slice(cursor - node.startIndex, child!.startIndex - node.startIndex)));
    out.push(pieces[index]!);
    cursor = child!.endIndex;
  });
  if (cursor < node.endIndex) out.push(markUnquoted(node.text.slice(cursor - node.startIndex)));
  return out;
}

/** `~` is $HOME, `~user` that user's home, `~+` $PWD and `~-` $OLDPWD; undefined when only known at run time. */
function unquotedWord(text: string, ctx: WordContext, first: boolean): string | undefined {
  let rest = text;
  let prefix: string | undefined = '';
  if (first && rest.startsWith('~')) {
    const match = /^~([A-Za-z0-9._-]*|[+-])(?=\/|$)/.exec(rest);
    if (match) {
      const user = match[1]!;
      prefix = user === '' ? ctx.home : user === '+' ? ctx.variable('PWD')?.[0] : user === '-' ? ctx.variable('OLDPWD')?.[0] : ctx.userHome(user);
      rest = rest.slice(match[0].length);
    }
  }
  return prefix === undefined ? undefined : prefix + markUnquoted(rest);
}

/** Removes backslash escapes and marks unquoted glob and brace characters. */
function markUnquoted(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (char === '\\') {
      if (i + 1 < text.length && text[i + 1] !== '\n') out += text[i + 1];
      i++;
      continue;
    }
    out += { '{': BRACE_OPEN, ',': BRACE_COMMA, '}': BRACE_CLOSE, '*': GLOB_STAR, '?': GLOB_QUESTION, '[': GLOB_BRACKET }[char] ?? char;
  }
  return out;
}

function doubleQuoted(node: SyntaxNode, ctx: WordContext): string[] | undefined {
  const body = node.text.slice(1, -1);
  const out: string[] = [];
  let cursor = node.startIndex + 1;
  for (const child of node.namedChildren) {
    if (child!.startIndex > cursor) out.push(unescapeDoubleQuoted(body.slice(cursor - node.startIndex - 1, child!.startIndex - node.startIndex - 1)));
    if (child!.type === 'string_content') out.push(unescapeDoubleQuoted(child!.text));
    else {
      const part = pieceList(child!, ctx, false);
      if (part === undefined) return undefined;
      out.push(part.join(''));
    }
    cursor = child!.endIndex;
  }
  if (cursor < node.endIndex - 1) out.push(unescapeDoubleQuoted(body.slice(cursor - node.startIndex - 1)));
  return [out.join('')];
}

function unescapeDoubleQuoted(text: string): string {
  return text.replace(/\\([$`"\\\n])/g, (_, char: string) => (char === '\n' ? '' : char));
}

function expansionValue(node: SyntaxNode, ctx: WordContext): string[] | undefined {
  const name = node.namedChildren.find((child) => child!.type === 'variable_name' || child!.type === 'special_variable_name');
  if (!name) return undefined;
  if (node.type === 'simple_expansion') return ctx.variable(name.text);
  const head = node.text.slice(2, node.text.indexOf(name.text, 2));
  const operator = node.text.slice(node.text.indexOf(name.text, 2) + name.text.length, -1);
  // ${!NAME}: the variable NAME's value names.
  const indirect = head === '!' ? ctx.variable(name.text) : undefined;
  if (head === '!' && indirect?.length !== 1) return undefined;
  const value = indirect ? ctx.variable(indirect[0]!) : ctx.variable(name.text);
  if (head === '#') return operator === '' && value ? value.map((item) => String([...item].length)) : undefined;
  if (head !== '' && head !== '!') return undefined;
  if (operator === '') return value;
  // The word after `:-`, `:=` and `:+` is expanded like any other (`${X:-$HOME/.ssh}`).
  const operand = () => {
    const nodes = node.namedChildren.slice(node.namedChildren.indexOf(name) + 1);
    if (nodes.length === 0) return /^:?[-=+]$/.test(operator) ? [''] : undefined;
    const pieces = nodes.length === 1 ? pieceList(nodes[0]!, ctx, true) : undefined;
    return pieces === undefined ? undefined : [pieces.join('')];
  };
  if (/^:?[-=]/.test(operator)) return value && value[0] !== '' ? value : operand();
  if (/^:?\+/.test(operator)) return value === undefined ? undefined : value[0] !== '' ? operand() : [''];
  return value?.every((item) => transform(item, operator) !== undefined) ? value.map((item) => transform(item, operator)!) : undefined;
}

/** The text of an operand written without quotes or expansions; undefined when it needs evaluating. */
function literalOperand(text: string): string | undefined {
  return /[$`"'\\]/.test(text) ? undefined : text;
}

/**
 * `${v#p}` `${v##p}` `${v%p}` `${v%%p}` `${v/p/r}` `${v//p/r}` `${v:o:l}` `${v^^}` `${v,,}`: bash's
 * parameter operations, for literal patterns (bash manual §3.5.3); undefined for what it cannot follow.
 */
function transform(value: string, operator: string): string | undefined {
  const trim = /^(##?|%%?)(.*)$/s.exec(operator);
  if (trim) {
    const pattern = literalOperand(trim[2]!);
    if (pattern === undefined) return undefined;
    const greedy = trim[1]!.length === 2;
    const body = globSource(pattern, greedy);
    const match = new RegExp(trim[1]![0] === '#' ? `^${body}` : `${body}$`, 's').exec(value);
    if (!match) return value;
    if (trim[1]![0] === '#') return value.slice(match[0].length);
    // Shortest suffix: the match that starts last.
    for (let start = greedy ? 0 : value.length; greedy ? start <= value.length : start >= 0; start += greedy ? 1 : -1) {
      if (new RegExp(`^${body}$`, 's').test(value.slice(start))) return value.slice(0, start);
    }
    return value;
  }
  const replace = /^\/([\/#%]?)((?:\\.|[^/])*)(?:\/(.*))?$/s.exec(operator);
  if (replace) {
    const [pattern, replacement] = [literalOperand(replace[2]!), literalOperand(replace[3] ?? '')];
    if (pattern === undefined || replacement === undefined || pattern === '') return undefined;
    const body = globSource(pattern, true);
    const anchor = replace[1] === '#' ? '^' : '';
    const end = replace[1] === '%' ? '$' : '';
    return value.replace(new RegExp(anchor + body + end, replace[1] === '/' ? 'gs' : 's'), () => replacement);
  }
  const substring = /^:\s*(-?\d+)\s*(?::\s*(-?\d+))?$/.exec(operator) ?? /^:\s*\((-\d+)\)\s*(?::\s*(-?\d+))?$/.exec(operator);
  if (substring) {
    const chars = [...value];
    const offset = Number(substring[1]);
    const start = offset < 0 ? Math.max(0, chars.length + offset) : offset;
    const length = substring[2] === undefined ? chars.length : Number(substring[2]);
    const stop = length < 0 ? chars.length + length : start + length;
    return chars.slice(start, stop).join('');
  }
  if (operator === '^^') return value.toUpperCase();
  if (operator === ',,') return value.toLowerCase();
  if (operator === '^') return value.charAt(0).toUpperCase() + value.slice(1);
  if (operator === ',') return value.charAt(0).toLowerCase() + value.slice(1);
  return undefined;
}

/** A shell glob as a regular expression body: `*` any text, `?` one character, `[…]` a class. */
function globSource(pattern: string, greedy: boolean): string {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i]!;
    if (char === '*') out += greedy ? '.*' : '.*?';
    else if (char === '?') out += '.';
    else if (char === '[') {
      const close = pattern.indexOf(']', i + 2);
      if (close < 0) out += '\\[';
      else {
        out += '[' + pattern.slice(i + 1, close).replace(/^!/, '^').replace(/\\/g, '\\\\') + ']';
        i = close;
      }
    } else out += char.replace(/[.+^${}()|\\/\]]/g, '\\$&');
  }
  return out;
}

/** More values than this and a word counts as unknown: `{a,b}{a,b}…` must not stall the daemon. */
const MAX_VALUES = 256;

/** Bash brace expansion on a sentinel-marked string: `a{b,c}d` → `abd acd`, `{1..3}` → 1 2 3. */
export function expandBraces(text: string, budget = { left: MAX_VALUES }): string[] | undefined {
  const open = text.indexOf(BRACE_OPEN);
  if (open < 0) return budget.left-- > 0 ? [text] : undefined;
  const each = (values: string[]): string[] | undefined => {
    const out: string[] = [];
    for (const value of values) {
      const expanded = expandBraces(value, budget);
      if (expanded === undefined) return undefined;
      out.push(...expanded);
    }
    return out;
  };
  let depth = 0;
  const commas: number[] = [];
  for (let i = open; i < text.length; i++) {
    const char = text[i];
    if (char === BRACE_OPEN) depth++;
    else if (char === BRACE_CLOSE && --depth === 0) {
      const head = text.slice(0, open);
      const tail = text.slice(i + 1);
      const inner = text.slice(open + 1, i);
      if (commas.length === 0) {
        const range = /^(-?\d+)\.\.(-?\d+)$/.exec(inner) ?? /^([a-zA-Z])\.\.([a-zA-Z])$/.exec(inner);
        if (!range) return expandBraces(head + '{' + inner + '}' + tail, budget);
        return each(rangeValues(range[1]!, range[2]!).map((value) => head + value + tail));
      }
      const options: string[] = [];
      let start = open + 1;
      for (const comma of commas) options.push(text.slice(start, comma)), (start = comma + 1);
      options.push(text.slice(start, i));
      return each(options.map((option) => head + option + tail));
    } else if (char === BRACE_COMMA && depth === 1) commas.push(i);
  }
  return budget.left-- > 0 ? [text.replace(BRACE_OPEN, '{')] : undefined;
}

function rangeValues(from: string, to: string): string[] {
  const numeric = /\d/.test(from);
  const start = numeric ? Number(from) : from.charCodeAt(0);
  const end = numeric ? Number(to) : to.charCodeAt(0);
  if (Math.abs(end - start) > 1000) return [`${from}..${to}`];
  const step = start <= end ? 1 : -1;
  const values: string[] = [];
  for (let value = start; value !== end + step; value += step) values.push(numeric ? String(value) : String.fromCharCode(value));
  return values;
}

/** Decodes the body of `$'…'`. */
export function decodeAnsiC(body: string): string {
  return body.replace(/\\(x[0-9a-fA-F]{1,2}|u[0-9a-fA-F]{1,4}|U[0-9a-fA-F]{1,8}|[0-7]{1,3}|c.|.)/gs, (_, escape: string) => {
    const kind = escape[0]!;
    if (kind === 'x' || kind === 'u' || kind === 'U') return String.fromCodePoint(parseInt(escape.slice(1), 16));
    if (/[0-7]/.test(kind)) return String.fromCharCode(parseInt(escape, 8));
    if (kind === 'c') return String.fromCharCode(escape.charCodeAt(1) & 0x1f);
    return { n: '\n', t: '\t', r: '\r', a: '\x07', b: '\b', e: '\x1b', E: '\x1b', f: '\f', v: '\v' }[kind] ?? kind;
  });
}
