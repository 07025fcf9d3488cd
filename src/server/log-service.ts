// The org's transparency log as the server serves it: roots, signed checkpoints, proofs and receipts, all
// computed from the complete tree nodes the store keeps.
import {
  borderNodeIds,
  consistencyProof,
  consistencyProofNodeIds,
  EMPTY_ROOT,
  inclusionProof,
  inclusionProofNodeIds,
  rootFromBorder,
  nodeKey,
} from '../ledger/merkle.js';
import { formatTlogProof } from '../ledger/tlog-proof.js';
import type { Checkpoint, Store } from '../store/store.js';
import { badRequest, notFound } from './http-error.js';
import type { Org } from './org.js';

export class LogService {
  #timer?: NodeJS.Timeout;

  constructor(
    private readonly store: Store,
    private readonly org: Org,
    private readonly now: () => Date,
  ) {}

  async root(size: number): Promise<Buffer> {
    if (size === 0) return EMPTY_ROOT;
    const ids = borderNodeIds(size);
    const nodes = await this.store.nodes(ids);
    return rootFromBorder(size, ids.map((id) => required(nodes, nodeKey(id))));
  }

  /** Signs and stores a checkpoint for the current size if the latest one is older; returns the latest. */
  async publishCheckpoint(): Promise<Checkpoint | undefined> {
    const [size, latest] = await Promise.all([this.store.logSize(), this.store.latestCheckpoint()]);
    if (latest && latest.size >= size) return latest;
    if (size === 0) return undefined;
    const root = await this.root(size);
    const note = this.org.signCheckpoint({ origin: this.org.origin, size, root, extensions: [] });
    return this.store.addCheckpoint({ size, root, note, createdAt: this.now().toISOString() });
  }

  /** Publishes checkpoints on an interval; errors (a database restart) are logged and retried next tick. */
  start(intervalMs: number, onError: (error: Error) => void): void {
    this.#timer = setInterval(() => this.publishCheckpoint().catch(onError), intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  async inclusionProof(index: number, size: number): Promise<Buffer[]> {
    if (!(index >= 0 && index < size)) throw badRequest(`index ${index} is not in a tree of size ${size}`);
    await this.requireSize(size);
    return inclusionProof(index, size, await this.store.nodes(inclusionProofNodeIds(index, size)));
  }

  async consistencyProof(oldSize: number, newSize: number): Promise<Buffer[]> {
    if (!(oldSize >= 0 && oldSize <= newSize)) throw badRequest(`no consistency proof from size ${oldSize} to size ${newSize}`);
    await this.requireSize(newSize);
    return consistencyProof(oldSize, newSize, await this.store.nodes(consistencyProofNodeIds(oldSize, newSize)));
  }

  /** A C2SP tlog-proof for one entry against the latest checkpoint that covers it. */
  async receipt(index: number): Promise<string> {
    const checkpoint = await this.store.latestCheckpoint();
    if (!checkpoint || index >= checkpoint.size) throw notFound(`entry ${index} is not yet covered by a signed checkpoint; retry shortly`);
    const proof = await this.inclusionProof(index, checkpoint.size);
    return formatTlogProof({ index, proof, checkpoint: checkpoint.note });
  }

  private async requireSize(size: number): Promise<void> {
    const current = await this.store.logSize();
    if (size > current) throw notFound(`the log has ${current} entries, not ${size}`);
  }
}

function required(nodes: ReadonlyMap<string, Buffer>, key: string): Buffer {
  const hash = nodes.get(key);
  if (!hash) throw new Error(`tree node ${key} is missing from the store`);
  return hash;
}
