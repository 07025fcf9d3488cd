// Policy replay off the server's event loop: deciding thousands of recorded calls takes seconds, and ingest, the
// live stream and daemons' control requests must keep answering meanwhile. One worker per replay request.
import { parentPort, Worker, workerData } from 'node:worker_threads';
import type { CallEnvironment } from '../policy/actions.js';
import { loadShellParser, preparePolicy, replayDecisions, type PolicyFile, type ReplayEvent, type ReplayReport } from '../policy/index.js';

/** A replay that runs longer is stopped: a narrower window answers sooner. */
const REPLAY_TIME_LIMIT_MS = 120_000;

interface ReplayJob {
  files: PolicyFile[];
  events: ReplayEvent[];
}

/** The environment a recorded call is replayed in on the server: the facts in the event, none from this machine's disk. */
export function recordedEnvironment(cwd: string): CallEnvironment {
  const home = /^(\/home\/[^/]+|\/Users\/[^/]+|\/root)(\/|$)/.exec(cwd)?.[1] ?? '/nonexistent-home';
  return { home, cwd, projectDir: cwd, tempDirs: ['/tmp'], osUser: home.split('/').pop() ?? '', gitRemotes: {}, mcpServers: {} };
}

async function replay(job: ReplayJob): Promise<ReplayReport> {
  return replayDecisions({
    policy: preparePolicy(job.files),
    parser: await loadShellParser(),
    principal: (event) => ({ user: event.actor?.os_user ?? 'unknown', assurance: event.actor?.assurance ?? 'local-os-user', groups: [] }),
    environment: recordedEnvironment,
    writHome: '/nonexistent/.writ',
    events: job.events,
  });
}

/** Replays in a worker thread; the files must already have been checked with preparePolicy. */
export function replayInWorker(job: ReplayJob): Promise<ReplayReport> {
  return new Promise((resolve, reject) => {
    // A built server runs this file as .js; under tsx (tests, `npm start` from source) the worker registers tsx first.
    const entry = JSON.stringify(import.meta.url);
    const source = import.meta.url.endsWith('.ts') ? `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${entry}); })` : `import(${entry})`;
    const worker = new Worker(source, { eval: true, workerData: job });
    const timer = setTimeout(() => void worker.terminate(), REPLAY_TIME_LIMIT_MS);
    worker.once('message', (message: { report?: ReplayReport; error?: string }) => (message.report ? resolve(message.report) : reject(new Error(message.error))));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the replay worker stopped (exit ${code}) before answering; it may have run past ${REPLAY_TIME_LIMIT_MS / 1000} s`));
    });
  });
}

if (parentPort && (workerData as ReplayJob | undefined)?.files) {
  const port = parentPort;
  replay(workerData as ReplayJob).then(
    (report) => port.postMessage({ report }),
    (error: Error) => port.postMessage({ error: error.message }),
  );
}
