// What a session has already done, as the policy sees it: the flags only ever go from false to true, and
// each comes from a call that ran. With untrusted content and private data in one session, anything that
// can carry data out is the third leg of the "lethal trifecta", and the standard policy asks a person.
import type { Action, CallEnvironment } from './actions.js';
import type { Decision, Touched } from './decide.js';
import type { Rule } from './engine.js';
import { isInternalServer } from './mcp.js';
import { isUnder } from './paths.js';
import { globMatches, type PolicySettings } from './settings.js';

export type TouchedFlag = keyof Touched;

export const TOUCHED_FLAGS: readonly TouchedFlag[] = ['secrets', 'untrusted', 'private_data', 'production'];

/** The flags one call that ran sets; `decision` is the policy's verdict on it (rules annotated @touches add theirs). */
export function touchedBy(decision: Decision, rules: ReadonlyMap<string, Rule>, env: CallEnvironment, settings: PolicySettings): Set<TouchedFlag> {
  const flags = new Set<TouchedFlag>();
  for (const verdict of decision.verdicts) {
    for (const id of [...verdict.rules, ...(verdict.monitored ?? [])]) {
      for (const flag of rules.get(id)?.touches ?? []) flags.add(flag);
    }
  }
  touchedByActions(decision.actions, env, settings).forEach((flag) => flags.add(flag));
  // Reading a secret is reading private data too.
  if (flags.has('secrets')) flags.add('private_data');
  return flags;
}

/**
 * The flags a call's own actions set. Judging a call before it runs, what it reads counts (a command that reads
 * a project file and posts it sends private data), but what it fetches does not: content the call has not
 * received yet cannot have steered it.
 */
export function touchedByActions(actions: readonly Action[], env: CallEnvironment, settings: PolicySettings, moment: 'before-running' | 'ran' = 'ran'): Set<TouchedFlag> {
  const flags = new Set(actions.flatMap((action) => actionFlags(action, env, settings)));
  if (moment === 'before-running') flags.delete('untrusted');
  return flags;
}

/** The session's flags after a call that ran; the same object when nothing changed. */
export function observe(touched: Touched, flags: ReadonlySet<TouchedFlag>): Touched {
  if (TOUCHED_FLAGS.every((flag) => touched[flag] || !flags.has(flag))) return touched;
  return Object.fromEntries(TOUCHED_FLAGS.map((flag) => [flag, touched[flag] || flags.has(flag)])) as unknown as Touched;
}

/** Whether the repository is trusted content: listed in the settings, or the project's own when no list is given. */
export function repositoryTrusted(repository: string | undefined, settings: PolicySettings): boolean {
  if (settings.trusted_repositories === undefined) return true;
  return repository !== undefined && settings.trusted_repositories.some((pattern) => globMatches(pattern, repository));
}

function actionFlags(action: Action, env: CallEnvironment, settings: PolicySettings): TouchedFlag[] {
  switch (action.kind) {
    case 'read':
      if (!isUnder(action.path, env.projectDir)) return [];
      return repositoryTrusted(env.repository, settings) ? ['private_data'] : ['private_data', 'untrusted'];
    case 'fetch':
    case 'send': {
      const flags: TouchedFlag[] = [];
      if (settings.production.hosts.some((pattern) => globMatches(pattern, action.host))) flags.push('production');
      // What comes back from outside is untrusted; the project's own remote only when the repository is.
      const local = action.host === 'localhost' || /^127\./.test(action.host) || action.host === '::1';
      const ownRemote = action.projectRemote && repositoryTrusted(env.repository, settings);
      if (action.kind === 'fetch' && !local && !ownRemote) flags.push('untrusted');
      return flags;
    }
    case 'exec':
      return settings.production.commands.some((pattern) => globMatches(pattern, action.line)) ? ['production'] : [];
    case 'search':
      return ['untrusted'];
    case 'mcp_call':
      // An internal server's results are the organisation's own data; any other server's are untrusted.
      return isInternalServer(action.server, action.identity, settings) ? ['private_data'] : ['untrusted'];
    default:
      return [];
  }
}
