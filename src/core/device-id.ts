/** A device's id is derived from its key's id, so the id cannot be claimed without the key. */
export function deviceIdFor(keyId: string): string {
  return `dev_${keyId.slice('sha256:'.length, 'sha256:'.length + 16)}`;
}
