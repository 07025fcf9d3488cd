// Statements the org key signs (policy bundles, control state, approval decisions, run reviews): one way to
// open them, so each is checked for its payload type, the org's signature and canonical JSON alike.
import type { KeyObject } from 'node:crypto';
import { canonicalBytes } from './canonical-json.js';
import { keyIdFor, verifyEnvelope, type Envelope } from './dsse.js';

/** The signed payload's bytes and parsed value; throws naming `what` and the problem. */
export function openOrgSigned(envelope: Envelope, orgKey: KeyObject, payloadType: string, what: string): { bytes: Buffer; value: unknown } {
  if (envelope.payloadType !== payloadType) throw new Error(`${what} has payload type ${envelope.payloadType}`);
  const verdict = verifyEnvelope(envelope, new Map([[keyIdFor(orgKey), orgKey]]));
  if (!verdict.ok) throw new Error(`${what} is not signed by the org key: ${verdict.problem}`);
  const bytes = Buffer.from(verdict.payload);
  const value: unknown = JSON.parse(bytes.toString('utf8'));
  if (!bytes.equals(canonicalBytes(value))) throw new Error(`${what} payload is not canonical JSON`);
  return { bytes, value };
}
