// A reviewer's decision on a run (`run.reviewed`): validated input, and the org-signed form the server keeps.
import type { KeyObject } from 'node:crypto';
import { canonicalBytes } from '../core/canonical-json.js';
import { sha256Hex } from '../core/digest.js';
import { signEnvelope, type Envelope, type Signer } from '../core/dsse.js';
import { openOrgSigned } from '../core/org-signed.js';
import type { RunRecord } from './record.js';

export const RUN_REVIEW_PAYLOAD_TYPE = 'application/vnd.writ.run-review.v1+json';
export const REVIEW_DECISIONS = ['accept', 'reject', 'needs-changes'] as const;
export type ReviewDecision = (typeof REVIEW_DECISIONS)[number];
export const MAX_REVIEW_COMMENT = 4000;

/** The data of a `run.reviewed` event, as the shared event format names it. */
export interface RunReview {
  session_id: string;
  device_id: string;
  decision: ReviewDecision;
  comment: string;
  reviewer: { subject: string; email?: string; via: 'oidc' | 'admin-token' | 'local-os-user' };
}

/** What the org key signs for a review made through the server. */
export interface SignedRunReview extends RunReview {
  v: 1;
  kind: 'run.reviewed';
  reviewed_at: string;
}

/** The problem with a requested decision and comment, or undefined when they are fine. */
export function reviewInputProblem(decision: unknown, comment: unknown): string | undefined {
  if (!REVIEW_DECISIONS.includes(decision as ReviewDecision)) return `the decision must be one of ${REVIEW_DECISIONS.join(', ')}, not ${JSON.stringify(decision)}`;
  if (typeof comment !== 'string') return 'the comment must be text';
  if (comment.length > MAX_REVIEW_COMMENT) return `the comment is longer than ${MAX_REVIEW_COMMENT} characters`;
  return undefined;
}

export function signRunReview(review: SignedRunReview, signer: Signer): Envelope {
  return signEnvelope(RUN_REVIEW_PAYLOAD_TYPE, canonicalBytes(review), signer);
}

/** Checks the org's signature and the payload's shape; throws saying what is wrong. */
export function openRunReview(envelope: Envelope, orgKey: KeyObject): SignedRunReview {
  const value = openOrgSigned(envelope, orgKey, RUN_REVIEW_PAYLOAD_TYPE, 'run review').value as SignedRunReview;
  if (value?.v !== 1 || value.kind !== 'run.reviewed' || typeof value.session_id !== 'string' || typeof value.reviewer?.subject !== 'string' || reviewInputProblem(value.decision, value.comment)) {
    throw new Error('run review payload is not well formed');
  }
  return value;
}

/** Adds org-signed reviews to a record, in the order given; each links to `org` and the hash of its signed payload. */
export function addOrgReviews(record: RunRecord, envelopes: readonly Envelope[], open: (envelope: Envelope) => SignedRunReview): RunRecord {
  envelopes.forEach((envelope, slot) => {
    const review = open(envelope);
    const hash = sha256Hex(Buffer.from(envelope.payload, 'base64'));
    record.reviews.push({ decision: review.decision, comment: review.comment, reviewer: review.reviewer, at: review.reviewed_at, ref: { device: 'org', seq: slot, hash } });
  });
  return record;
}

/** The payload of a review the caller signed or already trusts (the server reading its own store). */
export function readRunReview(envelope: Envelope): SignedRunReview {
  return JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')) as SignedRunReview;
}
