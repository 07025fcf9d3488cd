// Secret values that must never be stored in an event: known token formats and key material.
const PATTERNS: [name: string, pattern: RegExp][] = [
  ['private-key', /-----BEGIN [A-Z ]*PRIVATE KEY( BLOCK)?-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY( BLOCK)?-----|$)/g],
  ['aws-access-key-id', /\b(AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b/g],
  ['github-token', /\b(gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{60,255})\b/g],
  ['gitlab-token', /\bglpat-[A-Za-z0-9_-]{20,}\b/g],
  ['slack-token', /\bxox[abposr]-[A-Za-z0-9-]{10,}\b/g],
  ['anthropic-key', /\bsk-ant-[A-Za-z0-9_-]{20,}\b/g],
  ['openai-key', /\bsk-(proj-)?[A-Za-z0-9_-]{32,}\b/g],
  ['google-api-key', /\bAIza[0-9A-Za-z_-]{35}\b/g],
  ['stripe-key', /\b[rs]k_(live|test)_[0-9a-zA-Z]{20,}\b/g],
  ['npm-token', /\bnpm_[A-Za-z0-9]{36}\b/g],
  ['jwt', /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b/g],
  ['bearer', /(\bBearer\s+)[A-Za-z0-9._~+/=-]{16,}/gi],
  ['url-credentials', /(\b[a-z][a-z0-9+.-]*:\/\/[^:/@\s]+:)[^@/\s]+(@)/gi],
  ['assignment', /(\b[A-Za-z0-9_]*(?:PASSWORD|PASSWD|SECRET|TOKEN|API_KEY|APIKEY|PRIVATE_KEY|ACCESS_KEY)[A-Za-z0-9_]*\s*[=:]\s*)("[^"]{4,}"|'[^']{4,}'|[^\s'"]{4,})/gi],
];

/** Replaces secret values with `[REDACTED:<kind>]`, keeping the text around them. */
export function redactSecrets(text: string): string {
  let out = text;
  for (const [name, pattern] of PATTERNS) {
    out = out.replace(pattern, (_match, ...groups: unknown[]) => {
      if (name === 'bearer' || name === 'assignment') return `${groups[0] as string}[REDACTED:${name}]`;
      if (name === 'url-credentials') return `${groups[0] as string}[REDACTED:${name}]${groups[1] as string}`;
      return `[REDACTED:${name}]`;
    });
  }
  return out;
}
