// `writ verify` on a complete evidence bundle: every event's Ed25519 signature, every device chain, every
// certificate, and the root recomputed over all leaves against the signed checkpoint. The bundle is made
// here, as the server would export it (signing a million events takes a while before the clock starts).
//
//   node --import tsx bench/verify.bench.ts [events=1000000] [devices=100]
import { spawnSync } from 'node:child_process';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { canonicalBytes } from '../src/core/canonical-json.js';
import { issueDeviceCertificate } from '../src/core/certificate.js';
import { keyIdFor } from '../src/core/dsse.js';
import { bundleEventLine, bundleHeaderLine } from '../src/ledger/bundle.js';
import { CompactRange, leafHash } from '../src/ledger/merkle.js';
import { orgFromKey } from '../src/server/org.js';
import { SimulatedDevice } from '../test/support/server.js';
import { WRIT_BIN } from '../test/support/writ-process.js';

const total = Number(process.argv[2] ?? 1_000_000);
const deviceCount = Number(process.argv[3] ?? 100);
const org = orgFromKey('bench.writ.local/verify', generateKeyPairSync('ed25519').privateKey);
const devices = Array.from({ length: deviceCount }, () => new SimulatedDevice());
const dir = mkdtempSync(join(tmpdir(), 'writ-bench-verify-'));
const path = join(dir, 'bundle.writ-evidence.jsonl');

const made = performance.now();
const range = new CompactRange();
const lines: string[] = [];
const chunk = 1000;
const eventsFile = join(dir, 'events.jsonl');
const eventsOut = createWriteStream(eventsFile);
for (let index = 0; index < total; ) {
  for (const device of devices) {
    if (index >= total) break;
    for (const envelope of device.events(Math.min(chunk / 10, total - index))) {
      const entry = Buffer.from(canonicalBytes(envelope));
      range.push(leafHash(entry));
      lines.push(bundleEventLine({ index: index++, envelope: entry.toString('utf8') }));
    }
    if (lines.length >= chunk) {
      if (!eventsOut.write(lines.join(''))) await once(eventsOut, 'drain');
      lines.length = 0;
    }
  }
}
eventsOut.end(lines.join(''));
await once(eventsOut, 'finish');

const at = new Date().toISOString();
const header = bundleHeaderLine({
  origin: org.origin,
  org_key: org.verifierKey,
  org_public_key: org.publicKeyPem,
  checkpoint: org.signCheckpoint({ origin: org.origin, size: total, root: range.root(), extensions: [] }),
  created_at: at,
  filter: {},
  complete: true,
  devices: devices.map((device) => {
    const publicKey = createPublicKey(device.publicKeyPem);
    return {
      id: device.id,
      key_id: keyIdFor(publicKey),
      public_key_pem: device.publicKeyPem,
      certificate: issueDeviceCertificate(
        {
          origin: org.origin,
          device_id: device.id,
          key_id: keyIdFor(publicKey),
          public_key: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
          person: { id: 'per_bench', iss: 'local', sub: 'bench@host' },
          assurance: 'local-os-user',
          issued_at: at,
        },
        org.signer,
      ),
    };
  }),
  people: [{ id: 'per_bench', iss: 'local', sub: 'bench@host' }],
  policy_bundles: [],
});
spawnSync('sh', ['-c', `cat - '${eventsFile}' > '${path}'`], { input: header });
rmSync(eventsFile);
console.log(`bundle: ${total} events from ${deviceCount} devices, ${(statSync(path).size / 2 ** 20).toFixed(0)} MiB, made in ${((performance.now() - made) / 1000).toFixed(1)} s`);

const started = performance.now();
const run = spawnSync(process.execPath, [WRIT_BIN, 'verify', path, '--org-key', org.verifierKey], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
const seconds = (performance.now() - started) / 1000;
if (run.status !== 0) throw new Error(`writ verify failed (${run.status}): ${run.stdout}${run.stderr}`);
console.log(run.stdout.split('\n')[0]);
console.log(`writ verify: ${total} events in ${seconds.toFixed(1)} s = ${(total / seconds).toFixed(0)} events/s (whole process; signatures checked on the thread pool)`);
rmSync(dir, { recursive: true, force: true });
