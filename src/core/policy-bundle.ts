// Policy bundles: the policy files an admin publishes, signed by the org key so a daemon can check that
// what it enforces came from its organisation, whatever carried it.
import type { KeyObject } from 'node:crypto';
import { canonicalBytes } from './canonical-json.js';
import { sha256Hex } from './digest.js';
import { signEnvelope, type Envelope, type Signer } from './dsse.js';
import { openOrgSigned } from './org-signed.js';

/** One policy file: its name (shown in errors and rule locations, e.g. `secrets.cedar`) and its Cedar text. */
export interface PolicyFile {
  name: string;
  text: string;
}

export const POLICY_BUNDLE_PAYLOAD_TYPE = 'application/vnd.writ.policy-bundle.v1+json';
/** A kill switch's target: an MCP server or a tool, by name (`*` is a glob). */
export const KILL_TARGET = /^(mcp|tool):[A-Za-z0-9_.:*-]{1,200}$/;

export const CONTROL_STATE_PAYLOAD_TYPE = 'application/vnd.writ.control-state.v1+json';

export interface PolicyBundle {
  v: 1;
  files: PolicyFile[];
  published_by: string;
  published_at: string;
  comment?: string;
}

/** What every connected daemon enforces beyond its policy: the bundle in force and the kill switches. */
export interface ControlState {
  v: 1;
  version: number;
  policy_bundle?: string; // hash of the bundle in force
  kills: string[]; // 'mcp:<server>' | 'tool:<name>'
  issued_at: string;
}

export function signPolicyBundle(bundle: PolicyBundle, signer: Signer): { hash: string; envelope: Envelope } {
  const bytes = canonicalBytes(bundle);
  return { hash: `sha256:${sha256Hex(bytes)}`, envelope: signEnvelope(POLICY_BUNDLE_PAYLOAD_TYPE, bytes, signer) };
}

export function signControlState(state: ControlState, signer: Signer): Envelope {
  return signEnvelope(CONTROL_STATE_PAYLOAD_TYPE, canonicalBytes(state), signer);
}

/** Checks the org's signature and the payload's shape; throws saying what is wrong. */
export function openPolicyBundle(envelope: Envelope, orgKey: KeyObject): { hash: string; bundle: PolicyBundle } {
  const payload = openOrgSigned(envelope, orgKey, POLICY_BUNDLE_PAYLOAD_TYPE, 'policy bundle');
  const bundle = payload.value as PolicyBundle;
  if (
    bundle?.v !== 1 ||
    !Array.isArray(bundle.files) ||
    !bundle.files.every((file) => typeof file?.name === 'string' && typeof file?.text === 'string') ||
    typeof bundle.published_by !== 'string' ||
    typeof bundle.published_at !== 'string'
  ) {
    throw new Error('policy bundle payload is not a well-formed bundle');
  }
  return { hash: `sha256:${sha256Hex(payload.bytes)}`, bundle };
}

export function openControlState(envelope: Envelope, orgKey: KeyObject): ControlState {
  const state = openOrgSigned(envelope, orgKey, CONTROL_STATE_PAYLOAD_TYPE, 'control state').value as ControlState;
  if (state?.v !== 1 || !Number.isSafeInteger(state.version) || !Array.isArray(state.kills) || !state.kills.every((kill) => typeof kill === 'string')) {
    throw new Error('control state payload is not well formed');
  }
  return state;
}

