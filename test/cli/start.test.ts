// `npm start` (`writ start`) on a fresh machine: the server and this device's daemon come up together, the
// device is enrolled to its own server, and the daemon's signed events reach the server's log.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { daemonAnswers } from '../../src/daemon/health.js';
import { freePort } from '../support/server.js';
import { WRIT_BIN } from '../support/writ-process.js';

test('writ start runs server and daemon, enrolled, with the daemon uploading to the server', { timeout: 60_000 }, async () => {
  const root = mkdtempSync(join(tmpdir(), 'writ-start-'));
  const home = join(root, '.writ');
  const port = await freePort();
  const child = spawn(process.execPath, [WRIT_BIN, 'start', '--home', home, '--port', String(port)], { env: { ...process.env, HOME: root }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  try {
    for (let tries = 0; !(await daemonAnswers(join(home, 'writ.sock'))); tries++) {
      assert.ok(tries < 200, `the daemon did not come up:\n${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const token = readFileSync(join(home, 'server', 'admin-token'), 'utf8').trim();
    const enrollment = JSON.parse(readFileSync(join(home, 'enrollment.json'), 'utf8')) as { device_id: string; assurance: string };
    assert.equal(enrollment.assurance, 'local-os-user');
    const get = async (path: string) => (await fetch(`http://127.0.0.1:${port}${path}`, { headers: { authorization: `Bearer ${token}` } })).json() as Promise<any>;
    for (let tries = 0; ; tries++) {
      const events = await get(`/v1/events?device=${enrollment.device_id}`);
      if (events.items.some((event: any) => event.kind === 'daemon.start')) break;
      assert.ok(tries < 100, `the daemon's events never reached the server:\n${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const devices = await get('/v1/devices');
    assert.deepEqual(devices.items.map((device: any) => device.id), [enrollment.device_id]);
  } finally {
    child.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
    rmSync(root, { recursive: true, force: true });
  }
});
