// Proofs at scale: a log of 1,000,000 entries in the SQLite store (entries are synthetic: the store does not
// judge evidence, so signing a million events would only slow the set-up), then inclusion and consistency
// proofs built from the store's tree nodes and verified, at random positions.
//
//   node --import tsx bench/proofs.bench.ts [entries=1000000] [samples=2000]
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { leafHash, verifyConsistency, verifyInclusion } from '../src/ledger/merkle.js';
import { LogService } from '../src/server/log-service.js';
import { orgFromKey } from '../src/server/org.js';
import { openStore } from '../src/store/open.js';
import type { IngestEvent } from '../src/store/store.js';
import { summary } from './stats.js';

const entries = Number(process.argv[2] ?? 1_000_000);
const samples = Number(process.argv[3] ?? 2000);
const dir = mkdtempSync(join(tmpdir(), 'writ-bench-proofs-'));
const store = await openStore(`sqlite:${join(dir, 'writ.db')}`);
await store.migrate();
const org = orgFromKey('bench.writ.local/proofs', generateKeyPairSync('ed25519').privateKey);
const log = new LogService(store, org, () => new Date());

const deviceId = 'dev_0000000000000000';
await store.upsertPerson({ id: 'per_bench', iss: 'local', sub: 'bench', groups: [] }, new Date().toISOString());
await store.enrollDevice({ id: deviceId, keyId: 'sha256:00', publicKeyPem: '', personId: 'per_bench', assurance: 'local-os-user', certificate: '{}', enrolledAt: new Date().toISOString() });

const leaves: Buffer[] = [];
const loadStarted = performance.now();
let prev = '';
for (let seq = 1; seq <= entries; ) {
  const batch: IngestEvent[] = [];
  for (let i = 0; i < 10_000 && seq <= entries; i++, seq++) {
    const envelope = `{"n":${seq},"r":"${randomBytes(8).toString('hex')}"}`;
    const hash = randomBytes(32).toString('hex');
    const leaf = leafHash(Buffer.from(envelope));
    leaves.push(leaf);
    batch.push({ seq, prev, hash, leafHash: leaf, envelope, time: new Date().toISOString(), kind: 'bench', agentName: 'bench', rules: [] });
    prev = hash;
  }
  await store.ingest(deviceId, batch, new Date().toISOString());
}
console.log(`loaded ${entries} entries in ${((performance.now() - loadStarted) / 1000).toFixed(1)} s (store ingest without HTTP or signatures)`);

const root = await log.root(entries);
const build: number[] = [];
const verify: number[] = [];
const sizes: number[] = [];
for (let i = 0; i < samples; i++) {
  const index = Math.floor(Math.random() * entries);
  let t = performance.now();
  const proof = await log.inclusionProof(index, entries);
  build.push((performance.now() - t) * 1000);
  t = performance.now();
  const ok = verifyInclusion(index, entries, leaves[index], proof, root);
  verify.push((performance.now() - t) * 1000);
  if (!ok) throw new Error(`inclusion proof for ${index} does not verify`);
  sizes.push(proof.length);
}
console.log(`inclusion proof at ${entries}: ${Math.max(...sizes)} hashes max (${Math.max(...sizes) * 32} bytes)`);
console.log(`  build (store lookups + assembly), µs: ${summary(build)}`);
console.log(`  verify, µs: ${summary(verify)}`);

const consistencyBuild: number[] = [];
const consistencyVerify: number[] = [];
let longest = 0;
for (let i = 0; i < samples / 4; i++) {
  const oldSize = 1 + Math.floor(Math.random() * (entries - 1));
  const oldRoot = await log.root(oldSize);
  let t = performance.now();
  const proof = await log.consistencyProof(oldSize, entries);
  consistencyBuild.push((performance.now() - t) * 1000);
  t = performance.now();
  if (!verifyConsistency(oldSize, entries, oldRoot, root, proof)) throw new Error(`consistency ${oldSize}→${entries} does not verify`);
  consistencyVerify.push((performance.now() - t) * 1000);
  longest = Math.max(longest, proof.length);
}
console.log(`consistency proof to ${entries}: ${longest} hashes max (${longest * 32} bytes)`);
console.log(`  build, µs: ${summary(consistencyBuild)}`);
console.log(`  verify, µs: ${summary(consistencyVerify)}`);
await store.close();
rmSync(dir, { recursive: true, force: true });
