// Policy files on disk: the standard policy shipped with Writ, and a device's own in $WRIT_HOME/policy.
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SETTINGS_FILE, type PolicyFile } from '../policy/index.js';

/** The standard policy, shipped beside src/ and dist/. */
export const STANDARD_POLICY_DIR = fileURLToPath(new URL('../../policy/standard', import.meta.url));

export class PolicyDirError extends Error {}

/** Reads every `*.cedar` file of a directory, sorted by name, and its settings.json when there is one. */
export function readPolicyDir(dir: string): PolicyFile[] {
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new PolicyDirError(`${dir} is not a directory`);
    names = readdirSync(dir).filter((name) => name.endsWith('.cedar') || name === SETTINGS_FILE).sort();
  } catch (error) {
    if (error instanceof PolicyDirError) throw error;
    throw new PolicyDirError(`cannot read policy directory ${dir}: ${(error as Error).message}`);
  }
  if (!names.some((name) => name.endsWith('.cedar'))) throw new PolicyDirError(`no .cedar files in ${dir}`);
  return names.map((name) => ({ name, text: readFileSync(join(dir, name), 'utf8') }));
}

/** The directory commands use: --policy, else $WRIT_HOME/policy, else the standard policy. */
export function policyDirFor(explicit: string | undefined, writHomePolicy: string): string {
  if (explicit) return explicit;
  return existsSync(writHomePolicy) ? writHomePolicy : STANDARD_POLICY_DIR;
}

/** Copies the standard policy into an empty $WRIT_HOME/policy on first run. */
export function seedPolicy(dir: string): boolean {
  if (existsSync(dir) && readdirSync(dir).some((name) => name.endsWith('.cedar'))) return false;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const name of readdirSync(STANDARD_POLICY_DIR)) copyFileSync(join(STANDARD_POLICY_DIR, name), join(dir, name));
  return true;
}
