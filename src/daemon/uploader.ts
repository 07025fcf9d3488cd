// Uploads the journal to `writ server` and witnesses the org log. The journal is the durable spool: the
// upload cursor lives in its meta table, so nothing is lost while the server is away or the daemon restarts,
// and a batch sent twice is harmless (the server answers duplicates idempotently). After uploading, the
// daemon checks the server's signed checkpoint against the last one it verified, with a consistency proof,
// so the server cannot rewrite or fork the log without its devices noticing (docs/protocol.md).
import { canonicalBytes } from '../core/canonical-json.js';
import { sha256Hex } from '../core/digest.js';
import { openLogCheckpoint, type TreeHead } from '../ledger/log-checkpoint.js';
import { leafHash, verifyConsistency, verifyInclusion } from '../ledger/merkle.js';
import { parseVerifierKey, type NoteVerifier } from '../ledger/note.js';
import type { Journal } from './journal.js';
import { ServerError, type ServerClient } from './server-client.js';

/** Journal meta keys this module owns. */
export const UPLOAD_CURSOR_KEY = 'upload.cursor';
export const LOG_CHECKPOINT_KEY = 'log.checkpoint';
/** `{seq, index}` of the last event the server sequenced, and the last seq proven included in a checkpoint. */
export const LAST_SEQUENCED_KEY = 'upload.last_sequenced';
export const INCLUDED_SEQ_KEY = 'log.included_seq';
const ALARM_KEY_PREFIX = 'alarm:';

/** The server's limit is 1000 per batch; 500 keeps a batch well under its 16 MiB body limit. */
export const MAX_BATCH = 500;

export interface UploaderOptions {
  journal: Journal;
  client: ServerClient;
  /** The org log's origin and the verifier key pinned at enrolment. */
  origin: string;
  verifierKey: string;
  /** Appends a signed event to the journal (for `log.alarm`). */
  record(kind: string, data: Record<string, unknown>): void;
  log(line: string): void;
  now?: () => Date;
  batchSize?: number;
  /** Wait this long after a new event before uploading, so a burst goes in one batch. */
  debounceMs?: number;
  /** Upload (and witness) at least this often even when nothing says there is new work. */
  intervalMs?: number;
  /** Fetch and check the log's checkpoint at least this often. */
  witnessIntervalMs?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

export type ServiceState = 'not_ready' | 'ok' | 'warn' | 'error';

export interface UploaderStatus {
  name: 'uploader';
  state: ServiceState;
  message: string;
  uploaded_seq: number;
  pending: number;
  last_upload_at?: string;
  last_error?: string;
  /** Size of the last log checkpoint this device verified. */
  checkpoint_size?: number;
  /** The last seq of this device proven (inclusion proof) to be in a verified checkpoint. */
  included_seq?: number;
  alarms: number;
  last_alarm?: string;
}

interface IngestAnswer {
  head_seq: number;
  log_size: number;
  sequenced: { seq: number; index: number; duplicate: boolean }[];
  stop?: { reason: string; seq: number; expectedSeq?: number };
}

export class Uploader {
  readonly #options: Required<Omit<UploaderOptions, 'now'>> & { now: () => Date };
  readonly #verifier: NoteVerifier;
  #timer?: NodeJS.Timeout;
  #interval?: NodeJS.Timeout;
  #running?: Promise<void>;
  #again = false;
  #stopped = false;
  #started = false;
  #failures = 0;
  #backingOff = false;
  #abort = new AbortController();
  #batchSize: number;
  #lastUploadAt?: string;
  #lastError?: string;
  #lastWitnessAt = 0;
  #alarms = 0;
  #lastAlarm?: string;

  constructor(options: UploaderOptions) {
    this.#options = {
      now: () => new Date(),
      batchSize: MAX_BATCH,
      debounceMs: 200,
      intervalMs: 30_000,
      witnessIntervalMs: 60_000,
      minBackoffMs: 1000,
      maxBackoffMs: 60_000,
      ...options,
    };
    this.#batchSize = Math.min(Math.max(1, this.#options.batchSize), MAX_BATCH);
    // A pinned key that does not parse is an enrolment problem: refuse to start rather than witness nothing.
    this.#verifier = parseVerifierKey(options.verifierKey);
  }

  /** Uploads what is pending now, then on every notify() and interval. */
  start(): void {
    if (this.#started || this.#stopped) return;
    this.#started = true;
    this.#schedule(0);
    this.#interval = setInterval(() => this.#kick(), this.#options.intervalMs);
    this.#interval.unref();
  }

  /** New events are in the journal: upload them shortly (ignored while backing off from a failure). */
  notify(): void {
    if (!this.#started || this.#stopped || this.#backingOff) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    if (!this.#timer) this.#schedule(this.#options.debounceMs);
  }

  /** Uploads everything pending and checks the log's checkpoint now; resolves with the status afterwards. */
  async uploadNow(): Promise<UploaderStatus> {
    while (this.#running) await this.#running.catch(() => {});
    if (this.#stopped) return this.status();
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#run(true);
    return this.status();
  }

  /** Stops scheduling; makes one last upload attempt that gives up after `deadlineMs`. */
  async stop(deadlineMs = 2000): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearTimeout(this.#timer);
    clearInterval(this.#interval);
    const deadline = setTimeout(() => this.#abort.abort(), deadlineMs);
    try {
      await this.#running?.catch(() => {});
      if (this.#started && !this.#abort.signal.aborted) await this.#cycle(false).catch(() => {});
    } finally {
      clearTimeout(deadline);
    }
  }

  status(): UploaderStatus {
    const uploaded = this.#cursor();
    const pending = Math.max(0, (this.#options.journal.head()?.seq ?? 0) - uploaded);
    const checkpoint = this.#storedCheckpoint();
    let state: ServiceState = 'ok';
    let message = pending === 0 ? 'journal uploaded' : `${pending} events to upload`;
    if (!this.#started) [state, message] = ['not_ready', 'not started'];
    if (this.#lastError) [state, message] = ['warn', `upload failing, will retry: ${this.#lastError}`];
    if (this.#alarms > 0) [state, message] = ['error', `ALARM: ${this.#lastAlarm}`];
    return {
      name: 'uploader',
      state,
      message,
      uploaded_seq: uploaded,
      pending,
      ...(this.#lastUploadAt && { last_upload_at: this.#lastUploadAt }),
      ...(this.#lastError && { last_error: this.#lastError }),
      ...(checkpoint && { checkpoint_size: checkpoint.size }),
      ...(this.#includedSeq() > 0 && { included_seq: this.#includedSeq() }),
      alarms: this.#alarms,
      ...(this.#lastAlarm && { last_alarm: this.#lastAlarm }),
    };
  }

  #kick(): void {
    if (this.#stopped || this.#backingOff) return;
    if (this.#running) this.#again = true;
    else if (!this.#timer) this.#schedule(0);
  }

  #schedule(ms: number): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#backingOff = false;
      void this.#run(false);
    }, ms);
    this.#timer.unref();
  }

  // One cycle at a time; afterwards, back off on failure or go again if more work arrived meanwhile.
  #run(forceWitness: boolean): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#again = false;
    this.#running = this.#cycle(forceWitness)
      .then(
        () => {
          this.#failures = 0;
          this.#lastError = undefined;
        },
        (error: Error) => {
          this.#failures += 1;
          this.#lastError = error.message;
          this.#options.log(`upload: ${error.message}`);
        },
      )
      .finally(() => {
        this.#running = undefined;
        if (this.#stopped) return;
        if (this.#failures > 0) {
          const backoff = Math.min(this.#options.maxBackoffMs, this.#options.minBackoffMs * 2 ** (this.#failures - 1));
          this.#backingOff = true;
          this.#schedule(backoff * (0.75 + Math.random() * 0.5));
        } else if (this.#again || this.#pending() > 0) {
          this.#schedule(this.#options.debounceMs);
        }
      });
    return this.#running;
  }

  async #cycle(forceWitness: boolean): Promise<void> {
    await this.#uploadPending();
    // Not after every upload: the server signs checkpoints on its own interval, and a fleet should not poll it per tool call.
    const due = forceWitness || this.#options.now().getTime() - this.#lastWitnessAt >= this.#options.witnessIntervalMs;
    if (due && !this.#stopped) await this.#witness();
  }

  async #uploadPending(): Promise<void> {
    let rewinds = 0;
    for (;;) {
      const cursor = this.#cursor();
      const events = this.#options.journal.list({ since: cursor, limit: this.#batchSize });
      if (events.length === 0) return;
      let answer: IngestAnswer;
      try {
        const reply = await this.#options.client.request<unknown>('POST', '/v1/ingest', { events: events.map((event) => event.envelope) }, { signal: this.#abort.signal });
        answer = ingestAnswer(reply.body);
      } catch (error) {
        if (error instanceof ServerError && error.status === 413 && this.#batchSize > 1) {
          this.#batchSize = Math.max(1, Math.floor(this.#batchSize / 2));
          this.#options.log(`upload: the server refused a batch as too large; sending ${this.#batchSize} events at a time`);
          continue;
        }
        throw error;
      }
      // Only events the server lists as sequenced (stored now or before) move the cursor, in order.
      let next = cursor;
      let last: { seq: number; index: number } | undefined;
      for (const entry of answer.sequenced) {
        if (entry.seq !== next + 1) break;
        next = entry.seq;
        if (Number.isSafeInteger(entry.index) && entry.index >= 0) last = { seq: entry.seq, index: entry.index };
      }
      if (next > cursor) {
        if (last) this.#options.journal.setMeta(LAST_SEQUENCED_KEY, JSON.stringify(last));
        this.#setCursor(next);
        this.#lastUploadAt = this.#options.now().toISOString();
      }
      const stop = answer.stop;
      if (stop?.reason === 'gap' && Number.isSafeInteger(stop.expectedSeq) && stop.expectedSeq! >= 1) {
        // The server lacks events this device thought uploaded (a restored backup): send again from there.
        const from = Math.min(stop.expectedSeq! - 1, this.#options.journal.head()?.seq ?? 0);
        if (++rewinds > 3) throw new Error(`the server keeps asking for seq ${stop.expectedSeq}; giving up for now`);
        this.#options.log(`upload: the server expects seq ${stop.expectedSeq}; sending again from there`);
        this.#setCursor(from);
        continue;
      }
      if (stop?.reason === 'conflict' || stop?.reason === 'chain') {
        this.#alarm(`ingest-${stop.reason}:${stop.seq}`, {
          problem: stop.reason === 'conflict' ? 'the server holds another event under this seq: this device history and the server disagree' : 'the server head does not chain to this event',
          reason: stop.reason,
          seq: stop.seq,
          server_head_seq: answer.head_seq,
        });
        throw new Error(`the server refused seq ${stop.seq} (${stop.reason}); still enforcing, will retry`);
      }
      if (stop) throw new Error(`the server stopped the batch at seq ${stop.seq} (${stop.reason})`);
      if (next < events[events.length - 1].seq) throw new Error(`the server sequenced up to seq ${next} of a batch ending at ${events[events.length - 1].seq}, without saying why`);
      if (events.length < this.#batchSize) return;
    }
  }

  // Checks the server's latest checkpoint against the last one verified; never replaces it unless proven.
  async #witness(): Promise<void> {
    let note: string;
    try {
      const reply = await this.#options.client.request<unknown>('GET', '/v1/log/checkpoint', undefined, { signal: this.#abort.signal });
      if (typeof reply.body !== 'string') throw new Error('the checkpoint answer is not text');
      note = reply.body;
    } catch (error) {
      if (error instanceof ServerError && error.status === 404) return; // the log is empty
      throw error;
    }
    this.#lastWitnessAt = this.#options.now().getTime();
    let next: TreeHead;
    try {
      next = openLogCheckpoint(note, this.#verifier, this.#options.origin);
    } catch (error) {
      this.#alarm(`checkpoint-unverified:${sha256Hex(note)}`, { problem: `the log checkpoint does not verify against the pinned org key: ${(error as Error).message}`, note });
      return;
    }
    const stored = this.#storedCheckpoint();
    const seen = { old_size: stored?.size, old_root: stored?.root.toString('base64'), new_size: next.size, new_root: next.root.toString('base64') };
    if (!stored) {
      this.#keepCheckpoint(note);
      return this.#checkIncluded(next);
    }
    if (next.size < stored.size) {
      return this.#alarm(`checkpoint-shrank:${next.size}:${seen.new_root}`, { problem: `the log checkpoint went back from size ${stored.size} to ${next.size}`, ...seen });
    }
    if (next.size === stored.size) {
      if (!next.root.equals(stored.root)) {
        return this.#alarm(`checkpoint-fork:${next.size}:${seen.new_root}`, { problem: `the log has two different roots for size ${next.size}`, ...seen });
      }
      return this.#checkIncluded(stored);
    }
    const reply = await this.#options.client.request<{ proof?: unknown }>('GET', `/v1/log/consistency?from=${stored.size}&to=${next.size}`, undefined, { signal: this.#abort.signal });
    const proof = hashList(reply.body?.proof);
    if (!proof || !verifyConsistency(stored.size, next.size, stored.root, next.root, proof)) {
      return this.#alarm(`checkpoint-inconsistent:${next.size}:${seen.new_root}`, { problem: `the log of size ${next.size} is not proven to extend the one of size ${stored.size}`, ...seen });
    }
    this.#keepCheckpoint(note);
    await this.#checkIncluded(next);
  }

  // Proves the newest event the server said it sequenced really is in the verified tree, at the index it gave.
  async #checkIncluded(head: TreeHead): Promise<void> {
    const text = this.#options.journal.getMeta(LAST_SEQUENCED_KEY);
    if (text === undefined) return;
    const last = JSON.parse(text) as { seq: number; index: number };
    if (last.seq <= this.#includedSeq() || last.index >= head.size) return;
    const [event] = this.#options.journal.list({ since: last.seq - 1, limit: 1 });
    if (event?.seq !== last.seq) return;
    const reply = await this.#options.client.request<{ proof?: unknown }>('GET', `/v1/log/inclusion?index=${last.index}&size=${head.size}`, undefined, { signal: this.#abort.signal });
    const proof = hashList(reply.body?.proof);
    const leaf = leafHash(canonicalBytes(event.envelope));
    if (!proof || !verifyInclusion(last.index, head.size, leaf, proof, head.root)) {
      return this.#alarm(`inclusion:${last.seq}:${last.index}:${head.size}`, {
        problem: `seq ${last.seq} is not proven to be in the log at index ${last.index} (tree size ${head.size})`,
        seq: last.seq,
        index: last.index,
        size: head.size,
        root: head.root.toString('base64'),
      });
    }
    this.#options.journal.setMeta(INCLUDED_SEQ_KEY, String(last.seq));
  }

  #includedSeq(): number {
    const value = Number(this.#options.journal.getMeta(INCLUDED_SEQ_KEY) ?? 0);
    return Number.isSafeInteger(value) ? value : 0;
  }

  #keepCheckpoint(note: string): void {
    this.#options.journal.setMeta(LOG_CHECKPOINT_KEY, note);
  }

  #storedCheckpoint(): TreeHead | undefined {
    const note = this.#options.journal.getMeta(LOG_CHECKPOINT_KEY);
    if (note === undefined) return undefined;
    try {
      return openLogCheckpoint(note, this.#verifier, this.#options.origin);
    } catch {
      return undefined; // only ever stored after verifying; unreadable means the journal was edited
    }
  }

  // Loud, and recorded as signed evidence once per distinct observation; enforcement carries on regardless.
  #alarm(key: string, data: Record<string, unknown>): void {
    this.#alarms += 1;
    this.#lastAlarm = String(data.problem);
    this.#options.log(`ALARM: ${data.problem}; recorded as log.alarm, enforcement continues`);
    const metaKey = ALARM_KEY_PREFIX + key;
    if (this.#options.journal.getMeta(metaKey) !== undefined) return;
    this.#options.record('log.alarm', { ...data, server: this.#options.client.baseUrl, origin: this.#options.origin });
    this.#options.journal.setMeta(metaKey, this.#options.now().toISOString());
  }

  #cursor(): number {
    const value = Number(this.#options.journal.getMeta(UPLOAD_CURSOR_KEY) ?? 0);
    return Number.isSafeInteger(value) && value >= 0 ? value : 0;
  }

  #setCursor(seq: number): void {
    this.#options.journal.setMeta(UPLOAD_CURSOR_KEY, String(seq));
  }

  #pending(): number {
    return Math.max(0, (this.#options.journal.head()?.seq ?? 0) - this.#cursor());
  }
}

// The answer comes from the network: check its shape before acting on it.
function ingestAnswer(body: unknown): IngestAnswer {
  const answer = body as IngestAnswer;
  const ok =
    typeof answer === 'object' &&
    answer !== null &&
    Array.isArray(answer.sequenced) &&
    answer.sequenced.every((entry) => Number.isSafeInteger(entry?.seq)) &&
    (answer.stop === undefined || (typeof answer.stop === 'object' && answer.stop !== null && typeof answer.stop.reason === 'string'));
  if (!ok) throw new Error('the server answered the upload with something that is not an ingest result');
  return answer;
}

function hashList(value: unknown): Buffer[] | undefined {
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) return undefined;
  return value.map((item: string) => Buffer.from(item, 'base64'));
}
