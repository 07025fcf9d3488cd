import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { openEvent } from '../../core/event.js';
import { parseEnvelope } from '../../core/dsse.js';
import { verifyJournal } from '../../daemon/journal.js';
import { verifyBundleLines } from '../../ledger/bundle.js';
import { parseVerifierKey } from '../../ledger/note.js';
import { loadPublicKey } from '../../daemon/keys.js';
import { resolveWritHome } from '../../home/writ-home.js';
import { UsageError, type Command } from '../command.js';
import { integerOption } from '../options.js';

export const logCommand: Command = {
  usage: 'log [--json] [--limit N] [--session ID] [--home DIR]',
  summary: 'list recorded events, newest last',
  options: { json: { type: 'boolean' }, limit: { type: 'string' }, session: { type: 'string' }, home: { type: 'string' } },
  async run({ values }) {
    const home = resolveWritHome(values.home as string | undefined);
    if (!existsSync(home.journal)) throw new UsageError(`no journal at ${home.journal}; start the daemon with: writ daemon`);
    const limit = integerOption(values.limit, '--limit', 1, 10_000_000) ?? 100;
    // Read-only and without the device key: the log can be read while the daemon runs.
    const db = new Database(home.journal, { readonly: true, fileMustExist: true });
    try {
      const session = (values.session as string | undefined) ?? null;
      const rows = db
        .prepare('SELECT seq, envelope FROM (SELECT seq, envelope FROM events WHERE (@session IS NULL OR session_id = @session) ORDER BY seq DESC LIMIT @limit) ORDER BY seq')
        .all({ session, limit }) as { seq: number; envelope: string }[];
      for (const row of rows) {
        const body = openEvent(parseEnvelope(row.envelope));
        if (values.json) process.stdout.write(JSON.stringify(body) + '\n');
        else process.stdout.write(formatEvent(body) + '\n');
      }
    } finally {
      db.close();
    }
    return 0;
  },
};

function formatEvent(body: ReturnType<typeof openEvent>): string {
  const data = body.data as Record<string, unknown>;
  const decision = data.decision as { decision?: string; rules?: string[] } | undefined;
  const input = data.tool_input as Record<string, unknown> | undefined;
  const detail = typeof input?.command === 'string' ? input.command : typeof input?.file_path === 'string' ? input.file_path : typeof data.prompt === 'string' ? data.prompt : '';
  const parts = [
    String(body.seq).padStart(6),
    body.time,
    body.kind.padEnd(24),
    decision ? `${decision.decision}${decision.rules?.length ? ` [${decision.rules.join(',')}]` : ''}`.padEnd(12) : ''.padEnd(12),
    typeof data.tool === 'string' ? data.tool : '',
    detail.replace(/\s+/g, ' ').slice(0, 100),
  ];
  return parts.join('  ').trimEnd();
}

export const verifyCommand: Command = {
  usage: 'verify [FILE [--org-key KEY|@FILE] [--json]] [--home DIR]',
  summary: "check an evidence bundle offline (with FILE), or the local journal's signatures, hash chain and signed checkpoints",
  options: { home: { type: 'string' }, 'org-key': { type: 'string' }, json: { type: 'boolean' } },
  async run({ values, positionals }) {
    if (positionals.length > 1) throw new UsageError(`verify takes one bundle file, not ${positionals.length}`);
    if (positionals.length === 1) {
      if (values.home !== undefined) throw new UsageError('--home applies to the local journal; a bundle file needs nothing but its org key');
      return verifyBundleFile(positionals[0], readOrgKey(values['org-key']), values.json === true);
    }
    if (values['org-key'] !== undefined || values.json !== undefined) throw new UsageError('--org-key and --json apply to a bundle file: writ verify FILE --org-key KEY');
    const home = resolveWritHome(values.home as string | undefined);
    if (!existsSync(home.journal)) throw new UsageError(`no journal at ${home.journal}`);
    const verdict = verifyJournal(home.journal, loadPublicKey(home.root));
    if (verdict.ok) {
      process.stdout.write(`journal OK: ${verdict.events} events, signatures and chain verified${verdict.checkpoint ? `, last signed checkpoint at event ${verdict.checkpoint.seq}` : ''}\n`);
      return 0;
    }
    process.stdout.write(`journal FAILED at event ${verdict.seq}: ${verdict.problem}\n`);
    return 1;
  },
};

// `--org-key` is the note verifier key itself, or @path of a file holding it (as `writ server` prints it).
function readOrgKey(value: string | boolean | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') throw new UsageError('--org-key needs a verifier key or @FILE');
  let key = value;
  if (value.startsWith('@')) {
    try {
      key = readFileSync(value.slice(1), 'utf8').trim();
    } catch (error) {
      throw new UsageError(`--org-key: cannot read ${value.slice(1)}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  }
  try {
    parseVerifierKey(key);
  } catch (error) {
    throw new UsageError(`--org-key: ${(error as Error).message}`);
  }
  return key;
}

async function verifyBundleFile(path: string, orgKey: string | undefined, json: boolean): Promise<number> {
  if (!existsSync(path)) throw new UsageError(`no such file: ${path}`);
  // Signatures are checked on libuv's thread pool: give it a thread per core unless the user chose a size.
  process.env.UV_THREADPOOL_SIZE ??= String(Math.max(4, availableParallelism()));
  const input = createReadStream(path, { encoding: 'utf8' });
  const verdict = await verifyBundleLines(createInterface({ input, crlfDelay: Infinity }), { orgKey });
  if (json) {
    process.stdout.write(`${JSON.stringify(verdict)}\n`);
    return verdict.ok ? 0 : 1;
  }
  const summary = `${verdict.events} event${verdict.events === 1 ? '' : 's'} from ${verdict.devices} device${verdict.devices === 1 ? '' : 's'}, log size ${verdict.size}, root ${verdict.root || 'unverified'}`;
  const filter = Object.entries(verdict.filter ?? {}).map(([name, value]) => `${name}=${value}`).join(' ');
  const scope = verdict.complete
    ? `complete: every entry of the log \`${verdict.origin}\` up to size ${verdict.size}`
    : `filtered${filter ? ` (${filter})` : ''}: each event is proven to be in the log \`${verdict.origin}\`; events the bundle leaves out cannot be seen here`;
  const lines = verdict.ok
    ? [`ok: ${summary}`, `  ${scope}`]
    : [`FAILED: ${verdict.problemCount === 1 ? '1 problem' : `${verdict.problemCount} problems`}; ${summary}`, ...verdict.problems.map((problem) => `  ${problem}`)];
  process.stdout.write(`${lines.join('\n')}\n`);
  for (const warning of verdict.warnings) process.stderr.write(`writ verify: warning: ${warning}\n`);
  return verdict.ok ? 0 : 1;
}
