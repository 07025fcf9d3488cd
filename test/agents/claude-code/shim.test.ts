// The fail-closed hook shim (native/writ-hook.c), run as a real process against a real
// HTTP server on a Unix socket standing in for the Writ daemon.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { bundledShimPath } from '../../../src/agents/claude-code/install.js';
import { writHookCommands, type WritHookHandler } from '../../../src/agents/claude-code/settings.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const shimSource = join(repoRoot, 'native', 'writ-hook.c');
const shim = bundledShimPath();
const workDir = mkdtempSync(join(tmpdir(), 'writ-shim-'));
let home: string;
let homeCount = 0;

interface ShimRun {
  code: number | null;
  stdout: Buffer;
  stderr: string;
  elapsedMs: number;
}

interface SeenRequest {
  method?: string;
  url?: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

before(() => {
  const stale = !existsSync(shim) || statSync(shim).mtimeMs < statSync(shimSource).mtimeMs;
  if (stale) {
    const build = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'build-shim.mjs')], { encoding: 'utf8' });
    assert.equal(build.status, 0, build.stderr);
  }
  assert.ok(existsSync(shim), `the shim was not built at ${shim} (is there a C compiler?)`);
});

after(() => rmSync(workDir, { recursive: true, force: true }));

beforeEach(() => {
  // Short paths: a Unix socket path must fit in about 104 bytes.
  home = join(workDir, String(++homeCount));
});

function runCommand(command: string, args: string[], input: Buffer | string): Promise<ShimRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { stdio: 'pipe', env: { PATH: process.env.PATH, HOME: workDir } });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.stdin.on('error', () => {}); // the shim may exit before reading everything
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({
        code,
        stdout: Buffer.concat(stdout),
        stderr: Buffer.concat(stderr).toString('utf8'),
        elapsedMs: performance.now() - started,
      }),
    );
    child.stdin.end(input);
  });
}

function runShim(mode: 'enforce' | 'record', input: Buffer | string, extraArgs: string[] = []): Promise<ShimRun> {
  return runCommand(shim, ['--home', home, ...extraArgs, mode], input);
}

/** Serves the daemon's socket in `home` while `body` runs; returns what the daemon saw. */
async function withDaemon<T>(
  answer: (request: SeenRequest, response: ServerResponse) => void,
  body: (seen: SeenRequest[]) => Promise<T>,
): Promise<T> {
  const seen: SeenRequest[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const entry = { method: request.method, url: request.url, headers: request.headers, body: Buffer.concat(chunks) };
      seen.push(entry);
      answer(entry, response);
    });
  });
  mkdirSync(home, { recursive: true });
  await new Promise<void>((resolve) => server.listen(join(home, 'writ.sock'), resolve));
  try {
    return await body(seen);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

function commandOf(handler: WritHookHandler): string {
  assert.equal(handler.type, 'command');
  return handler.type === 'command' ? handler.command : '';
}

function spoolFiles(): string[] {
  const spool = join(home, 'spool');
  return existsSync(spool) ? readdirSync(spool) : [];
}

const preToolUse = JSON.stringify({
  session_id: 's-1',
  hook_event_name: 'PreToolUse',
  tool_name: 'Bash',
  tool_input: { command: 'rm -rf /', description: 'delete everything — really' },
  tool_use_id: 'toolu_01',
});

test('enforce: no daemon means exit 2 with the reason on stderr', async () => {
  const run = await runShim('enforce', preToolUse);
  assert.equal(run.code, 2);
  assert.equal(run.stdout.length, 0);
  assert.equal(
    run.stderr,
    `Writ denied this action: the Writ daemon did not answer (connect: No such file or directory at ${home}/writ.sock). ` +
      "Start it with 'writ daemon'.\n",
  );
  // The denial it made on its own is spooled, so the journal learns of the call once the daemon is back.
  const files = spoolFiles();
  assert.equal(files.length, 1, files.join(', '));
  assert.equal(readFileSync(join(home, 'spool', files[0])).toString(), preToolUse.toString());
});

test("enforce: a daemon answering 500 means exit 2 with the daemon's text", async () => {
  await withDaemon(
    (_request, response) => {
      response.statusCode = 500;
      response.end('  policy bundle failed to load:\n  unexpected token  \n');
    },
    async () => {
      const run = await runShim('enforce', preToolUse);
      assert.equal(run.code, 2);
      assert.equal(run.stdout.length, 0);
      assert.equal(
        run.stderr,
        'Writ denied this action: the Writ daemon answered HTTP 500: policy bundle failed to load: unexpected token\n',
      );
    },
  );
});

test('enforce: a daemon that accepts but never answers means exit 2 within about a second', { timeout: 10_000 }, async () => {
  await withDaemon(
    () => {},
    async (seen) => {
      const run = await runShim('enforce', preToolUse);
      assert.equal(run.code, 2);
      assert.match(run.stderr, /did not answer within 800 ms \(waiting for the answer from .*writ\.sock\)/);
      assert.ok(run.elapsedMs >= 750 && run.elapsedMs < 1500, `took ${run.elapsedMs} ms`);
      assert.equal(seen.length, 1, 'the daemon got the whole request before the shim gave up');
    },
  );
});

test("enforce: a daemon's deny JSON goes to stdout unchanged, exit 0", async () => {
  const deny = JSON.stringify({
    hookSpecificOutput: {
      hookEventName: 'PreToolUse',
      permissionDecision: 'deny',
      permissionDecisionReason: 'rm -rf / is forbidden by policy P-1 (ünïcode kept)',
    },
  });
  await withDaemon(
    (_request, response) => response.setHeader('Content-Type', 'application/json').end(deny),
    async (seen) => {
      const run = await runShim('enforce', preToolUse);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stdout.toString('utf8'), deny);
      assert.equal(seen[0].method, 'POST');
      assert.equal(seen[0].url, '/v1/hooks/claude-code');
      assert.equal(seen[0].headers['content-type'], 'application/json');
      assert.equal(seen[0].headers['x-writ-mode'], 'enforce');
      assert.equal(seen[0].body.toString('utf8'), preToolUse);
    },
  );
});

test('enforce: a 10 MB payload reaches the daemon intact', async () => {
  const content = 'x'.repeat(10 * 1024 * 1024) + '\u00e9\u{1F600}';
  const payload = Buffer.from(JSON.stringify({ hook_event_name: 'PreToolUse', tool_name: 'Write', tool_input: { content } }));
  const digest = createHash('sha256').update(payload).digest('hex');
  await withDaemon(
    (request, response) => {
      // The daemon checks the digest itself, and only says yes when it matches.
      const seenDigest = createHash('sha256').update(request.body).digest('hex');
      if (seenDigest !== digest) response.statusCode = 400;
      response.end(JSON.stringify({ bytes: request.body.length, digest: seenDigest }));
    },
    async () => {
      // A roomy deadline: this test is about integrity, not speed, on a shared machine.
      const run = await runShim('enforce', payload, ['--timeout-ms', '10000']);
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(JSON.parse(run.stdout.toString('utf8')), { bytes: payload.length, digest });
    },
  );
});

test('enforce: an answer cut short of its Content-Length is a denial, not a pass', async () => {
  await withDaemon(
    (_request, response) => response.socket!.end('HTTP/1.1 200 OK\r\nContent-Length: 400\r\n\r\n{"hookSpecificOutput":'),
    async () => {
      const run = await runShim('enforce', preToolUse);
      assert.equal(run.code, 2);
      assert.equal(run.stdout.length, 0);
      assert.match(run.stderr, /answer could not be read \(the answer was cut short before its Content-Length\)/);
    },
  );
});

test('enforce: a chunked answer is decoded', async () => {
  await withDaemon(
    (_request, response) => {
      response.write('{"systemMessage":');
      response.end('"chunked"}');
    },
    async () => {
      const run = await runShim('enforce', preToolUse);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stdout.toString('utf8'), '{"systemMessage":"chunked"}');
    },
  );
});

test('record: no daemon spools exactly one file with the exact payload, mode 0600, exit 0', async () => {
  const payload = Buffer.from(JSON.stringify({ hook_event_name: 'PostToolUse', tool_response: { stdout: 'é\n\u0000' } }));
  const run = await runShim('record', payload);
  assert.equal(run.code, 0);
  assert.equal(run.stdout.length, 0);
  assert.equal(run.stderr, '');
  const files = spoolFiles();
  assert.equal(files.length, 1, files.join(', '));
  assert.match(files[0], /^\d{19}-\d+-[0-9a-f]{16}\.json$/);
  const spooled = join(home, 'spool', files[0]);
  assert.deepEqual(readFileSync(spooled), payload);
  assert.equal(statSync(spooled).mode & 0o777, 0o600);
  assert.equal(statSync(join(home, 'spool')).mode & 0o777, 0o700);
});

test('record: a daemon answering an error still gets the event later, from the spool', async () => {
  await withDaemon(
    (_request, response) => response.writeHead(503).end('starting up'),
    async () => {
      const run = await runShim('record', '{"hook_event_name":"SessionStart"}');
      assert.equal(run.code, 0);
      assert.equal(spoolFiles().length, 1);
    },
  );
});

test('record: with the daemon up nothing is spooled and its answer is printed', async () => {
  await withDaemon(
    (_request, response) => response.end('{"hookSpecificOutput":{"hookEventName":"SessionStart","additionalContext":"hi"}}'),
    async (seen) => {
      const run = await runShim('record', '{"hook_event_name":"SessionStart"}');
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stdout.toString('utf8'), '{"hookSpecificOutput":{"hookEventName":"SessionStart","additionalContext":"hi"}}');
      assert.equal(seen[0].headers['x-writ-mode'], 'record');
      assert.deepEqual(spoolFiles(), []);
    },
  );
});

test('the installed PreToolUse command blocks through sh even when the shim binary is missing', async () => {
  const missing = writHookCommands({ transport: 'command', shimPath: join(workDir, 'no such', 'writ-hook'), writHome: home });
  const blocked = await runCommand('/bin/sh', ['-c', commandOf(missing.PreToolUse)], preToolUse);
  assert.equal(blocked.code, 2);
  const notRecorded = await runCommand('/bin/sh', ['-c', commandOf(missing.PostToolUse)], '{}');
  assert.notEqual(notRecorded.code, 2, 'a missing shim never blocks a record hook (only exit 2 blocks)');

  const real = writHookCommands({ transport: 'command', shimPath: shim, writHome: home });
  await withDaemon(
    (_request, response) => response.end('{}'),
    async () => {
      const run = await runCommand('/bin/sh', ['-c', commandOf(real.PreToolUse)], preToolUse);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stdout.toString('utf8'), '{}');
    },
  );
});
