// C2SP tlog-checkpoint (c2sp.org/tlog-checkpoint): the signed tree head as a signed note whose text is
// `<origin>\n<tree size>\n<base64 root hash>\n[<extension line>\n]*`.
import { decodeBase64, NoteError, openNote, signNote, type NoteSigner, type NoteVerifier } from './note.js';

export type CheckpointErrorCode = 'MALFORMED_CHECKPOINT' | 'BAD_CHECKPOINT_SIGNATURE' | 'WRONG_ORIGIN';

/** Why a checkpoint was rejected. */
export class CheckpointError extends Error {
  constructor(
    readonly code: CheckpointErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CheckpointError';
  }
}

/** A log's tree head: the root hash of its first `size` entries. */
export interface TreeHead {
  origin: string;
  size: number;
  root: Buffer; // 32 bytes
  /** Opaque extension lines; the spec does not recommend them (monitors cannot audit them). */
  extensions: string[];
}

/** The checkpoint note text of `head`, ending in a newline. */
export function formatCheckpoint(head: TreeHead): string {
  if (!isLine(head.origin)) throw new CheckpointError('MALFORMED_CHECKPOINT', `origin \`${head.origin}\` is empty or has a control character`);
  if (!Number.isSafeInteger(head.size) || head.size < 0) {
    throw new CheckpointError('MALFORMED_CHECKPOINT', `tree size \`${head.size}\` is not a non-negative safe integer`);
  }
  if (!(head.root instanceof Uint8Array) || head.root.length !== 32) {
    throw new CheckpointError('MALFORMED_CHECKPOINT', 'root hash is not 32 bytes');
  }
  for (const line of head.extensions) {
    if (!isLine(line)) throw new CheckpointError('MALFORMED_CHECKPOINT', `extension line \`${line}\` is empty or has a control character`);
  }
  return [head.origin, String(head.size), Buffer.from(head.root).toString('base64'), ...head.extensions].join('\n') + '\n';
}

/** Parses checkpoint note text strictly: every deviation from the spec is an error. */
export function parseCheckpoint(text: string): TreeHead {
  // Checkpoint text comes from the network or a receipt: untrusted until a signature over it verified.
  if (!text.endsWith('\n')) throw new CheckpointError('MALFORMED_CHECKPOINT', 'checkpoint text does not end with a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) throw new CheckpointError('MALFORMED_CHECKPOINT', `checkpoint has ${lines.length} lines, not at least 3`);
  const [origin, size, root, ...extensions] = lines;
  for (const [i, line] of lines.entries()) {
    if (!isLine(line)) throw new CheckpointError('MALFORMED_CHECKPOINT', `checkpoint line ${i + 1} is empty or has a control character`);
  }
  if (!/^(0|[1-9][0-9]*)$/.test(size)) {
    throw new CheckpointError('MALFORMED_CHECKPOINT', `tree size \`${size}\` is not a decimal number without leading zeroes`);
  }
  const treeSize = Number(size);
  if (!Number.isSafeInteger(treeSize)) throw new CheckpointError('MALFORMED_CHECKPOINT', `tree size \`${size}\` is above 2^53 - 1`);
  const rootHash = decodeBase64(root);
  if (rootHash === undefined) throw new CheckpointError('MALFORMED_CHECKPOINT', `root hash \`${root}\` is not valid base64`);
  if (rootHash.length !== 32) throw new CheckpointError('MALFORMED_CHECKPOINT', `root hash is ${rootHash.length} bytes, not 32`);
  return { origin, size: treeSize, root: rootHash, extensions };
}

/** The signed checkpoint note for `head`. The signer's key name should be the origin. */
export function signLogCheckpoint(head: TreeHead, signer: NoteSigner): string {
  return signNote(formatCheckpoint(head), [signer]);
}

/**
 * Opens a signed checkpoint: it must be signed by `verifier` (other signatures, such as witness cosignatures,
 * are ignored), well formed, and for `expectedOrigin` when given.
 */
export function openLogCheckpoint(note: string, verifier: NoteVerifier, expectedOrigin?: string): TreeHead {
  let text: string;
  try {
    text = openNote(note, [verifier]).text;
  } catch (error) {
    if (!(error instanceof NoteError)) throw error;
    const code = error.code === 'MALFORMED_NOTE' ? 'MALFORMED_CHECKPOINT' : 'BAD_CHECKPOINT_SIGNATURE';
    throw new CheckpointError(code, `checkpoint: ${error.message}`, { cause: error });
  }
  const head = parseCheckpoint(text);
  if (expectedOrigin !== undefined && head.origin !== expectedOrigin) {
    throw new CheckpointError('WRONG_ORIGIN', `checkpoint origin \`${head.origin}\` is not \`${expectedOrigin}\``);
  }
  return head;
}

// A checkpoint line is non-empty and, as in any note, free of control characters (newline included).
function isLine(line: unknown): line is string {
  return typeof line === 'string' && line !== '' && !/[\x00-\x1f]/.test(line) && !/\p{Cs}/u.test(line);
}
