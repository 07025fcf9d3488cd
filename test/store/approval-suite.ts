// The approvals part of the store contract, run by runStoreSuite on every adapter.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ApprovalRequest, Store } from '../../src/store/store.js';

const T0 = Date.UTC(2026, 0, 1);
const at = (seconds: number): string => new Date(T0 + seconds * 1000).toISOString();

function request(id: string, options: Partial<ApprovalRequest> = {}): ApprovalRequest {
  return {
    id,
    deviceId: 'dev_1',
    personId: 'per_1',
    digest: `sha256:${'a'.repeat(64)}`,
    sessionId: 's1',
    tool: 'Bash',
    summary: { tool: 'Bash', tool_input: { command: 'git push --force origin main' } },
    rules: ['git.force-push'],
    reviewers: 'release-managers',
    reason: 'force pushes need a release manager',
    createdAt: at(0),
    expiresAt: at(3600),
    ...options,
  };
}

const verdict = (status: 'approved' | 'denied', seconds: number) => ({
  status,
  decidedAt: at(seconds),
  decidedBy: 'carol@example.com',
  comment: 'ok for the release',
  decision: '{"payloadType":"x","payload":"","signatures":[]}',
});

export function runApprovalSuite(name: string, open: () => Promise<Store>): void {
  const withStore = (fn: (store: Store) => Promise<void>) => async () => {
    const store = await open();
    try {
      await fn(store);
    } finally {
      await store.close();
    }
  };

  describe(`${name} store: approvals`, () => {
    it('keeps a pending approval and gives the same one back for the same call until it expires', withStore(async (store) => {
      const first = await store.requestApproval(request('apr_1'), at(0));
      assert.equal(first.created, true);
      assert.deepEqual(first.approval, { ...request('apr_1'), status: 'pending' });
      assert.deepEqual(await store.getApproval('apr_1'), first.approval);

      const again = await store.requestApproval(request('apr_2', { createdAt: at(10), expiresAt: at(3610) }), at(10));
      assert.deepEqual(again, { approval: first.approval, created: false }, 'the same call reuses the live approval');
      assert.equal(await store.getApproval('apr_2'), undefined);

      const other = await store.requestApproval(request('apr_3', { digest: `sha256:${'b'.repeat(64)}`, sessionId: undefined }), at(10));
      assert.equal(other.created, true, 'another call is another approval');
      assert.equal(other.approval.sessionId, undefined);
      const otherDevice = await store.requestApproval(request('apr_4', { deviceId: 'dev_2' }), at(10));
      assert.equal(otherDevice.created, true, 'the same call on another device is another approval');

      const later = await store.requestApproval(request('apr_5', { createdAt: at(3600), expiresAt: at(7200) }), at(3600));
      assert.equal(later.created, true, 'once expired, the call needs a new approval');
    }));

    it('gives two simultaneous requests for one call one approval', withStore(async (store) => {
      const answers = await Promise.all(['apr_a', 'apr_b', 'apr_c'].map((id) => store.requestApproval(request(id), at(0))));
      assert.equal(new Set(answers.map((answer) => answer.approval.id)).size, 1);
      assert.equal(answers.filter((answer) => answer.created).length, 1);
    }));

    it('decides a pending approval once, and never after it expired', withStore(async (store) => {
      await store.requestApproval(request('apr_1'), at(0));
      const decided = await store.decideApproval('apr_1', verdict('approved', 60));
      assert.deepEqual(decided, { ...request('apr_1'), ...verdict('approved', 60) });
      assert.equal(await store.decideApproval('apr_1', verdict('denied', 61)), undefined, 'a decided approval cannot be decided again');
      assert.equal((await store.getApproval('apr_1'))?.status, 'approved');
      assert.equal((await store.requestApproval(request('apr_2'), at(120))).approval.status, 'approved', 'the retried call finds the decision');

      await store.requestApproval(request('apr_3', { digest: `sha256:${'c'.repeat(64)}` }), at(0));
      assert.equal(await store.decideApproval('apr_3', verdict('approved', 3600)), undefined, 'expired');
      assert.equal((await store.getApproval('apr_3'))?.status, 'pending');
      assert.equal(await store.decideApproval('apr_nope', verdict('approved', 1)), undefined);
    }));

    it('lists approvals newest first, by status and device', withStore(async (store) => {
      await store.requestApproval(request('apr_1'), at(0));
      await store.requestApproval(request('apr_2', { digest: `sha256:${'b'.repeat(64)}`, createdAt: at(5) }), at(5));
      await store.requestApproval(request('apr_3', { deviceId: 'dev_2', createdAt: at(9) }), at(9));
      await store.decideApproval('apr_2', verdict('denied', 10));
      assert.deepEqual((await store.listApprovals({})).map((a) => a.id), ['apr_3', 'apr_2', 'apr_1']);
      assert.deepEqual((await store.listApprovals({ status: 'pending' })).map((a) => a.id), ['apr_3', 'apr_1']);
      assert.deepEqual((await store.listApprovals({ status: 'denied' })).map((a) => a.id), ['apr_2']);
      assert.deepEqual((await store.listApprovals({ deviceId: 'dev_1', limit: 1 })).map((a) => a.id), ['apr_2']);
    }));
  });
}
