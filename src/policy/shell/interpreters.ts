// One-liners of python, node, perl, ruby, php, awk: not parsed as programs, but their string literals
// name the files they open, the hosts they talk to and the shell commands they run.
import { hostAction } from './network.js';
import { fileAction, runScriptWord } from './commands.js';
import { excerpt, type Invocation, type ShellAnalyser } from './analyse.js';

const STRING_LITERAL = /(?:[rbuf]{0,2})("""[\s\S]*?"""|'''[\s\S]*?'''|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`(?:[^`\\]|\\.)*`)/g;
const RUNS_SHELL = /\b(?:os\.system|os\.popen|subprocess\.\w+|commands\.getoutput|system|exec|execSync|spawnSync|spawn|execFileSync|popen|Popen|check_output|check_call|shell_exec|passthru|proc_open|IO\.popen|Open3\.\w+)\s*\(\s*(?:\[\s*)?$/;
const SENDS = /\b(post|put|patch|request|urlopen|send|sendall|connect|socket|fetch|http\.request|https\.request|Net::HTTP|LWP|curl_exec|fsockopen|ftplib|smtplib|paramiko)\b/i;
/** A call whose next string literal is a host to connect to: `s.connect(('evil.com', 80))`, `fsockopen("evil.com", 80)`. */
const CONNECTS_TO = /\b(?:connect|create_connection|fsockopen|getaddrinfo|createConnection|TCPSocket\.(?:new|open)|Socket)\s*\(\s*\(?\s*$/;
const WRITES = /\bopen\s*\([^)]*,\s*['"][wax+]|\bwrite(File|FileSync|_text|_bytes)?\b|\bappendFile|\bfile_put_contents|\bFile\.write|\bcopyfile|\bcopy2?\b|\bmove\b|\brename\b|\bunlink|\bremove\b|\brmtree|\bsymlink/;
const DYNAMIC_CODE = /\b(eval|exec|compile|Function|b64decode|atob|fromCharCode|__import__|importlib|chr\s*\(|decode\s*\(\s*['"](base64|hex|rot13)|pack\s*\(|unhexlify|codecs\.decode)\b/;
const BACKTICK_SHELL = new Set(['perl', 'ruby', 'php']);
const PIPE_OPEN = new Set(['perl', 'ruby']);
const MENTIONS_HOME = /expanduser|homedir|\bHOME\b|\$ENV\{HOME\}|getenv\(\s*['"]HOME|Path\.home|os\.homedir|Dir\.home|~/;

/** Calls that take a program and its arguments one by one, never a shell string. */
const ARGV_CALL = /\b(?:spawn|spawnSync|execFile|execFileSync|execv\w*|execl\w*)\s*\(\s*(?:\[\s*)?$|\[\s*$/;
/** What follows a literal that makes it only part of a string: `'cat ' + path`, `"%s" % x`, `'{}'.format(x)`. */
const BUILT_FURTHER = /^\s*(?:\+|\.\s*[\w$"']|%)/;
/** Two literals joined by `+`, perl and php's `.`, or python's mere adjacency. */
const CONCATENATION = /("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')\s*[+.]?\s*("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')/g;

export function analyseInterpreterCode(sh: ShellAnalyser, inv: Invocation, source: string): void {
  const chain = inv.chain.join(' → ');
  const code = joinConcatenations(source);
  const sends = SENDS.test(code);
  const writes = WRITES.test(code);
  const home = MENTIONS_HOME.test(code);
  const literals = [...code.matchAll(STRING_LITERAL)];
  let consumed = 0;
  for (const [index, match] of literals.entries()) {
    if (match.index! < consumed) continue;
    const literal = unquote(match[1]!);
    const before = code.slice(0, match.index);
    // Backticks in perl, ruby and php run a shell command, as they do in sh.
    if (RUNS_SHELL.test(before) || (match[1]!.startsWith('`') && BACKTICK_SHELL.has(inv.program))) {
      if (ARGV_CALL.test(before)) consumed = runArgvLiterals(sh, inv, code, literals.slice(index));
      else if (BUILT_FURTHER.test(code.slice(match.index! + match[0].length)) || /^f|\$\{/.test(match[0])) {
        sh.opaque(`${inv.program} runs a shell command built at run time (${excerpt(match[0])})`, inv.chain);
      } else runScriptWord(sh, inv, sh.wordFromText(literal));
      continue;
    }
    if (CONNECTS_TO.test(before) && /^[\w.-]+$/.test(literal)) {
      sh.actions.push({ ...hostAction('send', literal, chain, 0, sh.env), method: 'TCP' });
      continue;
    }
    if (/^[a-z][a-z0-9+.-]*:\/\/\S+$/i.test(literal)) {
      sh.actions.push({ ...hostAction(sends ? 'send' : 'fetch', literal, chain, 0, sh.env), method: sends ? 'POST' : 'GET' });
      continue;
    }
    // perl's and ruby's open run a command for `"| cmd"` and `"cmd |"`, and take a mode before a path (`"<$file"`).
    const pipeOpen = PIPE_OPEN.has(inv.program) ? /^\s*\|\s*(.+)$|^(.+?)\s*\|\s*$/s.exec(literal) : null;
    if (pipeOpen) {
      runScriptWord(sh, inv, sh.wordFromText(pipeOpen[1] ?? pipeOpen[2]!));
      continue;
    }
    const opened = PIPE_OPEN.has(inv.program) ? literal.replace(/^\s*(?:\+?[<>]{1,2}|<&=?|>&=?)\s*/, '') : literal;
    if (/\s/.test(opened) || opened.length === 0 || opened.length > 4096) continue;
    const path = pathLiteral(opened, home, sh);
    if (path === undefined) continue;
    // Without a file extension the literal may name a directory (`'.aws'` in `Path.home() / '.aws'`).
    fileAction(sh, inv, 'read', sh.wordFromText(path), !/\/[^/.][^/]*\.[A-Za-z0-9]+$/.test(path) && !literal.includes('*'));
    if (writes) fileAction(sh, inv, 'write', sh.wordFromText(path));
  }
  if (inv.program === 'awk' || inv.program === 'gawk') awkRedirects(sh, inv, code);
  if (DYNAMIC_CODE.test(code)) sh.opaque(`${inv.program} builds code or names at run time (${code.match(DYNAMIC_CODE)![0]})`, inv.chain);
}

/**
 * `subprocess.run(['rm', '-rf', path])`, `spawnSync('cat', ['/etc/x'])`: the literals up to the call's end are
 * one command's words. Returns where the call ends; a word that is no literal makes the command opaque.
 */
function runArgvLiterals(sh: ShellAnalyser, inv: Invocation, code: string, literals: RegExpExecArray[]): number {
  const words: string[] = [];
  let end = literals[0]!.index!;
  for (const match of literals) {
    const gap = code.slice(end, match.index);
    const close = gap.search(/[)\]]\s*\)/);
    if (words.length > 0 && (close >= 0 || /[^\s,[\]]/.test(gap.slice(0, close < 0 ? undefined : close)))) break;
    words.push(unquote(match[1]!));
    end = match.index! + match[0].length;
  }
  const rest = code.slice(end);
  const tail = rest.slice(0, rest.search(/\)|$/));
  if (/[^\s,[\]]/.test(tail.replace(/\][\s\S]*/, ''))) sh.opaque(`${inv.program} runs ${words[0]} with arguments computed at run time`, inv.chain);
  runScriptWord(sh, inv, sh.wordFromText(words.map((word) => `'${word.replace(/'/g, `'\\''`)}'`).join(' ')));
  return end;
}

function joinConcatenations(code: string): string {
  let joined = code;
  for (let previous = ''; previous !== joined; ) {
    previous = joined;
    joined = joined.replace(CONCATENATION, (_, left: string, right: string) => JSON.stringify(unquote(left) + unquote(right)));
  }
  return joined;
}

/** A literal that names a file: absolute, home-relative, or a dotfile name next to a home lookup. */
function pathLiteral(literal: string, mentionsHome: boolean, sh: ShellAnalyser): string | undefined {
  // `HOME + '/.npmrc'`, "$ENV{HOME}/.ssh/id_rsa", f"{home}/.aws/credentials": a dot path joined to the home directory.
  const homeSuffix = mentionsHome ? /^(?:[$#]?\w*\{[^}]*\}|\$\w+)?(\/\.[\w.-]+(?:\/[\w.*-]+)*)$/.exec(literal) : null;
  if (homeSuffix) return sh.env.home + homeSuffix[1];
  if (literal.startsWith('/') || literal.startsWith('~/') || literal === '~') return literal;
  if (literal.startsWith('./') || literal.startsWith('../')) return literal;
  if (literal.startsWith('.') && /^\.[\w.-]+(\/[\w.*-]+)*$/.test(literal)) return mentionsHome ? `${sh.env.home}/${literal}` : literal;
  if (/^[\w.-]+\/[\w./*-]+$/.test(literal)) return literal;
  return undefined;
}

function awkRedirects(sh: ShellAnalyser, inv: Invocation, code: string): void {
  for (const match of code.matchAll(/(?:print|printf)[^;}]*?>>?\s*"([^"]+)"/g)) fileAction(sh, inv, 'write', sh.wordFromText(match[1]!));
  for (const match of code.matchAll(/getline\s*<\s*"([^"]+)"/g)) fileAction(sh, inv, 'read', sh.wordFromText(match[1]!));
}

function unquote(literal: string): string {
  const body = literal.startsWith('"""') || literal.startsWith("'''") ? literal.slice(3, -3) : literal.slice(1, -1);
  return body.replace(/\\(.)/g, (_, char: string) => ({ n: '\n', t: '\t' })[char] ?? char);
}
