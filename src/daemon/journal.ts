// The device journal: every hook event and decision, signed, hash-chained and kept in SQLite.
import type { KeyObject } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import Database from 'better-sqlite3';
import { keyIdFor, parseEnvelope, type Envelope } from '../core/dsse.js';
import {
  openEvent,
  sealEvent,
  signCheckpoint,
  type EventBody,
  type EventDraft,
  type JournalCheckpoint,
} from '../core/event.js';
import { verifyChain, type ChainRow, type ChainVerdict } from '../ledger/chain.js';
import type { DeviceKey } from './keys.js';

const SCHEMA_VERSION = '1';
const RESERVED_META_KEYS = new Set(['schema_version', 'device_id']);

// A truncation is only detectable up to the last checkpoint, so this bounds how many trailing events can vanish unseen.
const DEFAULT_CHECKPOINT_EVERY = 100;

// kind … decision are index columns for listing and filtering; the envelope is the evidence, and
// verifyJournal checks that the columns agree with it.
const SCHEMA = `
  CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY, hash TEXT NOT NULL, kind TEXT, time TEXT, session_id TEXT, tool_use_id TEXT,
    decision TEXT, envelope TEXT NOT NULL
  );
  CREATE TABLE IF NOT EXISTS checkpoints (seq INTEGER PRIMARY KEY, head TEXT, time TEXT, envelope TEXT);
`;

export interface JournalOptions {
  /** Sign a checkpoint automatically once this many events follow the last one. */
  checkpointEvery?: number;
}

export interface AppendedEvent {
  seq: number;
  hash: string;
  envelope: Envelope;
}

export interface RecordedEvent extends AppendedEvent {
  body: EventBody;
}

export interface ListOptions {
  /** Only events after this seq. */
  since?: number;
  limit?: number;
  sessionId?: string;
}

export interface JournalHead {
  seq: number;
  hash: string;
}

interface IndexColumns {
  kind: string;
  time: string;
  session_id: string | null;
  tool_use_id: string | null;
  decision: string | null;
}

interface EventRow extends ChainRow, IndexColumns {}

export class Journal {
  readonly #db: Database.Database;
  readonly #key: DeviceKey;
  readonly #checkpointEvery: number;
  readonly #insertEvent: Database.Statement<EventRow>;
  readonly #insertCheckpoint: Database.Statement<[number, string, string, string]>;
  readonly #selectEvents: Database.Statement<{ since: number; session: string | null; limit: number }, ChainRow>;
  readonly #countEvents: Database.Statement<[], number>;
  readonly #getMeta: Database.Statement<[string], string>;
  readonly #setMeta: Database.Statement<[string, string]>;
  readonly #writeEvents: (drafts: readonly EventDraft[]) => AppendedEvent[];
  #head: JournalHead;
  #checkpointSeq: number;

  private constructor(db: Database.Database, key: DeviceKey, checkpointEvery: number) {
    this.#db = db;
    this.#key = key;
    this.#checkpointEvery = checkpointEvery;
    this.#insertEvent = db.prepare(
      `INSERT INTO events (seq, hash, kind, time, session_id, tool_use_id, decision, envelope)
       VALUES (@seq, @hash, @kind, @time, @session_id, @tool_use_id, @decision, @envelope)`,
    );
    this.#insertCheckpoint = db.prepare('INSERT INTO checkpoints (seq, head, time, envelope) VALUES (?, ?, ?, ?)');
    this.#selectEvents = db.prepare(
      `SELECT seq, hash, envelope FROM events WHERE seq > @since AND (@session IS NULL OR session_id = @session)
       ORDER BY seq LIMIT @limit`,
    );
    this.#countEvents = db.prepare<[], number>('SELECT count(*) FROM events').pluck();
    this.#getMeta = db.prepare<[string], string>('SELECT value FROM meta WHERE key = ?').pluck();
    this.#setMeta = db.prepare<[string, string]>('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
    this.#writeEvents = db.transaction((drafts: readonly EventDraft[]) => this.#insertDrafts(drafts));
    const head = db.prepare<[], JournalHead>('SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1').get();
    this.#head = head ?? { seq: 0, hash: '' };
    this.#checkpointSeq = db.prepare<[], number>('SELECT coalesce(max(seq), 0) FROM checkpoints').pluck().get()!;
  }

  /**
   * Opens (or creates, 0600) the journal at `dbPath` for the device `key`. WAL with synchronous=NORMAL:
   * a committed event survives a crash of the daemon process; a power cut may lose the last few commits,
   * never corrupt the file.
   */
  static open(dbPath: string, key: DeviceKey, { checkpointEvery = DEFAULT_CHECKPOINT_EVERY }: JournalOptions = {}): Journal {
    createPrivateFile(dbPath);
    const db = new Database(dbPath);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.transaction(() => {
        db.exec(SCHEMA);
        const insertMeta = db.prepare('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)');
        insertMeta.run('schema_version', SCHEMA_VERSION);
        insertMeta.run('device_id', key.deviceId);
      })();
      const meta = new Map(db.prepare<[], [string, string]>('SELECT key, value FROM meta').raw().all());
      if (meta.get('schema_version') !== SCHEMA_VERSION) {
        throw new Error(`${dbPath}: journal schema ${meta.get('schema_version')}, this Writ reads ${SCHEMA_VERSION}`);
      }
      if (meta.get('device_id') !== key.deviceId) {
        throw new Error(`${dbPath} is the journal of device ${meta.get('device_id')}, not of ${key.deviceId}`);
      }
      return new Journal(db, key, checkpointEvery);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  /** Signs the draft as the next event and commits it. */
  append(draft: EventDraft): AppendedEvent {
    return this.#writeEvents([draft])[0];
  }

  /** Appends all drafts in order, in one transaction: all are recorded or none. */
  appendMany(drafts: readonly EventDraft[]): AppendedEvent[] {
    return this.#writeEvents(drafts);
  }

  /** Signs a checkpoint for the current head, unless the last checkpoint already covers it. */
  checkpoint(time: string): JournalCheckpoint | undefined {
    if (this.#head.seq === this.#checkpointSeq) return undefined;
    const checkpoint = this.#writeCheckpoint(this.#head, time);
    this.#checkpointSeq = checkpoint.seq;
    return checkpoint;
  }

  /** Events in seq order, decoded from their envelopes. */
  list({ since = 0, limit = -1, sessionId }: ListOptions = {}): RecordedEvent[] {
    return this.#selectEvents.all({ since, session: sessionId ?? null, limit }).map((row) => {
      const envelope = parseEnvelope(row.envelope);
      return { seq: row.seq, hash: row.hash, envelope, body: openEvent(envelope) };
    });
  }

  head(): JournalHead | undefined {
    return this.#head.seq === 0 ? undefined : { ...this.#head };
  }

  count(): number {
    return this.#countEvents.get()!;
  }

  /** A value the daemon keeps beside the events (the upload cursor, the last verified log checkpoint). */
  getMeta(key: string): string | undefined {
    return this.#getMeta.get(key);
  }

  /** Stores a value durably (committed before it returns); the journal's own keys cannot be changed. */
  setMeta(key: string, value: string): void {
    if (RESERVED_META_KEYS.has(key)) throw new Error(`journal meta key ${key} belongs to the journal itself`);
    this.#setMeta.run(key, value);
  }

  close(): void {
    this.#db.close();
  }

  // Runs inside the write transaction; the in-memory head moves only once the inserts have all succeeded.
  #insertDrafts(drafts: readonly EventDraft[]): AppendedEvent[] {
    let head = this.#head;
    let checkpointSeq = this.#checkpointSeq;
    const device = { id: this.#key.deviceId, key_id: this.#key.keyId };
    const appended = drafts.map((draft) => {
      const sealed = sealEvent({ ...draft, v: 1, seq: head.seq + 1, prev: head.hash, device }, this.#key.signer);
      const envelope = JSON.stringify(sealed.envelope);
      this.#insertEvent.run({ seq: sealed.body.seq, hash: sealed.hash, envelope, ...indexColumns(sealed.body) });
      head = { seq: sealed.body.seq, hash: sealed.hash };
      if (head.seq - checkpointSeq >= this.#checkpointEvery) checkpointSeq = this.#writeCheckpoint(head, draft.time).seq;
      return { seq: head.seq, hash: head.hash, envelope: sealed.envelope };
    });
    this.#head = head;
    this.#checkpointSeq = checkpointSeq;
    return appended;
  }

  #writeCheckpoint(head: JournalHead, time: string): JournalCheckpoint {
    const checkpoint: JournalCheckpoint = { v: 1, device_id: this.#key.deviceId, seq: head.seq, head: head.hash, time };
    const envelope = JSON.stringify(signCheckpoint(checkpoint, this.#key.signer));
    this.#insertCheckpoint.run(checkpoint.seq, checkpoint.head, checkpoint.time, envelope);
    return checkpoint;
  }
}

/** Checks the whole journal at `dbPath` against the device's public key; names the first bad record. */
export function verifyJournal(dbPath: string, publicKey: KeyObject): ChainVerdict {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    const rows = db
      .prepare<[], EventRow>(
        'SELECT seq, hash, kind, time, session_id, tool_use_id, decision, envelope FROM events ORDER BY seq',
      )
      .iterate();
    const checkpoints = db.prepare<[], { seq: number; head: string; envelope: string }>(
      'SELECT seq, head, envelope FROM checkpoints',
    );
    return verifyChain(rows, checkpoints.all(), new Map([[keyIdFor(publicKey), publicKey]]), indexColumnsProblem);
  } finally {
    db.close();
  }
}

function indexColumns(body: EventBody): IndexColumns {
  const decision = body.data.decision as { decision?: unknown } | undefined;
  return {
    kind: body.kind,
    time: body.time,
    session_id: body.session_id ?? null,
    tool_use_id: body.tool_use_id ?? null,
    decision: typeof decision?.decision === 'string' ? decision.decision : null,
  };
}

function indexColumnsProblem(row: EventRow, body: EventBody): string | undefined {
  const signed = indexColumns(body);
  const column = (Object.keys(signed) as (keyof IndexColumns)[]).find((name) => row[name] !== signed[name]);
  return column && `column ${column} is ${JSON.stringify(row[column])} but the signed body says ${JSON.stringify(signed[column])}`;
}

// SQLite would create the file with the umask's mode; create it first, 0600, so it never exists more open.
// SQLite gives its -wal and -shm files the database file's mode.
function createPrivateFile(path: string): void {
  try {
    closeSync(openSync(path, 'wx', 0o600));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}
