// Whether a SQL text reads or changes a database, for rules on MCP tools that take SQL. It is a classifier,
// not a parser: it reads the words outside strings and comments, and says `unknown` when it cannot tell.
//
// The text is attacker-chosen (the agent writes it), and dialects disagree on where a string or comment
// ends (`'a\'` is a whole string in PostgreSQL, an open one in MySQL; MySQL runs `/*! … */` as code).
// So it is read twice, the ANSI way and the MySQL way, and the more dangerous answer wins.

export type SqlVerdict = 'read' | 'write' | 'unknown';

export interface SqlClassification {
  verdict: SqlVerdict;
  /** The first keyword of each statement, lowercased (`select`, `delete`, …). */
  statements: string[];
  /** The first statement starts with a SQL keyword: the text is SQL at all. */
  recognised: boolean;
}

interface Token {
  text: string;
  /** A quoted identifier: never a keyword, but still a function name. */
  quoted: boolean;
}

type Dialect = 'ansi' | 'mysql';

// INVARIANT: a statement whose first keyword is in none of these lists is `unknown`, never `read`.
const READ_FIRST = new Set(['select', 'with', 'values', 'table', 'show', 'describe', 'desc', 'use', 'fetch', 'move', 'close', 'declare', 'listen', 'unlisten', 'list', 'ls', 'help', 'explain']);
const TRANSACTION = new Set(['begin', 'start', 'commit', 'rollback', 'savepoint', 'release', 'end', 'abort']);
const TRANSACTION_WORDS = new Set(['transaction', 'work', 'tran', 'isolation', 'read', 'deferred', 'immediate', 'exclusive', 'deferrable', 'not', 'distributed']);
const WRITE_FIRST = new Set([
  'insert', 'update', 'delete', 'merge', 'upsert', 'replace', 'create', 'alter', 'drop', 'truncate', 'grant', 'revoke', 'copy', 'rename', 'comment',
  'vacuum', 'analyze', 'analyse', 'reindex', 'cluster', 'refresh', 'lock', 'unlock', 'load', 'unload', 'import', 'export', 'attach', 'detach', 'notify',
  'reassign', 'security', 'discard', 'optimize', 'repair', 'flush', 'kill', 'shutdown', 'install', 'uninstall', 'put', 'get', 'remove', 'purge',
  'checkpoint', 'backup', 'restore', 'dbcc', 'bulk', 'undrop', 'set', 'reset', 'system', 'handler', 'checksum', 'cache', 'uncache', 'msck', 'sync',
]);
/** Statements that run code Writ cannot see: a procedure, a prepared statement, an anonymous block. */
const RUNS_CODE = new Set(['call', 'exec', 'execute', 'do']);
/** Keywords that make any statement a write wherever they stand (`WITH d AS (DELETE …) SELECT …`). */
const WRITE_WORDS = new Set(['insert', 'delete', 'merge', 'upsert', 'truncate', 'drop', 'grant', 'revoke', 'create', 'alter']);
/** Functions that change state, send data or run a string as SQL, called from an otherwise reading statement. */
const WRITE_FUNCTIONS = new Set([
  'setval', 'nextval', 'set_config', 'pg_terminate_backend', 'pg_cancel_backend', 'pg_reload_conf', 'pg_rotate_logfile', 'pg_switch_wal',
  'pg_promote', 'pg_create_restore_point', 'pg_stat_reset', 'pg_notify', 'pg_logical_emit_message', 'pg_create_logical_replication_slot',
  'pg_create_physical_replication_slot', 'pg_drop_replication_slot', 'pg_advisory_lock', 'pg_file_write', 'pg_file_unlink', 'pg_file_rename',
  'lo_import', 'lo_export', 'lo_unlink', 'lo_create', 'lo_from_bytea', 'lo_put', 'dblink', 'dblink_exec', 'dblink_send_query', 'query_to_xml',
  'query_to_xml_and_xmlschema', 'cursor_to_xml', 'http_post', 'http_put', 'http_delete', 'http_patch', 'http_get', 'http', 'sys_exec', 'sys_eval',
  'xp_cmdshell', 'sp_executesql', 'openrowset', 'opendatasource', 'load_extension', 'writefile',
]);
const READ_PRAGMAS = new Set(['table_info', 'table_xinfo', 'table_list', 'index_list', 'index_info', 'index_xinfo', 'foreign_key_list', 'database_list', 'compile_options', 'integrity_check', 'quick_check', 'function_list', 'pragma_list', 'collation_list', 'module_list']);
const RANK: Record<SqlVerdict, number> = { read: 0, unknown: 1, write: 2 };
/** Longer texts are `unknown` unread: classifying costs about a millisecond a kilobyte, on the hook's clock. */
const MAX_SQL_LENGTH = 16_384;

/** Classifies a SQL text: `write` when any statement may change state, `unknown` when some statement is not understood. */
export function classifySql(text: string): SqlClassification {
  if (text.length > MAX_SQL_LENGTH) return { verdict: 'unknown', statements: [], recognised: true };
  const readings = (['ansi', 'mysql'] as const).map((dialect) => classifyAs(text, dialect));
  const worst = readings.reduce((top, reading) => (RANK[reading.verdict] > RANK[top.verdict] ? reading : top));
  const recognised = readings.some((reading) => reading.recognised);
  // Two readings that split the text differently mean one of them misreads a quote or comment.
  const disagree = readings[0]!.statements.join(';') !== readings[1]!.statements.join(';');
  const verdict = disagree && worst.verdict === 'read' ? 'unknown' : worst.verdict;
  return { verdict, statements: [...new Set(readings.flatMap((reading) => reading.statements))], recognised };
}

function classifyAs(text: string, dialect: Dialect): SqlClassification {
  const { statements, obscured } = tokenize(text, dialect);
  const verdicts = statements.map(classifyStatement);
  let verdict: SqlVerdict = verdicts.reduce<SqlVerdict>((top, next) => (RANK[next] > RANK[top] ? next : top), 'read');
  if (obscured && verdict === 'read') verdict = 'unknown';
  if (statements.length === 0) verdict = 'unknown';
  const first = statements[0]?.find((token) => token.text !== '(');
  const recognised = first !== undefined && !first.quoted && isKeyword(first.text);
  return { verdict, statements: statements.map((tokens) => firstWord(tokens) ?? '?'), recognised };
}

function isKeyword(word: string): boolean {
  return READ_FIRST.has(word) || TRANSACTION.has(word) || WRITE_FIRST.has(word) || RUNS_CODE.has(word) || word === 'prepare' || word === 'pragma';
}

function firstWord(tokens: Token[]): string | undefined {
  const first = tokens.find((token) => token.text !== '(');
  return first && !first.quoted ? first.text : undefined;
}

function classifyStatement(tokens: Token[]): SqlVerdict {
  const start = tokens.findIndex((token) => token.text !== '(');
  const first = firstWord(tokens);
  if (first === undefined) return 'unknown';
  const rest = tokens.slice(start + 1);
  if (hasWriteWord(tokens) || callsWriteFunction(tokens)) return 'write';
  if (WRITE_FIRST.has(first)) return 'write';
  if (RUNS_CODE.has(first)) return 'unknown';
  if (first === 'explain') {
    // EXPLAIN ANALYZE runs the statement it explains.
    if (!rest.some((token) => !token.quoted && (token.text === 'analyze' || token.text === 'analyse'))) return 'read';
    const inner = rest.findIndex((token) => !token.quoted && token.text !== 'analyze' && token.text !== 'analyse' && isKeyword(token.text) && token.text !== 'explain');
    return inner < 0 ? 'unknown' : classifyStatement(rest.slice(inner));
  }
  if (first === 'prepare') {
    // PostgreSQL: PREPARE name AS statement. MySQL's PREPARE name FROM 'text' hides the statement in a string.
    const as = rest.findIndex((token) => !token.quoted && token.text === 'as');
    return as < 0 ? 'unknown' : classifyStatement(rest.slice(as + 1));
  }
  if (first === 'pragma') {
    const name = rest.find((token) => token.text !== '(');
    const assigns = rest.some((token) => token.text === '=');
    return !assigns && name !== undefined && (rest.length === 1 || READ_PRAGMAS.has(name.text)) ? 'read' : 'write';
  }
  if (TRANSACTION.has(first)) {
    // BEGIN TRANSACTION is a transaction; BEGIN DELETE … is a block that deletes.
    const next = rest[0];
    if (first !== 'begin' && first !== 'start') return 'read';
    return next === undefined || TRANSACTION_WORDS.has(next.text) ? 'read' : classifyStatement(rest);
  }
  if (READ_FIRST.has(first)) {
    // SELECT … INTO makes a table (PostgreSQL, SQL Server) or writes a file (MySQL INTO OUTFILE).
    if ((first === 'select' || first === 'with') && rest.some((token) => !token.quoted && token.text === 'into')) return 'write';
    if (rest.some((token) => !token.quoted && token.text === 'update' && !isLockingUpdate(rest, token))) return 'write';
    return 'read';
  }
  return 'unknown';
}

function hasWriteWord(tokens: Token[]): boolean {
  return tokens.some((token) => !token.quoted && WRITE_WORDS.has(token.text));
}

/** `FOR UPDATE`, `FOR NO KEY UPDATE`, `ON UPDATE`: a lock or a trigger clause, not a write. */
function isLockingUpdate(tokens: Token[], update: Token): boolean {
  const before = tokens[tokens.indexOf(update) - 1]?.text;
  return before === 'for' || before === 'key' || before === 'on';
}

function callsWriteFunction(tokens: Token[]): boolean {
  return tokens.some((token, index) => WRITE_FUNCTIONS.has(token.text) && tokens[index + 1]?.text === '(');
}

/**
 * Words, quoted identifiers, `(`, `=`, split into statements at `;`. Strings and comments are dropped.
 * `obscured`: something Writ cannot read reliably (an unterminated string or comment, a Unicode escape).
 */
function tokenize(text: string, dialect: Dialect): { statements: Token[][]; obscured: boolean } {
  const statements: Token[][] = [];
  let current: Token[] = [];
  let obscured = false;
  let executableComments = 0;
  const push = (token: Token) => current.push(token);
  let i = 0;
  while (i < text.length) {
    const char = text[i]!;
    const next = text[i + 1];
    if (char === ' ' || char === '\n' || char === '\t' || char === ',') {
      i++;
    } else if (char === ';') {
      if (current.length > 0) statements.push(current);
      current = [];
      i++;
    } else if ((char === '-' && next === '-' && (dialect === 'ansi' || /[\s]|^$/.test(text[i + 2] ?? ''))) || (char === '#' && dialect === 'mysql')) {
      // PostgreSQL and MySQL end a line comment at \r as well as \n.
      const end = matchAt(LINE_END, text, i);
      i = end ? end.index + 1 : text.length;
    } else if (char === '/' && next === '*') {
      if (dialect === 'mysql' && text[i + 2] === '!') {
        // MySQL runs the inside of /*! … */ (and /*!50000 … */) as code.
        i += 3;
        while (/\d/.test(text[i] ?? '')) i++;
        executableComments++;
        continue;
      }
      const end = skipBlockComment(text, i, dialect === 'ansi');
      if (end < 0) obscured = true;
      i = end < 0 ? text.length : end;
    } else if (char === '*' && next === '/' && executableComments > 0) {
      executableComments--;
      i += 2;
    } else if (char === "'") {
      const end = skipQuoted(text, i, "'", dialect === 'mysql' || /e$/i.test(text.slice(Math.max(0, i - 1), i)));
      if (end < 0) obscured = true;
      i = end < 0 ? text.length : end;
    } else if (char === '"' || char === '`') {
      const end = skipQuoted(text, i, char, dialect === 'mysql');
      if (end < 0) obscured = true;
      else push({ text: text.slice(i + 1, end - 1).toLowerCase(), quoted: true });
      if (/u&$/i.test(text.slice(Math.max(0, i - 2), i))) obscured = true;
      i = end < 0 ? text.length : end;
    } else if (char === '$' && dialect === 'ansi' && !/[\p{L}\p{N}_]/u.test(text[i - 1] ?? '')) {
      const tag = matchAt(DOLLAR_TAG, text, i);
      if (!tag) {
        i++;
        continue;
      }
      const end = text.indexOf(tag[0], i + tag[0].length);
      if (end < 0) obscured = true;
      i = end < 0 ? text.length : end + tag[0].length;
    } else if (/[\p{L}_]/u.test(char)) {
      const word = matchAt(WORD, text, i)![0];
      push({ text: word.toLowerCase(), quoted: false });
      i += word.length;
    } else {
      if (char === '(' || char === '=') push({ text: char, quoted: false });
      i++;
    }
  }
  if (current.length > 0) statements.push(current);
  if (executableComments > 0) obscured = true;
  return { statements, obscured };
}

// Sticky (or global) expressions matched at a position, so a long text is never copied once per token.
const LINE_END = /[\r\n]/g;
const DOLLAR_TAG = /\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/y;
const WORD = /[\p{L}\p{N}_$]+/uy;

function matchAt(expression: RegExp, text: string, index: number): RegExpExecArray | null {
  expression.lastIndex = index;
  return expression.exec(text);
}

/** The index after the comment that starts at `start`, or -1 when it never ends. PostgreSQL nests them. */
function skipBlockComment(text: string, start: number, nested: boolean): number {
  let depth = 0;
  for (let i = start; i < text.length - 1; i++) {
    if (text[i] === '/' && text[i + 1] === '*' && (nested || depth === 0)) {
      depth++;
      i++;
    } else if (text[i] === '*' && text[i + 1] === '/') {
      depth--;
      i++;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

/** The index after the quoted run that starts at `start` (doubled quotes escape; backslashes too when asked), or -1. */
function skipQuoted(text: string, start: number, quote: string, backslash: boolean): number {
  for (let i = start + 1; i < text.length; i++) {
    if (backslash && text[i] === '\\') i++;
    else if (text[i] === quote) {
      if (text[i + 1] === quote) i++;
      else return i + 1;
    }
  }
  return -1;
}
