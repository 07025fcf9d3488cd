// The fleet's maturity from the server's counts: as far along as its weakest device, each missing requirement with
// its fix, and the six questions in the seeds' wording.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assessFleet, type FleetFacts } from '../../src/detect/fleet-maturity.js';
import { QUESTIONS } from '../../src/detect/maturity.js';

const NOW = '2026-11-22T12:00:00.000Z';

/** A fleet that meets every requirement; tests break one thing at a time. */
function healthy(changes: Partial<FleetFacts> = {}): FleetFacts {
  return {
    now: NOW,
    devices: { total: 10, unverified: 0, reporting: 10, guardOff: 0, selfTestFailed: 0, heartbeatStale: 0, postureFailing: 0, postureStale: 0 },
    people: 8,
    agents: { total: 12, governed: 12, ungoverned: 0 },
    mcpServers: { total: 3, approved: 3, unapproved: 0 },
    decisions: 500,
    sessions: 40,
    log: { size: 900, checkpointSize: 900, checkpointAt: '2026-11-22T11:59:00.000Z' },
    query_ms: 12,
    ...changes,
  };
}

describe('fleet maturity', () => {
  it('is provable when every device is visible, governed, verified, fresh and checkpointed', () => {
    const assessment = assessFleet(healthy());
    assert.equal(assessment.level, 3);
    assert.equal(assessment.level_name, 'provable');
    assert.equal(assessment.next, undefined);
    assert.deepEqual(assessment.questions.map((q) => q.question), Object.values(QUESTIONS));
    assert.ok(assessment.questions.every((q) => q.answered === 'yes'), JSON.stringify(assessment.questions));
  });

  it('stops at the first level one device misses, and says what to do', () => {
    const oneUnapproved = assessFleet(healthy({ mcpServers: { total: 3, approved: 2, unapproved: 1 } }));
    assert.equal(oneUnapproved.level, 1);
    assert.deepEqual(oneUnapproved.next!.missing.map((item) => item.id), ['mcp-approved']);
    assert.match(oneUnapproved.next!.missing[0].fix!, /Agents and MCP page/);
    assert.equal(oneUnapproved.questions.find((q) => q.id === 'access')!.answered, 'partly');

    const oneGuardOff = assessFleet(healthy({ devices: { ...healthy().devices, guardOff: 1 } }));
    assert.equal(oneGuardOff.level, 1);
    assert.match(oneGuardOff.next!.missing[0].detail, /hooks off on 1/);

    const staleCheckpoint = assessFleet(healthy({ log: { size: 900, checkpointSize: 800, checkpointAt: '2026-11-20T12:00:00.000Z' } }));
    assert.equal(staleCheckpoint.level, 2);
    assert.deepEqual(staleCheckpoint.next!.missing.map((item) => item.id), ['log-checkpointed']);

    const silentDevice = assessFleet(healthy({ devices: { ...healthy().devices, reporting: 9 } }));
    assert.equal(silentDevice.level, 0);
    assert.match(silentDevice.questions[0].answer, /1 device never reported/);
  });

  it('tells an empty server to enrol devices, for every question but speed', () => {
    const empty = assessFleet(healthy({ devices: { total: 0, unverified: 0, reporting: 0, guardOff: 0, selfTestFailed: 0, heartbeatStale: 0, postureFailing: 0, postureStale: 0 }, people: 0, agents: { total: 0, governed: 0, ungoverned: 0 }, log: { size: 0 } }));
    assert.equal(empty.level, 0);
    assert.deepEqual(empty.questions.map((q) => q.answered), ['no', 'no', 'no', 'no', 'no', 'yes']);
    assert.match(empty.questions[0].answer, /writ install claude-code, then writ enroll/);
  });
});
