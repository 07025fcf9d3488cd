// A real Writ server for tests: in-process, on 127.0.0.1:<random port>, with SQLite in memory (or any store
// spec), an org key in a temporary directory and an admin token.
import { generateKeyPairSync, createPublicKey, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keyIdFor, ed25519Signer, type Envelope, type Signer } from '../../src/core/dsse.js';
import { deviceIdFor } from '../../src/core/certificate.js';
import { eventHash, sealEvent, type EventBody } from '../../src/core/event.js';
import { signRequest } from '../../src/core/request-signature.js';
import { startServer, type RunningServer, type StartServerOptions } from '../../src/server/run.js';

export interface TestServer extends RunningServer {
  adminToken: string;
  dataDir: string;
}

export async function startTestServer(options: Partial<StartServerOptions> = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'writ-server-'));
  const server = await startServer({ db: 'sqlite::memory:', port: 0, checkpointIntervalMs: 100, controlPollMs: 50, log: () => {}, ...options, dataDir });
  const adminToken = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
  return {
    ...server,
    adminToken,
    dataDir,
    async close() {
      await server.close();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A device as the server sees one: a key, a chain of signed events, and signed requests. */
export class SimulatedDevice {
  readonly privateKey: KeyObject;
  readonly publicKeyPem: string;
  readonly signer: Signer;
  readonly id: string;
  #seq = 0;
  #prev = '';

  constructor() {
    this.privateKey = generateKeyPairSync('ed25519').privateKey;
    const publicKey = createPublicKey(this.privateKey);
    this.publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }) as string;
    this.signer = ed25519Signer(this.privateKey);
    this.id = deviceIdFor(keyIdFor(publicKey));
  }

  get seq(): number {
    return this.#seq;
  }

  /** The next `count` events of this device's chain. */
  events(count: number, fields: Partial<EventBody> = {}): Envelope[] {
    return Array.from({ length: count }, () => {
      const body: EventBody = {
        v: 1,
        seq: ++this.#seq,
        prev: this.#prev,
        time: new Date().toISOString(),
        device: { id: this.id, key_id: this.signer.keyId },
        actor: { os_user: 'dev', assurance: 'local-os-user' },
        agent: { name: 'claude-code', version: '2.1.197' },
        kind: 'hook.PreToolUse',
        session_id: 'session-1',
        tool_use_id: `toolu_${this.#seq}`,
        data: { tool: 'Bash', decision: { decision: this.#seq % 5 === 0 ? 'deny' : 'allow', rules: this.#seq % 5 === 0 ? ['credentials.ssh'] : ['baseline.no-objection'], policy_hash: 'p1' } },
        ...fields,
      };
      const sealed = sealEvent(body, this.signer);
      this.#prev = eventHash(body);
      return sealed.envelope;
    });
  }

  /** fetch() with this device's request signature. */
  async request(url: string, method: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
    const bytes = body === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(body));
    const path = new URL(url).pathname + new URL(url).search;
    return fetch(url, {
      method,
      headers: { ...signRequest({ method, path, body: bytes }, this.signer), ...(body !== undefined && { 'content-type': 'application/json' }), ...headers },
      ...(body !== undefined && { body: bytes }),
    });
  }

  /** Enrols locally with an enroller or admin token. */
  async enroll(server: { url: string }, token: string): Promise<Record<string, unknown>> {
    const response = await this.request(`${server.url}/v1/enroll`, 'POST', { public_key_pem: this.publicKeyPem, os_user: 'dev', hostname: `host-${this.id}` }, { authorization: `Bearer ${token}` });
    const answer = (await response.json()) as Record<string, unknown>;
    if (response.status !== 200) throw new Error(`enrol failed: ${response.status} ${JSON.stringify(answer)}`);
    return answer;
  }
}

export interface ServerProcess {
  url: string;
  child: import('node:child_process').ChildProcess;
  /** Resolves when the process has exited. */
  exited: Promise<unknown>;
}

/** `writ server` as its own process, as an operator runs it; resolves once it listens. */
export async function startServerProcess(args: string[]): Promise<ServerProcess> {
  const { spawn } = await import('node:child_process');
  const { WRIT_BIN } = await import('./writ-process.js');
  const child = spawn(process.execPath, [WRIT_BIN, 'server', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const url = await new Promise<string>((resolve, reject) => {
    let text = '';
    child.stderr!.on('data', (chunk) => {
      text += chunk;
      const match = /listening on (http:\/\/\S+);/.exec(text);
      if (match) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`writ server exited ${code}: ${text}`)));
  });
  return { url, child, exited };
}

/** A port nothing listens on now, for a server that must come back on the same address. */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/**
 * Uploads a device's events the way a daemon does: in order, retrying on network errors and 5xx, rewinding
 * on a reported gap. Returns once the server's head is the last event.
 */
export async function uploadAll(device: SimulatedDevice, urls: () => string, events: Envelope[], batch: number): Promise<void> {
  let next = 0;
  while (next < events.length) {
    const slice = events.slice(next, next + batch);
    let response: Response;
    try {
      response = await device.request(`${urls()}/v1/ingest`, 'POST', { events: slice });
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
      continue;
    }
    if (response.status >= 500) {
      await response.body?.cancel();
      await new Promise((resolve) => setTimeout(resolve, 100));
      continue;
    }
    const body = (await response.json()) as { head_seq: number; error?: { message: string } };
    if (response.status !== 200) throw new Error(`ingest refused: ${response.status} ${body.error?.message}`);
    next = body.head_seq; // events[i] has seq i+1
  }
}

/** Exports the whole log as an evidence bundle and verifies it offline, pinned to the org key. */
export async function verifyWholeLog(url: string, adminToken: string, orgKey?: string) {
  const { createBundleVerifier } = await import('../../src/ledger/bundle.js');
  const response = await fetch(`${url}/v1/export?format=bundle`, { headers: { authorization: `Bearer ${adminToken}` } });
  if (response.status !== 200) throw new Error(`export failed: ${response.status} ${await response.text()}`);
  const lines = (await response.text()).trimEnd().split('\n');
  const header = JSON.parse(lines[0]) as { org_key: string };
  const verifier = createBundleVerifier({ orgKey: orgKey ?? header.org_key });
  verifier.header(lines[0]);
  for (const line of lines.slice(1)) verifier.event(line);
  return verifier.finish();
}
