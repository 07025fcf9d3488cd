// A real `writ server` in-process (Fastify app, SQLite store in memory, an org key in a temporary directory)
// and daemons enrolled with it, for tests of the device side of the control plane. A tamper proxy can sit
// between them to play a server that lies.
import { mkdtempSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { HOOK_PATH, startDaemon, type DaemonOptions, type RunningDaemon } from '../../src/daemon/daemon.js';
import { enrollDevice, writeEnrollment, type Enrollment } from '../../src/daemon/enrollment.js';
import { loadOrCreateDeviceKey } from '../../src/daemon/keys.js';
import { ensureWritHome, resolveWritHome, type WritHome } from '../../src/home/writ-home.js';
import { buildServer, type ServerContext } from '../../src/server/app.js';
import { newSecretToken, type OidcAccess } from '../../src/server/auth.js';
import { loadOrCreateOrg, type Org } from '../../src/server/org.js';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/store.js';

export interface HttpAnswer {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- parsed JSON or text, as the test expects
}

export interface TestControlPlane {
  url: string;
  port: number;
  store: Store;
  org: Org;
  context: ServerContext;
  adminToken: string;
  enrollToken: string;
  /** A request with the admin token. */
  admin(method: string, path: string, body?: unknown): Promise<HttpAnswer>;
  /** Signs and stores a checkpoint for the log as it is now (the server does this on an interval). */
  publishCheckpoint(): Promise<void>;
  /** Stops answering (the store is kept). */
  stop(): Promise<void>;
  /** Answers again on the same port, over the same store and org. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function startControlPlane(options: { oidc?: OidcAccess } = {}): Promise<TestControlPlane> {
  const store = await openStore('sqlite::memory:');
  await store.migrate();
  const org = loadOrCreateOrg(mkdtempSync(join(tmpdir(), 'writ-org-')), 'writ.test/acme');
  const admin = newSecretToken();
  const enroller = newSecretToken();
  const at = new Date().toISOString();
  await store.createAdminToken({ id: `tok_${admin.hash.slice(0, 12)}`, name: 'test-admin', role: 'admin', createdAt: at }, admin.hash);
  await store.createAdminToken({ id: `tok_${enroller.hash.slice(0, 12)}`, name: 'test-enroller', role: 'enroller', createdAt: at }, enroller.hash);

  let app: FastifyInstance;
  let context: ServerContext;
  let port = 0;
  const listen = async () => {
    ({ app, context } = await buildServer({ store, org, oidc: options.oidc }));
    await app.listen({ port, host: '127.0.0.1' });
    port = (app.server.address() as { port: number }).port;
  };
  await listen();
  const url = () => `http://127.0.0.1:${port}`;

  const plane: TestControlPlane = {
    get url() {
      return url();
    },
    get port() {
      return port;
    },
    store,
    org,
    get context() {
      return context;
    },
    adminToken: admin.secret,
    enrollToken: enroller.secret,
    async admin(method, path, body) {
      const response = await fetch(url() + path, {
        method,
        headers: { authorization: `Bearer ${admin.secret}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      return { status: response.status, body: (response.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : text };
    },
    async publishCheckpoint() {
      await context.log.publishCheckpoint();
    },
    async stop() {
      await app.close();
    },
    restart: listen,
    async close() {
      await app.close().catch(() => {});
      await store.close();
    },
  } as TestControlPlane;
  return plane;
}

export interface EnrolledDaemon {
  home: WritHome;
  enrollment: Enrollment;
  daemon: RunningDaemon;
  logs: string[];
  /** Starts the daemon again on the same home (after close()). */
  restart(overrides?: Partial<DaemonOptions>): Promise<RunningDaemon>;
  post(body: string, headers?: Record<string, string>): Promise<{ status: number; body: string }>;
}

/** Fast retries so tests of outages do not wait long. */
export const TEST_TIMINGS: Pick<DaemonOptions, 'upload' | 'control'> = {
  upload: { debounceMs: 20, intervalMs: 60_000, witnessIntervalMs: 60_000, minBackoffMs: 50, maxBackoffMs: 200 },
  control: { minBackoffMs: 50, maxBackoffMs: 200 },
};

/** Enrols a fresh device in local mode (enrolment token) and starts its daemon against `serverUrl`. */
export async function startEnrolledDaemon(plane: TestControlPlane, options: { serverUrl?: string; home?: WritHome } = {}): Promise<EnrolledDaemon> {
  const home = options.home ?? resolveWritHome(mkdtempSync(join(tmpdir(), 'writ-home-')));
  ensureWritHome(home);
  const key = loadOrCreateDeviceKey(home.root);
  const enrollment = await enrollDevice({ server: plane.url, key, enrollToken: plane.enrollToken, hostname: 'test-host', os: 'test-os', osUser: 'tester' });
  writeEnrollment(home.enrollment, enrollment);
  const logs: string[] = [];
  const start = (overrides: Partial<DaemonOptions> = {}) =>
    startDaemon({ home, log: (line) => logs.push(line), serverUrl: options.serverUrl ?? plane.url, ...TEST_TIMINGS, ...overrides });
  const enrolled: EnrolledDaemon = {
    home,
    enrollment,
    daemon: await start(),
    logs,
    async restart(overrides) {
      enrolled.daemon = await start(overrides);
      return enrolled.daemon;
    },
    post: (body, headers = {}) =>
      new Promise((resolve, reject) => {
        const req = request({ socketPath: home.socket, method: 'POST', path: HOOK_PATH, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        });
        req.on('error', reject);
        req.end(body);
      }),
  };
  return enrolled;
}

/** What the proxy answers instead of the server; undefined passes the request through untouched. */
export type Tamper = (request: { method: string; path: string }) => { status: number; body: string; contentType?: string } | undefined;

export interface TamperProxy {
  url: string;
  /** Replaced at will by the test. */
  tamper: Tamper;
  close(): Promise<void>;
}

/** An HTTP proxy in front of `target` that forwards requests byte for byte (so device signatures hold) unless `tamper` answers. */
export async function startTamperProxy(target: string): Promise<TamperProxy> {
  const targetUrl = new URL(target);
  const proxy: TamperProxy = { url: '', tamper: () => undefined, close: async () => {} };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const forged = proxy.tamper({ method: req.method ?? 'GET', path: req.url ?? '/' });
    if (forged) {
      req.resume();
      res.writeHead(forged.status, { 'content-type': forged.contentType ?? 'application/json; charset=utf-8' });
      res.end(forged.body);
      return;
    }
    const upstream = request({ host: targetUrl.hostname, port: targetUrl.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => (res.headersSent ? res.destroy() : (res.writeHead(502), res.end())));
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  proxy.close = () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve())));
  return proxy;
}

/** Polls `condition` until it holds, or fails after `timeoutMs`. */
export async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
