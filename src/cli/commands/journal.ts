import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { openEvent } from '../../core/event.js';
import { parseEnvelope } from '../../core/dsse.js';
import { verifyJournal } from '../../daemon/journal.js';
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
  usage: 'verify [--home DIR]',
  summary: "check the local journal's signatures, hash chain and signed checkpoints",
  options: { home: { type: 'string' } },
  async run({ values, positionals }) {
    if (positionals.length > 0) throw new UsageError('verifying an evidence bundle file is not supported yet; run writ verify without arguments to check the local journal');
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
