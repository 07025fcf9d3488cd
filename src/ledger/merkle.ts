// RFC 6962 / RFC 9162 Merkle tree: hashing, the nodes a store keeps, proofs and their verification.

/** A node of the tree: level 0 holds leaf hashes, level l the hash of 2^l leaves from index*2^l. */
export interface NodeId {
  level: number;
  index: number;
}

export interface TreeNode extends NodeId {
  hash: Buffer; // 32 bytes
}
