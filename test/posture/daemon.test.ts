// The daemon re-checks posture: a changed check is a signed posture.changed event in the journal, the
// posture file is rewritten, and a policy condition on context.device answers differently on the next call.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { PostureReport } from '../../src/core/inventory.js';
import { HOOK_PATH, startDaemon } from '../../src/daemon/daemon.js';
import { verifyJournal } from '../../src/daemon/journal.js';
import { loadPublicKey } from '../../src/daemon/keys.js';
import { seedPolicy } from '../../src/home/policy-files.js';
import { resolveWritHome, type WritHome } from '../../src/home/writ-home.js';
import { journalEvents } from '../support/journal.js';
import { preToolUse } from '../support/daemon.js';

const FIREWALL_RULE =
  '@id("posture.firewall")\n@reason("this device\'s firewall is off")\n' +
  'forbid (principal, action == Writ::Action::"exec", resource) when { context.device has firewall && !context.device.firewall };\n';

function homeWithFirewallRule(): WritHome {
  const home = resolveWritHome(mkdtempSync(join(tmpdir(), 'writ-home-')));
  seedPolicy(home.policy);
  writeFileSync(join(home.policy, '80-posture.cedar'), FIREWALL_RULE);
  return home;
}

/** A report as the collector gives it, with the firewall check pass or fail. */
function reportWithFirewall(on: boolean): PostureReport {
  const at = new Date().toISOString();
  return {
    collected_at: at,
    os: 'linux',
    os_version: 'debian 12',
    firewall: on,
    checks: [
      { name: 'os_version', status: 'pass', value: 'debian 12', reason: 'Debian GNU/Linux 12', source: '/etc/os-release', checked_at: at },
      { name: 'firewall', status: on ? 'pass' : 'fail', value: on ? 'ufw' : false, reason: on ? 'firewall unit active: ufw' : 'no firewall unit is active', source: '/usr/bin/systemctl is-active ufw firewalld nftables', checked_at: at },
    ],
  };
}

function decisionFor(home: WritHome, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: home.socket, method: 'POST', path: HOOK_PATH, headers: { 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        resolve(body.trim() === '' ? 'silent' : (JSON.parse(body).hookSpecificOutput?.permissionDecision ?? 'silent'));
      });
    });
    req.on('error', reject);
    req.end(preToolUse('Bash', { command }));
  });
}

const postureEvents = (home: WritHome) => journalEvents(home).filter((event) => event.kind === 'posture.changed');

test('a firewall turned off is a posture.changed event, and a context.device rule denies from the next call', async () => {
  const home = homeWithFirewallRule();
  let firewallOn = true;
  const daemon = await startDaemon({ home, log: () => {}, posture: { intervalMs: 3_600_000, collect: async () => reportWithFirewall(firewallOn) } });
  try {
    await daemon.checkPosture();
    assert.equal(JSON.parse(readFileSync(home.posture, 'utf8')).firewall, true);
    assert.notEqual(await decisionFor(home, 'make all'), 'deny');
    assert.deepEqual(postureEvents(home), [], 'the first collection has nothing to differ from');

    firewallOn = false;
    await daemon.checkPosture();
    const events = postureEvents(home);
    assert.equal(events.length, 1);
    assert.deepEqual(events[0]!.data, {
      changed: ['firewall'],
      previous: { firewall: { status: 'pass', value: 'ufw' } },
      current: { firewall: { status: 'fail', value: false } },
    });
    assert.equal(await decisionFor(home, 'make all'), 'deny');

    await daemon.checkPosture();
    assert.equal(postureEvents(home).length, 1, 'an unchanged posture records nothing');
  } finally {
    await daemon.close();
  }
  assert.equal(verifyJournal(home.journal, loadPublicKey(home.root)).ok, true);
});

test('the interval re-checks on its own, and a change across a restart is still recorded', async () => {
  const home = homeWithFirewallRule();
  let firewallOn = false;
  let daemon = await startDaemon({ home, log: () => {}, posture: { intervalMs: 3_600_000, collect: async () => reportWithFirewall(firewallOn) } });
  await daemon.checkPosture();
  await daemon.close();

  firewallOn = true;
  daemon = await startDaemon({ home, log: () => {}, posture: { intervalMs: 3_600_000, collect: async () => reportWithFirewall(firewallOn) } });
  try {
    await daemon.checkPosture();
    assert.deepEqual(postureEvents(home).map((event) => (event.data as { current: unknown }).current), [{ firewall: { status: 'pass', value: 'ufw' } }]);
  } finally {
    await daemon.close();
  }

  let collections = 0;
  daemon = await startDaemon({ home, log: () => {}, posture: { intervalMs: 20, collect: async () => (collections++, reportWithFirewall(collections < 3)) } });
  try {
    for (let wait = 0; wait < 200 && postureEvents(home).length < 2; wait++) await new Promise((resolve) => setTimeout(resolve, 25));
    assert.equal(postureEvents(home).length, 2, 'the interval found the change without being asked');
    assert.equal(await decisionFor(home, 'make all'), 'deny');
  } finally {
    await daemon.close();
  }
});

test('a posture file the collector did not write (an MDM feed, an operator) is left as the posture', async () => {
  const home = homeWithFirewallRule();
  const external = JSON.stringify({ collected_at: new Date().toISOString(), os: 'linux', firewall: false });
  writeFileSync(home.posture, external);
  const lines: string[] = [];
  const daemon = await startDaemon({ home, log: (line) => lines.push(line), posture: { intervalMs: 3_600_000, collect: async () => reportWithFirewall(true) } });
  try {
    await daemon.checkPosture();
    assert.equal(readFileSync(home.posture, 'utf8'), external);
    assert.equal(await decisionFor(home, 'make all'), 'deny');
    assert.ok(lines.some((line) => /not written by the collector/.test(line)));
  } finally {
    await daemon.close();
  }
});

test('patch_age_days reaches policy as a Long', async () => {
  const home = homeWithFirewallRule();
  writeFileSync(
    join(home.policy, '81-patches.cedar'),
    '@id("posture.patches")\n@reason("this device has not been updated for a month")\n' +
      'forbid (principal, action == Writ::Action::"exec", resource) when { context.device has patch_age_days && context.device.patch_age_days > 30 };\n',
  );
  let days = 3;
  const collect = async (): Promise<PostureReport> => {
    const report = reportWithFirewall(true);
    return { ...report, patch_age_days: days, checks: [...report.checks, { name: 'patch_age', status: days > 30 ? 'fail' : 'pass', value: days, reason: `${days} days`, checked_at: report.collected_at }] };
  };
  const daemon = await startDaemon({ home, log: () => {}, posture: { intervalMs: 3_600_000, collect } });
  try {
    await daemon.checkPosture();
    assert.notEqual(await decisionFor(home, 'make all'), 'deny');
    days = 45;
    await daemon.checkPosture();
    assert.equal(await decisionFor(home, 'make all'), 'deny');
    assert.deepEqual(postureEvents(home).map((event) => (event.data as { changed: string[] }).changed), [['patch_age']]);
  } finally {
    await daemon.close();
  }
});
