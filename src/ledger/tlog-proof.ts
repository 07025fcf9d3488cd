// C2SP tlog-proof (c2sp.org/tlog-proof): an offline-verifiable receipt that an entry is in a log:
// `c2sp.org/tlog-proof@v1`, optional `extra <base64>`, `index <n>`, inclusion proof hashes, a blank line, checkpoint.
import { CheckpointError, openLogCheckpoint, type TreeHead } from './log-checkpoint.js';
import { leafHash, verifyInclusion } from './merkle.js';
import { decodeBase64, type NoteVerifier } from './note.js';

export type TlogProofErrorCode = 'MALFORMED_PROOF' | 'BAD_CHECKPOINT' | 'INCLUSION_MISMATCH';

/** Why a tlog-proof was rejected. */
export class TlogProofError extends Error {
  constructor(
    readonly code: TlogProofErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TlogProofError';
  }
}

/** The parts of a tlog-proof. `checkpoint` is the signed checkpoint note, verbatim. */
export interface TlogProof {
  index: number;
  proof: Buffer[];
  checkpoint: string;
  /** Opaque, unauthenticated application data: never trust it because it is in a receipt. */
  extra?: Buffer;
}

export const TLOG_PROOF_HEADER = 'c2sp.org/tlog-proof@v1';

// An inclusion proof has at most one hash per tree level; sizes here stay below 2^53.
const MAX_PROOF_HASHES = 63;

/** The text of a tlog-proof (file extension `.tlog-proof`). */
export function formatTlogProof({ index, proof, checkpoint, extra }: TlogProof): string {
  if (!Number.isSafeInteger(index) || index < 0) throw new TlogProofError('MALFORMED_PROOF', `index \`${index}\` is not a non-negative safe integer`);
  if (proof.length > MAX_PROOF_HASHES) throw new TlogProofError('MALFORMED_PROOF', `proof has ${proof.length} hashes, more than ${MAX_PROOF_HASHES}`);
  for (const [i, hash] of proof.entries()) {
    if (!(hash instanceof Uint8Array) || hash.length !== 32) throw new TlogProofError('MALFORMED_PROOF', `proof hash ${i} is not 32 bytes`);
  }
  if (!checkpoint.endsWith('\n') || checkpoint.startsWith('\n')) {
    throw new TlogProofError('MALFORMED_PROOF', 'checkpoint is not a signed note (empty first line or no final newline)');
  }
  const lines = [TLOG_PROOF_HEADER];
  if (extra !== undefined) lines.push(`extra ${Buffer.from(extra).toString('base64')}`);
  lines.push(`index ${index}`, ...proof.map((hash) => Buffer.from(hash).toString('base64')));
  return `${lines.join('\n')}\n\n${checkpoint}`;
}

/** Parses a tlog-proof strictly, without checking the checkpoint signature or the proof. */
export function parseTlogProof(text: string): TlogProof {
  // A receipt arrives from anywhere (a device, an auditor's mailbox): parse every line defensively.
  const blank = text.indexOf('\n\n');
  if (blank < 0) throw new TlogProofError('MALFORMED_PROOF', 'tlog-proof has no blank line before the checkpoint');
  const lines = text.slice(0, blank).split('\n');
  const checkpoint = text.slice(blank + 2);
  if (lines[0] !== TLOG_PROOF_HEADER) {
    throw new TlogProofError('MALFORMED_PROOF', `first line \`${lines[0]}\` is not \`${TLOG_PROOF_HEADER}\``);
  }
  let next = 1;
  let extra: Buffer | undefined;
  if (lines[next]?.startsWith('extra ')) {
    extra = decodeBase64(lines[next].slice('extra '.length));
    if (extra === undefined) throw new TlogProofError('MALFORMED_PROOF', 'extra data is not valid base64');
    next += 1;
  }
  const indexLine = lines[next] ?? '';
  const match = /^index (0|[1-9][0-9]*)$/.exec(indexLine);
  if (!match) throw new TlogProofError('MALFORMED_PROOF', `line ${next + 1} \`${indexLine}\` is not \`index <decimal without leading zeroes>\``);
  const index = Number(match[1]);
  if (!Number.isSafeInteger(index)) throw new TlogProofError('MALFORMED_PROOF', `index ${match[1]} is above 2^53 - 1`);
  const hashLines = lines.slice(next + 1);
  if (hashLines.length > MAX_PROOF_HASHES) {
    throw new TlogProofError('MALFORMED_PROOF', `proof has ${hashLines.length} hashes, more than ${MAX_PROOF_HASHES}`);
  }
  const proof = hashLines.map((line, i) => {
    const hash = decodeBase64(line);
    if (hash === undefined || hash.length !== 32) {
      throw new TlogProofError('MALFORMED_PROOF', `line ${next + 2 + i} is not a base64 SHA-256 hash`);
    }
    return hash;
  });
  if (checkpoint === '') throw new TlogProofError('MALFORMED_PROOF', 'tlog-proof has no checkpoint after the blank line');
  return extra === undefined ? { index, proof, checkpoint } : { index, proof, checkpoint, extra };
}

/**
 * Verifies a tlog-proof for `entry` (the logged bytes; hashed here as an RFC 6962 leaf): the checkpoint must be
 * signed by `verifier` for `expectedOrigin` (when given), and the proof must lead from the leaf to its root.
 * Witness cosignatures are not checked: that is the caller's policy.
 */
export function verifyTlogProof(
  text: string,
  entry: Uint8Array,
  verifier: NoteVerifier,
  expectedOrigin?: string,
): { index: number; head: TreeHead; extra?: Buffer } {
  const parsed = parseTlogProof(text);
  let head: TreeHead;
  try {
    head = openLogCheckpoint(parsed.checkpoint, verifier, expectedOrigin);
  } catch (error) {
    if (!(error instanceof CheckpointError)) throw error;
    throw new TlogProofError('BAD_CHECKPOINT', `tlog-proof ${error.message}`, { cause: error });
  }
  if (parsed.index >= head.size) {
    throw new TlogProofError('INCLUSION_MISMATCH', `index ${parsed.index} is not below the checkpoint tree size ${head.size}`);
  }
  if (!verifyInclusion(parsed.index, head.size, leafHash(entry), parsed.proof, head.root)) {
    throw new TlogProofError(
      'INCLUSION_MISMATCH',
      `inclusion proof for index ${parsed.index} does not lead to the root of the checkpoint of size ${head.size}`,
    );
  }
  return parsed.extra === undefined ? { index: parsed.index, head } : { index: parsed.index, head, extra: parsed.extra };
}
