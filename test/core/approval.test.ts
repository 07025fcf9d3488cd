// The approval digest binds exactly one call; durations are ISO 8601; decisions open only under the org key.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { approvalDigest, openApprovalDecision, parseDurationMs, signApprovalDecision, type ApprovalDecision } from '../../src/core/approval.js';
import { ed25519Signer } from '../../src/core/dsse.js';

const call = { device: 'dev_1', session: 's1', tool: 'Bash', tool_input: { command: 'deploy prod', timeout: 5 }, cwd: '/work' };

describe('approval digest', () => {
  it('is the same for the same call whatever the key order, and differs when any part differs', () => {
    const digest = approvalDigest(call);
    assert.match(digest, /^sha256:[0-9a-f]{64}$/);
    assert.equal(approvalDigest({ cwd: '/work', tool_input: { timeout: 5, command: 'deploy prod' }, tool: 'Bash', session: 's1', device: 'dev_1' }), digest);
    const variants = [
      { ...call, device: 'dev_2' },
      { ...call, session: 's2' },
      { ...call, tool: 'Read' },
      { ...call, tool_input: { command: 'deploy prod ', timeout: 5 } },
      { ...call, tool_input: { command: 'deploy prod' } },
      { ...call, cwd: '/work/sub' },
    ];
    assert.equal(new Set([digest, ...variants.map(approvalDigest)]).size, variants.length + 1);
  });
});

describe('approval durations', () => {
  it('reads days, hours, minutes and seconds, and refuses anything else', () => {
    assert.equal(parseDurationMs('PT1H'), 3_600_000);
    assert.equal(parseDurationMs('P1DT30M'), 88_200_000);
    assert.equal(parseDurationMs('PT90S'), 90_000);
    for (const bad of ['P', 'PT', '1H', 'PT1.5H', 'P1Y', 'an hour', '']) assert.throws(() => parseDurationMs(bad), /not an ISO 8601 duration/, bad);
  });
});

describe('approval decisions', () => {
  it('open under the org key only, and only when well formed', () => {
    const org = generateKeyPairSync('ed25519');
    const decision: ApprovalDecision = {
      v: 1, id: 'apr_x', device: 'dev_1', digest: approvalDigest(call), decision: 'approved',
      reviewer: { name: 'carol@example.com', via: 'oidc', iss: 'https://idp', sub: 'carol' }, reviewers: 'release-managers',
      rules: ['release.deploy'], decided_at: '2026-01-01T00:00:00.000Z', expires_at: '2026-01-01T01:00:00.000Z',
    };
    const envelope = signApprovalDecision(decision, ed25519Signer(org.privateKey));
    assert.deepEqual(openApprovalDecision(envelope, org.publicKey), decision);
    assert.throws(() => openApprovalDecision(envelope, generateKeyPairSync('ed25519').publicKey), /not signed by the org key/);
    const forged = { ...envelope, payload: Buffer.from(JSON.stringify({ ...decision, decision: 'denied' })).toString('base64') };
    assert.throws(() => openApprovalDecision(forged, org.publicKey), /signature does not verify/);
    const malformed = signApprovalDecision({ ...decision, decision: 'maybe' } as unknown as ApprovalDecision, ed25519Signer(org.privateKey));
    assert.throws(() => openApprovalDecision(malformed, org.publicKey), /not well formed/);
  });
});
