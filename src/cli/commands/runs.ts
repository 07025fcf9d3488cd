// `writ runs`: the record of each agent session, built from the signed journal (or the org log with --server),
// checked with --verify, and a reviewer's decision on it.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { canonicalBytes } from '../../core/canonical-json.js';
import { keyIdFor, parseEnvelope, type Envelope } from '../../core/dsse.js';
import { openEvent, verifyEvent } from '../../core/event.js';
import { readEnrollment } from '../../daemon/enrollment.js';
import { RUN_REVIEW_PATH } from '../../daemon/daemon.js';
import { verifyJournal } from '../../daemon/journal.js';
import { loadPublicKey } from '../../daemon/keys.js';
import { LAST_SEQUENCED_KEY } from '../../daemon/uploader.js';
import { resolveWritHome, type WritHome } from '../../home/writ-home.js';
import { openLogCheckpoint } from '../../ledger/log-checkpoint.js';
import { leafHash, verifyInclusion } from '../../ledger/merkle.js';
import { parseVerifierKey } from '../../ledger/note.js';
import { buildRunRecord, renderMarkdown, runRecordLinks, SELF_TEST_SESSION, type RunRecord } from '../../runs/index.js';
import { addOrgReviews, openRunReview, REVIEW_DECISIONS, reviewInputProblem } from '../../runs/review.js';
import { verifyBundleLines } from '../../ledger/bundle.js';
import { sha256Hex } from '../../core/digest.js';
import { adminClient, adminClientOptions, type AdminClient } from '../admin-client.js';
import { UsageError, type Command } from '../command.js';
import { oneOf } from '../options.js';
import { parseSince } from './policy-rollout.js';

interface SessionRow {
  session_id: string;
  events: number;
  calls: number;
  denied: number;
  first_time: string;
  last_time: string;
  ended: number;
  stopped: number;
}

interface JournalEventRow {
  seq: number;
  hash: string;
  envelope: string;
}

export const runsCommand: Command = {
  usage:
    'runs list [--since 7d] [--json] | runs show SESSION [--format md|json] [--verify [--org-key KEY]] | runs review SESSION --decision accept|reject|needs-changes [--comment TEXT] [--server URL] [--token T] [--home DIR]',
  summary: "what each agent session did, from the signed events behind it (--server: from the org log); record a reviewer's decision",
  options: { ...adminClientOptions, 'org-key': { type: 'string' }, since: { type: 'string' }, json: { type: 'boolean' }, format: { type: 'string' }, verify: { type: 'boolean' }, decision: { type: 'string' }, comment: { type: 'string' } },
  async run({ values, positionals }) {
    const [verb, session, ...extra] = positionals;
    if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
    const remote = values.server !== undefined;
    if (!remote && values.token !== undefined) throw new UsageError('--token goes with --server');
    if (verb === 'list') {
      if (session !== undefined) throw new UsageError('list takes no SESSION');
      refuse(values, ['format', 'verify', 'decision', 'comment', 'org-key'], 'list');
      if (remote) throw new UsageError('runs list reads the local journal; on the server, list sessions with the fleet view');
      return listRuns(resolveWritHome(values.home as string | undefined), parseSince(values.since, new Date()), values.json === true);
    }
    if (session === undefined || session === '') throw new UsageError(`${verb ?? 'runs'} needs a SESSION id`);
    if (verb === 'show') {
      refuse(values, ['since', 'json', 'decision', 'comment'], 'show');
      const format = oneOf(values.format, '--format', ['md', 'json'] as const, 'md');
      if (remote) {
        const client = adminClient(values);
        const answer = await client.json<{ record: RunRecord; reviews: Envelope[] }>('GET', `/v1/runs/${encodeURIComponent(session)}`);
        if (values.verify) return showVerifiedFromServer(client, resolveWritHome(values.home as string | undefined), values['org-key'], session, format, answer.reviews);
        process.stdout.write(format === 'json' ? `${JSON.stringify(answer.record, null, 2)}\n` : renderMarkdown(answer.record));
        return 0;
      }
      if (values['org-key'] !== undefined) throw new UsageError('--org-key goes with --server --verify');
      return showRun(resolveWritHome(values.home as string | undefined), session, format, values.verify === true);
    }
    if (verb === 'review') {
      refuse(values, ['since', 'json', 'format', 'verify', 'org-key'], 'review');
      const decision = oneOf(values.decision, '--decision', REVIEW_DECISIONS);
      const comment = typeof values.comment === 'string' ? values.comment : '';
      const problem = reviewInputProblem(decision, comment);
      if (problem) throw new UsageError(problem);
      if (remote) {
        const answer = await adminClient(values).json<{ review: { reviewer: { subject: string } } }>('POST', `/v1/runs/${encodeURIComponent(session)}/review`, { decision, comment });
        process.stdout.write(`${decision}: run ${session}, signed by the org as reviewed by ${answer.review.reviewer.subject}\n`);
        return 0;
      }
      return reviewLocally(resolveWritHome(values.home as string | undefined), session, decision, comment);
    }
    throw new UsageError(verb === undefined ? 'say what to do: list, show SESSION or review SESSION' : `unknown runs verb "${verb}"`);
  },
};

function refuse(values: Record<string, unknown>, names: string[], verb: string): void {
  const given = names.filter((name) => values[name] !== undefined);
  if (given.length > 0) throw new UsageError(`${given.map((name) => `--${name}`).join(', ')} ${given.length === 1 ? 'does' : 'do'} not go with ${verb}`);
}

// Read-only and without the device key, as `writ log`: runs can be read while the daemon writes.
function openJournal(home: WritHome): Database.Database {
  if (!existsSync(home.journal)) throw new UsageError(`no journal at ${home.journal}; start the daemon with: writ daemon`);
  return new Database(home.journal, { readonly: true, fileMustExist: true });
}

function listRuns(home: WritHome, since: Date | undefined, json: boolean): number {
  const db = openJournal(home);
  let rows: SessionRow[];
  try {
    rows = db
      .prepare(
        `SELECT session_id, count(*) AS events, sum(kind = 'hook.PreToolUse') AS calls, sum(kind = 'hook.PreToolUse' AND decision = 'deny') AS denied,
                min(time) AS first_time, max(time) AS last_time, sum(kind = 'hook.SessionEnd') AS ended, sum(kind = 'hook.Stop') AS stopped
         FROM events WHERE session_id IS NOT NULL AND session_id <> @selfTest GROUP BY session_id HAVING max(time) >= @since ORDER BY min(seq)`,
      )
      .all({ selfTest: SELF_TEST_SESSION, since: since?.toISOString() ?? '' }) as SessionRow[];
  } finally {
    db.close();
  }
  const runs = rows.map((row) => ({
    session_id: row.session_id,
    status: row.ended > 0 ? 'ended' : row.stopped > 0 ? 'turn-ended' : 'open or interrupted',
    started_at: row.first_time,
    last_event_at: row.last_time,
    events: row.events,
    tool_calls: row.calls,
    denied: row.denied,
  }));
  if (json) process.stdout.write(`${JSON.stringify(runs, null, 2)}\n`);
  else if (runs.length === 0) process.stderr.write(`no runs${since ? ` since ${since.toISOString()}` : ''}\n`);
  else for (const run of runs) process.stdout.write(`${run.session_id}  ${run.started_at}  ${run.status.padEnd(18)}  ${run.tool_calls} calls, ${run.denied} denied, ${run.events} events\n`);
  return 0;
}

async function showRun(home: WritHome, session: string, format: 'md' | 'json', verify: boolean): Promise<number> {
  const db = openJournal(home);
  let rows: JournalEventRow[];
  try {
    rows = session === SELF_TEST_SESSION ? [] : (db.prepare('SELECT seq, hash, envelope FROM events WHERE session_id = ? ORDER BY seq').all(session) as JournalEventRow[]);
  } finally {
    db.close();
  }
  if (rows.length === 0) throw new UsageError(`no run ${session} in ${home.journal}; see writ runs list`);
  const publicKey = verify ? loadPublicKey(home.root) : undefined;
  const keys = publicKey && new Map([[keyIdFor(publicKey), publicKey]]);
  const problems: string[] = [];
  const events = rows.map((row) => {
    const envelope = parseEnvelope(row.envelope);
    if (!keys) return { body: openEvent(envelope), hash: row.hash, envelope };
    const verdict = verifyEvent(envelope, keys);
    if (!verdict.ok) {
      problems.push(`event ${row.seq}: ${verdict.problem}`);
      return undefined;
    }
    if (verdict.hash !== row.hash) problems.push(`event ${row.seq}: stored hash ${row.hash} is not the hash of its signed body ${verdict.hash}`);
    return { body: verdict.body, hash: verdict.hash, envelope };
  }).filter((event) => event !== undefined);
  const record = buildRunRecord(events, session);
  process.stdout.write(format === 'json' ? `${JSON.stringify(record, null, 2)}\n` : renderMarkdown(record));
  if (!verify) return 0;

  const chain = verifyJournal(home.journal, publicKey!);
  if (!chain.ok) problems.push(`journal chain broken at event ${chain.seq}: ${chain.problem}`);
  const bySeq = new Map(events.map((event) => [event.body.seq, event]));
  // Reviews signed by the org (device 'org') are not journal events; the rest must each be one.
  const linked = runRecordLinks(record).filter((ref) => ref.device !== 'org');
  for (const ref of linked) if (bySeq.get(ref.seq)?.hash !== ref.hash) problems.push(`the record links event ${ref.seq} with hash ${ref.hash}, which the journal does not hold`);
  const lines = [`verify: ${events.length} events of run ${session}, ${linked.length} links: signatures ${problems.length === 0 ? 'OK' : 'FAILED'}, journal chain ${chain.ok ? `OK (${chain.events} events)` : 'FAILED'}`];
  const inclusion = await orgLogInclusion(home, Math.max(...events.map((event) => event.body.seq)));
  if (inclusion.problem) problems.push(inclusion.problem);
  lines.push(`verify: ${inclusion.said}`, ...problems.map((problem) => `verify: FAILED: ${problem}`));
  process.stderr.write(`${lines.join('\n')}\n`);
  return problems.length === 0 ? 0 : 1;
}

/**
 * For an enrolled device: fetches the org log's checkpoint and an inclusion proof of the newest event the server
 * sequenced, and checks both. The hash chain then carries the proof to every earlier event of this journal.
 */
async function orgLogInclusion(home: WritHome, lastSeq: number): Promise<{ said: string; problem?: string }> {
  const enrollment = readEnrollment(join(home.root, 'enrollment.json'));
  if (!enrollment) return { said: 'org log: this device is not enrolled; the journal is the only copy' };
  const db = new Database(home.journal, { readonly: true, fileMustExist: true });
  let sequenced: { seq: number; index: number } | undefined;
  let envelope: Envelope | undefined;
  try {
    const meta = db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(LAST_SEQUENCED_KEY) as string | undefined;
    sequenced = meta === undefined ? undefined : (JSON.parse(meta) as { seq: number; index: number });
    const row = sequenced && (db.prepare('SELECT envelope FROM events WHERE seq = ?').pluck().get(sequenced.seq) as string | undefined);
    envelope = row === undefined ? undefined : parseEnvelope(row);
  } finally {
    db.close();
  }
  if (!sequenced || !envelope) return { said: 'org log: no event of this journal has been sequenced yet', problem: `run events up to ${lastSeq} are not yet in the org log` };
  try {
    const fetchText = async (path: string) => {
      const response = await fetch(enrollment.server + path);
      if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
      return response.text();
    };
    const head = openLogCheckpoint(await fetchText('/v1/log/checkpoint'), parseVerifierKey(enrollment.org.verifier_key), enrollment.org.origin);
    if (sequenced.index >= head.size) return { said: `org log: event ${sequenced.seq} is not in the checkpoint yet`, problem: `the org log's checkpoint (size ${head.size}) does not cover event ${sequenced.seq} yet` };
    const answer = JSON.parse(await fetchText(`/v1/log/inclusion?index=${sequenced.index}&size=${head.size}`)) as { proof?: unknown };
    const proof = Array.isArray(answer.proof) ? answer.proof.map((hash) => Buffer.from(String(hash), 'base64')) : [];
    if (!verifyInclusion(sequenced.index, head.size, leafHash(canonicalBytes(envelope)), proof, head.root)) {
      return { said: 'org log: FAILED', problem: `event ${sequenced.seq} is not proven to be at index ${sequenced.index} of the org log` };
    }
    const covered = lastSeq <= sequenced.seq;
    return {
      said: `org log ${enrollment.org.origin}: event ${sequenced.seq} proven at index ${sequenced.index} of a tree of ${head.size} signed by the org${covered ? '; the chain carries the proof to every event of this run' : `; events after ${sequenced.seq} are not in the log yet`}`,
      ...(!covered && { problem: `run events after ${sequenced.seq} (up to ${lastSeq}) are not in the org log yet` }),
    };
  } catch (error) {
    return { said: 'org log: could not check', problem: `cannot check the org log at ${enrollment.server}: ${(error as Error).message}` };
  }
}

/**
 * From the server, verified: the session's evidence bundle (every event's device signature and chain, its inclusion
 * in the org log, the certificates, the record's links) checked against the org key (pinned: --org-key or the
 * enrolment's), the record rebuilt here from the verified events, and each review's org signature checked.
 */
async function showVerifiedFromServer(client: AdminClient, home: WritHome, orgKeyOption: unknown, session: string, format: 'md' | 'json', reviews: Envelope[]): Promise<number> {
  if (orgKeyOption !== undefined && typeof orgKeyOption !== 'string') throw new UsageError('--org-key needs a verifier key');
  const orgKey = (orgKeyOption as string | undefined) ?? readEnrollment(join(home.root, 'enrollment.json'))?.org.verifier_key;
  if (orgKey !== undefined) {
    try {
      parseVerifierKey(orgKey);
    } catch (error) {
      throw new UsageError(`--org-key: ${(error as Error).message}`);
    }
  }
  const response = await client.request('GET', `/v1/export?format=bundle&session=${encodeURIComponent(session)}`);
  if (!response.ok) throw new Error(`the evidence bundle of ${session}: ${response.status} ${await response.text()}`);
  const lines = (await response.text()).split('\n').filter((line) => line.trim() !== '');
  const verdict = await verifyBundleLines(lines, { orgKey });
  const problems = [...verdict.problems];
  const events = lines.slice(1).flatMap((line) => {
    try {
      const envelope = (JSON.parse(line) as { envelope: Envelope }).envelope;
      return [{ body: openEvent(envelope), hash: sha256Hex(Buffer.from(envelope.payload, 'base64')) }];
    } catch {
      return []; // the verdict already names the line
    }
  });
  const record = buildRunRecord(events, session);
  let orgPublicKey: KeyObject | undefined;
  try {
    orgPublicKey = createPublicKey((JSON.parse(lines[0] ?? '{}') as { org_public_key?: string }).org_public_key ?? '');
  } catch {
    problems.push('the bundle names no usable org public key');
  }
  try {
    if (orgPublicKey) addOrgReviews(record, reviews, (envelope) => openRunReview(envelope, orgPublicKey!));
  } catch (error) {
    problems.push((error as Error).message);
  }
  process.stdout.write(format === 'json' ? `${JSON.stringify(record, null, 2)}\n` : renderMarkdown(record));
  const said = [
    `verify: ${verdict.events} events of run ${session} from the org log \`${verdict.origin ?? '?'}\` (size ${verdict.size}): signatures, chains and inclusion ${verdict.ok ? 'OK' : 'FAILED'}; ${reviews.length} org-signed review${reviews.length === 1 ? '' : 's'}`,
    ...(verdict.orgKeyPinned ? [] : ['verify: warning: no org key pinned (--org-key, or enrol this device): the bundle\'s own key was trusted']),
    ...verdict.warnings.map((warning) => `verify: warning: ${warning}`),
    ...problems.map((problem) => `verify: FAILED: ${problem}`),
  ];
  process.stderr.write(`${said.join('\n')}\n`);
  return problems.length === 0 ? 0 : 1;
}

function reviewLocally(home: WritHome, session: string, decision: string, comment: string): Promise<number> {
  const body = JSON.stringify({ session_id: session, decision, comment });
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: home.socket, method: 'POST', path: RUN_REVIEW_PATH, headers: { 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode === 201) {
          const answer = JSON.parse(text) as { seq: number; review: { reviewer: { subject: string } } };
          process.stdout.write(`${decision}: run ${session}, recorded as event ${answer.seq} of the local journal, reviewed by ${answer.review.reviewer.subject}\n`);
          return resolve(0);
        }
        if (res.statusCode === 404 && text.startsWith('no such endpoint')) return reject(new Error('this daemon cannot record reviews; restart it with this version of Writ'));
        reject(res.statusCode === 400 || res.statusCode === 404 ? new UsageError(text) : new Error(`the daemon answered ${res.statusCode}: ${text}`));
      });
    });
    req.on('error', (error) => reject(new Error(`cannot reach the Writ daemon at ${home.socket} (${(error as NodeJS.ErrnoException).code ?? error.message}); a local review is recorded by the daemon: start it with writ daemon`)));
    req.end(body);
  });
}
