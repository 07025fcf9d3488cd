// RFC 8785 (JCS) canonical JSON: the single byte form of a value that Writ hashes and signs.
// The only importer of `canonicalize`, so the choice of implementation stays in one place.
import canonicalize from 'canonicalize';

/**
 * The RFC 8785 text of `value`. Throws on what JSON cannot carry exactly: NaN, ±Infinity, lone
 * surrogates, BigInt, or a top-level value with no JSON form. Like JSON.stringify, object members
 * whose value is undefined are left out and `toJSON` is honoured.
 */
export function canonicalJson(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError('canonical JSON: value has no JSON representation');
  return text;
}

/** The UTF-8 bytes of `canonicalJson(value)`. */
export function canonicalBytes(value: unknown): Uint8Array {
  return Buffer.from(canonicalJson(value), 'utf8');
}
