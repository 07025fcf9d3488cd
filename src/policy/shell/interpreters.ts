// One-liners of python, node, perl, ruby, php, awk: not parsed as programs, but their string literals
// name the files they open, the hosts they talk to and the shell commands they run.
import { hostAction } from './network.js';
import type { Invocation, ShellAnalyser } from './analyse.js';
import { fileAction, runScriptWord } from './commands.js';

const STRING_LITERAL = /(?:[rbuf]{0,2})("""[\s\S]*?"""|'''[\s\S]*?'''|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`(?:[^`\\]|\\.)*`)/g;
const RUNS_SHELL = /\b(?:os\.system|os\.popen|subprocess\.\w+|commands\.getoutput|system|exec|execSync|spawnSync|spawn|execFileSync|popen|Popen|check_output|check_call|shell_exec|passthru|proc_open|IO\.popen|Open3\.\w+)\s*\(\s*(?:\[\s*)?$/;
const SENDS = /\b(post|put|patch|request|urlopen|send|sendall|connect|socket|fetch|http\.request|https\.request|Net::HTTP|LWP|curl_exec|fsockopen|ftplib|smtplib|paramiko)\b/i;
/** A call whose next string literal is a host to connect to: `s.connect(('evil.com', 80))`, `fsockopen("evil.com", 80)`. */
const CONNECTS_TO = /\b(?:connect|create_connection|fsockopen|getaddrinfo|createConnection|TCPSocket\.(?:new|open)|Socket)\s*\(\s*\(?\s*$/;
const WRITES = /\bopen\s*\([^)]*,\s*['"][wax+]|\bwrite(File|FileSync|_text|_bytes)?\b|\bappendFile|\bfile_put_contents|\bFile\.write|\bcopyfile|\bcopy2?\b|\bmove\b|\brename\b|\bunlink|\bremove\b|\brmtree|\bsymlink/;
const DYNAMIC_CODE = /\b(eval|exec|compile|Function|b64decode|atob|fromCharCode|__import__|importlib|chr\s*\(|decode\s*\(\s*['"](base64|hex|rot13)|pack\s*\(|unhexlify|codecs\.decode)\b/;
const BACKTICK_SHELL = new Set(['perl', 'ruby', 'php']);
const MENTIONS_HOME = /expanduser|homedir|\bHOME\b|\$ENV\{HOME\}|getenv\(\s*['"]HOME|Path\.home|os\.homedir|Dir\.home|~/;

export function analyseInterpreterCode(sh: ShellAnalyser, inv: Invocation, code: string): void {
  const chain = inv.chain.join(' → ');
  const sends = SENDS.test(code);
  const writes = WRITES.test(code);
  const home = MENTIONS_HOME.test(code);
  for (const match of code.matchAll(STRING_LITERAL)) {
    const literal = unquote(match[1]!);
    const before = code.slice(0, match.index);
    // Backticks in perl, ruby and php run a shell command, as they do in sh.
    if (RUNS_SHELL.test(before) || (match[1]!.startsWith('`') && BACKTICK_SHELL.has(inv.program))) {
      runScriptWord(sh, inv, sh.wordFromText(literal));
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
    if (/\s/.test(literal) || literal.length === 0 || literal.length > 4096) continue;
    const path = pathLiteral(literal, home, sh);
    if (path === undefined) continue;
    // Without a file extension the literal may name a directory (`'.aws'` in `Path.home() / '.aws'`).
    fileAction(sh, inv, 'read', sh.wordFromText(path), !/\/[^/.][^/]*\.[A-Za-z0-9]+$/.test(path) && !literal.includes('*'));
    if (writes) fileAction(sh, inv, 'write', sh.wordFromText(path));
  }
  if (inv.program === 'awk' || inv.program === 'gawk') awkRedirects(sh, inv, code);
  if (DYNAMIC_CODE.test(code)) sh.opaque(`${inv.program} builds code or names at run time (${code.match(DYNAMIC_CODE)![0]})`, inv.chain);
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
