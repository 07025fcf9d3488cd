// Walks a parsed shell script the way bash would run it and collects what it runs, reads, writes and sends.
// Anything that depends on run-time values Writ cannot know becomes an opaque exec action.
import type { Action, CallEnvironment, FileAction } from '../actions.js';
import { isUnder, resolvePath } from '../paths.js';
import type { ShellParser, SyntaxNode } from './parse.js';
import { evaluateWord, type Word } from './words.js';
import { runInvocation, runScriptWord } from './commands.js';
import { textOf } from './options.js';
import { hostAction } from './network.js';

/** What flows into a command's standard input. */
export interface Stdin {
  /** Known text (heredoc, here-string, or the static output of the previous pipeline stage). */
  text?: string;
  /** Comes from the network (`curl … |`). */
  network: boolean;
  /** A list of paths under this directory (`find DIR |`, `git ls-files |`). */
  pathsUnder?: string;
  /** Comes from a pipe or file whose content Writ does not know. */
  piped: boolean;
  /** Files whose content may flow in (`cat ~/.ssh/id_rsa | base64 > x`): what the input is a copy of. */
  sources?: FileTarget[];
}

export interface Invocation {
  program: string;
  args: Word[];
  stdin: Stdin;
  /** How the command was reached, outermost first (`sudo`, `bash -c`), for reason texts. */
  chain: string[];
}

/** What a command prints, when Writ can know it without running anything. */
export interface Output {
  text?: string;
  network: boolean;
  pathsUnder?: string;
}

export interface WrittenFile {
  text: string | undefined;
  network: boolean;
}

/** A file a command's standard output is redirected to. */
interface StdoutFile {
  path: string;
  append: boolean;
}

/** A file a command touches; `recursive` when it stands for everything below `path`. */
export interface FileTarget {
  path: string;
  recursive: boolean;
}

export interface ShellAnalysis {
  actions: Action[];
}

const MAX_DEPTH = 8;

/** Variables whose value a program runs as a shell command (LESSOPEN's leading `|` says "pipe from"). */
const RUNS_VALUE = new Set([
  'PAGER', 'GIT_PAGER', 'MANPAGER', 'SYSTEMD_PAGER', 'EDITOR', 'VISUAL', 'GIT_EDITOR', 'GIT_SEQUENCE_EDITOR', 'GIT_SSH_COMMAND', 'GIT_SSH',
  'GIT_ASKPASS', 'SSH_ASKPASS', 'SUDO_ASKPASS', 'GIT_EXTERNAL_DIFF', 'GIT_PROXY_COMMAND', 'LESSOPEN', 'LESSCLOSE', 'PROMPT_COMMAND',
]);
/** Variables naming a file every new shell sources first. */
const SOURCES_VALUE = new Set(['BASH_ENV', 'ENV']);
const LOADS_LIBRARY = new Set(['LD_PRELOAD', 'LD_AUDIT', 'DYLD_INSERT_LIBRARIES']);
const NO_STDIN: Stdin = { network: false, piped: false };

export class ShellAnalyser {
  readonly actions: Action[] = [];
  cwd: string;
  /** The checked-out branch as the line goes on (`git checkout main && git push -f`). */
  gitBranch: string | undefined;
  /** Where each git remote points as the line goes on (`git remote set-url origin …`). */
  readonly gitRemotes: Record<string, string>;
  private readonly variables = new Map<string, string[] | undefined>();
  private readonly networkNodes = new Set<number>();
  /** Shell functions and aliases defined earlier in the line, by name: their bodies run where they are called. */
  private readonly functions = new Map<string, string>();
  readonly aliases = new Map<string, string>();
  /** Variables holding what came from the network (`x=$(curl …); eval "$x"`). */
  private readonly networkVariables = new Set<string>();
  /** Links this line made (`ln -s ~/.claude/settings.json s.json`), link → target. */
  private readonly links = new Map<string, string>();
  /**
   * Files this line wrote, with their text when Writ knows it and whether it came from the network. Analysing
   * that text only ever adds actions (the file's read stays), so a later change Writ does not follow hides nothing.
   */
  private readonly written = new Map<string, WrittenFile>();
  /**
   * Files this line filled from others, with what they are copies of (`cp ~/.ssh/id_rsa x`, `tar czf k.tgz ~/.aws`,
   * `cat .env | base64 > y`): a later read of the copy reads the original too.
   */
  private readonly copies = new Map<string, FileTarget[]>();
  /** Directories an archive from the network was unpacked into (`curl … | tar xz`). */
  private readonly networkTrees = new Set<string>();
  private depth = 0;

  constructor(
    readonly parser: ShellParser,
    readonly env: CallEnvironment,
  ) {
    this.cwd = env.cwd;
    this.gitBranch = env.gitBranch;
    this.gitRemotes = { ...env.gitRemotes };
    const known: Record<string, string> = {
      HOME: env.home,
      USER: env.osUser,
      LOGNAME: env.osUser,
      PWD: env.cwd,
      TMPDIR: env.tempDirs[0] ?? '/tmp',
      CLAUDE_PROJECT_DIR: env.projectDir,
      ...env.variables,
    };
    for (const [name, value] of Object.entries(known)) this.variables.set(name, [value]);
  }

  /**
   * Analyses a script, nested ones (`bash -c`, `eval`, here-docs fed to a shell) included. `positional` are
   * the words a nested shell gets as $0, $1, … (`sh -c 'cat "$1"' _ ~/.netrc`).
   */
  script(text: string, chain: string[], positional?: Word[], stdin: Stdin = NO_STDIN): Output {
    if (this.depth >= MAX_DEPTH) {
      this.opaque('script nested too deeply', chain);
      return { network: false };
    }
    this.depth++;
    const outer = positional ? this.setPositional(positional) : undefined;
    try {
      return this.parser.withTree(text, (root) => {
        if (root.hasError) this.opaque(`shell syntax Writ cannot parse: ${excerpt(errorText(root))}`, chain);
        return this.statements(root.namedChildren as SyntaxNode[], chain, stdin);
      });
    } finally {
      this.depth--;
      if (outer) for (const [name, values] of outer) this.variables.set(name, values);
    }
  }

  /** Sets $0…$9, $@, $* and $#; returns the values they had, to restore. */
  private setPositional(words: Word[]): Map<string, string[] | undefined> {
    const names = [...Array(10).keys()].map(String).concat('@', '*', '#');
    const outer = new Map(names.map((name) => [name, this.variables.get(name)] as const));
    const rest = words.slice(1);
    names.forEach((name) => this.variables.set(name, /^\d$/.test(name) ? words[Number(name)]?.values ?? [''] : undefined));
    if (rest.every((word) => word.values !== undefined)) {
      const all = rest.flatMap((word) => word.values!);
      this.variables.set('@', all.length > 0 ? all : ['']);
      this.variables.set('*', [all.join(' ')]);
    }
    this.variables.set('#', [String(rest.length)]);
    return outer;
  }

  opaque(reason: string, chain: string[]): void {
    const via = chain.join(' → ') || 'shell';
    this.actions.push({ kind: 'exec', program: '?', args: [], line: '?', remoteCode: false, opaque: reason, via });
  }

  /** The absolute path a word names; below a link the line made, the path it leads to. */
  path(value: string): string {
    const path = resolvePath(value, this.cwd, this.env.home);
    for (const [link, target] of this.links) if (isUnder(path, link)) return target + path.slice(link.length);
    return path;
  }

  link(path: string, target: string): void {
    if (path !== target) this.links.set(path, target);
  }

  setVariable(name: string, values: string[] | undefined, network = false): void {
    this.variables.set(name, values);
    if (network) this.networkVariables.add(name);
    else this.networkVariables.delete(name);
  }

  wordFromText(text: string): Word {
    return { values: [text], raw: text, glob: false, network: false };
  }

  /** `$NAME` as a word: its value as the line has it, or unknown. */
  variableWord(name: string): Word {
    const values = name === 'PWD' ? [this.cwd] : this.variables.get(name);
    return { values: values?.length === 1 ? values : undefined, raw: `$${name}`, glob: false, network: this.networkVariables.has(name) };
  }

  isFromNetwork(node: SyntaxNode): boolean {
    if (this.networkNodes.has(node.id)) return true;
    if (node.type === 'simple_expansion' || node.type === 'expansion') {
      const name = node.namedChildren.find((child) => child!.type === 'variable_name');
      if (name && this.networkVariables.has(name.text)) return true;
    }
    return node.namedChildren.some((child) => child !== null && this.isFromNetwork(child));
  }

  private statements(nodes: SyntaxNode[], chain: string[], stdin: Stdin): Output {
    let last: Output = { network: false };
    for (const node of nodes) last = this.statement(node, chain, stdin);
    return last;
  }

  private statement(node: SyntaxNode, chain: string[], stdin: Stdin): Output {
    switch (node.type) {
      case 'comment':
        return { network: false };
      case 'command':
        return this.command(node, [], chain, stdin);
      case 'redirected_statement':
        return this.redirected(node, [], chain, stdin);
      case 'pipeline':
        return this.pipeline(node, [], chain, stdin);
      case 'file_redirect':
        // `$(< file)` prints the file without running any command.
        return this.redirectsOnly([node], chain);
      case 'variable_assignment':
        this.assign(node);
        return { network: false };
      case 'variable_assignments':
        for (const child of node.namedChildren) this.assign(child!);
        return { network: false };
      case 'declaration_command':
        for (const child of node.namedChildren) {
          if (child!.type === 'variable_assignment') this.assign(child!);
        }
        return { network: false };
      case 'for_statement':
        return this.forLoop(node, chain);
      case 'function_definition': {
        // The body runs only when called, with the caller's words as $1, $2, …: analysed then.
        const name = node.childForFieldName('name');
        const body = node.childForFieldName('body');
        if (name && body) this.functions.set(name.text, body.text);
        return { network: false };
      }
      case 'negated_command':
      case 'subshell':
      case 'compound_statement':
      case 'do_group':
      case 'list':
      case 'if_statement':
      case 'elif_clause':
      case 'else_clause':
      case 'while_statement':
      case 'case_statement':
      case 'case_item':
      case 'program': {
        const savedCwd = this.cwd;
        const output = this.statements(node.namedChildren as SyntaxNode[], chain, stdin);
        if (node.type === 'subshell') this.cwd = savedCwd;
        return output;
      }
      case 'test_command':
      case 'c_style_for_statement':
      case 'unset_command':
        this.substitutions(node, chain);
        return { network: false };
      default:
        this.substitutions(node, chain);
        return { network: false };
    }
  }

  /**
   * A statement with redirections written after it. tree-sitter-bash hangs those written after `a && b` or
   * `a | b` on the whole list or pipeline; bash gives them to the last command, after `cd` and the like ran.
   */
  private redirected(node: SyntaxNode, outer: SyntaxNode[], chain: string[], stdin: Stdin): Output {
    const body = node.type === 'redirected_statement' ? node.childForFieldName('body') : node;
    const redirects = [...(node.type === 'redirected_statement' ? (node.namedChildren.filter((child) => child !== body) as SyntaxNode[]) : []), ...outer];
    if (!body) return this.redirectsOnly(redirects, chain);
    if (body.type === 'command') return this.command(body, redirects, chain, stdin);
    if (body.type === 'redirected_statement') return this.redirected(body, redirects, chain, stdin);
    if (body.type === 'pipeline') return this.pipeline(body, redirects, chain, stdin);
    if (body.type === 'list') {
      const parts = body.namedChildren as SyntaxNode[];
      this.statements(parts.slice(0, -1), chain, stdin);
      return this.redirected(parts[parts.length - 1]!, redirects, chain, stdin);
    }
    return this.statement(body, chain, this.applyRedirects(redirects, chain, stdin));
  }

  /** Each stage reads what the previous one printed; `trailing` redirections belong to the last stage. */
  private pipeline(node: SyntaxNode, trailing: SyntaxNode[], chain: string[], stdin: Stdin): Output {
    let input = stdin;
    let output: Output = { network: false };
    const stages = node.namedChildren as SyntaxNode[];
    stages.forEach((stage, index) => {
      const since = this.actions.length;
      output = index === stages.length - 1 && trailing.length > 0 ? this.redirected(stage, trailing, chain, input) : this.statement(stage, chain, input);
      input = { text: output.text, network: output.network, pathsUnder: output.pathsUnder, piped: true, sources: [...(input.sources ?? []), ...this.readsSince(since)] };
    });
    return output;
  }

  private forLoop(node: SyntaxNode, chain: string[]): Output {
    const variable = node.childForFieldName('variable');
    const values = node.childrenForFieldName('value') as SyntaxNode[];
    const body = node.childForFieldName('body');
    if (variable) {
      const words = values.map((value) => this.word(value, chain));
      const all = words.every((word) => word.values !== undefined) ? words.flatMap((word) => this.expandGlobValues(word)) : undefined;
      this.variables.set(variable.text, values.length === 0 ? undefined : all);
    }
    return body ? this.statement(body, chain, NO_STDIN) : { network: false };
  }

  /** For a loop over a glob the loop variable takes each match; without matches, the pattern itself. */
  private expandGlobValues(word: Word): string[] {
    if (!word.glob) return word.values!;
    return word.values!.flatMap((value) => this.files(value, true).filter((file) => !file.recursive).map((file) => file.path));
  }

  /**
   * The files a path names. A glob is expanded against the file system when Writ can. One it cannot expand
   * may match any name that fits: it is kept as a pattern, with `*` for every wildcard (the policy's sign of
   * a part only known at run time), and stands for everything below its literal directory as well.
   */
  files(value: string, glob: boolean): FileTarget[] {
    const path = this.path(value);
    if (glob) {
      const matches = this.env.expandGlob?.(path) ?? [];
      if (matches.length > 0) return matches.map((match) => ({ path: match, recursive: false }));
    }
    const pattern = glob ? path.replace(/\[!?\]?[^\]/]*\]|\?/g, '*').replace(/\*+/g, '*') : path;
    if (!pattern.includes('*')) return [{ path, recursive: false }];
    return [{ path: pattern, recursive: false }, { path: literalDirectory(pattern), recursive: true }];
  }

  private assign(node: SyntaxNode): void {
    const name = node.childForFieldName('name');
    const value = node.childForFieldName('value');
    if (!name) return;
    if (!value) return void this.variables.set(name.text, ['']);
    if (value.type === 'array') this.substitutions(value, []);
    const word = value.type === 'array' ? { values: undefined, raw: value.text, glob: false } : this.word(value, []);
    this.setVariable(name.text, word.values && word.values.length === 1 ? word.values : undefined, this.isFromNetwork(value));
    this.variableTakesEffect(name.text, word, []);
  }

  private prefixAssignment(node: SyntaxNode, chain: string[]): { name: string; word: Word } {
    const value = node.childForFieldName('value');
    const name = node.childForFieldName('name')?.text ?? '';
    const word = value ? this.word(value, chain) : this.wordFromText('');
    this.variableTakesEffect(name, word, chain);
    return { name, word };
  }

  /** Some variables make programs run their value or load a file: `PAGER='cat ~/.netrc' git log`, `BASH_ENV=x.sh`. */
  variableTakesEffect(name: string, word: Word, chain: string[]): void {
    const via = { program: name, args: [], stdin: NO_STDIN, chain: [...chain, name] };
    if (LOADS_LIBRARY.has(name)) this.opaque(`${name} loads a library into the programs that follow`, via.chain);
    else if (RUNS_VALUE.has(name)) runScriptWord(this, via, { ...word, values: word.values?.map((value) => value.replace(/^\|+/, '')) });
    else if (SOURCES_VALUE.has(name) && textOf(word) !== undefined) this.script(`. '${textOf(word)!.replace(/'/g, `'\\''`)}'`, via.chain);
  }

  /** Records a file action; reading a copy the line made reads what it was copied from as well. */
  file(action: FileAction): void {
    this.actions.push(action);
    if (action.kind !== 'read') return;
    for (const [copy, origins] of this.copies) {
      const inside = isUnder(action.path, copy);
      if (!inside && !(action.recursive && isUnder(copy, action.path))) continue;
      for (const origin of origins) {
        const path = inside ? origin.path + action.path.slice(copy.length) : origin.path;
        this.actions.push({ kind: 'read', path, recursive: action.recursive || (path === origin.path && origin.recursive), via: `${action.via} (via ${copy})` });
      }
    }
  }

  /** What a command wrote is a copy of what it read and of its input; a write from nothing clears a copy. */
  private recordCopies(since: number, stdin: Stdin): void {
    const done = this.actions.slice(since).filter((action): action is FileAction => action.kind === 'read' || action.kind === 'write');
    const reads = [...(stdin.sources ?? []), ...done.filter((action) => action.kind === 'read')];
    for (const write of done.filter((action) => action.kind === 'write' && !isHarmlessDevice(action.path))) {
      const origins = reads.filter((read) => read.path !== write.path).map(({ path, recursive }) => ({ path, recursive }));
      if (origins.length > 0) this.copies.set(write.path, origins);
      else this.copies.delete(write.path);
    }
  }

  private readsSince(since: number): FileTarget[] {
    return this.actions.slice(since).flatMap((action) => (action.kind === 'read' ? [{ path: action.path, recursive: action.recursive }] : []));
  }

  private command(node: SyntaxNode, redirects: SyntaxNode[], chain: string[], stdin: Stdin): Output {
    const since = this.actions.length;
    try {
      return this.simpleCommand(node, redirects, chain, stdin);
    } finally {
      this.recordCopies(since, stdin);
    }
  }

  private simpleCommand(node: SyntaxNode, redirects: SyntaxNode[], chain: string[], stdin: Stdin): Output {
    const nameNode = node.childForFieldName('name');
    // An alias is replaced by its text before the line is read further (Claude Code's shell keeps the user's).
    const alias = nameNode?.firstNamedChild?.type === 'word' ? this.aliases.get(nameNode.text) : undefined;
    if (alias !== undefined) {
      const rest = node.text.slice(nameNode!.endIndex - node.startIndex);
      return this.script(alias + rest, chain, undefined, this.applyRedirects(redirects, chain, stdin));
    }
    const argNodes = node.childrenForFieldName('argument') as SyntaxNode[];
    const assignments = node.namedChildren.filter((child) => child!.type === 'variable_assignment') as SyntaxNode[];
    // `NAME=value cmd` sets NAME for cmd alone: expansions on the line still see the old value.
    const prefix = nameNode ? assignments.map((assignment) => this.prefixAssignment(assignment, chain)) : [];
    const commandRedirects = node.namedChildren.filter((child) => child!.type.endsWith('_redirect')) as SyntaxNode[];
    const stdout: StdoutFile[] = [];
    const input = this.applyRedirects([...commandRedirects, ...redirects], chain, stdin, stdout);
    if (!nameNode) {
      for (const assignment of assignments) this.assign(assignment);
      return { network: false };
    }
    const name = this.word(nameNode, chain);
    const args = argNodes.map((arg) => this.word(arg, chain));
    if (name.values === undefined && name.network) {
      // `$(curl …)` as the command: the program and its arguments come from the network.
      this.actions.push({ kind: 'exec', program: '?', args: [], line: name.raw, remoteCode: true, opaque: '', via: `${chain.join(' → ') || 'shell'}: runs a command fetched from the network` });
      return { network: false };
    }
    if (name.values === undefined || name.values.length !== 1) {
      this.opaque(`the program to run is only known at run time (${excerpt(name.raw)})`, chain);
      return { network: false };
    }
    const outer = prefix.map(({ name: variable }) => [variable, this.variables.get(variable)] as const);
    for (const { name: variable, word } of prefix) this.variables.set(variable, word.values?.length === 1 ? word.values : undefined);
    let output: Output;
    try {
      const body = this.functions.get(name.values[0]!);
      if (body !== undefined) return this.script(body, [...chain, name.values[0]!], [name, ...args], input);
      output = runInvocation(this, { program: name.values[0]!, args, stdin: input, chain });
    } finally {
      for (const [variable, values] of outer) this.variables.set(variable, values);
    }
    for (const file of stdout) {
      const before = file.append ? this.written.get(file.path) : { text: '', network: false };
      const text = before?.text !== undefined && output.text !== undefined ? before.text + output.text : undefined;
      this.wrote(file.path, { text, network: output.network || (before?.network ?? false) });
    }
    return output;
  }

  wrote(path: string, file: WrittenFile): void {
    this.written.set(path, file);
  }

  /** What a file was given earlier in the line (`echo 'cat x' > a.sh; sh a.sh`, `curl -o a.sh …; sh a.sh`). */
  writtenFile(path: string): WrittenFile | undefined {
    const file = this.written.get(path);
    if (file !== undefined) return file;
    for (const tree of this.networkTrees) if (isUnder(path, tree)) return { text: undefined, network: true };
    return undefined;
  }

  /** Everything below `dir` came from the network: an archive downloaded and unpacked in the same line. */
  wroteNetworkTree(dir: string): void {
    this.networkTrees.add(dir);
  }

  word(node: SyntaxNode, chain: string[]): Word {
    this.substitutions(node, chain);
    return { ...evaluateWord(node, this.wordContext()), network: this.isFromNetwork(node) };
  }

  private wordContext() {
    const home = this.variables.get('HOME');
    return {
      home: home?.length === 1 ? home[0] : undefined,
      variable: (name: string) => (name === 'PWD' ? [this.cwd] : this.variables.get(name)),
      userHome: (user: string) => (user === this.env.osUser ? this.env.home : user === 'root' ? '/root' : `/home/${user}`),
      substitute: (node: SyntaxNode) => this.substitutionOutputs.get(node.id),
      pipePath: (node: SyntaxNode) => this.pipePath(node),
    };
  }

  private readonly pipePaths = new Map<number, string>();

  /** bash numbers the pipes of process substitutions down from 63. */
  private pipePath(node: SyntaxNode): string {
    let path = this.pipePaths.get(node.id);
    if (path === undefined) this.pipePaths.set(node.id, (path = `/dev/fd/${63 - this.pipePaths.size}`));
    return path;
  }

  private readonly substitutionOutputs = new Map<number, string>();
  private readonly analysedSubstitutions = new Set<number>();

  /** Runs every `$(…)` and backtick inside a node once, remembering static outputs and network origin. */
  private substitutions(node: SyntaxNode, chain: string[]): void {
    if (node.type === 'command_substitution' || node.type === 'process_substitution') {
      if (this.analysedSubstitutions.has(node.id)) return;
      this.analysedSubstitutions.add(node.id);
      const savedCwd = this.cwd;
      const output = this.statements(node.namedChildren as SyntaxNode[], chain, NO_STDIN);
      this.cwd = savedCwd;
      if (output.network) this.networkNodes.add(node.id);
      // `$(find ~/.ssh)` prints unknown paths below a known directory.
      const printed = output.text ?? (output.pathsUnder === undefined ? undefined : anyPathUnder(output.pathsUnder));
      if (printed !== undefined && node.type === 'command_substitution') this.substitutionOutputs.set(node.id, printed);
      // `source <(echo …)` runs what the substitution prints, as if it were a file the line wrote.
      if (node.type === 'process_substitution') this.wrote(this.pipePath(node), { text: output.text, network: output.network });
      return;
    }
    if (node.type === 'heredoc_body' || node.type === 'string' || node.type === 'concatenation' || node.type.endsWith('expansion') || node.namedChildCount > 0) {
      for (const child of node.namedChildren) this.substitutions(child!, chain);
    }
  }

  private redirectsOnly(redirects: SyntaxNode[], chain: string[]): Output {
    this.applyRedirects(redirects, chain, NO_STDIN);
    return { network: false };
  }

  /** Records the files redirections read and write, and returns what stdin becomes. */
  private applyRedirects(redirects: SyntaxNode[], chain: string[], stdin: Stdin, stdout: StdoutFile[] = []): Stdin {
    let input = stdin;
    for (const redirect of redirects) {
      if (redirect.type === 'heredoc_redirect') {
        const body = redirect.namedChildren.find((child) => child!.type === 'heredoc_body');
        const start = redirect.namedChildren.find((child) => child!.type === 'heredoc_start');
        const quoted = start ? /['"\\]/.test(start.text) : false;
        if (body && !quoted) this.substitutions(body, chain);
        input = { text: body?.text ?? '', network: false, piped: false };
        continue;
      }
      if (redirect.type === 'herestring_redirect') {
        const target = redirect.namedChildren[redirect.namedChildCount - 1];
        const word = target ? this.word(target, chain) : undefined;
        input = { text: word?.values?.length === 1 ? word.values[0] + '\n' : undefined, network: target ? this.isFromNetwork(target) : false, piped: true };
        continue;
      }
      const destination = redirect.childForFieldName('destination');
      if (!destination) continue;
      const operator = redirect.text.slice(0, destination.startIndex - redirect.startIndex).replace(/^\d+/, '').trim();
      const word = this.word(destination, chain);
      // `< <(curl …)` reads what the substituted command prints; `> >(tee …)` feeds it, writing no file here.
      if (destination.type === 'process_substitution') {
        if (operator.startsWith('<')) input = { network: word.network ?? false, piped: true };
        continue;
      }
      if (operator.startsWith('>&') || operator.startsWith('<&')) {
        if (/^\d+-?$|^-$/.test(word.raw)) continue;
      }
      const via = chain.length > 0 ? chain[chain.length - 1]! : 'shell redirection';
      const reads = operator.startsWith('<');
      const writes = operator.includes('>');
      if (word.values === undefined) {
        this.opaque(`a redirection ${operator} goes to a file only known at run time (${excerpt(word.raw)})`, chain);
        continue;
      }
      for (const value of word.values) {
        if (isHarmlessDevice(value)) continue;
        // bash itself opens a connection for /dev/tcp/HOST/PORT and /dev/udp/HOST/PORT.
        const socket = /^\/dev\/(?:tcp|udp)\/([^/]+)\/(\d+)$/.exec(this.path(value));
        if (socket) {
          this.actions.push({ ...hostAction(writes ? 'send' : 'fetch', socket[1]!, via, Number(socket[2]), this.env), method: 'TCP' });
          if (reads) input = { network: true, piped: true };
          continue;
        }
        const fd = /^\d+/.exec(redirect.text)?.[0];
        for (const { path, recursive } of this.files(value, word.glob)) {
          if (reads) this.file({ kind: 'read', path, recursive, via });
          if (writes) this.file({ kind: 'write', path, recursive, via });
          if (writes && !reads && (fd === undefined || fd === '1') && !operator.includes('&')) stdout.push({ path, append: operator === '>>' });
        }
        if (reads) input = { network: false, piped: true };
      }
    }
    return input;
  }
}

/** The directory a pattern's matches all lie below: `/home/me/.s*h/id_rsa` → `/home/me`. */
export function literalDirectory(pattern: string): string {
  const wildcard = pattern.search(/[*?[]/);
  return wildcard < 0 ? pattern : pattern.slice(0, pattern.lastIndexOf('/', wildcard)) || '/';
}

/** A list of paths below `dir`, as one word value: `*` stands for the parts only known at run time. */
export function anyPathUnder(dir: string): string {
  return dir.replace(/\/$/, '') + '/*';
}

export function isHarmlessDevice(path: string): boolean {
  return ['/dev/null', '/dev/stdout', '/dev/stderr', '/dev/tty', '/dev/zero'].includes(path) || /^\/dev\/fd\/\d+$/.test(path);
}

function errorText(root: SyntaxNode): string {
  const error = root.descendantsOfType('ERROR')[0];
  return error ? error.text : root.text;
}

export function excerpt(text: string, max = 60): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? flat.slice(0, max - 1) + '…' : flat;
}

/** Analyses one Bash command line into actions. */
export function analyseShell(parser: ShellParser, command: string, env: CallEnvironment): Action[] {
  const analyser = new ShellAnalyser(parser, env);
  analyser.script(command, []);
  return analyser.actions;
}
