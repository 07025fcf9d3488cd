// RFC 6962 / RFC 9162 Merkle tree: hashing, the nodes a store keeps, proofs and their verification.
// Sizes and indexes are Numbers (safe up to 2^53): halving and parity use division and %, never 32-bit bit ops.
import { createHash } from 'node:crypto';

/** A node of the tree: level 0 holds leaf hashes, level l the hash of 2^l leaves from index*2^l. */
export interface NodeId {
  level: number;
  index: number;
}

export interface TreeNode extends NodeId {
  hash: Buffer; // 32 bytes
}

const HASH_SIZE = 32;
// Leaf and node hashes are domain-separated so a leaf can never pass as an inner node. RFC 6962 §2.1
const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);

/** The key under which a store's node map holds `id`: `level/index`. */
export function nodeKey(id: NodeId): string {
  return `${id.level}/${id.index}`;
}

/** The leaf hash of an entry: SHA-256(0x00 || entry). */
export function leafHash(entry: Uint8Array): Buffer {
  return createHash('sha256').update(LEAF_PREFIX).update(entry).digest();
}

/** The hash of an inner node: SHA-256(0x01 || left || right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  return createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest();
}

/** The root hash of the empty tree: SHA-256 of the empty string. RFC 6962 §2.1 */
export const EMPTY_ROOT: Buffer = createHash('sha256').digest();

/** The perfect, aligned subtrees covering [0, size), left to right (one per set bit of size, largest first). */
export function borderNodeIds(size: number): NodeId[] {
  checkSize(size, 'size');
  return rangeNodeIds(0, size);
}

/**
 * Nodes that become complete when `leaves` (leaf hashes) are appended to a tree of `size` whose border hashes
 * are `border` (in borderNodeIds(size) order). Includes the new level-0 nodes.
 */
export function completeNodes(size: number, border: Buffer[], leaves: Buffer[]): TreeNode[] {
  const stack: TreeNode[] = borderNodes(size, border);
  const complete: TreeNode[] = [];
  let position = size;
  for (const [i, leaf] of leaves.entries()) {
    if (!isHash(leaf)) throw new Error(`leaf hash ${i} is not ${HASH_SIZE} bytes`);
    let node: TreeNode = { level: 0, index: position, hash: Buffer.from(leaf) };
    complete.push(node);
    // INVARIANT: stack levels strictly decrease, so only the top can be the left sibling of `node`.
    while (stack.length > 0 && stack[stack.length - 1].level === node.level) {
      const left = stack.pop()!;
      node = { level: node.level + 1, index: left.index / 2, hash: nodeHash(left.hash, node.hash) };
      complete.push(node);
    }
    stack.push(node);
    position += 1;
  }
  return complete;
}

/** Root hash of a tree of `size` from the hashes of borderNodeIds(size). */
export function rootFromBorder(size: number, border: Buffer[]): Buffer {
  const nodes = borderNodes(size, border);
  if (nodes.length === 0) return Buffer.from(EMPTY_ROOT);
  return foldRight(nodes.map((node) => node.hash));
}

/**
 * Node ids a store must look up to build the inclusion proof of leaf `index` in a tree of `size`
 * (only complete nodes: a right-edge subtree is decomposed into its perfect subtrees).
 */
export function inclusionProofNodeIds(index: number, size: number): NodeId[] {
  return inclusionPlan(index, size).flat();
}

/** The inclusion proof of leaf `index` in a tree of `size` (RFC 6962 §2.1.1 PATH), from a store's node map. */
export function inclusionProof(index: number, size: number, nodes: ReadonlyMap<string, Buffer>): Buffer[] {
  return inclusionPlan(index, size).map((group) => hashGroup(group, nodes));
}

/** Node ids a store must look up to build the consistency proof from `oldSize` to `newSize`. */
export function consistencyProofNodeIds(oldSize: number, newSize: number): NodeId[] {
  return consistencyPlan(oldSize, newSize).flat();
}

/** The consistency proof from `oldSize` to `newSize` (RFC 6962 §2.1.2 PROOF), from a store's node map. */
export function consistencyProof(oldSize: number, newSize: number, nodes: ReadonlyMap<string, Buffer>): Buffer[] {
  return consistencyPlan(oldSize, newSize).map((group) => hashGroup(group, nodes));
}

/** Whether `proof` shows leaf hash `leaf` at `index` in the tree of `size` with `root`. RFC 9162 §2.1.3.2 */
export function verifyInclusion(index: number, size: number, leaf: Buffer, proof: Buffer[], root: Buffer): boolean {
  // Every argument may come from an untrusted receipt: check shapes before hashing.
  if (!isSize(index) || !isSize(size) || index >= size) return false;
  if (!isHash(leaf) || !isHash(root) || !isHashList(proof)) return false;
  let fn = index;
  let sn = size - 1;
  let r: Buffer = Buffer.from(leaf);
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn /= 2;
        sn = Math.floor(sn / 2);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && r.equals(root);
}

/** Whether `proof` shows the tree of `newSize` with `newRoot` extends the one of `oldSize` with `oldRoot`. RFC 9162 §2.1.4.2 */
export function verifyConsistency(
  oldSize: number,
  newSize: number,
  oldRoot: Buffer,
  newRoot: Buffer,
  proof: Buffer[],
): boolean {
  if (!isSize(oldSize) || !isSize(newSize) || oldSize > newSize) return false;
  if (!isHash(oldRoot) || !isHash(newRoot) || !isHashList(proof)) return false;
  if (oldSize === newSize) return proof.length === 0 && Buffer.compare(oldRoot, newRoot) === 0;
  // Every tree extends the empty one, but only if the old root really is the empty root.
  if (oldSize === 0) return proof.length === 0 && EMPTY_ROOT.equals(oldRoot);
  if (proof.length === 0) return false;
  const path = isPowerOfTwo(oldSize) ? [oldRoot, ...proof] : proof;
  let fn = oldSize - 1;
  let sn = newSize - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr: Buffer = Buffer.from(path[0]);
  let sr: Buffer = Buffer.from(path[0]);
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (fn % 2 === 0 && fn !== 0) {
        fn /= 2;
        sn = Math.floor(sn / 2);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && fr.equals(oldRoot) && sr.equals(newRoot);
}

/** Incremental root over a stream of leaf hashes (O(log n) memory): push(leaf), size, root(). For verifying whole-log bundles. */
export class CompactRange {
  // INVARIANT: #border holds the hashes of borderNodeIds(#size), largest subtree first.
  #border: Buffer[] = [];
  #size = 0;

  /** Appends one leaf hash. */
  push(leaf: Buffer): void {
    if (!isHash(leaf)) throw new Error(`leaf hash is not ${HASH_SIZE} bytes`);
    let node: Buffer = Buffer.from(leaf);
    // Each trailing 1 bit of the old size is a perfect subtree the new leaf completes a level above.
    for (let count = this.#size; count % 2 === 1; count = Math.floor(count / 2)) {
      node = nodeHash(this.#border.pop()!, node);
    }
    this.#border.push(node);
    this.#size += 1;
  }

  /** The number of leaves pushed so far. */
  get size(): number {
    return this.#size;
  }

  /** The root hash of the tree of the leaves pushed so far. */
  root(): Buffer {
    return rootFromBorder(this.#size, this.#border);
  }
}

function isSize(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

function checkSize(n: number, name: string): void {
  if (!isSize(n)) throw new RangeError(`${name} \`${n}\` is not a non-negative safe integer`);
}

function isHash(h: unknown): h is Uint8Array {
  return h instanceof Uint8Array && h.length === HASH_SIZE;
}

function isHashList(list: unknown): list is Buffer[] {
  return Array.isArray(list) && list.every(isHash);
}

function isPowerOfTwo(n: number): boolean {
  while (n > 1 && n % 2 === 0) n /= 2;
  return n === 1;
}

/** The largest power of two strictly below n (n ≥ 2): where RFC 6962 splits a tree of n leaves. */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * The perfect subtrees covering [begin, end), largest first. `begin` must be a multiple of the smallest power of
 * two ≥ end - begin, which holds for every subtree of an RFC 6962 tree, so each piece is an aligned node.
 */
function rangeNodeIds(begin: number, end: number): NodeId[] {
  const ids: NodeId[] = [];
  let level = 0;
  while (2 ** (level + 1) <= end - begin) level += 1;
  let offset = begin;
  for (; level >= 0 && offset < end; level -= 1) {
    const width = 2 ** level;
    if (offset + width <= end) {
      ids.push({ level, index: offset / width });
      offset += width;
    }
  }
  return ids;
}

function borderNodes(size: number, border: Buffer[]): TreeNode[] {
  const ids = borderNodeIds(size);
  if (border.length !== ids.length) {
    throw new Error(`a tree of size ${size} has ${ids.length} border hashes, got ${border.length}`);
  }
  return ids.map((id, i) => {
    if (!isHash(border[i])) throw new Error(`border hash ${nodeKey(id)} is not ${HASH_SIZE} bytes`);
    return { ...id, hash: Buffer.from(border[i]) };
  });
}

/** The RFC 6962 hash of adjacent perfect subtrees, largest first: the smaller ones form the right branch. */
function foldRight(hashes: Buffer[]): Buffer {
  let hash = hashes[hashes.length - 1];
  for (let i = hashes.length - 2; i >= 0; i -= 1) hash = nodeHash(hashes[i], hash);
  return hash;
}

function hashGroup(ids: NodeId[], nodes: ReadonlyMap<string, Buffer>): Buffer {
  return foldRight(
    ids.map((id) => {
      const hash = nodes.get(nodeKey(id));
      if (hash === undefined) throw new Error(`node ${nodeKey(id)} is missing from the node map`);
      if (!isHash(hash)) throw new Error(`node ${nodeKey(id)} is not ${HASH_SIZE} bytes`);
      return hash;
    }),
  );
}

/** One group of perfect subtrees per proof hash, leaf to root: RFC 6962 §2.1.1 PATH(m, D[n]). */
function inclusionPlan(index: number, size: number): NodeId[][] {
  checkSize(index, 'index');
  checkSize(size, 'size');
  if (index >= size) throw new RangeError(`index ${index} is not below tree size ${size}`);
  const groups: NodeId[][] = [];
  let begin = 0;
  let end = size;
  while (end - begin > 1) {
    const k = splitPoint(end - begin);
    if (index < begin + k) {
      groups.push(rangeNodeIds(begin + k, end));
      end = begin + k;
    } else {
      groups.push(rangeNodeIds(begin, begin + k));
      begin += k;
    }
  }
  return groups.reverse();
}

/** One group of perfect subtrees per proof hash, deepest first: RFC 6962 §2.1.2 SUBPROOF(m, D[n], true). */
function consistencyPlan(oldSize: number, newSize: number): NodeId[][] {
  checkSize(oldSize, 'old size');
  checkSize(newSize, 'new size');
  if (oldSize > newSize) throw new RangeError(`old size ${oldSize} is above new size ${newSize}`);
  if (oldSize === 0 || oldSize === newSize) return [];
  const groups: NodeId[][] = [];
  let begin = 0;
  let end = newSize;
  let known = true; // SUBPROOF's b: the verifier already holds MTH(D[begin:oldSize])
  while (oldSize !== end) {
    const k = splitPoint(end - begin);
    if (oldSize <= begin + k) {
      groups.push(rangeNodeIds(begin + k, end));
      end = begin + k;
    } else {
      groups.push(rangeNodeIds(begin, begin + k));
      begin += k;
      known = false;
    }
  }
  if (!known) groups.push(rangeNodeIds(begin, end));
  return groups.reverse();
}
