// `writ enroll` as a user runs it, against a real `writ server` in this process and a real OIDC provider:
// local mode with an enrolment token, OIDC sign-in by device code, and the errors a person can make.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createPublicKey } from 'node:crypto';
import { verifyDeviceCertificate } from '../../src/core/certificate.js';
import { readEnrollment } from '../../src/daemon/enrollment.js';
import { startDaemon } from '../../src/daemon/daemon.js';
import { loadOrCreateDeviceKey } from '../../src/daemon/keys.js';
import { resolveWritHome } from '../../src/home/writ-home.js';
import { createTokenVerifier } from '../../src/identity/verify-token.js';
import { startControlPlane, startTamperProxy, type TestControlPlane } from '../support/control-plane.js';
import { startOidcProvider, type TestOidcProvider } from '../support/oidc-provider.js';

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).href;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `writ …` in its own process (the server stays in this one); `onStderr` sees stderr as it comes. */
function writ(args: string[], env: NodeJS.ProcessEnv = {}, onStderr?: (text: string) => void): Promise<Run> {
  const code = `import { main } from ${JSON.stringify(MAIN)}; process.exitCode = await main(process.argv.slice(1));`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code, ...args], {
    env: { ...process.env, WRIT_ENROLL_TOKEN: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
    onStderr?.(stderr);
  });
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
}

/** A port nothing listens on. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const newHome = () => mkdtempSync(join(tmpdir(), 'writ-enroll-'));

describe('writ enroll', () => {
  let provider: TestOidcProvider;
  let plane: TestControlPlane;
  before(async () => {
    provider = await startOidcProvider();
    plane = await startControlPlane({
      oidc: { verifier: createTokenVerifier({ issuer: provider.issuer, audience: provider.clientId }), adminGroups: ['writ-admins'], auditorGroups: ['writ-auditors'] },
    });
  });
  after(async () => {
    await plane.close();
    await provider.close();
  });

  test('mistakes in how it is called are usage errors (exit 2) that say what is wrong', async () => {
    const cases: [string[], RegExp][] = [
      [['enroll'], /--server URL is required/],
      [['enroll', '--server', 'ftp://x'], /--server must be an http\(s\) URL/],
      [['enroll', '--server', plane.url], /say how to prove who you are/],
      [['enroll', '--server', plane.url, '--token', 't', '--issuer', provider.issuer, '--client-id', 'c'], /either --token .* or --issuer/],
      [['enroll', '--server', plane.url, '--issuer', provider.issuer], /--issuer needs --client-id/],
      [['enroll', '--server', plane.url, '--token', 't', '--loopback'], /--client-id and --loopback go with --issuer/],
    ];
    const runs = await Promise.all(cases.map(([args]) => writ([...args, '--home', newHome()])));
    runs.forEach((run, i) => {
      assert.equal(run.status, 2, `${cases[i][0].join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, cases[i][1]);
      assert.match(run.stderr, /usage: writ enroll --server URL/);
    });
  });

  test('local mode: an enrolment token vouches for the OS user; the certificate and org key are kept, 0600', async () => {
    const home = newHome();
    const run = await writ(['enroll', '--server', plane.url, '--token', plane.enrollToken, '--home', home]);
    assert.equal(run.status, 0, run.stderr);
    const key = loadOrCreateDeviceKey(home);
    assert.match(run.stdout, new RegExp(`enrolled device ${key.deviceId} for \\S+@\\S+ \\(assurance local-os-user\\) with ${plane.url}`));
    assert.ok(run.stdout.includes(`org verifier key (pinned): ${plane.org.verifierKey}`));
    const path = resolveWritHome(home).enrollment;
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const enrollment = readEnrollment(path)!;
    assert.equal(enrollment.server, plane.url);
    assert.equal(enrollment.assurance, 'local-os-user');
    assert.equal(enrollment.person.iss, 'local');
    const certificate = verifyDeviceCertificate(enrollment.certificate, createPublicKey(enrollment.org.public_key_pem), plane.org.origin);
    assert.equal(certificate.key_id, key.keyId);
    assert.equal((await plane.store.getDevice(key.deviceId))?.assurance, 'local-os-user');
  });

  test('the token may come from WRIT_ENROLL_TOKEN', async () => {
    const run = await writ(['enroll', '--server', plane.url, '--home', newHome()], { WRIT_ENROLL_TOKEN: plane.enrollToken });
    assert.equal(run.status, 0, run.stderr);
  });

  test('OIDC: the person signs in with a device code; the device is certified for them with assurance oidc', async () => {
    const home = newHome();
    let approving: Promise<void> | undefined;
    const run = await writ(['enroll', '--server', plane.url, '--issuer', provider.issuer, '--client-id', provider.clientId, '--home', home], {}, (stderr) => {
      const code = /open (\S+) and enter the code (\S+)/.exec(stderr);
      if (code && !approving) approving = provider.approveDevice(code[2], 'alice');
    });
    await approving;
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /To sign in, open http:\/\/127\.0\.0\.1:\d+\/\S+ and enter the code/);
    assert.match(run.stdout, /for alice@example\.com \(assurance oidc\)/);
    const enrollment = readEnrollment(resolveWritHome(home).enrollment)!;
    assert.equal(enrollment.assurance, 'oidc');
    assert.equal(enrollment.person.email, 'alice@example.com');
    assert.equal(enrollment.person.iss, provider.issuer);

    // The daemon then stamps its events with that assurance.
    const daemon = await startDaemon({ home: resolveWritHome(home), log: () => {}, upload: { intervalMs: 60_000 } });
    try {
      const status = await daemon.uploadNow();
      assert.equal(status?.pending, 0, status?.last_error);
      const [started] = await plane.store.events({ deviceId: enrollment.device_id, kind: 'daemon.start', limit: 1 });
      assert.equal(JSON.parse(Buffer.from(JSON.parse(started.envelope).payload, 'base64').toString()).actor.assurance, 'oidc');
    } finally {
      await daemon.close();
    }
  });

  test('OIDC: with --loopback the person signs in in a browser that comes back to a loopback listener', async () => {
    let browsing: Promise<unknown> | undefined;
    const run = await writ(['enroll', '--server', plane.url, '--issuer', provider.issuer, '--client-id', provider.clientId, '--loopback', '--home', newHome()], {}, (stderr) => {
      const url = /open this URL in your browser: (\S+)/.exec(stderr);
      if (url && !browsing) browsing = provider.login(url[1], 'bob').then((redirect) => fetch(redirect)).then((answer) => answer.text());
    });
    assert.match(String(await browsing), /Writ is signed in as bob@example\.com/);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /for bob@example\.com \(assurance oidc\)/);
  });

  test('a wrong token or an unreachable server fails (exit 1) saying why', async () => {
    const wrong = await writ(['enroll', '--server', plane.url, '--token', 'writ_not-a-token', '--home', newHome()]);
    assert.equal(wrong.status, 1);
    assert.match(wrong.stderr, /401 unauthorized: unknown or revoked token/);
    const port = await freePort();
    const away = await writ(['enroll', '--server', `http://127.0.0.1:${port}`, '--token', 't', '--home', newHome()]);
    assert.equal(away.status, 1);
    assert.match(away.stderr, new RegExp(`writ enroll: POST http://127\\.0\\.0\\.1:${port}/v1/enroll: cannot reach the server \\(ECONNREFUSED\\)`));
  });

  test('an answer certifying another device key is refused, and nothing is written', async () => {
    const other = await writ(['enroll', '--server', plane.url, '--token', plane.enrollToken, '--home', newHome()]);
    assert.equal(other.status, 0, other.stderr);
    const proxy = await startTamperProxy(plane.url);
    try {
      const otherHome = readEnrollment(join(other.stdout.match(/kept in (\S+);/)![1]))!;
      const { server: _server, enrolled_at: _at, ...answer } = otherHome;
      proxy.tamper = ({ path }) => (path === '/v1/enroll' ? { status: 200, body: JSON.stringify(answer) } : undefined);
      const home = newHome();
      const run = await writ(['enroll', '--server', proxy.url, '--token', plane.enrollToken, '--home', home]);
      assert.equal(run.status, 1);
      assert.match(run.stderr, /the certificate is for dev_\w+ .*, not for this device dev_\w+/);
      assert.equal(readEnrollment(resolveWritHome(home).enrollment), undefined);
    } finally {
      await proxy.close();
    }
  });

  test('a damaged enrollment.json stops the daemon with a message naming the file', async () => {
    const home = resolveWritHome(newHome());
    const run = await writ(['enroll', '--server', plane.url, '--token', plane.enrollToken, '--home', home.root]);
    assert.equal(run.status, 0, run.stderr);
    writeFileSync(home.enrollment, readFileSync(home.enrollment, 'utf8').replace('"assurance"', '"assurence"'));
    await assert.rejects(startDaemon({ home, log: () => {} }), (error: Error) => error.message.includes(home.enrollment) && /`assurance` is undefined/.test(error.message));
  });
});
