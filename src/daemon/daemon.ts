// The resident device process: answers hooks on a Unix socket (and, if asked, on loopback HTTP),
// keeps the journal, takes in what hooks spooled while it was away, and reloads policy when it changes.
// Once enrolled, it also uploads the journal, witnesses the org log and enforces the org's control state
// (policy bundle, kill switches) pushed by `writ server`.
import { execFile } from 'node:child_process';
import { timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, watch, writeFileSync, mkdirSync, type FSWatcher } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { loadShellParser, preparePolicy, type PreparedPolicy } from '../policy/index.js';
import { ensureWritHome, loadOrCreateHookToken, type WritHome } from '../home/writ-home.js';
import { readPolicyDir, seedPolicy } from '../home/policy-files.js';
import { denyOutput } from '../agents/claude-code/hook-contract.js';
import { callEnvironment } from './call-environment.js';
import { ControlClient, readPersistedControl, writeEnvelopeFile, type ControlStatus, type ControlUpdate } from './control-client.js';
import { orgPublicKey, readEnrollment, type Enrollment } from './enrollment.js';
import { daemonAnswers } from './health.js';
import { ApprovalGate } from './approvals.js';
import { HookService, decidePreToolUse, type HookMode, type HookRequest } from './hook-service.js';
import { Journal } from './journal.js';
import { answerAttach, ContractBook, CONTRACT_ATTACH_PATH } from './contracts.js';
import { postureFile } from './posture.js';
import { startPostureMonitor } from './posture-collector.js';
import type { PostureReport } from '../core/inventory.js';
import { SessionTracker } from './session-tracker.js';
import { loadOrCreateDeviceKey } from './keys.js';
import { sameKills } from './kill-switch.js';
import { ServerClient } from './server-client.js';
import { Uploader, type UploaderOptions, type UploaderStatus } from './uploader.js';
import { guardReporterFor, type GuardDaemonOptions } from './guard-reporter.js';
import { reviewInputProblem } from '../runs/review.js';

export const HOOK_PATH = '/v1/hooks/claude-code';
export const GUARD_PATH = '/v1/guard';
/** A local reviewer's decision on a run (`writ runs review`); the Unix socket only, so the OS user is the reviewer. */
export const RUN_REVIEW_PATH = '/v1/runs/review';
const MAX_BODY = 64 * 1024 * 1024;
const SPOOL_INTERVAL_MS = 2000;
const CHECKPOINT_INTERVAL_MS = 5000;
const UPLOAD_DEADLINE_ON_CLOSE_MS = 2000;

export interface DaemonOptions {
  home: WritHome;
  /** Also answer http hooks on 127.0.0.1:port (fails open in Claude Code: an organisation's choice). */
  httpPort?: number;
  log?(line: string): void;
  /** The server to talk to once enrolled; default: $WRIT_SERVER, else the URL recorded at enrolment. */
  serverUrl?: string;
  /** Upload timings (tests shorten them). */
  upload?: Pick<UploaderOptions, 'debounceMs' | 'intervalMs' | 'witnessIntervalMs' | 'minBackoffMs' | 'maxBackoffMs' | 'batchSize'>;
  /** Reconnect backoff of the control stream (tests shorten it). */
  control?: { minBackoffMs?: number; maxBackoffMs?: number };
  /** The guard's heartbeat interval (default 5 min) and where it looks (tests point it at temporary folders). */
  guard?: GuardDaemonOptions;
  /** Posture re-checks: every intervalMs (default 10 min) and when a watched source changes; tests inject `collect`. */
  posture?: { intervalMs?: number; collect?: () => Promise<PostureReport> };
}

export interface RunningDaemon {
  policyHash(): string;
  httpPort(): number | undefined;
  ingestSpool(): number;
  /** Uploads what is pending and witnesses the log now; undefined when the device is not enrolled. */
  uploadNow(): Promise<UploaderStatus | undefined>;
  /** The control state version in force (0: none received yet). */
  controlVersion(): number;
  /** Kill-switch targets in force. */
  killSwitches(): string[];
  /** Hash of the org policy bundle in force, if one is. */
  bundleHash(): string | undefined;
  /** What the services that talk to the server report. */
  serverStatus(): { server: string; uploader: UploaderStatus; control: ControlStatus } | undefined;
  /** Collects the posture now; resolves when posture.json is rewritten (and any change recorded). */
  checkPosture(): Promise<void>;
  close(): Promise<void>;
}

export async function startDaemon(options: DaemonOptions): Promise<RunningDaemon> {
  const { home } = options;
  const log = options.log ?? ((line: string) => process.stderr.write(`writ daemon: ${line}\n`));
  ensureWritHome(home);
  await refuseIfRunning(home.socket);
  if (seedPolicy(home.policy)) log(`seeded the standard policy into ${home.policy}`);
  const key = loadOrCreateDeviceKey(home.root);
  const enrollment = readEnrollment(home.enrollment);
  if (enrollment && enrollment.device_id !== key.deviceId) {
    throw new Error(`${home.enrollment} enrols device ${enrollment.device_id}, but this device's key is ${key.deviceId}: run \`writ enroll\` again`);
  }
  // What the org pushed last, enforced before the server is reached: kills at once, the bundle if it still prepares.
  const persisted = enrollment ? readPersistedControl(home, orgPublicKey(enrollment), log) : { version: 0, kills: [] };
  let kills: readonly string[] = persisted.kills;
  let controlVersion = persisted.version;
  let bundleHash: string | undefined;
  const prepareStartPolicy = (): PreparedPolicy => {
    if (persisted.bundle) {
      try {
        const prepared = preparePolicy(persisted.bundle.files);
        bundleHash = persisted.bundle.hash;
        return prepared;
      } catch (error) {
        log(`org policy bundle ${persisted.bundle.hash} no longer prepares, enforcing ${home.policy} until the server sends one that does:\n${(error as Error).message}`);
        controlVersion = 0; // take the server's current state again
      }
    }
    return preparePolicy(readPolicyDir(home.policy));
  };
  let policy = prepareStartPolicy();
  const journal = Journal.open(home.journal, key);
  const parser = await loadShellParser();
  const principal = { user: userInfo().username, assurance: enrollment?.assurance ?? 'local-os-user', groups: [] };
  let agentVersion: string | undefined;
  detectClaudeVersion().then((version) => (agentVersion = version));

  const now = () => new Date();
  let approvals: ApprovalGate | undefined;
  const posture = postureFile(home.posture, now);
  // `record` is defined below; a session change only happens while a hook is answered, after start-up.
  const sessions = new SessionTracker(journal, (session, touched, added, toolUseId) =>
    record('session.touched', { session_id: session, added, touched, ...(toolUseId && { tool_use_id: toolUseId }) }),
  );
  const contracts = new ContractBook({
    journal,
    writHome: home.root,
    policy: () => policy,
    record: (kind, data, ids) => {
      journal.append({ time: now().toISOString(), actor: { os_user: principal.user, assurance: principal.assurance }, agent: { name: 'writ' }, kind, ...ids, data });
      uploader?.notify();
    },
  });
  const service = new HookService({
    contracts,
    approvals: () => approvals,
    sessions,
    touched: (session) => sessions.touched(session),
    posture: () => posture.current(),
    journal,
    policy: () => policy,
    parser,
    principal,
    writHome: home.root,
    agentVersion: () => agentVersion,
    environment: callEnvironment,
    now,
    kills: () => kills,
    bundle: () => bundleHash,
    guardState: (projectDir) => guard.state(projectDir),
  });
  let uploader: Uploader | undefined;
  const record = (kind: string, data: Record<string, unknown>) => {
    journal.append({ time: now().toISOString(), actor: { os_user: principal.user, assurance: principal.assurance }, agent: { name: 'writ' }, kind, data });
    uploader?.notify();
  };
  const decisionDeps = { policy: () => policy, parser, principal, writHome: home.root, agentVersion: () => agentVersion, environment: callEnvironment, kills: () => kills, posture: () => posture.current() };
  const guard = guardReporterFor({ options: options.guard, home, journal, record, decide: (payload) => decidePreToolUse(payload, decisionDeps).decision, policy: () => policy, bundle: () => bundleHash, kills: () => kills, now, log });
  record('daemon.start', { pid: process.pid, policy_hash: policy.hash, device_id: key.deviceId, ...(bundleHash && { bundle: bundleHash }), ...(kills.length > 0 && { kills }) });

  const reloadPolicy = () => {
    if (bundleHash !== undefined) {
      log(`ignoring changes in ${home.policy}: the org policy bundle ${bundleHash.slice(0, 19)} is in force`);
      return;
    }
    try {
      const next = preparePolicy(readPolicyDir(home.policy));
      if (next.hash === policy.hash) return;
      policy = next;
      record('policy.loaded', { policy_hash: policy.hash });
      log(`policy reloaded (${policy.hash.slice(0, 12)})`);
    } catch (error) {
      // Keep enforcing the last good policy rather than none.
      log(`policy in ${home.policy} rejected, still enforcing ${policy.hash.slice(0, 12)}:\n${(error as Error).message}`);
    }
  };

  // Evidence of a control change is wanted, but failing to journal it must not undo the change itself.
  const recordControl = (kind: string, data: Record<string, unknown>) => {
    try {
      record(kind, data);
    } catch (error) {
      log(`cannot record ${kind}: ${(error as Error).message}`);
    }
  };

  // Runs synchronously between two hook answers, so every decision sees one consistent policy, bundle and kill list.
  const applyControl = (update: ControlUpdate) => {
    let keepState = true;
    const killsChanged = !sameKills(kills, update.kills);
    kills = update.kills;
    controlVersion = update.version;
    if (killsChanged) {
      recordControl('control.applied', { version: update.version, kills: update.kills });
      log(`control version ${update.version}: kill switches ${update.kills.length > 0 ? update.kills.join(', ') : 'none'}`);
    }
    if (update.bundleProblem) {
      log(`${update.bundleProblem}; still enforcing ${policy.hash.slice(0, 12)}`);
      recordControl('policy.rejected', { bundle: update.bundleHash, problem: update.bundleProblem, policy_hash: policy.hash });
    } else if (update.bundle && update.bundle.hash !== bundleHash) {
      let next: PreparedPolicy | undefined;
      try {
        next = preparePolicy(update.bundle.files);
      } catch (error) {
        const problem = `policy bundle ${update.bundle.hash} refused: ${(error as Error).message}`;
        log(`${problem}; still enforcing ${policy.hash.slice(0, 12)}`);
        recordControl('policy.rejected', { bundle: update.bundle.hash, problem, policy_hash: policy.hash });
      }
      if (next) {
        try {
          // The bundle is on disk before the state that names it, so a restart never skips it.
          writeEnvelopeFile(home.policyBundle, update.bundle.envelope);
        } catch (error) {
          // Nor the state naming it: after a restart, the server's current state is then taken again.
          keepState = false;
          log(`cannot keep the policy bundle in ${home.policyBundle}: ${(error as Error).message}`);
        }
        policy = next;
        bundleHash = update.bundle.hash;
        recordControl('policy.loaded', { policy_hash: policy.hash, bundle: bundleHash });
        log(`org policy bundle ${bundleHash.slice(0, 19)} in force (policy ${policy.hash.slice(0, 12)}); ${home.policy} is ignored while it is`);
      }
    } else if (update.bundleHash === undefined && bundleHash !== undefined) {
      // The org no longer publishes a bundle: the device's own policy applies again.
      rmSync(home.policyBundle, { force: true });
      bundleHash = undefined;
      reloadPolicy();
    }
    try {
      if (keepState) writeEnvelopeFile(home.controlState, update.state);
    } catch (error) {
      log(`cannot keep the control state in ${home.controlState}: ${(error as Error).message}`);
    }
  };

  let control: ControlClient | undefined;
  let serverUrl: string | undefined;
  if (enrollment) {
    serverUrl = options.serverUrl ?? process.env.WRIT_SERVER ?? enrollment.server;
    const client = new ServerClient(serverUrl, key);
    uploader = new Uploader({ journal, client, origin: enrollment.org.origin, verifierKey: enrollment.org.verifier_key, record, log, now, ...options.upload });
    control = new ControlClient({ client, orgKey: orgPublicKey(enrollment), version: controlVersion, onControl: applyControl, log, ...options.control });
    const actor = { os_user: principal.user, assurance: principal.assurance };
    approvals = new ApprovalGate({ client, orgKey: orgPublicKey(enrollment), deviceId: key.deviceId, journal, actor, notify: () => uploader?.notify(), now });
  }

  const ingestSpool = () => {
    const taken = takeSpool(home.spool);
    if (taken.length === 0) return 0;
    journal.appendMany(service.draftsFor(taken.map((file) => file.request)));
    for (const file of taken) rmSync(file.path, { force: true });
    uploader?.notify();
    return taken.length;
  };

  // Both transports send X-Writ-Mode; without it a request is treated as enforcing, the safe side.
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    if (req.method === 'GET' && req.url === '/v1/health') {
      const health = { ok: true, policy_hash: policy.hash, ...(bundleHash && { bundle: bundleHash }), events: journal.count(), device_id: key.deviceId, kills, server: serverStatus(enrollment) };
      return reply(res, 200, JSON.stringify(health), 'application/json');
    }
    if (req.url === GUARD_PATH && (req.method === 'GET' || req.method === 'POST')) {
      // POST checks now, self-test included; GET gives the last heartbeat (checking first when there is none).
      const last = req.method === 'GET' ? guard.reporter.last() : undefined;
      void (last ? Promise.resolve(last) : guard.reporter.heartbeat()).then(
        (report) => reply(res, 200, JSON.stringify(report), 'application/json'),
        (error: Error) => reply(res, 500, `the guard check failed: ${error.message}`),
      );
      return;
    }
    if (req.method === 'POST' && req.url === CONTRACT_ATTACH_PATH) {
      return readBody(req, (error, body) => {
        if (error) return reply(res, 413, error.message);
        const answer = answerAttach(contracts, body!);
        reply(res, answer.status, answer.body, answer.status === 200 ? 'application/json' : 'text/plain');
      });
    }
    if (req.method !== 'POST' || req.url !== HOOK_PATH) return reply(res, 404, `no such endpoint: ${req.method} ${req.url}`);
    readBody(req, (error, body) => {
      const requestMode: HookMode = req.headers['x-writ-mode'] === 'record' ? 'record' : 'enforce';
      if (error) return requestMode === 'enforce' ? reply(res, 200, denyOutput(`Writ denied this call: ${error.message}.`), 'application/json') : reply(res, 413, error.message);
      const projectDir = typeof req.headers['x-writ-project-dir'] === 'string' ? req.headers['x-writ-project-dir'] : undefined;
      const contract = typeof req.headers['x-writ-contract'] === 'string' ? req.headers['x-writ-contract'] : undefined;
      void Promise.resolve(service.handle({ body: body!, mode: requestMode, projectDir: projectDir || undefined, ...(contract && { contract }) })).then((answer) => {
        reply(res, answer.status, answer.body, answer.body.startsWith('{') ? 'application/json' : 'text/plain');
        uploader?.notify();
      });
    });
  };

  const reviewRun = (req: IncomingMessage, res: ServerResponse) =>
    readBody(req, (error, body) => {
      if (error) return reply(res, 413, error.message);
      let request: { session_id?: unknown; decision?: unknown; comment?: unknown };
      try {
        request = JSON.parse(body!);
      } catch {
        return reply(res, 400, 'the review is not JSON');
      }
      const problem = typeof request?.session_id !== 'string' || request.session_id === '' ? 'the review needs a session_id' : reviewInputProblem(request.decision, request.comment ?? '');
      if (problem) return reply(res, 400, problem);
      if (journal.list({ sessionId: request.session_id as string, limit: 1 }).length === 0) return reply(res, 404, `no run ${request.session_id} in this journal`);
      const data = { session_id: request.session_id, device_id: key.deviceId, decision: request.decision, comment: request.comment ?? '', reviewer: { subject: principal.user, via: 'local-os-user' } };
      const appended = journal.append({ time: now().toISOString(), actor: { os_user: principal.user, assurance: principal.assurance }, agent: { name: 'writ' }, kind: 'run.reviewed', session_id: request.session_id as string, data });
      uploader?.notify();
      reply(res, 201, JSON.stringify({ seq: appended.seq, hash: appended.hash, review: data }), 'application/json');
    });
  const socketServer = createServer((req, res) => (req.method === 'POST' && req.url === RUN_REVIEW_PATH ? reviewRun(req, res) : handle(req, res)));
  await listenOnSocket(socketServer, home.socket);
  let tcpServer: Server | undefined;
  if (options.httpPort !== undefined) {
    const token = loadOrCreateHookToken(home);
    tcpServer = createServer((req, res) => {
      if (!sameSecret(req.headers['x-writ-hook-token'], token)) return reply(res, 401, 'missing or wrong X-Writ-Hook-Token');
      handle(req, res);
    });
    await new Promise<void>((resolve, reject) => tcpServer!.once('error', reject).listen(options.httpPort, '127.0.0.1', resolve));
  }
  writeFileSync(home.pidFile, `${process.pid}\n`, { mode: 0o600 });

  ingestSpool();
  const timers = [
    setInterval(() => {
      try {
        ingestSpool();
      } catch (error) {
        log(`spool: ${(error as Error).message}`);
      }
    }, SPOOL_INTERVAL_MS),
    setInterval(() => journal.checkpoint(now().toISOString()), CHECKPOINT_INTERVAL_MS),
  ];
  let debounce: NodeJS.Timeout | undefined;
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(home.policy, () => {
      clearTimeout(debounce);
      debounce = setTimeout(reloadPolicy, 200);
    });
  } catch {
    log('cannot watch the policy directory; send SIGHUP to reload');
  }
  const onHangup = () => reloadPolicy();
  process.on('SIGHUP', onHangup);
  uploader?.start();
  control?.start();
  // Policy sees a new posture on its next call: postureFile rereads the file when it changes.
  const postureMonitor = startPostureMonitor({ path: home.posture, ...options.posture, onChange: (change) => record('posture.changed', { ...change }), log });
  guard.reporter.start();
  log(`listening on ${home.socket}${tcpServer ? ` and http://127.0.0.1:${(tcpServer.address() as { port: number }).port}` : ''}; policy ${policy.hash.slice(0, 12)}${bundleHash ? ` (org bundle ${bundleHash.slice(0, 19)})` : ''}${serverUrl ? `; server ${serverUrl}` : '; not enrolled'}`);

  function serverStatus(enrolled: Enrollment | undefined) {
    if (!enrolled || !uploader || !control) return undefined;
    return { server: serverUrl!, uploader: uploader.status(), control: control.status() };
  }

  let closed = false;
  return {
    policyHash: () => policy.hash,
    httpPort: () => (tcpServer ? (tcpServer.address() as { port: number }).port : undefined),
    ingestSpool,
    uploadNow: async () => uploader?.uploadNow(),
    controlVersion: () => controlVersion,
    killSwitches: () => [...kills],
    bundleHash: () => bundleHash,
    serverStatus: () => serverStatus(enrollment),
    checkPosture: () => postureMonitor.checkNow(),
    async close() {
      if (closed) return;
      closed = true;
      timers.forEach(clearInterval);
      clearTimeout(debounce);
      watcher?.close();
      process.off('SIGHUP', onHangup);
      await Promise.all([socketServer, tcpServer].filter(Boolean).map((server) => new Promise((resolve) => server!.close(resolve))));
      await control?.stop();
      await postureMonitor.stop();
      await guard.reporter.stop();
      ingestSpool();
      record('daemon.stop', { pid: process.pid });
      await uploader?.stop(UPLOAD_DEADLINE_ON_CLOSE_MS);
      journal.checkpoint(now().toISOString());
      journal.close();
      rmSync(home.socket, { force: true });
      rmSync(home.pidFile, { force: true });
    },
  };
}

function reply(res: ServerResponse, status: number, body: string, type = 'text/plain'): void {
  res.writeHead(status, { 'content-type': `${type}; charset=utf-8`, 'content-length': Buffer.byteLength(body), connection: 'close' });
  res.end(body);
}

function readBody(req: IncomingMessage, done: (error: Error | undefined, body?: string) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let failed = false;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > MAX_BODY) {
      if (!failed) done(new Error(`the hook payload is larger than ${MAX_BODY} bytes`));
      failed = true;
      chunks.length = 0;
      return;
    }
    if (!failed) chunks.push(chunk);
  });
  req.on('end', () => failed || done(undefined, Buffer.concat(chunks).toString('utf8')));
  req.on('error', (error) => failed || ((failed = true), done(error)));
}

/** Another live daemon owns the socket: refuse; a stale socket file from a crash: remove it. */
async function refuseIfRunning(socket: string): Promise<void> {
  if (!existsSync(socket)) return;
  if (await daemonAnswers(socket)) throw new Error(`a Writ daemon is already running on ${socket}`);
  rmSync(socket, { force: true });
}

async function listenOnSocket(server: Server, socket: string): Promise<void> {
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(socket, resolve));
  // Only the owner may ask for decisions or write events.
  chmodSync(socket, 0o600);
}

function sameSecret(given: string | string[] | undefined, expected: string): boolean {
  if (typeof given !== 'string' || given.length !== expected.length) return false;
  return timingSafeEqual(Buffer.from(given), Buffer.from(expected));
}

interface SpoolFile {
  path: string;
  request: HookRequest;
}

/** Spooled payloads in the order the shim wrote them (names start with nanoseconds). */
function takeSpool(dir: string): SpoolFile[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((name) => name.endsWith('.json')).sort();
  } catch {
    return [];
  }
  const files: SpoolFile[] = [];
  for (const name of names) {
    const path = join(dir, name);
    try {
      const spooledAt = statSync(path).mtime.toISOString();
      files.push({ path, request: { body: readFileSync(path, 'utf8'), mode: 'record', spooledAt } });
    } catch (error) {
      // Unreadable: keep it aside rather than lose it.
      mkdirSync(join(dir, 'unreadable'), { recursive: true, mode: 0o700 });
      renameSync(path, join(dir, 'unreadable', name));
      process.stderr.write(`writ daemon: spool file ${name} set aside: ${(error as Error).message}\n`);
    }
  }
  return files;
}

/** Claude Code's version, from the `claude` on PATH (hook payloads do not carry it). */
function detectClaudeVersion(): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('claude', ['--version'], { timeout: 5000 }, (error, stdout) => resolve(error ? undefined : /(\d+\.\d+\.\d+)/.exec(stdout)?.[1]));
  });
}
