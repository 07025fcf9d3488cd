// Adds Writ's hooks to, and removes them from, the text of a Claude Code settings file.
//
// Edits are made on the text, not by re-serialising the parsed object, so that everything
// outside Writ's own entries keeps its bytes: key order, indentation, number spelling,
// escapes, inline arrays and the trailing newline. Claude Code rejects a user or project
// settings file with unknown keys as a whole, so Writ's entries carry no marker key: they
// are recognised by the exact shape of the hook commands and URLs Writ writes.

export type HookTransport = 'command' | 'http';

/** The hook events Writ installs, in the order it adds them. */
export const WRIT_HOOK_EVENTS = [
  'PreToolUse',
  'PostToolUse',
  'PostToolUseFailure',
  'UserPromptSubmit',
  'SessionStart',
  'SessionEnd',
  'Stop',
  // Fires when a settings file changes, so Writ sees (and can block) its own hooks being removed.
  'ConfigChange',
] as const;
export type WritHookEvent = (typeof WRIT_HOOK_EVENTS)[number];

export interface CommandHookHandler {
  type: 'command';
  command: string;
  timeout: number;
}
export interface HttpHookHandler {
  type: 'http';
  url: string;
  headers: Record<string, string>;
  timeout: number;
}
export type WritHookHandler = CommandHookHandler | HttpHookHandler;

/** The handler Writ puts under each event. Build it with writHookCommands(). */
export type WritHookCommands = Record<WritHookEvent, WritHookHandler>;

export interface WritHookOptions {
  transport: HookTransport;
  /** Absolute path of the writ-hook shim. */
  shimPath: string;
  /** Writ's home, passed as --home; omitted (managed scope) so each user's shim finds their own daemon. */
  writHome?: string;
  /** The daemon's loopback port, for transport 'http'. */
  httpPort?: number;
  /** Sent as X-Writ-Hook-Token, so only Claude Code (not a web page) can post to the loopback port. */
  httpToken?: string;
}

/** Seconds. Longer than the shim's own deadline (800 ms), so Claude Code's timeout, which fails open, never fires first. */
export const WRIT_HOOK_TIMEOUT_SECONDS = 5;
export const DAEMON_HOOK_PATH = '/v1/hooks/claude-code';

// Events on which a tool runs, so a matcher on tool_name applies; the others take none.
const TOOL_EVENTS: ReadonlySet<string> = new Set(['PreToolUse', 'PostToolUse', 'PostToolUseFailure']);
// Claude Code cannot send SessionStart to an http hook, so it stays a command hook.
const COMMAND_ONLY_EVENTS: ReadonlySet<string> = new Set(['SessionStart']);

/** Quotes a word for sh: single quotes, with each embedded quote written as '\''. */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

const SHELL_QUOTED = String.raw`'[^']*'(?:\\''[^']*')*`;
// `record || true` is how installs before exec'd record hooks wrote them; uninstall still knows them.
const WRIT_COMMAND = new RegExp(`^(?:exec )?${SHELL_QUOTED}(?: --home ${SHELL_QUOTED})? (?:enforce \\|\\| exit 2|record|record \\|\\| true)$`);
const WRIT_URL = new RegExp(`^http://127\\.0\\.0\\.1:\\d{1,5}${DAEMON_HOOK_PATH}$`);

export function writHookCommands(options: WritHookOptions): WritHookCommands {
  const { transport, shimPath, writHome, httpPort, httpToken } = options;
  if (transport === 'http' && !(Number.isInteger(httpPort) && httpPort! > 0 && httpPort! < 65536)) {
    throw new Error(`the http transport needs the Writ daemon's port (1-65535), not ${httpPort}`);
  }
  const shim = `${shellQuote(shimPath)}${writHome === undefined ? '' : ` --home ${shellQuote(writHome)}`}`;
  const handlers = {} as WritHookCommands;
  for (const event of WRIT_HOOK_EVENTS) {
    const mode = event === 'PreToolUse' ? 'enforce' : 'record';
    if (transport === 'http' && !COMMAND_ONLY_EVENTS.has(event)) {
      handlers[event] = {
        type: 'http',
        url: `http://127.0.0.1:${httpPort}${DAEMON_HOOK_PATH}`,
        headers: { 'X-Writ-Mode': mode, ...(httpToken ? { 'X-Writ-Hook-Token': httpToken } : {}) },
        timeout: WRIT_HOOK_TIMEOUT_SECONDS,
      };
    } else {
      // Shell form on purpose: `|| exit 2` turns a missing shim (127) into a block. A record hook
      // can never block (any exit but 2 lets the agent go on), so it `exec`s the shim: one process
      // fewer on every tool call, since the shell need not fork to wait for it.
      const command = mode === 'enforce' ? `${shim} enforce || exit 2` : `exec ${shim} record`;
      handlers[event] = { type: 'command', command, timeout: WRIT_HOOK_TIMEOUT_SECONDS };
    }
  }
  return handlers;
}

/** Whether a hook handler is one Writ wrote (any shim path, home or port). */
export function isWritHandler(handler: unknown): boolean {
  if (!isPlainObject(handler)) return false;
  if (handler.type === 'command') return typeof handler.command === 'string' && WRIT_COMMAND.test(handler.command);
  if (handler.type === 'http') return typeof handler.url === 'string' && WRIT_URL.test(handler.url);
  return false;
}

/** Why a settings text cannot be edited safely. The file is left as it is. */
export class InvalidSettingsError extends Error {
  override name = 'InvalidSettingsError';
}

/**
 * The settings text with Writ's hooks in it. `existingText` undefined (no file) or blank
 * gives a new file. Writ entries already in place exactly as planned are left where they
 * are, so installing twice gives the same bytes; stale or duplicate ones are replaced.
 */
export function planInstall(existingText: string | undefined, hooks: WritHookCommands): string {
  let text = existingText === undefined || existingText.trim() === '' ? '{}\n' : existingText;
  let tree = parseSettings(text);
  const wanted = new Map<string, unknown>(WRIT_HOOK_EVENTS.map((event) => [event, writGroup(event, hooks[event])]));

  for (const event of eventNames(tree)) {
    const value = eventValue(tree, event);
    if (value === undefined) continue;
    const found = writHandlersIn(text, event, value);
    const group = found.length === 1 ? found[0].group : undefined;
    if (group && wanted.has(event) && deepEqual(valueOf(text, group), wanted.get(event))) {
      wanted.delete(event);
    } else {
      ({ text, tree } = removeWritHandlers(text, tree, event));
    }
  }
  for (const [event, group] of wanted) {
    ({ text, tree } = appendGroup(text, tree, event, group));
  }
  return text;
}

/** The settings text without any of Writ's hook handlers; undefined when it holds none. */
export function planUninstall(currentText: string): string | undefined {
  let text = currentText;
  let tree = parseSettings(text);
  let changed = false;
  for (const event of eventNames(tree)) {
    const value = eventValue(tree, event);
    if (value === undefined || writHandlersIn(text, event, value).length === 0) continue;
    ({ text, tree } = removeWritHandlers(text, tree, event));
    changed = true;
  }
  return changed ? text : undefined;
}

function writGroup(event: string, handler: WritHookHandler): Record<string, unknown> {
  return TOOL_EVENTS.has(event) ? { matcher: '*', hooks: [handler] } : { hooks: [handler] };
}

// ---- Locating Writ's handlers ---------------------------------------------------------------

interface Edited {
  text: string;
  tree: ObjectNode;
}

interface WritHandlerPlace {
  group: ObjectNode;
  groupIndex: number;
  handlerIndex: number;
}

function hooksNode(tree: ObjectNode): ObjectNode | undefined {
  const hooks = lastMember(tree, 'hooks');
  if (hooks === undefined) return undefined;
  if (hooks.value.kind !== 'object') throw new InvalidSettingsError('"hooks" is not an object');
  return hooks.value;
}

// Names only: every edit re-parses the text, so nodes from before it are stale.
function eventNames(tree: ObjectNode): string[] {
  return [...new Set(hooksNode(tree)?.members.map((member) => member.key) ?? [])];
}

function eventValue(tree: ObjectNode, event: string): JsonNode | undefined {
  const hooks = hooksNode(tree);
  return hooks && lastMember(hooks, event)?.value;
}

function writHandlersIn(text: string, event: string, eventValue: JsonNode): WritHandlerPlace[] {
  if (eventValue.kind !== 'array') throw new InvalidSettingsError(`"hooks.${event}" is not an array`);
  const places: WritHandlerPlace[] = [];
  eventValue.items.forEach((group, groupIndex) => {
    if (group.kind !== 'object') throw new InvalidSettingsError(`"hooks.${event}[${groupIndex}]" is not an object`);
    const handlers = lastMember(group, 'hooks')?.value;
    if (handlers === undefined) return;
    if (handlers.kind !== 'array') throw new InvalidSettingsError(`"hooks.${event}[${groupIndex}].hooks" is not an array`);
    handlers.items.forEach((handler, handlerIndex) => {
      if (isWritHandler(valueOf(text, handler))) places.push({ group, groupIndex, handlerIndex });
    });
  });
  return places;
}

/**
 * Removes every Writ handler under one event, last first so earlier positions hold, then
 * whatever that leaves empty: the matcher group, the event, the hooks object.
 */
function removeWritHandlers(text: string, tree: ObjectNode, event: string): Edited {
  for (;;) {
    const hooks = hooksNode(tree)!;
    const eventMember = lastMember(hooks, event)!;
    const place = writHandlersIn(text, event, eventMember.value).pop();
    if (place === undefined) return { text, tree };
    const groups = eventMember.value as ArrayNode;
    const handlers = lastMember(place.group, 'hooks')!.value as ArrayNode;
    if (handlers.items.length > 1) text = removeElement(text, handlers, place.handlerIndex);
    else if (groups.items.length > 1) text = removeElement(text, groups, place.groupIndex);
    else if (hooks.members.length > 1) text = removeElement(text, hooks, hooks.members.indexOf(eventMember));
    else text = removeElement(text, tree, tree.members.lastIndexOf(lastMember(tree, 'hooks')!));
    tree = parseSettings(text);
    if (!lastMember(tree, 'hooks') || !lastMember(hooksNode(tree)!, event)) return { text, tree };
  }
}

/** Appends Writ's matcher group to an event, creating the event and the hooks object as needed. */
function appendGroup(text: string, tree: ObjectNode, event: string, group: unknown): Edited {
  const hooks = lastMember(tree, 'hooks');
  const layout = layoutOf(text, tree);
  if (hooks === undefined) {
    text = appendElement(text, tree, layout, memberText('hooks', { [event]: [group] }));
  } else {
    const hooksObject = hooksNode(tree)!;
    const eventMember = lastMember(hooksObject, event);
    if (eventMember === undefined) {
      text = appendElement(text, hooksObject, layout, memberText(event, [group]));
    } else if (eventMember.value.kind === 'array') {
      text = appendElement(text, eventMember.value, layout, itemText(group));
    } else {
      throw new InvalidSettingsError(`"hooks.${event}" is not an array`);
    }
  }
  return { text, tree: parseSettings(text) };
}

// ---- Text edits that keep the surrounding formatting ----------------------------------------

/** Renders an element at the given indentation; `inline` for single-line containers. */
type ElementText = (indent: string, layout: Layout, inline: boolean) => string;

function memberText(key: string, value: unknown): ElementText {
  return (indent, layout, inline) => `${JSON.stringify(key)}: ${render(value, indent, layout, inline)}`;
}

function itemText(value: unknown): ElementText {
  return (indent, layout, inline) => render(value, indent, layout, inline);
}

function render(value: unknown, indent: string, layout: Layout, inline: boolean): string {
  if (inline) return JSON.stringify(value);
  return JSON.stringify(value, null, layout.unit).replace(/\n/g, `${layout.newline}${indent}`);
}

function elementsOf(container: ObjectNode | ArrayNode): Span[] {
  return container.kind === 'object' ? container.members : container.items;
}

interface Layout {
  /** The file's indent step, from its first indented line; two spaces if it has none. */
  unit: string;
  /** The whole document is on one line, so new elements are written compactly too. */
  oneLine: boolean;
  /** CRLF files get CRLF lines. */
  newline: string;
}

function layoutOf(text: string, tree: ObjectNode): Layout {
  return {
    unit: /\n([ \t]+)\S/.exec(text)?.[1] ?? '  ',
    oneLine: !text.slice(tree.start, tree.end).includes('\n'),
    newline: text.includes('\r\n') ? '\r\n' : '\n',
  };
}

function appendElement(text: string, container: ObjectNode | ArrayNode, layout: Layout, element: ElementText): string {
  const elements = elementsOf(container);
  const last = elements[elements.length - 1];
  if (last === undefined && layout.oneLine) {
    return splice(text, container.start + 1, container.end - 1, element('', layout, true));
  }
  if (last === undefined) {
    // Empty container: open it up one level deeper than the line it starts on.
    const outer = lineIndent(text, container.start);
    const inner = outer + layout.unit;
    const { newline } = layout;
    return splice(text, container.start + 1, container.end - 1, `${newline}${inner}${element(inner, layout, false)}${newline}${outer}`);
  }
  // Copy the separator the last element was written with (a newline and indent, or a space).
  const before = text.slice(container.start + 1, last.start);
  const separator = /\s*$/.exec(before)![0];
  const multiline = separator.includes('\n');
  const indent = multiline ? separator.slice(separator.lastIndexOf('\n') + 1) : '';
  return splice(text, last.end, last.end, `,${separator}${element(indent, layout, !multiline)}`);
}

function removeElement(text: string, container: ObjectNode | ArrayNode, index: number): string {
  const elements = elementsOf(container);
  if (elements.length === 1) return splice(text, container.start + 1, container.end - 1, '');
  if (index < elements.length - 1) return splice(text, elements[index].start, elements[index + 1].start, '');
  return splice(text, elements[index - 1].end, elements[index].end, '');
}

function splice(text: string, start: number, end: number, insert: string): string {
  return text.slice(0, start) + insert + text.slice(end);
}

function lineIndent(text: string, position: number): string {
  const lineStart = text.lastIndexOf('\n', position - 1) + 1;
  return /^[ \t]*/.exec(text.slice(lineStart))![0];
}

// ---- A JSON parser that keeps positions -----------------------------------------------------

interface Span {
  start: number;
  end: number;
}
interface ObjectNode extends Span {
  kind: 'object';
  members: MemberNode[];
}
interface ArrayNode extends Span {
  kind: 'array';
  items: JsonNode[];
}
interface ScalarNode extends Span {
  kind: 'scalar';
}
type JsonNode = ObjectNode | ArrayNode | ScalarNode;
interface MemberNode extends Span {
  key: string;
  value: JsonNode;
}

/** Parses settings text into positioned nodes; the text must be a JSON object. */
function parseSettings(text: string): ObjectNode {
  // A byte-order mark is kept as it is and skipped over.
  const offset = text.startsWith('\uFEFF') ? 1 : 0;
  try {
    JSON.parse(text.slice(offset));
  } catch (error) {
    throw new InvalidSettingsError(`not valid JSON (${(error as Error).message})`);
  }
  const parser = new PositionParser(text, offset);
  const root = parser.value();
  if (root.kind !== 'object') throw new InvalidSettingsError('the top level is not a JSON object');
  return root;
}

// Only ever run on text JSON.parse accepted, so it checks nothing and just records positions.
class PositionParser {
  constructor(
    private readonly text: string,
    private pos: number,
  ) {}

  value(): JsonNode {
    this.skipSpace();
    const start = this.pos;
    const char = this.text[this.pos];
    if (char === '{') {
      const members: MemberNode[] = [];
      this.pos++;
      while (this.skipSpace() !== '}') {
        if (this.text[this.pos] === ',') this.pos++;
        this.skipSpace();
        const keyStart = this.pos;
        const key = JSON.parse(this.text.slice(keyStart, this.skipString())) as string;
        this.skipSpace();
        this.pos++; // the colon
        const value = this.value();
        members.push({ key, value, start: keyStart, end: value.end });
      }
      this.pos++;
      return { kind: 'object', members, start, end: this.pos };
    }
    if (char === '[') {
      const items: JsonNode[] = [];
      this.pos++;
      while (this.skipSpace() !== ']') {
        if (this.text[this.pos] === ',') this.pos++;
        items.push(this.value());
      }
      this.pos++;
      return { kind: 'array', items, start, end: this.pos };
    }
    if (char === '"') this.skipString();
    else while (this.pos < this.text.length && !/[\s,\]}]/.test(this.text[this.pos])) this.pos++;
    return { kind: 'scalar', start, end: this.pos };
  }

  private skipString(): number {
    this.pos++;
    while (this.text[this.pos] !== '"') this.pos += this.text[this.pos] === '\\' ? 2 : 1;
    return ++this.pos;
  }

  private skipSpace(): string | undefined {
    while (/\s/.test(this.text[this.pos] ?? '')) this.pos++;
    return this.text[this.pos];
  }
}

/** The member JSON.parse would keep when a key repeats: the last one. */
function lastMember(object: ObjectNode, key: string): MemberNode | undefined {
  for (let i = object.members.length - 1; i >= 0; i--) if (object.members[i].key === key) return object.members[i];
  return undefined;
}

function valueOf(text: string, node: Span): unknown {
  return JSON.parse(text.slice(node.start, node.end));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, i) => deepEqual(item, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((key) => key in b && deepEqual(a[key], b[key]));
  }
  return a === b;
}
