// Verification of one device's hash-chained journal, over rows from any store (pure: rows in, verdict out).
// Signatures catch a changed record; seq, prev and the stored hash catch removed and reordered ones; signed
// checkpoints catch a tail cut off before the last checkpoint. Events after the last checkpoint can be dropped
// without trace here: only a copy held elsewhere (the server's log) can show that.
import type { KeyObject } from 'node:crypto';
import { parseEnvelope, type Envelope } from '../core/dsse.js';
import { verifyCheckpoint, verifyEvent, type EventBody, type JournalCheckpoint } from '../core/event.js';

export interface ChainRow {
  seq: number;
  hash: string; // as stored beside the envelope
  envelope: string; // DSSE envelope JSON
}

export interface CheckpointRow {
  seq: number;
  head: string;
  envelope: string;
}

export type ChainVerdict =
  | { ok: true; events: number; checkpoint: JournalCheckpoint | undefined }
  | { ok: false; seq: number; problem: string };

/** A store's own check of a row against its signed body (for example its index columns); a problem or undefined. */
export type RowCheck<Row> = (row: Row, body: EventBody) => string | undefined;

/**
 * Walks `rows` in seq order and reports the first bad record. Checkpoints are few, so they are held in
 * memory; the rows are streamed, so a journal of any length is checked in constant memory.
 */
export function verifyChain<Row extends ChainRow>(
  rows: Iterable<Row>,
  checkpointRows: Iterable<CheckpointRow>,
  publicKeys: ReadonlyMap<string, KeyObject>,
  checkRow?: RowCheck<Row>,
): ChainVerdict {
  const checkpoints = [...checkpointRows].sort((a, b) => a.seq - b.seq);
  let nextCheckpoint = 0;
  let latest: JournalCheckpoint | undefined;
  let prev = '';
  let expected = 1;
  for (const row of rows) {
    if (row.seq > expected) return reject(expected, `event ${expected} missing (the next record is event ${row.seq})`);
    if (row.seq < expected) return reject(row.seq, `event ${row.seq} out of order after event ${expected - 1}`);
    const event = checkEvent(row, prev, publicKeys);
    if (typeof event === 'string') return fail(row.seq, event);
    const problem = checkRow?.(row, event.body);
    if (problem !== undefined) return fail(row.seq, problem);

    for (; nextCheckpoint < checkpoints.length && checkpoints[nextCheckpoint].seq <= row.seq; nextCheckpoint++) {
      const checkpointRow = checkpoints[nextCheckpoint];
      const checkpoint = openCheckpoint(checkpointRow, publicKeys);
      if (typeof checkpoint === 'string') return failCheckpoint(checkpointRow.seq, checkpoint);
      if (checkpointRow.seq < row.seq) return failCheckpoint(checkpointRow.seq, 'duplicate checkpoint');
      if (checkpoint.head !== event.hash) {
        return failCheckpoint(row.seq, `head ${checkpoint.head} is not the hash of event ${row.seq} (${event.hash})`);
      }
      latest = checkpoint;
    }
    prev = event.hash;
    expected++;
  }
  if (nextCheckpoint < checkpoints.length) {
    // Only a checkpoint that verifies proves the missing tail existed.
    const last = checkpoints[checkpoints.length - 1];
    const checkpoint = openCheckpoint(last, publicKeys);
    if (typeof checkpoint === 'string') return failCheckpoint(last.seq, checkpoint);
    return reject(expected, `event ${expected} missing: journal truncated after ${expected - 1} but checkpoint covers ${last.seq}`);
  }
  return { ok: true, events: expected - 1, checkpoint: latest };
}

// Returns the verified body and hash, or the problem with this record.
function checkEvent(
  row: ChainRow,
  prev: string,
  publicKeys: ReadonlyMap<string, KeyObject>,
): { body: EventBody; hash: string } | string {
  const envelope = readEnvelope(row.envelope);
  if (envelope === undefined) return 'envelope is not DSSE JSON';
  const verdict = verifyEvent(envelope, publicKeys);
  if (!verdict.ok) return `${verdict.problem} (record changed?)`;
  const { body, hash, keyId } = verdict;
  if (body.seq !== row.seq) return `holds the signed body of event ${body.seq} (records reordered?)`;
  if (body.prev !== prev) {
    return row.seq === 1
      ? 'first event links to a predecessor'
      : `prev does not link to event ${row.seq - 1} (record removed, replaced or reordered?)`;
  }
  if (body.device.key_id !== keyId) return `signed by ${keyId} but names key ${body.device.key_id}`;
  if (row.hash !== hash) return `stored hash ${row.hash} is not the hash of the signed body (${hash})`;
  return { body, hash };
}

function openCheckpoint(row: CheckpointRow, publicKeys: ReadonlyMap<string, KeyObject>): JournalCheckpoint | string {
  const envelope = readEnvelope(row.envelope);
  if (envelope === undefined) return 'envelope is not DSSE JSON';
  const verdict = verifyCheckpoint(envelope, publicKeys);
  if (!verdict.ok) return verdict.problem;
  if (verdict.checkpoint.seq !== row.seq) return `signed checkpoint is for event ${verdict.checkpoint.seq}`;
  if (verdict.checkpoint.head !== row.head) return `stored head ${row.head} is not the signed head`;
  return verdict.checkpoint;
}

function readEnvelope(json: string): Envelope | undefined {
  try {
    return parseEnvelope(json);
  } catch {
    return undefined;
  }
}

function reject(seq: number, problem: string): ChainVerdict {
  return { ok: false, seq, problem };
}

function fail(seq: number, problem: string): ChainVerdict {
  return reject(seq, `event ${seq}: ${problem}`);
}

function failCheckpoint(seq: number, problem: string): ChainVerdict {
  return reject(seq, `checkpoint at event ${seq}: ${problem}`);
}
