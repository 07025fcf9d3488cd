// Starting a server process: open the store, load the org, make the first admin token, listen, and keep
// checkpoints and control state moving. The CLI, `writ start`, the tests and the benchmarks all use this.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { writeNewFile } from '../home/key-file.js';
import { openStore } from '../store/open.js';
import type { Store } from '../store/store.js';
import { createTokenVerifier } from '../identity/verify-token.js';
import { buildServer, type ServerContext } from './app.js';
import { hashSecret, newSecretToken } from './auth.js';
import { loadOrCreateOrg } from './org.js';

export interface StartServerOptions {
  /** Where the org key, org.json, the first admin token and (by default) the SQLite database live. */
  dataDir: string;
  /** 'sqlite:PATH' or 'postgres://…'; default sqlite:<dataDir>/writ.db. */
  db?: string;
  port?: number;
  host?: string;
  origin?: string;
  /** `audience` is also the client id the dashboard signs browsers in with; `clientSecret` when that client is confidential. */
  oidc?: { issuer: string; audience: string; adminGroups: string[]; auditorGroups: string[]; groupsClaim?: string; clientSecret?: string };
  checkpointIntervalMs?: number;
  controlPollMs?: number;
  /** Incoming-webhook URL (Slack-compatible) told of each new approval. */
  approvalWebhook?: string;
  /** The URL reviewers reach this server at, for approval links (default: the URL the device used). */
  publicUrl?: string;
  log?(line: string): void;
}

export interface RunningServer {
  url: string;
  app: FastifyInstance;
  context: ServerContext;
  store: Store;
  /** Set when this start created the first admin token: where its secret was written. */
  adminTokenFile?: string;
  close(): Promise<void>;
}

export const ADMIN_TOKEN_FILE = 'admin-token';

export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const log = options.log ?? ((line: string) => process.stderr.write(`writ server: ${line}\n`));
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const store = await openStore(options.db ?? `sqlite:${join(options.dataDir, 'writ.db')}`);
  try {
    await store.migrate();
    const org = loadOrCreateOrg(options.dataDir, options.origin);
    const adminTokenFile = await bootstrapAdminToken(store, options.dataDir);
    const oidc = options.oidc && {
      verifier: createTokenVerifier({ issuer: options.oidc.issuer, audience: options.oidc.audience, ...(options.oidc.groupsClaim && { groupsClaim: options.oidc.groupsClaim }) }),
      adminGroups: options.oidc.adminGroups,
      auditorGroups: options.oidc.auditorGroups,
      login: { issuer: options.oidc.issuer, clientId: options.oidc.audience, ...(options.oidc.clientSecret && { clientSecret: options.oidc.clientSecret }) },
    };
    const approvals = { ...(options.approvalWebhook && { webhook: options.approvalWebhook }), ...(options.publicUrl && { publicUrl: options.publicUrl }), log };
    const { app, context } = await buildServer({ store, org, ...(oidc && { oidc }), approvals });
    const report = (what: string) => (error: Error) => log(`${what}: ${error.message}`);
    context.log.start(options.checkpointIntervalMs ?? 1000, report('checkpoint'));
    context.control.start(options.controlPollMs ?? 250, report('control'));
    const address = await app.listen({ port: options.port ?? 7070, host: options.host ?? '127.0.0.1' });
    log(`listening on ${address}; log origin ${org.origin}; store ${store.kind}`);
    if (!context.dashboardBuilt) log('the dashboard is not built (no web/dist): run `npm run build` to serve it at /');
    if (!oidc) {
      const link = await dashboardSignInLink(context, options.dataDir);
      if (link) log(`dashboard: open ${options.publicUrl ?? address.replace('[::1]', 'localhost')}${link} to sign in as the bootstrap admin (one use, 24 hours)`);
    }
    return {
      url: address.replace('[::1]', 'localhost'),
      app,
      context,
      store,
      ...(adminTokenFile && { adminTokenFile }),
      async close() {
        context.log.stop();
        context.control.stop();
        await app.close();
        await store.close();
      },
    };
  } catch (error) {
    await store.close();
    throw error;
  }
}

/** With no IdP: a one-time sign-in path for the bootstrap admin token, while its file is there and it is valid. */
async function dashboardSignInLink(context: ServerContext, dataDir: string): Promise<string | undefined> {
  const path = join(dataDir, ADMIN_TOKEN_FILE);
  if (!existsSync(path)) return undefined;
  const tokenHash = hashSecret(readFileSync(path, 'utf8').trim());
  const token = await context.store.findAdminToken(tokenHash);
  if (!token || token.revokedAt || token.role === 'enroller') return undefined;
  return `/auth/token?code=${context.sessions.newSignInCode(tokenHash)}`;
}

/** On a store with no tokens at all, makes an admin token and writes its secret, owner-only, beside the org key. */
async function bootstrapAdminToken(store: Store, dataDir: string): Promise<string | undefined> {
  if ((await store.listAdminTokens()).length > 0) return undefined;
  const path = join(dataDir, ADMIN_TOKEN_FILE);
  if (existsSync(path)) return undefined;
  const { secret, hash } = newSecretToken();
  try {
    writeNewFile(path, secret + '\n', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return undefined; // another replica on this data dir won
    throw error;
  }
  await store.createAdminToken({ id: `tok_${hash.slice(0, 12)}`, name: 'bootstrap', role: 'admin', createdAt: new Date().toISOString() }, hash);
  return path;
}
