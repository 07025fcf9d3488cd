// What each program does with its arguments: which operands it reads, writes, deletes or sends, which
// programs it runs in turn. Unknown programs are assumed to read every argument that looks like a path.
import { posix } from 'node:path';
import { baseName } from '../paths.js';
import { decodePercent, hostAction, parseRemoteSpec } from './network.js';
import { analyseInterpreterCode } from './interpreters.js';
import { hasOption, optionValues, parseArgs, textOf, type OptionSpec, type ParsedArgs } from './options.js';
import { anyPathUnder, excerpt, isHarmlessDevice, literalDirectory, type FileTarget, type Invocation, type Output, type ShellAnalyser, type Stdin } from './analyse.js';
import type { Word } from './words.js';
import { gitCommand } from './git.js';
import { PACKAGE_MANAGERS, packageManager } from './package-managers.js';

type Handler = (sh: ShellAnalyser, inv: Invocation) => Output | void;

const NOTHING: Output = { network: false };

export function runInvocation(sh: ShellAnalyser, inv: Invocation): Output {
  const program = programName(inv.program);
  // An argument only known at run time is shown as written, so rules still see `kill $(pgrep writ)`.
  const args = inv.args.map((word) => (word.values === undefined ? word.raw : word.values.join(' ')));
  const chain = [...inv.chain, program];
  const call: Invocation = { ...inv, program, chain };
  // A relative path names a local script and stays a path; `/usr/local/bin/writ` is writ.
  const localScript = inv.program.includes('/') && !inv.program.startsWith('/') && !KNOWN.has(program);
  sh.actions.push({
    kind: 'exec',
    program: localScript ? inv.program : program,
    args,
    line: [program, ...args].join(' '),
    remoteCode: false,
    opaque: '',
    via: chain.join(' → '),
  });
  const handler = HANDLERS[program];
  const output = (handler ? handler(sh, call) : unknownProgram(sh, call, inv.program)) ?? NOTHING;
  // What a command prints after reading network data is network data too (`curl … | gunzip | sh`).
  return inv.stdin.network && !output.network ? { ...output, network: true } : output;
}

/** A program Writ does not know: it may read anything that looks like a path, and run itself if the line wrote it. */
function unknownProgram(sh: ShellAnalyser, inv: Invocation, path: string): Output {
  if (path.includes('/')) {
    readFile(sh, inv, sh.wordFromText(path));
    runWrittenScript(sh, inv, sh.wordFromText(path));
  }
  readPathLike(sh, inv, inv.args);
  return NOTHING;
}

/** `/usr/bin/python3.11` → `python`: the name rules are written against. */
export function programName(program: string): string {
  const name = baseName(program);
  const versioned = /^(python|pip|perl|ruby|php|node|nodejs|lua|bash|zsh)[\d.]*$/.exec(name);
  if (versioned) return versioned[1] === 'nodejs' ? 'node' : versioned[1]!;
  return name;
}

// ---- helpers shared by handlers

function filesOf(sh: ShellAnalyser, inv: Invocation, word: Word, what: string): FileTarget[] {
  if (word.values === undefined) {
    sh.opaque(`${inv.program} ${what} a path only known at run time (${excerpt(word.raw)})`, inv.chain);
    return [];
  }
  return word.values.flatMap((value) => sh.files(value, word.glob));
}

function fileAction(sh: ShellAnalyser, inv: Invocation, kind: 'read' | 'write' | 'delete', word: Word, recursive = false): void {
  const verb = { read: 'reads', write: 'writes', delete: 'deletes' }[kind];
  if (word.values?.length === 1 && word.values[0] === '-') return;
  for (const file of filesOf(sh, inv, word, verb)) {
    if (isHarmlessDevice(file.path) || file.path === '/dev/stdin') continue;
    sh.file({ kind, path: file.path, recursive: recursive || file.recursive, via: inv.chain.join(' → ') });
  }
}

function readFile(sh: ShellAnalyser, inv: Invocation, word: Word, recursive = false): void {
  if (textOf(word) === '-') return;
  fileAction(sh, inv, 'read', word, recursive);
}

function looksLikePath(text: string): boolean {
  return text.includes('/') || text.startsWith('.') || text.startsWith('~');
}

/** For programs Writ does not know: anything that looks like a path may be read. */
function readPathLike(sh: ShellAnalyser, inv: Invocation, args: Word[]): void {
  for (const word of args) {
    if (word.values === undefined) continue;
    for (const value of word.values) {
      const candidate = value.startsWith('-') && value.includes('=') ? value.slice(value.indexOf('=') + 1) : value;
      if (!candidate.startsWith('-') && looksLikePath(candidate) && !/^[a-z+]+:\/\//i.test(candidate)) {
        readFile(sh, inv, { ...word, values: [candidate] });
      }
    }
  }
}

function runArgv(sh: ShellAnalyser, inv: Invocation, argv: Word[], stdin: Stdin = inv.stdin): Output {
  if (argv.length === 0) return NOTHING;
  const name = textOf(argv[0]);
  if (name === undefined) {
    sh.opaque(`${inv.program} runs a program only known at run time (${excerpt(argv[0]!.raw)})`, inv.chain);
    return NOTHING;
  }
  return runInvocation(sh, { program: name, args: argv.slice(1), stdin, chain: inv.chain });
}

/** Runs shell code given as text (`bash -c`, `eval`, `su -c`); dynamic text is opaque. */
function runScriptWord(sh: ShellAnalyser, inv: Invocation, word: Word, positional?: Word[]): Output {
  if (word.network) return remoteCode(sh, inv, `${inv.program} runs code fetched from the network`);
  const text = textOf(word);
  if (text === undefined) {
    sh.opaque(`${inv.program} runs shell code only known at run time (${excerpt(word.raw)})`, inv.chain);
    return NOTHING;
  }
  return sh.script(text, inv.chain, positional);
}

function remoteCode(sh: ShellAnalyser, inv: Invocation, reason: string): Output {
  const args = inv.args.map((word) => word.raw);
  sh.actions.push({ kind: 'exec', program: inv.program, args, line: [inv.program, ...args].join(' '), remoteCode: true, opaque: '', via: `${inv.chain.join(' → ')}: ${reason}` });
  return NOTHING;
}

/** Strips a wrapper's own options and runs the wrapped command. */
function wrapper(spec: OptionSpec & { skipOperands?: number; stopAtAssignment?: boolean }): Handler {
  const withValue = new Set(spec.withValue ?? []);
  return (sh, inv) => {
    let i = 0;
    const args = inv.args;
    while (i < args.length) {
      const text = textOf(args[i]);
      if (text === undefined) break;
      if (text === '--') {
        i++;
        break;
      }
      if (!text.startsWith('-') || text === '-') break;
      const short = text.length === 2 ? text : text.startsWith('--') ? text.split('=')[0]! : text.slice(0, 2);
      i += withValue.has(short) && !text.includes('=') && (text.startsWith('--') || text.length === 2) ? 2 : 1;
    }
    if (spec.stopAtAssignment) while (i < args.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(textOf(args[i]) ?? '')) i++;
    i += spec.skipOperands ?? 0;
    return runArgv(sh, inv, args.slice(i));
  };
}

// ---- shells and interpreters

const SHELLS = ['sh', 'bash', 'dash', 'zsh', 'ksh', 'mksh', 'ash', 'fish', 'busybox-sh'];

function shell(sh: ShellAnalyser, inv: Invocation): Output {
  const args = inv.args;
  for (let i = 0; i < args.length; i++) {
    const text = textOf(args[i]);
    if (text === undefined) return runScriptFile(sh, inv, args[i]!);
    if (text === '-c' || (/^-[a-zA-Z]*c[a-zA-Z]*$/.test(text) && !text.startsWith('--'))) {
      const script = args[i + 1];
      return script ? runScriptWord(sh, inv, script, args.slice(i + 2)) : NOTHING;
    }
    if (text === '-s' || text === '-') return runStdinScript(sh, inv);
    if (text === '-o' || text === '-O' || text === '+O' || text === '+o') {
      i++;
      continue;
    }
    if (text.startsWith('-') || text.startsWith('+')) continue;
    return runScriptFile(sh, inv, args[i]!);
  }
  return runStdinScript(sh, inv);
}

function runScriptFile(sh: ShellAnalyser, inv: Invocation, word: Word): Output {
  if (word.network) return remoteCode(sh, inv, `${inv.program} runs a script fetched from the network`);
  readFile(sh, inv, word);
  runWrittenScript(sh, inv, word);
  return NOTHING;
}

/**
 * A script the same line wrote is analysed like any other code (`echo 'cat ~/.netrc' > a.sh; sh a.sh`);
 * one it downloaded runs code from the network (`curl -o a.sh …; sh a.sh`), read by no one.
 */
function runWrittenScript(sh: ShellAnalyser, inv: Invocation, word: Word): void {
  const name = textOf(word);
  const file = name === undefined ? undefined : sh.writtenFile(sh.path(name));
  if (file?.network) remoteCode(sh, inv, `${inv.program} runs ${name}, downloaded from the network in the same command`);
  else if (file?.text === undefined) return;
  else if (INTERPRETERS[inv.program]) analyseInterpreterCode(sh, inv, file.text);
  else sh.script(file.text, inv.chain);
}

function runStdinScript(sh: ShellAnalyser, inv: Invocation): Output {
  if (inv.stdin.network) return remoteCode(sh, inv, `${inv.program} runs code piped from the network`);
  if (inv.stdin.text !== undefined) return sh.script(inv.stdin.text, inv.chain);
  if (inv.stdin.piped) sh.opaque(`${inv.program} runs a script from a pipe whose content Writ cannot see`, inv.chain);
  return NOTHING;
}

interface InterpreterSpec {
  codeFlags: string[];
  withValue: string[];
  /** perl and ruby bundle one-letter switches (`-lane`, `-pi`); -n/-p read the operands as files, -i rewrites them. */
  bundles?: boolean;
}

const INTERPRETERS: Record<string, InterpreterSpec> = {
  python: { codeFlags: ['-c'], withValue: ['-m', '-W', '-X', '-Q'] },
  node: { codeFlags: ['-e', '--eval', '-p', '--print'], withValue: ['-r', '--require', '--import', '--loader'] },
  deno: { codeFlags: ['eval'], withValue: [] },
  bun: { codeFlags: ['-e', '--eval', '-p', '--print'], withValue: [] },
  perl: { codeFlags: ['-e', '-E'], withValue: ['-I', '-M', '-m'], bundles: true },
  ruby: { codeFlags: ['-e'], withValue: ['-I', '-r'], bundles: true },
  php: { codeFlags: ['-r'], withValue: ['-c', '-d'] },
  lua: { codeFlags: ['-e'], withValue: ['-l'] },
  osascript: { codeFlags: ['-e'], withValue: [] },
  pwsh: { codeFlags: ['-c', '-Command', '-command'], withValue: [] },
};

function interpreter(sh: ShellAnalyser, inv: Invocation): Output {
  const spec = INTERPRETERS[inv.program]!;
  const args = inv.args;
  let switches = '';
  for (let i = 0; i < args.length; i++) {
    const text = textOf(args[i]);
    if (text === undefined) return runScriptFile(sh, inv, args[i]!);
    // Letters after a switch that takes a value (`-Mstrict`, `-rjson`) are that value, not switches.
    if (spec.bundles) switches += (/^-([a-zA-Z]+)/.exec(text)?.[1] ?? '').replace(/[IMmdDxCr].*$/, '');
    const bundledCode = spec.bundles && /^-[a-zA-Z]*[eE]$/.test(text) && !/[IMmdDxCr]/.test(text.slice(1, -1)) ? text : undefined;
    const inline = bundledCode ?? spec.codeFlags.find((flag) => text === flag || (flag.length === 2 && text.startsWith(flag) && text.length > 2 && !text.startsWith('--')));
    if (inline) {
      const code = text === inline ? args[i + 1] : { ...args[i]!, values: [text.slice(2)] };
      if (!code) return NOTHING;
      if (code.network) return remoteCode(sh, inv, `${inv.program} runs code fetched from the network`);
      const source = textOf(code);
      if (source === undefined) {
        sh.opaque(`${inv.program} runs code only known at run time (${excerpt(code.raw)})`, inv.chain);
        return NOTHING;
      }
      analyseInterpreterCode(sh, inv, source);
      const operands = args.slice(i + 2);
      if (!/[inp]/.test(switches)) readPathLike(sh, inv, operands);
      for (const operand of /[inp]/.test(switches) ? operands : []) {
        readFile(sh, inv, operand);
        if (switches.includes('i')) fileAction(sh, inv, 'write', operand);
      }
      return NOTHING;
    }
    if (inv.program === 'python' && text === '-m') {
      // `python -m pip install …` is pip.
      const module = textOf(args[i + 1]);
      if (module !== undefined && PACKAGE_MANAGERS.includes(module)) return packageManager(sh, { ...inv, program: module, args: args.slice(i + 2) });
      readPathLike(sh, inv, args.slice(i + 2));
      return NOTHING;
    }
    if (spec.withValue.includes(text)) {
      i++;
      continue;
    }
    if (text.startsWith('-') && text !== '-') continue;
    if (text === '-') break;
    runScriptFile(sh, inv, args[i]!);
    readPathLike(sh, inv, args.slice(i + 1));
    return NOTHING;
  }
  if (inv.stdin.network) return remoteCode(sh, inv, `${inv.program} runs code piped from the network`);
  if (inv.stdin.text !== undefined) analyseInterpreterCode(sh, inv, inv.stdin.text);
  else if (inv.stdin.piped) sh.opaque(`${inv.program} runs code from a pipe whose content Writ cannot see`, inv.chain);
  return NOTHING;
}

// ---- programs that read files

interface ReaderSpec extends OptionSpec {
  script?: string[];
  recursive?: string[];
  scriptFile?: string[];
  listsFiles?: string[];
  /** The spec serves many programs, so an option taking a value for one is a flag for another (`cat -v`). */
  shared?: boolean;
  /** Options naming a file the program writes (`sort -o`). */
  output?: string[];
}

/** Reads every operand; the first operand is a pattern or program unless given by option. */
function reader(spec: ReaderSpec = {}): Handler {
  return (sh, inv) => {
    const parsed = parseArgs(inv.args, spec);
    const outputs = optionValues(parsed, ...(spec.output ?? []));
    for (const output of outputs) fileAction(sh, inv, 'write', output);
    if (spec.shared) readPathLike(sh, inv, optionValues(parsed, ...(spec.withValue ?? [])).filter((value) => !outputs.includes(value)));
    let operands = parsed.operands;
    const scriptGiven = spec.script && hasOption(parsed, ...spec.script);
    if (spec.script && !scriptGiven) operands = operands.slice(1);
    for (const file of optionValues(parsed, ...(spec.scriptFile ?? []))) readFile(sh, inv, file);
    const recursive = spec.recursive ? hasOption(parsed, ...spec.recursive) : false;
    if (operands.length === 0 && recursive) readFile(sh, inv, sh.wordFromText('.'), true);
    for (const operand of operands) readFile(sh, inv, operand, recursive);
    if (recursive && spec.listsFiles && hasOption(parsed, ...spec.listsFiles)) return { network: false, pathsUnder: searchRoot(sh, operands) };
    return readerOutput(inv, operands, parsed);
  };
}

/** The one directory a recursive search names files under (`grep -rl x src | xargs …`), if there is one. */
function searchRoot(sh: ShellAnalyser, operands: Word[]): string | undefined {
  if (operands.length === 0) return sh.cwd;
  const only = operands.length === 1 ? textOf(operands[0]) : undefined;
  return only === undefined ? undefined : sh.path(only);
}

function readerOutput(inv: Invocation, operands: Word[], parsed: ParsedArgs): Output {
  if (operands.length > 0) return NOTHING;
  // A filter over its stdin passes the network origin along (`curl … | cat | sh`), and a filtered list of
  // paths is still below the same directory (`find ~/.ssh | grep id_ | xargs cat`).
  if (inv.program === 'cat' && parsed.options.length === 0) return { text: inv.stdin.text, network: inv.stdin.network, pathsUnder: inv.stdin.pathsUnder };
  return { network: inv.stdin.network, pathsUnder: inv.stdin.pathsUnder };
}

const GREP: ReaderSpec & { listsFiles: string[] } = {
  withValue: ['-e', '-f', '-m', '-A', '-B', '-C', '-d', '-D', '--include', '--exclude', '--exclude-dir', '--regexp', '--file', '--max-count', '--context', '--color', '--colour', '--label', '-t', '-g', '--type', '--glob', '-T', '--type-not', '-j', '--threads', '-M', '--max-columns'],
  script: ['-e', '-f', '--regexp', '--file'],
  recursive: ['-r', '-R', '--recursive', '--dereference-recursive'],
  scriptFile: ['-f', '--file'],
  listsFiles: ['-l', '-L', '--files-with-matches', '--files-without-match'],
};

function ripgrep(sh: ShellAnalyser, inv: Invocation): Output {
  const parsed = parseArgs(inv.args, GREP);
  const listsAll = hasOption(parsed, '--files');
  const operands = listsAll || hasOption(parsed, '-e', '-f', '--regexp', '--file') ? parsed.operands : parsed.operands.slice(1);
  if (listsAll) return { network: false, pathsUnder: searchRoot(sh, operands) };
  if (operands.length === 0) readFile(sh, inv, sh.wordFromText('.'), true);
  for (const operand of operands) readFile(sh, inv, operand, true);
  return hasOption(parsed, ...GREP.listsFiles) ? { network: false, pathsUnder: searchRoot(sh, operands) } : NOTHING;
}

function sed(sh: ShellAnalyser, inv: Invocation): Output {
  const parsed = parseArgs(inv.args, { withValue: ['-e', '-f', '--expression', '--file', '-l', '--line-length'] });
  const scriptGiven = hasOption(parsed, '-e', '-f', '--expression', '--file');
  const operands = scriptGiven ? parsed.operands : parsed.operands.slice(1);
  for (const file of optionValues(parsed, '-f', '--file')) readFile(sh, inv, file);
  for (const script of scriptGiven ? optionValues(parsed, '-e', '--expression') : parsed.operands.slice(0, 1)) sedScript(sh, inv, script);
  const inPlace = parsed.options.some((option) => option.name === '-i' || option.name.startsWith('--in-place'));
  for (const operand of operands) {
    readFile(sh, inv, operand);
    if (inPlace) fileAction(sh, inv, 'write', operand);
  }
  return NOTHING;
}

const SED_ADDRESS = String.raw`(?:\d+|\$|/(?:[^/\\]|\\.)*/)`;
/** `[address[,address]][!] r|R|w|W|e argument`: GNU sed's commands that read, write or run. */
const SED_FILE_COMMAND = new RegExp(String.raw`^\s*(?:${SED_ADDRESS}(?:\s*,\s*${SED_ADDRESS})?)?\s*!?\s*([rRwWe])(?:\s+(.*))?$`);
/** `s/…/…/flags`, whose `e` flag runs the result and `w file` flag writes it. */
const SED_SUBSTITUTE = /s([^\w\s\\])(?:\\.|(?!\1).)*\1(?:\\.|(?!\1).)*\1([gpiImMe0-9]*)(?:w\s*(.+))?$/;

/** The files a sed script reads and writes and the commands it runs, line by line. */
function sedScript(sh: ShellAnalyser, inv: Invocation, script: Word): void {
  const text = textOf(script);
  if (text === undefined) return void sh.opaque(`sed runs a script only known at run time (${excerpt(script.raw)})`, inv.chain);
  for (const line of text.split(/\n|;/)) {
    const command = SED_FILE_COMMAND.exec(line);
    const argument = command?.[2]?.trim();
    if (command && command[1] === 'e') {
      if (argument) runScriptWord(sh, inv, sh.wordFromText(argument));
      else sh.opaque('sed runs its input lines as commands', inv.chain);
    } else if (command && argument) fileAction(sh, inv, /[rR]/.test(command[1]!) ? 'read' : 'write', sh.wordFromText(argument));
    const substitute = SED_SUBSTITUTE.exec(line);
    if (substitute?.[2]!.includes('e')) sh.opaque('sed runs the result of a substitution as a command', inv.chain);
    if (substitute?.[3]) fileAction(sh, inv, 'write', sh.wordFromText(substitute[3].trim()));
  }
}

function awk(sh: ShellAnalyser, inv: Invocation): Output {
  const parsed = parseArgs(inv.args, { withValue: ['-f', '-v', '-F', '--file', '--assign', '--field-separator'] });
  const programGiven = hasOption(parsed, '-f', '--file');
  for (const file of optionValues(parsed, '-f', '--file')) readFile(sh, inv, file);
  const program = programGiven ? undefined : textOf(parsed.operands[0]);
  if (program !== undefined) analyseInterpreterCode(sh, inv, program);
  else if (!programGiven && parsed.operands[0]) sh.opaque(`awk runs a program only known at run time`, inv.chain);
  for (const operand of parsed.operands.slice(programGiven ? 0 : 1)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*=/.test(textOf(operand) ?? '')) readFile(sh, inv, operand);
  }
  return NOTHING;
}

function jq(sh: ShellAnalyser, inv: Invocation): Output {
  const parsed = parseArgs(inv.args, { withValue: ['--arg', '--argjson', '--slurpfile', '--rawfile', '--indent', '-L', '--from-file', '-f'] });
  for (const option of parsed.options.filter((option) => option.name === '--slurpfile' || option.name === '--rawfile')) {
    const index = inv.args.findIndex((word) => textOf(word) === option.name);
    if (index >= 0 && inv.args[index + 2]) readFile(sh, inv, inv.args[index + 2]!);
  }
  const operands = hasOption(parsed, '-f', '--from-file') ? parsed.operands : parsed.operands.slice(1);
  for (const operand of operands) readFile(sh, inv, operand);
  return NOTHING;
}

// ---- programs that write, copy, move and delete

function copy(kind: 'cp' | 'mv' | 'ln' | 'install'): Handler {
  return (sh, inv) => {
    const parsed = parseArgs(inv.args, { withValue: ['-t', '--target-directory', '-S', '--suffix', '-m', '--mode', '-o', '--owner', '-g', '--group'] });
    const recursive = kind === 'mv' || hasOption(parsed, '-r', '-R', '-a', '--recursive', '--archive');
    const target = optionValues(parsed, '-t', '--target-directory')[0];
    const operands = parsed.operands;
    const destination = target ?? operands[operands.length - 1];
    const sources = target ? operands : operands.slice(0, -1);
    if (kind === 'install' && hasOption(parsed, '-d', '--directory')) {
      for (const operand of operands) fileAction(sh, inv, 'write', operand);
      return NOTHING;
    }
    const symbolic = kind === 'ln' && hasOption(parsed, '-s', '--symbolic');
    const linked = sources.map((source) => (symbolic ? linkTarget(sh, source, destination, sources.length > 1 || target !== undefined) : source));
    for (const [index, source] of sources.entries()) {
      // A link exposes its target under a new name: `ln -s ~/.ssh/id_rsa k && cat k`.
      readFile(sh, inv, linked[index]!, recursive);
      if (kind === 'mv') fileAction(sh, inv, 'delete', source, true);
    }
    if (destination) {
      fileAction(sh, inv, 'write', destination, recursive);
      // Copying into a directory writes below it: `cp x ~/.ssh/` writes ~/.ssh/x.
      const into = (name: string) => destination.values![0]!.replace(/\/?$/, '/') + baseName(name);
      if (sources.length > 0 && destination.values?.length === 1) {
        for (const source of sources) {
          const name = textOf(source);
          if (name !== undefined) fileAction(sh, inv, 'write', { ...destination, values: [into(name)] }, recursive);
        }
      }
      // Later paths through a link the line made lead to its target (`ln -s ~/.bashrc x; echo … >> x`).
      const at = textOf(destination);
      for (const [index, source] of sources.entries()) {
        const name = textOf(source);
        const to = textOf(linked[index]);
        if (kind !== 'ln' || at === undefined || name === undefined || to === undefined) continue;
        if (sources.length === 1 && target === undefined) sh.link(sh.path(at), sh.path(to));
        sh.link(sh.path(into(name)), sh.path(to));
      }
    }
    return NOTHING;
  };
}

/** A relative symbolic link target is resolved from the link's directory, not from the cwd. */
function linkTarget(sh: ShellAnalyser, source: Word, link: Word | undefined, intoDirectory: boolean): Word {
  const text = textOf(source);
  const at = textOf(link);
  if (text === undefined || at === undefined || text.startsWith('/')) return source;
  const directory = intoDirectory || at.endsWith('/') ? sh.path(at) : posix.dirname(sh.path(at));
  return { ...source, values: [posix.resolve(directory, text)] };
}

function writer(spec: OptionSpec = {}): Handler {
  return (sh, inv) => {
    const parsed = parseArgs(inv.args, spec);
    for (const operand of parsed.operands) fileAction(sh, inv, 'write', operand);
    return inv.program === 'tee' ? { text: inv.stdin.text, network: inv.stdin.network } : NOTHING;
  };
}

function remove(sh: ShellAnalyser, inv: Invocation): Output {
  const parsed = parseArgs(inv.args);
  const recursive = inv.program === 'rmdir' || hasOption(parsed, '-r', '-R', '--recursive');
  for (const operand of parsed.operands) fileAction(sh, inv, 'delete', operand, recursive);
  return NOTHING;
}

function changeMode(sh: ShellAnalyser, inv: Invocation): Output {
  // `chmod -x file`: a symbolic mode may start with a dash, so it is the mode, not an option.
  const modeIndex = inv.program === 'chmod' ? inv.args.findIndex((word) => /^-[rwxXst]+$/.test(textOf(word) ?? '')) : -1;
  const args = modeIndex >= 0 ? [...inv.args.slice(0, modeIndex), sh.wordFromText('--'), ...inv.args.slice(modeIndex)] : inv.args;
  const parsed = parseArgs(args, { withValue: ['--reference'] });
  const recursive = hasOption(parsed, '-R', '--recursive');
  for (const operand of parsed.operands.slice(hasOption(parsed, '--reference') ? 0 : 1)) fileAction(sh, inv, 'write', operand, recursive);
  return NOTHING;
}

function dd(sh: ShellAnalyser, inv: Invocation): Output {
  for (const word of inv.args) {
    const text = textOf(word);
    if (text?.startsWith('if=')) readFile(sh, inv, { ...word, values: [text.slice(3)] });
    if (text?.startsWith('of=')) fileAction(sh, inv, 'write', { ...word, values: [text.slice(3)] });
  }
  return NOTHING;
}

function tar(sh: ShellAnalyser, inv: Invocation): Output {
  const args = [...inv.args];
  // Old-style bundled first argument without a dash: `tar czf out.tgz dir`.
  const first = textOf(args[0]);
  const bundled = first !== undefined && /^[A-Za-z]+$/.test(first) && /[cxtruA]/.test(first);
  if (bundled) args[0] = { ...args[0]!, values: ['-' + first] };
  const parsed = parseArgs(args, { withValue: ['-f', '--file', '-C', '--directory', '-T', '--files-from', '-X', '--exclude-from', '--exclude', '-b', '-H', '--format', '-I', '--use-compress-program'] });
  const creating = parsed.options.some((option) => ['-c', '--create', '-r', '--append', '-u', '--update', '-A'].includes(option.name));
  const archive = optionValues(parsed, '-f', '--file')[0];
  const directory = optionValues(parsed, '-C', '--directory')[0];
  for (const list of optionValues(parsed, '-T', '--files-from', '-X', '--exclude-from')) readFile(sh, inv, list);
  if (creating) {
    for (const operand of parsed.operands) readFile(sh, inv, operand, true);
    if (archive) fileAction(sh, inv, 'write', archive);
  } else {
    if (archive) readFile(sh, inv, archive);
    if (parsed.options.some((option) => ['-x', '--extract', '--get'].includes(option.name))) {
      const into = directory ?? sh.wordFromText('.');
      fileAction(sh, inv, 'write', into, true);
      const fromStdin = archive === undefined || textOf(archive) === '-';
      if (fromStdin ? inv.stdin.network : isDownloaded(sh, archive!)) markNetworkTree(sh, into);
    }
  }
  return NOTHING;
}

function archiver(sh: ShellAnalyser, inv: Invocation): Output {
  const parsed = parseArgs(inv.args, { withValue: ['-d', '-x', '-i', '-P', '--password'] });
  const [archive, ...members] = parsed.operands;
  if (inv.program === 'unzip' || (inv.program === '7z' && textOf(archive) === 'x')) {
    const file = inv.program === 'unzip' ? archive : members[0];
    const into = optionValues(parsed, '-d')[0] ?? sh.wordFromText('.');
    if (file) readFile(sh, inv, file);
    fileAction(sh, inv, 'write', into, true);
    if (file && isDownloaded(sh, file)) markNetworkTree(sh, into);
    return NOTHING;
  }
  if (archive) fileAction(sh, inv, 'write', archive);
  for (const member of members) readFile(sh, inv, member, true);
  return NOTHING;
}

function isDownloaded(sh: ShellAnalyser, word: Word): boolean {
  const name = textOf(word);
  return word.network === true || (name !== undefined && sh.writtenFile(sh.path(name))?.network === true);
}

function markNetworkTree(sh: ShellAnalyser, dir: Word): void {
  const name = textOf(dir);
  if (name !== undefined) sh.wroteNetworkTree(sh.path(name));
}

/** gzip, xz, zstd, …: read each file, write its compressed or decompressed sibling. */
function compressor(sh: ShellAnalyser, inv: Invocation): Output {
  const parsed = parseArgs(inv.args, { withValue: ['-S', '--suffix', '-o', '-T', '--threads'] });
  for (const operand of parsed.operands) readFile(sh, inv, operand, hasOption(parsed, '-r', '--recursive'));
  for (const output of optionValues(parsed, '-o')) fileAction(sh, inv, 'write', output);
  return NOTHING;
}

function find(sh: ShellAnalyser, inv: Invocation): Output {
  const args = inv.args;
  const starts: Word[] = [];
  let i = 0;
  while (i < args.length) {
    const text = textOf(args[i]);
    if (text !== undefined && (text.startsWith('-') || text === '(' || text === '!')) break;
    if (text === undefined || !['-H', '-L', '-P'].includes(text)) starts.push(args[i]!);
    i++;
  }
  if (starts.length === 0) starts.push(sh.wordFromText('.'));
  for (; i < args.length; i++) {
    const text = textOf(args[i]);
    if (text === '-delete') for (const start of starts) fileAction(sh, inv, 'delete', start, true);
    if (text === '-fprint' || text === '-fprintf' || text === '-fls' || text === '-fprint0') fileAction(sh, inv, 'write', args[++i]!);
    if (text === '-exec' || text === '-execdir' || text === '-ok' || text === '-okdir') {
      const end = args.findIndex((word, index) => index > i && (textOf(word) === ';' || textOf(word) === '+'));
      const command = args.slice(i + 1, end < 0 ? args.length : end);
      // `{}` stands for every file found below the start directories.
      const found = starts.map((start) => (textOf(start) !== undefined ? sh.path(textOf(start)!) + '/*' : '?'));
      const expanded = command.map((word) => (textOf(word)?.includes('{}') ? { ...word, values: found.map((path) => textOf(word)!.replaceAll('{}', path)) } : word));
      runArgv(sh, inv, expanded, { network: false, piped: false });
      i = end < 0 ? args.length : end;
    }
  }
  const first = textOf(starts[0]);
  return { network: false, pathsUnder: first === undefined ? undefined : sh.path(first) };
}

/** ls prints names below what it lists, so `ls ~/.ssh/id_* | xargs cat` reads keys; it reads no contents itself. */
function list(sh: ShellAnalyser, inv: Invocation): Output {
  const operands = parseArgs(inv.args, { withValue: ['-I', '--ignore', '-w', '--width', '-T', '--tabsize', '--hide', '--sort', '--format', '--time-style', '--block-size'] }).operands;
  if (operands.length > 1) return NOTHING;
  const operand = operands.length === 0 ? '.' : textOf(operands[0]);
  return { network: false, pathsUnder: operand === undefined ? undefined : literalDirectory(sh.path(operand)) };
}

/** fd PATTERN [DIR…]: prints paths below the directories it searches. */
function findByName(sh: ShellAnalyser, inv: Invocation): Output {
  const operands = parseArgs(inv.args, { withValue: ['-e', '--extension', '-t', '--type', '-E', '--exclude', '-d', '--max-depth', '-x', '--exec', '-X', '--exec-batch', '-j', '--threads', '-S', '--size', '--changed-within', '--changed-before', '-o', '--owner', '--base-directory', '--search-path', '-c', '--color'] }).operands;
  return { network: false, pathsUnder: searchRoot(sh, operands.slice(1)) };
}

const XARGS_WITH_VALUE = ['-a', '--arg-file', '-d', '--delimiter', '-E', '-I', '-L', '--max-lines', '-n', '--max-args', '-P', '--max-procs', '-s', '--max-chars', '--process-slot-var'];

/** Runs the command with the items read from stdin appended, or put where the `-I` string stands. */
function xargs(sh: ShellAnalyser, inv: Invocation): Output {
  const args = inv.args;
  let i = 0;
  let replace: string | undefined;
  while (i < args.length) {
    const text = textOf(args[i]);
    if (text === undefined || !text.startsWith('-')) break;
    if (text === '--') {
      i++;
      break;
    }
    const long = text.startsWith('--');
    const name = long ? text.split('=')[0]! : text.slice(0, 2);
    const attached = long ? (text.includes('=') ? text.slice(text.indexOf('=') + 1) : undefined) : text.length > 2 ? text.slice(2) : undefined;
    // -i, -e, -l and --replace take their value only attached (`-i{}`), never as the next word.
    const separate = XARGS_WITH_VALUE.includes(name) && attached === undefined;
    const value = separate ? args[i + 1] : attached === undefined ? undefined : sh.wordFromText(attached);
    if (name === '-I') replace = textOf(value);
    if (name === '-i' || name === '--replace') replace = attached ?? '{}';
    if ((name === '-a' || name === '--arg-file') && value) readFile(sh, inv, value);
    i += separate ? 2 : 1;
  }
  const command = args.slice(i);
  if (command.length === 0) command.push(sh.wordFromText('echo'));
  const items = xargsItems(inv.stdin);
  const input: Word = { values: items, raw: '(xargs input)', glob: false, network: inv.stdin.network };
  const argv =
    replace === undefined
      ? [...command, input]
      : command.map((word) => {
          const text = textOf(word);
          if (text === undefined || !text.includes(replace!)) return word;
          return { ...input, raw: word.raw, values: items?.map((item) => text.replaceAll(replace!, item)) };
        });
  return runArgv(sh, inv, argv, { network: false, piped: false });
}

function xargsItems(stdin: Stdin): string[] | undefined {
  if (stdin.text !== undefined) return stdin.text.split(/\s+/).filter(Boolean);
  if (stdin.pathsUnder !== undefined) return [anyPathUnder(stdin.pathsUnder)];
  return undefined;
}

// ---- programs whose output Writ can compute (so `$(echo …)` and `echo … | base64 -d | sh` are seen through)

function echo(_sh: ShellAnalyser, inv: Invocation): Output {
  const words = inv.args.map(textOf);
  if (words.some((word) => word === undefined)) return NOTHING;
  let newline = true;
  let escapes = false;
  let start = 0;
  while (start < words.length && /^-[neE]+$/.test(words[start]!)) {
    if (words[start]!.includes('n')) newline = false;
    if (words[start]!.includes('e')) escapes = true;
    start++;
  }
  const text = words.slice(start).join(' ');
  return { text: (escapes ? unescapeEcho(text) : text) + (newline ? '\n' : ''), network: false };
}

function printf(_sh: ShellAnalyser, inv: Invocation): Output {
  const words = inv.args.map(textOf);
  if (words.length === 0 || words.some((word) => word === undefined)) return NOTHING;
  let [format, ...values] = words as string[];
  if (format === '--') [format, ...values] = values as [string, ...string[]];
  if (format === '-v') return NOTHING;
  let index = 0;
  const once = () =>
    unescapeEcho(format!).replace(/%(-?\d*)([sdbc%])/g, (_, _width: string, conversion: string) => {
      if (conversion === '%') return '%';
      const value = values[index++] ?? '';
      return conversion === 'b' ? unescapeEcho(value) : value;
    });
  let text = once();
  while (index > 0 && index < values.length) text += once();
  return { text, network: false };
}

function unescapeEcho(text: string): string {
  return text.replace(/\\(x[0-9a-fA-F]{1,2}|0[0-7]{0,3}|[0-7]{1,3}|.)/g, (_, escape: string) => {
    if (escape[0] === 'x') return String.fromCharCode(parseInt(escape.slice(1), 16));
    if (/^[0-7]/.test(escape)) return String.fromCharCode(parseInt(escape, 8));
    return { n: '\n', t: '\t', r: '\r', a: '\x07', b: '\b', e: '\x1b', f: '\f', v: '\v', '\\': '\\' }[escape] ?? '\\' + escape;
  });
}

function base64(sh: ShellAnalyser, inv: Invocation): Output {
  const parsed = parseArgs(inv.args, { withValue: ['-w', '--wrap'] });
  for (const operand of parsed.operands) readFile(sh, inv, operand);
  const decode = hasOption(parsed, '-d', '-D', '--decode');
  if (!decode || parsed.operands.length > 0) return { network: inv.stdin.network };
  if (inv.stdin.text === undefined) return { network: inv.stdin.network };
  return { text: Buffer.from(inv.stdin.text.replace(/\s+/g, ''), 'base64').toString('utf8'), network: inv.stdin.network };
}

function xxd(sh: ShellAnalyser, inv: Invocation): Output {
  const parsed = parseArgs(inv.args, { withValue: ['-c', '-g', '-l', '-s', '-o', '-n'] });
  const [input, output] = parsed.operands;
  if (input) readFile(sh, inv, input);
  if (output) fileAction(sh, inv, 'write', output);
  const reverse = hasOption(parsed, '-r', '-revert');
  if (reverse && hasOption(parsed, '-p', '-ps', '-plain') && !input && inv.stdin.text !== undefined) {
    return { text: Buffer.from(inv.stdin.text.replace(/\s+/g, ''), 'hex').toString('utf8'), network: inv.stdin.network };
  }
  return { network: inv.stdin.network };
}

function rev(_sh: ShellAnalyser, inv: Invocation): Output {
  if (inv.args.length > 0 || inv.stdin.text === undefined) return { network: inv.stdin.network };
  return { text: inv.stdin.text.split('\n').map((line) => [...line].reverse().join('')).join('\n'), network: inv.stdin.network };
}

// ---- builtins that change the shell's own state

function cd(sh: ShellAnalyser, inv: Invocation): Output {
  const target = inv.args.find((word) => !(textOf(word) ?? '').startsWith('-') || textOf(word) === '-');
  // `cd` alone goes to $HOME and `cd -` to $OLDPWD; with $CDPATH set, a bare name may be below any of its entries.
  const word = !target ? sh.variableWord('HOME') : textOf(target) === '-' ? sh.variableWord('OLDPWD') : target;
  const path = textOf(word);
  const searched = path !== undefined && !/^\.{0,2}(\/|$)/.test(path) && textOf(sh.variableWord('CDPATH'));
  if (path === undefined || searched) sh.opaque(`cd into a directory only known at run time (${excerpt(word.raw)})`, inv.chain);
  else {
    sh.setVariable('OLDPWD', [sh.cwd]);
    sh.cwd = sh.path(path);
  }
  return NOTHING;
}

/** trap ACTION SIGNAL…: the action runs when a signal or EXIT comes, so it runs as far as Writ is concerned. */
function trap(sh: ShellAnalyser, inv: Invocation): Output {
  const parsed = parseArgs(inv.args);
  const action = parsed.operands[0];
  if (!action || parsed.operands.length < 2 || ['-', ''].includes(textOf(action) ?? '?')) return NOTHING;
  return runScriptWord(sh, inv, action);
}

/** alias name=value…: later commands named name run value instead. */
function aliasBuiltin(sh: ShellAnalyser, inv: Invocation): Output {
  for (const word of inv.args) {
    const match = /^([^=\s]+)=(.*)$/s.exec(textOf(word) ?? '');
    if (match) sh.aliases.set(match[1]!, match[2]!);
  }
  return NOTHING;
}

function exportBuiltin(sh: ShellAnalyser, inv: Invocation): Output {
  for (const word of inv.args) {
    const text = textOf(word);
    const match = text === undefined ? undefined : /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(text);
    if (match) sh.setVariable(match[1]!, [match[2]!]);
  }
  return NOTHING;
}

function source(sh: ShellAnalyser, inv: Invocation): Output {
  const [file] = inv.args;
  if (!file) return NOTHING;
  if (file.network) return remoteCode(sh, inv, `${inv.program} runs a script fetched from the network`);
  readFile(sh, inv, file);
  if (textOf(file) === '/dev/stdin' || textOf(file) === '-') return runStdinScript(sh, inv);
  runWrittenScript(sh, inv, file);
  return NOTHING;
}

function evalBuiltin(sh: ShellAnalyser, inv: Invocation): Output {
  if (inv.args.some((word) => word.network)) return remoteCode(sh, inv, 'eval runs code fetched from the network');
  const words = inv.args.map(textOf);
  if (words.some((word) => word === undefined)) {
    sh.opaque(`eval runs code only known at run time (${excerpt(inv.args.map((word) => word.raw).join(' '))})`, inv.chain);
    return NOTHING;
  }
  return sh.script(words.join(' '), inv.chain);
}

function suCommand(sh: ShellAnalyser, inv: Invocation): Output {
  const index = inv.args.findIndex((word) => ['-c', '--command'].includes(textOf(word) ?? ''));
  if (index >= 0 && inv.args[index + 1]) return runScriptWord(sh, inv, inv.args[index + 1]!);
  if (inv.program === 'runuser' || inv.program === 'sudo') return wrapper({})(sh, inv) ?? NOTHING;
  return NOTHING;
}

function sshKeygen(sh: ShellAnalyser, inv: Invocation): Output {
  const parsed = parseArgs(inv.args, { withValue: ['-f', '-t', '-b', '-C', '-N', '-P', '-E', '-I', '-n', '-O', '-V', '-z', '-Z', '-a', '-m'] });
  const files = optionValues(parsed, '-f');
  // -y prints the public key of a private key file; -l/-e/-p read it too. Creating a key writes it.
  const reads = hasOption(parsed, '-y', '-l', '-e', '-p', '-B', '-i', '-c');
  for (const file of files) fileAction(sh, inv, reads ? 'read' : 'write', file);
  return NOTHING;
}

function openssl(sh: ShellAnalyser, inv: Invocation): Output {
  const args = inv.args;
  for (let i = 0; i < args.length; i++) {
    const text = textOf(args[i]);
    if (text === '-in' || text === '-inkey' || text === '-key' || text === '-kfile' || text === '-pass' || text === '-CAfile') {
      const value = args[i + 1];
      if (value && !(textOf(value) ?? '').match(/^(pass|env|stdin|fd):/)) readFile(sh, inv, textOf(value)?.startsWith('file:') ? { ...value, values: [textOf(value)!.slice(5)] } : value);
      i++;
    } else if (text === '-out') {
      if (args[i + 1]) fileAction(sh, inv, 'write', args[i + 1]!);
      i++;
    } else if (text === 's_client' || text === '-connect') {
      const target = textOf(args[i + 1]);
      if (text === '-connect' && target) sh.actions.push(hostAction('send', target, 'openssl s_client', 443, sh.env));
    }
  }
  return { network: false };
}

// ---- network programs

function curl(sh: ShellAnalyser, inv: Invocation): Output {
  const parsed = parseArgs(inv.args, {
    withValue: ['-d', '--data', '--data-binary', '--data-raw', '--data-ascii', '--data-urlencode', '-F', '--form', '--form-string', '-T', '--upload-file', '--json', '-X', '--request', '-o', '--output', '-H', '--header', '-u', '--user', '-A', '--user-agent', '-e', '--referer', '-K', '--config', '-b', '--cookie', '-c', '--cookie-jar', '--url', '-x', '--proxy', '-m', '--max-time', '--connect-timeout', '-w', '--write-out', '--retry', '-r', '--range', '-E', '--cert', '--key', '--cacert', '--resolve', '--connect-to', '--output-dir', '-C', '--continue-at', '-Y', '-y', '--limit-rate', '-z', '--time-cond', '--unix-socket', '--interface', '--dns-servers', '--preproxy', '--socks4', '--socks4a', '--socks5', '--socks5-hostname', '--proxy-user', '-U'],
  });
  const dataOptions = ['-d', '--data', '--data-binary', '--data-raw', '--data-ascii', '--data-urlencode', '-F', '--form', '--form-string', '-T', '--upload-file', '--json'];
  let sends = hasOption(parsed, ...dataOptions);
  const method = (textOf(optionValues(parsed, '-X', '--request')[0]) ?? '').toUpperCase();
  if (['POST', 'PUT', 'PATCH', 'DELETE'].includes(method)) sends = true;
  for (const option of parsed.options) {
    const value = textOf(option.value);
    if (!option.value) continue;
    if (['-T', '--upload-file'].includes(option.name)) readFile(sh, inv, option.value);
    else if (dataOptions.includes(option.name) && value?.includes('@')) {
      const file = value.slice(value.indexOf('@') + 1).split(';')[0]!;
      if (file !== '-') readFile(sh, inv, { ...option.value, values: [file] });
      else if (inv.stdin.piped || inv.stdin.text !== undefined) sends = true;
    } else if (['-K', '--config', '-b', '--cookie', '--cacert', '-E', '--cert', '--key'].includes(option.name) && value !== undefined && looksLikePath(value)) {
      readFile(sh, inv, option.value);
      if (option.name === '-K' || option.name === '--config') sh.opaque('curl takes further options from a config file Writ does not read', inv.chain);
    } else if (['-o', '--output', '-c', '--cookie-jar'].includes(option.name) && value !== '-') {
      fileAction(sh, inv, 'write', option.value);
      if (value !== undefined && (option.name === '-o' || option.name === '--output')) sh.wrote(sh.path(value), { text: undefined, network: true });
    }
    else if (option.name === '-H' || option.name === '--header') {
      if (value?.startsWith('@')) readFile(sh, inv, { ...option.value, values: [value.slice(1)] });
    }
  }
  const urls = [...parsed.operands, ...optionValues(parsed, '--url')];
  if (urls.length === 0 && parsed.operands.length === 0) return NOTHING;
  const kind = sends ? 'send' : 'fetch';
  for (const url of urls) networkTo(sh, inv, url, kind, method || (sends ? 'POST' : 'GET'));
  // The connection really goes to the proxy, or to the address `--resolve`/`--connect-to` put in place of the name.
  for (const proxy of optionValues(parsed, '-x', '--proxy', '--preproxy', '--socks4', '--socks4a', '--socks5', '--socks5-hostname')) networkTo(sh, inv, proxy, kind, 'PROXY');
  for (const option of optionValues(parsed, '--resolve', '--connect-to')) {
    const address = /^[^:]*:[^:]*:(\[[^\]]+\]|[^:,]+)/.exec(textOf(option) ?? '')?.[1];
    if (address) sh.actions.push({ ...hostAction(kind, address.split(',')[0]!, inv.chain.join(' → '), 0, sh.env), method: method || 'GET' });
  }
  const remoteNamed = hasOption(parsed, '-O', '--remote-name', '--remote-name-all');
  for (const name of remoteNamed ? urls.map(textOf) : []) if (name !== undefined) sh.wrote(sh.path(remoteName(name)), { text: undefined, network: true });
  const toStdout = !hasOption(parsed, '-o', '--output', '-O', '--remote-name', '--remote-name-all') || optionValues(parsed, '-o', '--output').some((word) => textOf(word) === '-');
  return { network: toStdout };
}

function wget(sh: ShellAnalyser, inv: Invocation): Output {
  const parsed = parseArgs(inv.args, {
    withValue: ['-O', '--output-document', '-o', '--output-file', '-a', '--append-output', '-i', '--input-file', '-P', '--directory-prefix', '--post-data', '--post-file', '--body-data', '--body-file', '--method', '--header', '-U', '--user-agent', '--user', '--password', '-t', '--tries', '-T', '--timeout', '--load-cookies', '--save-cookies', '-e', '--execute', '--config'],
  });
  let sends = hasOption(parsed, '--post-data', '--post-file', '--body-data', '--body-file');
  const method = (textOf(optionValues(parsed, '--method')[0]) ?? (sends ? 'POST' : 'GET')).toUpperCase();
  if (['POST', 'PUT', 'PATCH', 'DELETE'].includes(method)) sends = true;
  for (const file of optionValues(parsed, '--post-file', '--body-file', '-i', '--input-file', '--load-cookies', '--config')) readFile(sh, inv, file);
  const output = optionValues(parsed, '-O', '--output-document')[0];
  if (output && textOf(output) !== '-') {
    fileAction(sh, inv, 'write', output);
    if (textOf(output) !== undefined) sh.wrote(sh.path(textOf(output)!), { text: undefined, network: true });
  }
  const prefix = textOf(optionValues(parsed, '-P', '--directory-prefix')[0]) ?? '.';
  if (!output) fileAction(sh, inv, 'write', sh.wordFromText(prefix), true);
  for (const url of parsed.operands) {
    networkTo(sh, inv, url, sends ? 'send' : 'fetch', method);
    const name = textOf(url);
    if (!output && name !== undefined) sh.wrote(sh.path(`${prefix}/${remoteName(name)}`), { text: undefined, network: true });
  }
  return { network: output !== undefined && textOf(output) === '-' };
}

/** The file name `wget URL` and `curl -O URL` save to: the URL path's last part. */
function remoteName(url: string): string {
  const path = url.replace(/^[a-z]+:\/\/[^/]*/i, '').replace(/[?#].*$/, '');
  return baseName(path) || 'index.html';
}

function networkTo(sh: ShellAnalyser, inv: Invocation, word: Word, kind: 'fetch' | 'send', method: string): void {
  const url = textOf(word);
  if (url === undefined) {
    sh.opaque(`${inv.program} connects to an address only known at run time (${excerpt(word.raw)})`, inv.chain);
    return;
  }
  // `curl file:///home/me/.ssh/id_rsa` reads a local file.
  const local = /^file:\/\/(?:localhost)?(\/[^?#]*)/i.exec(url);
  if (local) return readFile(sh, inv, { ...word, values: [decodePercent(local[1]!)] });
  sh.actions.push({ ...hostAction(kind, url, inv.chain.join(' → '), 0, sh.env), method });
}


/** dig, host, ping, …: a lookup only fetches, but a name computed at run time can carry data out in the query. */
function lookup(sh: ShellAnalyser, inv: Invocation): Output {
  const parsed = parseArgs(inv.args, { withValue: ['-c', '-i', '-W', '-w', '-s', '-t', '-p', '-q', '-x', '-f', '-b', '-I', '-m', '-k', '-y', '-l'] });
  for (const operand of parsed.operands) {
    const name = textOf(operand);
    if (name === undefined) sh.opaque(`${inv.program} looks up a name only known at run time (${excerpt(operand.raw)})`, inv.chain);
    // `dig @server name` asks that server: it is contacted too.
    else if (!name.startsWith('+')) sh.actions.push({ ...hostAction('fetch', name.replace(/^@/, ''), inv.chain.join(' → '), 53, sh.env), method: 'DNS' });
  }
  return NOTHING;
}

function netcat(sh: ShellAnalyser, inv: Invocation): Output {
  const parsed = parseArgs(inv.args, { withValue: ['-p', '-s', '-w', '-i', '-q', '-e', '-c', '-X', '-x', '-W', '-I', '-O', '-T', '-V', '-M', '-m'] });
  if (hasOption(parsed, '-l', '--listen')) return NOTHING;
  const [host, port] = parsed.operands.map(textOf);
  if (host === undefined) {
    if (parsed.operands[0]) sh.opaque(`${inv.program} connects to an address only known at run time`, inv.chain);
    return NOTHING;
  }
  sh.actions.push({ ...hostAction('send', host, inv.chain.join(' → '), Number(port) || 0, sh.env), method: 'TCP' });
  return { network: true };
}

function socat(sh: ShellAnalyser, inv: Invocation): Output {
  for (const word of inv.args) {
    const address = textOf(word);
    const match = address && /^(?:tcp|tcp4|tcp6|udp|openssl|ssl)[^:]*:([^:,]+):(\d+)/i.exec(address);
    if (match) sh.actions.push({ ...hostAction('send', match[1]!, inv.chain.join(' → '), Number(match[2]), sh.env), method: 'TCP' });
    const file = address && /^(?:open|file|create|gopen):([^,]+)/i.exec(address);
    if (file) readFile(sh, inv, sh.wordFromText(file[1]!));
    if (address && /^(exec|system):/i.test(address)) runScriptWord(sh, inv, sh.wordFromText(address.slice(address.indexOf(':') + 1).split(',')[0]!));
  }
  return { network: true };
}

function ssh(sh: ShellAnalyser, inv: Invocation): Output {
  const parsed = parseArgs(inv.args, { withValue: ['-b', '-c', '-D', '-E', '-e', '-F', '-I', '-i', '-J', '-L', '-l', '-m', '-O', '-o', '-p', '-Q', '-R', '-S', '-W', '-w', '-B'] });
  const destination = textOf(parsed.operands[0]);
  if (destination === undefined) {
    if (parsed.operands[0]) sh.opaque('ssh connects to an address only known at run time', inv.chain);
    return NOTHING;
  }
  const port = Number(textOf(optionValues(parsed, '-p')[0])) || 22;
  sh.actions.push({ ...hostAction('send', destination.replace(/^ssh:\/\//, '').replace(/^.*@/, ''), inv.chain.join(' → '), port, sh.env), method: 'SSH' });
  // Jump hosts (`-J a,b`, `-o ProxyJump=a`) carry the session, and `-W host:port` forwards to another host.
  const jumps = [...optionValues(parsed, '-J'), ...optionValues(parsed, '-o').filter((option) => /^ProxyJump[= ]/i.test(textOf(option) ?? ''))];
  for (const jump of jumps.flatMap((word) => (textOf(word) ?? '').replace(/^ProxyJump[= ]\s*/i, '').split(','))) {
    if (jump && jump.toLowerCase() !== 'none') sh.actions.push({ ...hostAction('send', jump.replace(/^.*@/, ''), inv.chain.join(' → '), 22, sh.env), method: 'SSH' });
  }
  for (const forward of optionValues(parsed, '-W')) sh.actions.push({ ...hostAction('send', textOf(forward) ?? '?', inv.chain.join(' → '), 0, sh.env), method: 'TCP' });
  for (const option of optionValues(parsed, '-o')) {
    if (/^(ProxyCommand|LocalCommand)[= ]/i.test(textOf(option) ?? '')) runScriptWord(sh, inv, sh.wordFromText(textOf(option)!.replace(/^\w+[= ]\s*/, '')));
  }
  return { network: true };
}

/** scp, rsync, sftp: `host:path` operands are remote; data leaves when a remote one is the destination. */
function remoteCopy(sh: ShellAnalyser, inv: Invocation): Output {
  const parsed = parseArgs(inv.args, { withValue: ['-P', '-p', '-i', '-o', '-F', '-S', '-l', '-c', '-J', '-e', '--rsh', '--exclude', '--include', '--exclude-from', '--include-from', '--files-from', '--rsync-path', '--port', '-B', '-b', '--password-file', '--filter', '-f', '--log-file', '--temp-dir', '-T', '--backup-dir', '--partial-dir', '--chmod', '--chown', '--timeout', '--bwlimit', '--max-size', '--min-size', '--compare-dest', '--copy-dest', '--link-dest'] });
  for (const rsh of optionValues(parsed, '-e', '--rsh')) if (textOf(rsh)?.match(/^(sh|bash)\b/)) runScriptWord(sh, inv, rsh);
  for (const list of optionValues(parsed, '--files-from', '--exclude-from', '--include-from', '--password-file')) readFile(sh, inv, list);
  const operands = parsed.operands;
  if (operands.length === 0) return NOTHING;
  if (inv.program === 'sftp') {
    // sftp [user@]host[:path] takes its put/get commands from stdin or a -b batch file.
    for (const batch of optionValues(parsed, '-b')) readFile(sh, inv, batch);
    const target = textOf(operands[0]);
    if (target !== undefined) sh.actions.push({ ...hostAction('send', target.replace(/^[^@]*@/, '').split(':')[0]!, inv.chain.join(' → '), 22, sh.env), method: 'SFTP' });
    return NOTHING;
  }
  const destination = operands[operands.length - 1]!;
  const sources = operands.length > 1 ? operands.slice(0, -1) : [];
  const recursive = inv.program !== 'scp' || hasOption(parsed, '-r');
  const remoteDestination = parseRemoteSpec(textOf(destination));
  for (const source of sources) {
    const remote = parseRemoteSpec(textOf(source));
    if (remote) sh.actions.push({ ...hostAction('fetch', remote.host, inv.chain.join(' → '), 22, sh.env), method: inv.program.toUpperCase() });
    else readFile(sh, inv, source, recursive);
  }
  if (remoteDestination) sh.actions.push({ ...hostAction('send', remoteDestination.host, inv.chain.join(' → '), 22, sh.env), method: inv.program.toUpperCase() });
  else if (sources.length > 0) fileAction(sh, inv, 'write', destination, recursive);
  return NOTHING;
}

/** sqlite3 DB [SQL]: the database file is read, and written unless opened read-only. */
function sqlite(sh: ShellAnalyser, inv: Invocation): Output {
  // sqlite3 spells its long options with one dash (`-readonly`, `-cmd X`), so getopt-style parsing does not fit.
  const withValue = ['-cmd', '-separator', '-newline', '-nullvalue', '-init', '-vfs', '-maxsize', '-mmap', '-pagecache', '-lookaside', '-heap'];
  const options = new Set<string>();
  for (let i = 0; i < inv.args.length; i++) {
    const text = textOf(inv.args[i])?.replace(/^--/, '-');
    if (text === undefined || !text.startsWith('-')) {
      readFile(sh, inv, inv.args[i]!);
      if (!options.has('-readonly')) fileAction(sh, inv, 'write', inv.args[i]!);
      return NOTHING;
    }
    options.add(text);
    if (text === '-init' && inv.args[i + 1]) readFile(sh, inv, inv.args[i + 1]!);
    if (withValue.includes(text)) i++;
  }
  return NOTHING;
}

/** crontab installs a job the system runs later, outside the project: anything but listing writes it. */
function crontab(sh: ShellAnalyser, inv: Invocation): Output {
  const parsed = parseArgs(inv.args, { withValue: ['-u'] });
  if (hasOption(parsed, '-l')) return NOTHING;
  const user = textOf(optionValues(parsed, '-u')[0]) ?? sh.env.osUser;
  for (const file of parsed.operands) readFile(sh, inv, file);
  fileAction(sh, inv, hasOption(parsed, '-r') ? 'delete' : 'write', sh.wordFromText(`/var/spool/cron/crontabs/${user}`));
  return NOTHING;
}

/** docker and podman: a bind mount hands the container everything below its source (`-v ~/.aws:/x`). */
function container(sh: ShellAnalyser, inv: Invocation): Output {
  const parsed = parseArgs(inv.args, { withValue: ['-v', '--volume', '--mount', '--env-file'] });
  for (const volume of optionValues(parsed, '-v', '--volume')) {
    const source = textOf(volume)?.split(':')[0];
    if (source !== undefined && looksLikePath(source)) readFile(sh, inv, { ...volume, values: [source] }, true);
  }
  for (const mount of optionValues(parsed, '--mount')) {
    const source = /(?:^|,)(?:source|src)=([^,]+)/.exec(textOf(mount) ?? '')?.[1];
    if (source !== undefined) readFile(sh, inv, { ...mount, values: [source] }, true);
  }
  for (const file of optionValues(parsed, '--env-file')) readFile(sh, inv, file);
  // `docker cp ~/.aws container:/x` copies a whole directory into the container.
  const [command, ...operands] = parsed.operands;
  if (textOf(command) === 'cp') for (const operand of operands.slice(0, -1)) readFile(sh, inv, operand, true);
  else readPathLike(sh, inv, parsed.operands);
  return NOTHING;
}

// ---- table

const READS_OPERANDS = new Set([
  'cat', 'tac', 'nl', 'head', 'tail', 'less', 'more', 'most', 'od', 'hexdump', 'hd', 'strings', 'base32', 'basenc', 'sha1sum', 'sha224sum', 'sha256sum', 'sha384sum',
  'sha512sum', 'md5sum', 'md5', 'shasum', 'cksum', 'b2sum', 'sum', 'wc', 'sort', 'uniq', 'cut', 'paste', 'join', 'diff', 'cmp', 'comm', 'fold', 'fmt', 'expand', 'unexpand',
  'iconv', 'file', 'bat', 'batcat', 'view', 'vim', 'vi', 'nvim', 'nano', 'emacs', 'pico', 'ed', 'ex', 'column', 'pr', 'shuf', 'split', 'csplit', 'zcat', 'zless', 'zmore',
  'bzcat', 'xzcat', 'zstdcat', 'lzcat', 'gpg', 'gpg2', 'pbcopy', 'xclip', 'xsel', 'wl-copy', 'look', 'dos2unix', 'unix2dos', 'yq', 'xmllint', 'plutil', 'code', 'subl', 'open', 'xdg-open', 'uuencode',
]);

// Programs that read no file's contents, at most names and metadata: `ls -la ~/.ssh` reads no key.
const NAMES_ONLY = ['tr', 'stat', 'test', '[', 'du', 'tree', 'realpath', 'readlink', 'dirname', 'basename', 'lsattr', 'getfacl', 'pathchk'];

const HEAD_SPEC: ReaderSpec = { shared: true, withValue: ['-n', '-c', '--lines', '--bytes', '-s', '--pid', '--sleep-interval', '-t', '-k', '-o', '--output', '-T', '-S', '-d', '-f', '-b', '-w', '-l', '-v', '-i', '-F', '-e'] };

const HANDLERS: Record<string, Handler> = {
  ...Object.fromEntries([...READS_OPERANDS].map((name) => [name, reader(HEAD_SPEC)])),
  sort: reader({ ...HEAD_SPEC, output: ['-o', '--output'] }),
  diff: reader({ withValue: ['-x', '--exclude', '-X', '--exclude-from', '-I', '--ignore-matching-lines', '-U', '-C', '-W', '--width', '--label', '-L', '-F'], recursive: ['-r', '--recursive'] }),
  shuf: reader({ ...HEAD_SPEC, output: ['-o', '--output'] }),
  ...Object.fromEntries(SHELLS.map((name) => [name, shell])),
  ...Object.fromEntries(Object.keys(INTERPRETERS).map((name) => [name, interpreter])),
  grep: reader(GREP),
  egrep: reader(GREP),
  fgrep: reader(GREP),
  zgrep: reader(GREP),
  rg: ripgrep,
  ag: ripgrep,
  ack: ripgrep,
  sed,
  gsed: sed,
  awk,
  gawk: awk,
  mawk: awk,
  nawk: awk,
  jq,
  base64,
  xxd,
  rev,
  echo,
  printf,
  cp: copy('cp'),
  mv: copy('mv'),
  ln: copy('ln'),
  install: copy('install'),
  tee: writer({ withValue: ['-p', '--output-error'] }),
  touch: writer({ withValue: ['-d', '-t', '-r', '--reference', '--date'] }),
  mkdir: writer({ withValue: ['-m', '--mode'] }),
  truncate: writer({ withValue: ['-s', '--size', '-r', '--reference'] }),
  mkfifo: writer({ withValue: ['-m'] }),
  shred: remove,
  rm: remove,
  rmdir: remove,
  unlink: remove,
  chmod: changeMode,
  chown: changeMode,
  chgrp: changeMode,
  chattr: changeMode,
  setfacl: changeMode,
  dd,
  tar,
  bsdtar: tar,
  zip: archiver,
  unzip: archiver,
  '7z': archiver,
  gzip: compressor,
  gunzip: compressor,
  bzip2: compressor,
  bunzip2: compressor,
  xz: compressor,
  unxz: compressor,
  zstd: compressor,
  lz4: compressor,
  find,
  xargs,
  cd,
  pushd: cd,
  export: exportBuiltin,
  alias: aliasBuiltin,
  trap,
  source,
  '.': source,
  eval: evalBuiltin,
  su: suCommand,
  runuser: suCommand,
  script: (sh, inv) => suCommand(sh, inv),
  'ssh-keygen': sshKeygen,
  openssl,
  curl,
  wget,
  ...Object.fromEntries(['dig', 'host', 'nslookup', 'drill', 'ping', 'ping6', 'traceroute', 'tracepath', 'mtr', 'whois'].map((name) => [name, lookup])),
  nc: netcat,
  ncat: netcat,
  netcat: netcat,
  telnet: netcat,
  socat,
  ssh,
  scp: remoteCopy,
  rsync: remoteCopy,
  sftp: remoteCopy,
  sudo: (sh, inv) => suCommandOrWrap(sh, inv, ['-u', '-g', '-C', '-D', '-h', '-p', '-r', '-t', '-U', '-T', '--user', '--group', '--host', '--prompt', '--chdir']),
  doas: wrapper({ withValue: ['-u', '-C'] }),
  env: envWrapper,
  nice: wrapper({ withValue: ['-n', '--adjustment'] }),
  nohup: wrapper({}),
  time: wrapper({ withValue: ['-f', '-o', '--format', '--output'] }),
  timeout: wrapper({ withValue: ['-s', '-k', '--signal', '--kill-after'], skipOperands: 1 }),
  command: (sh, inv) => (inv.args.some((word) => ['-v', '-V'].includes(textOf(word) ?? '')) ? NOTHING : wrapper({})(sh, inv) ?? NOTHING),
  builtin: wrapper({}),
  exec: wrapper({ withValue: ['-a'] }),
  stdbuf: wrapper({ withValue: ['-i', '-o', '-e', '--input', '--output', '--error'] }),
  ionice: wrapper({ withValue: ['-c', '-n', '-p', '-P', '-u', '--class', '--classdata'] }),
  chrt: wrapper({ skipOperands: 1 }),
  taskset: wrapper({ skipOperands: 1 }),
  setsid: wrapper({}),
  unbuffer: wrapper({}),
  caffeinate: wrapper({ withValue: ['-t', '-w'] }),
  strace: wrapper({ withValue: ['-o', '-e', '-p', '-s', '-u', '-E', '-P', '-I', '-b', '-O', '-S', '-X', '-a'] }),
  ltrace: wrapper({ withValue: ['-o', '-e', '-p', '-s', '-u', '-E', '-n', '-a'] }),
  watch: wrapper({ withValue: ['-n', '--interval', '-d', '--differences'] }),
  flock: wrapper({ withValue: ['-w', '--timeout', '-E', '--conflict-exit-code'], skipOperands: 1 }),
  npx: packageRunner,
  pnpx: packageRunner,
  bunx: packageRunner,
  ...Object.fromEntries(NAMES_ONLY.map((name) => [name, () => NOTHING])),
  ls: list,
  dir: list,
  exa: list,
  eza: list,
  // ssh-add hands a key to ssh-agent without printing it, as `ssh -i key` uses one.
  'ssh-add': () => NOTHING,
  locate: () => ({ network: false, pathsUnder: '/' }),
  plocate: () => ({ network: false, pathsUnder: '/' }),
  fd: findByName,
  fdfind: findByName,
  busybox: (sh, inv) => runArgv(sh, inv, inv.args),
  toybox: (sh, inv) => runArgv(sh, inv, inv.args),
  git: gitCommand,
  ...Object.fromEntries(PACKAGE_MANAGERS.map((name) => [name, packageManager])),
  crontab,
  sqlite3: sqlite,
  docker: container,
  podman: container,
};

function suCommandOrWrap(sh: ShellAnalyser, inv: Invocation, withValue: string[]): Output {
  const shellFlag = inv.args.findIndex((word) => ['-s', '-i', '--shell', '--login'].includes(textOf(word) ?? ''));
  if (shellFlag >= 0 && shellFlag === inv.args.length - 1) return runStdinScript(sh, inv);
  return wrapper({ withValue })(sh, inv) ?? NOTHING;
}

/** npx, pnpx, bunx run a package's program (`npx writ uninstall` runs writ); `-c` runs a shell string. */
function packageRunner(sh: ShellAnalyser, inv: Invocation): Output {
  const call = inv.args.findIndex((word) => ['-c', '--call'].includes(textOf(word) ?? ''));
  if (call >= 0 && inv.args[call + 1]) return runScriptWord(sh, inv, inv.args[call + 1]!);
  return wrapper({ withValue: ['-p', '--package'] })(sh, inv) ?? NOTHING;
}

function envWrapper(sh: ShellAnalyser, inv: Invocation): Output {
  const split = inv.args.findIndex((word) => ['-S', '--split-string'].includes(textOf(word) ?? '') || (textOf(word) ?? '').startsWith('--split-string='));
  if (split >= 0) {
    const text = textOf(inv.args[split]!)!.startsWith('--split-string=') ? textOf(inv.args[split]!)!.slice(15) : textOf(inv.args[split + 1]);
    if (text === undefined) {
      sh.opaque('env -S runs a command line only known at run time', inv.chain);
      return NOTHING;
    }
    return sh.script(text + ' ' + inv.args.slice(split + 2).map((word) => word.raw).join(' '), inv.chain);
  }
  for (const word of inv.args) {
    const text = textOf(word) ?? '';
    const assignment = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(text);
    if (assignment) sh.variableTakesEffect(assignment[1]!, { ...word, values: [assignment[2]!] }, inv.chain);
    else if (!text.startsWith('-')) break;
  }
  return wrapper({ withValue: ['-u', '--unset', '-C', '--chdir'], stopAtAssignment: true })(sh, inv) ?? NOTHING;
}


const KNOWN = new Set(Object.keys(HANDLERS));

export { readFile, fileAction, readPathLike, runArgv, runScriptWord, remoteCode, NOTHING, READS_OPERANDS };
