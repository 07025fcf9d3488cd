// Approvals by a named reviewer: the digest that binds an approval to one exact tool call, and the decision the
// org key signs so that a device (and anyone reading its journal) can check who approved or denied it.
import type { KeyObject } from 'node:crypto';
import { canonicalBytes } from './canonical-json.js';
import { sha256Hex } from './digest.js';
import { signEnvelope, type Envelope, type Signer } from './dsse.js';
import { openOrgSigned } from './org-signed.js';

export const APPROVAL_DECISION_PAYLOAD_TYPE = 'application/vnd.writ.approval-decision.v1+json';
/** `apr_` and 22 base64url characters (128 random bits): unguessable, since approve/deny links carry it. */
export const APPROVAL_ID = /^apr_[A-Za-z0-9_-]{22}$/;
/** `sha256:` and 64 hex digits. */
export const APPROVAL_DIGEST = /^sha256:[0-9a-f]{64}$/;

/** Exactly what an approval covers: one device, one session, one tool with these arguments, in one directory. */
export interface ApprovalSubject {
  device: string;
  session: string;
  tool: string;
  tool_input: unknown;
  cwd: string;
}

/** `sha256:` + hex SHA-256 of the subject's RFC 8785 canonical JSON: any change to the call is another digest. */
export function approvalDigest(subject: ApprovalSubject): string {
  return `sha256:${sha256Hex(canonicalBytes({ ...subject, tool_input: subject.tool_input ?? null }))}`;
}

/** The person who decided, as the server authenticated them. */
export interface Reviewer {
  /** Verified email, else `sub` (OIDC); `token:<name>` for an admin token. */
  name: string;
  via: 'oidc' | 'token';
  iss?: string;
  sub?: string;
}

/** What the org key signs when a reviewer decides. */
export interface ApprovalDecision {
  v: 1;
  id: string;
  device: string;
  digest: string;
  decision: 'approved' | 'denied';
  reviewer: Reviewer;
  /** The group the rule named with `@reviewers`. */
  reviewers: string;
  rules: string[];
  comment?: string;
  decided_at: string;
  /** After this instant the decision no longer covers the call. */
  expires_at: string;
}

export function signApprovalDecision(decision: ApprovalDecision, signer: Signer): Envelope {
  return signEnvelope(APPROVAL_DECISION_PAYLOAD_TYPE, canonicalBytes(decision), signer);
}

/** Checks the org's signature and the payload's shape; throws saying what is wrong. */
export function openApprovalDecision(envelope: Envelope, orgKey: KeyObject): ApprovalDecision {
  const value = openOrgSigned(envelope, orgKey, APPROVAL_DECISION_PAYLOAD_TYPE, 'approval decision').value as ApprovalDecision;
  if (
    value?.v !== 1 ||
    typeof value.id !== 'string' ||
    typeof value.device !== 'string' ||
    typeof value.digest !== 'string' ||
    (value.decision !== 'approved' && value.decision !== 'denied') ||
    typeof value.reviewer?.name !== 'string' ||
    typeof value.reviewers !== 'string' ||
    !Array.isArray(value.rules) ||
    Number.isNaN(Date.parse(value.decided_at)) ||
    Number.isNaN(Date.parse(value.expires_at))
  ) {
    throw new Error('approval decision payload is not well formed');
  }
  return value;
}

/** Parses an ISO 8601 duration of days, hours, minutes and seconds (`PT1H`, `P1DT30M`, `PT90S`) to milliseconds. */
export function parseDurationMs(text: string): number {
  const match = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/.exec(text);
  if (!match || text === 'P' || text.endsWith('T')) throw new Error(`\`${text}\` is not an ISO 8601 duration such as PT1H`);
  const [days, hours, minutes, seconds] = match.slice(1).map((part) => Number(part ?? 0));
  return (((days * 24 + hours) * 60 + minutes) * 60 + seconds) * 1000;
}
