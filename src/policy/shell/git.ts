// git: global options that run commands (`-c core.sshCommand=…`), remotes that data goes to, force pushes.
import type { ExecAction } from '../actions.js';
import { hostAction, parseRemoteSpec } from './network.js';
import { hasOption, optionValues, parseArgs, textOf } from './options.js';
import type { Invocation, Output, ShellAnalyser } from './analyse.js';
import { NOTHING, fileAction, readPathLike, runScriptWord } from './commands.js';

/** Config keys whose values git runs as commands or that redirect what git executes. */
const EXECUTING_KEYS = /^(core\.(sshcommand|pager|editor|fsmonitor|hookspath|askpass|gitproxy)|sequence\.editor|gpg\.program|gpg\.\w+\.program|credential\.helper|diff\.external|uploadpack\.packobjectshook|filter\..+\.(clean|smudge|process)|diff\..+\.textconv|merge\..+\.driver|alias\..+)$/i;

const GLOBAL_WITH_VALUE = ['-C', '-c', '--git-dir', '--work-tree', '--namespace', '--exec-path', '--config-env', '--super-prefix', '--list-cmds', '--attr-source'];

export function gitCommand(sh: ShellAnalyser, inv: Invocation): Output {
  // `git -C dir` works in dir for this one command only.
  const savedCwd = sh.cwd;
  try {
    return gitSubcommand(sh, inv);
  } finally {
    sh.cwd = savedCwd;
  }
}

function gitSubcommand(sh: ShellAnalyser, inv: Invocation): Output {
  const args = inv.args;
  const facts: string[] = [];
  // `-c remote.origin.url=…` points remotes elsewhere for this one command.
  const remotes = { ...sh.gitRemotes };
  let i = 0;
  for (; i < args.length; i++) {
    const text = textOf(args[i]);
    if (text === undefined || !text.startsWith('-')) break;
    const value = textOf(args[i + 1]);
    if (text === '-C' && value !== undefined) sh.cwd = sh.path(value);
    if (text === '-c' && value !== undefined) configOverride(sh, inv, value, facts, remotes);
    if (GLOBAL_WITH_VALUE.includes(text)) i++;
  }
  const subcommand = textOf(args[i]);
  const rest = args.slice(i + 1);
  if (subcommand === undefined) {
    if (args[i]) sh.opaque('git runs a subcommand only known at run time', inv.chain);
    return NOTHING;
  }
  facts.push(`git.${subcommand}`);
  let output = NOTHING;
  switch (subcommand) {
    case 'push':
      push(sh, inv, rest, facts, remotes);
      break;
    case 'clone': {
      const parsed = parseArgs(rest, { withValue: ['-b', '--branch', '-o', '--origin', '--depth', '-c', '--config', '--reference', '--template', '-u', '--upload-pack', '--separate-git-dir', '-j', '--jobs', '--filter'] });
      const [url, directory] = parsed.operands.map(textOf);
      if (url !== undefined) sh.actions.push(hostAction('fetch', url, 'git clone', 443, sh.env));
      fileAction(sh, inv, 'write', sh.wordFromText(directory ?? '.'), true);
      if (hasOption(parsed, '-u', '--upload-pack')) sh.opaque('git clone --upload-pack runs a custom command', inv.chain);
      break;
    }
    case 'fetch':
    case 'pull': {
      const parsed = parseArgs(rest, { withValue: ['--depth', '-j', '--jobs', '--upload-pack', '-o', '--server-option', '--negotiation-tip', '--shallow-since', '--shallow-exclude', '-X', '-s', '--strategy'] });
      const remote = textOf(parsed.operands[0]) ?? 'origin';
      sh.actions.push(remoteAction(sh, 'fetch', remote, `git ${subcommand}`, remotes));
      break;
    }
    case 'config':
      config(sh, inv, rest, facts);
      break;
    case 'add':
    case 'hash-object':
    case 'rm':
    case 'mv':
    case 'diff':
    case 'apply':
    case 'am':
    case 'commit':
    case 'archive':
    case 'show':
    case 'log':
    case 'blame':
    case 'cat-file':
    case 'grep':
      readPathLike(sh, inv, rest.filter((word) => !(textOf(word) ?? '').startsWith('-')).map(storedPath));
      // `git archive --remote=URL` asks another repository for its files.
      for (const word of rest) {
        const remote = /^--remote=(.+)$/.exec(textOf(word) ?? '')?.[1];
        if (remote !== undefined) sh.actions.push(remoteAction(sh, 'fetch', remote, 'git archive', remotes));
      }
      for (let j = 0; j < rest.length; j++) {
        const option = textOf(rest[j]);
        if ((option === '-F' || option === '--file') && rest[j + 1]) readPathLike(sh, inv, [rest[j + 1]!]);
        if ((option === '-o' || option === '--output') && rest[j + 1]) fileAction(sh, inv, 'write', rest[j + 1]!);
      }
      break;
    case 'ls-remote': {
      const remote = textOf(parseArgs(rest, { withValue: ['--upload-pack', '-o', '--server-option', '--sort'] }).operands[0]) ?? 'origin';
      sh.actions.push(remoteAction(sh, 'fetch', remote, 'git ls-remote', remotes));
      break;
    }
    case 'submodule':
      if (textOf(rest[0]) === 'add' && textOf(rest[1]) !== undefined) sh.actions.push(hostAction('fetch', textOf(rest[1])!, 'git submodule add', 443, sh.env));
      break;
    case 'ls-files':
      // Prints paths in the work tree, for `git ls-files | xargs …`.
      output = { network: false, pathsUnder: sh.cwd };
      break;
    case 'checkout':
    case 'switch':
      switchBranch(sh, rest);
      break;
    case 'remote': {
      const parsed = parseArgs(rest, { withValue: ['-t', '-m', '--mirror'] });
      const [action, name, url] = parsed.operands.map(textOf);
      if (action !== 'add' && action !== 'set-url') break;
      facts.push('git.remote.change');
      if (name !== undefined && url !== undefined) sh.gitRemotes[name] = url;
      break;
    }
  }
  attachFacts(sh, facts);
  return output;
}

/** `HEAD:.env`, `origin/main:config/secrets.yml`: a file as a commit stores it holds the same secret as on disk. */
function storedPath(word: Invocation['args'][number]): Invocation['args'][number] {
  const text = textOf(word);
  const colon = text === undefined || text.includes('://') ? -1 : text.indexOf(':');
  return colon > 0 && colon < text!.length - 1 ? { ...word, values: [text!.slice(colon + 1)] } : word;
}

function configOverride(sh: ShellAnalyser, inv: Invocation, assignment: string, facts: string[], remotes: Record<string, string>): void {
  const eq = assignment.indexOf('=');
  const key = (eq < 0 ? assignment : assignment.slice(0, eq)).toLowerCase();
  facts.push(`git.config:${key}`);
  if (eq < 0) return;
  if (EXECUTING_KEYS.test(key)) runConfigCommand(sh, inv, key, assignment.slice(eq + 1));
  redirectRemotes(assignment.slice(0, eq), assignment.slice(eq + 1), remotes);
}

/** `remote.<name>.url` and `pushurl` point one remote elsewhere; `url.<base>.insteadOf` may rewrite any of them to base. */
function redirectRemotes(key: string, value: string, remotes: Record<string, string>): void {
  const remote = /^remote\.(.+)\.(?:push)?url$/i.exec(key);
  if (remote) remotes[remote[1]!] = value;
  const rewrite = /^url\.(.+)\.(?:push)?insteadof$/i.exec(key);
  if (rewrite) for (const name of Object.keys(remotes)) remotes[name] = rewrite[1]!;
}

function runConfigCommand(sh: ShellAnalyser, inv: Invocation, key: string, value: string): void {
  if (key === 'core.hookspath') {
    sh.opaque(`git runs hooks from ${value}`, inv.chain);
    return;
  }
  const command = key.startsWith('alias.') ? (value.startsWith('!') ? value.slice(1) : undefined) : value;
  if (command !== undefined) runScriptWord(sh, { ...inv, chain: [...inv.chain, key] }, sh.wordFromText(command));
}

function config(sh: ShellAnalyser, inv: Invocation, rest: Invocation['args'], facts: string[]): void {
  const parsed = parseArgs(rest, { withValue: ['-f', '--file', '--blob', '--type', '--default', '--comment'] });
  const reading = hasOption(parsed, '--get', '--get-all', '--get-regexp', '-l', '--list', '--get-urlmatch', '--show-origin', '-e', '--edit') || parsed.operands.length < 2;
  if (reading) {
    if (hasOption(parsed, '-e', '--edit')) facts.push('git.config.edit');
    return;
  }
  const key = (textOf(parsed.operands[0]) ?? '').toLowerCase();
  const value = textOf(parsed.operands[1]);
  facts.push(`git.config:${key}`);
  const file = parsed.options.find((option) => option.name === '-f' || option.name === '--file')?.value;
  if (hasOption(parsed, '--global')) fileAction(sh, inv, 'write', sh.wordFromText('~/.gitconfig'));
  else if (hasOption(parsed, '--system')) fileAction(sh, inv, 'write', sh.wordFromText('/etc/gitconfig'));
  else if (file) fileAction(sh, inv, 'write', file);
  else if (EXECUTING_KEYS.test(key)) fileAction(sh, inv, 'write', sh.wordFromText('.git/config'));
  if (EXECUTING_KEYS.test(key) && value !== undefined) runConfigCommand(sh, inv, key, value);
  if (value !== undefined) redirectRemotes(textOf(parsed.operands[0])!, value, sh.gitRemotes);
}

function push(sh: ShellAnalyser, inv: Invocation, rest: Invocation['args'], facts: string[], remotes: Record<string, string>): void {
  const parsed = parseArgs(rest, { withValue: ['--repo', '-o', '--push-option', '--receive-pack', '--exec', '--signed'] });
  const operands = parsed.operands.map(textOf);
  const remote = operands[0] ?? textOf(parsed.options.find((option) => option.name === '--repo')?.value) ?? 'origin';
  sh.actions.push(remoteAction(sh, 'send', remote, 'git push', remotes));
  const refspecs = operands.slice(1);
  const force = parsed.options.some((option) => /^(-f|--force|--force-with-lease|--force-if-includes|--mirror)$/.test(option.name)) || refspecs.some((spec) => spec?.startsWith('+'));
  if (force) facts.push('git.push.force');
  if (hasOption(parsed, '-d', '--delete') || refspecs.some((spec) => spec?.startsWith(':'))) facts.push('git.push.delete');
  if (hasOption(parsed, '--all', '--mirror')) facts.push('git.push.target:*');
  const targets = refspecs.length > 0 ? refspecs : [undefined];
  for (const spec of targets) {
    const destination = spec === undefined ? 'HEAD' : (spec.replace(/^\+/, '').split(':').pop() ?? '');
    const branch = destination === 'HEAD' || destination === '' ? sh.gitBranch ?? '?' : destination.replace(/^refs\/heads\//, '');
    facts.push(`git.push.target:${branch}`);
  }
  if (parsed.options.some((option) => option.name === '--receive-pack' || option.name === '--exec')) sh.opaque('git push runs a custom receive-pack command', inv.chain);
}

/** `git checkout main`, `git switch -c topic`: a later push without a refspec pushes that branch. */
function switchBranch(sh: ShellAnalyser, rest: Invocation['args']): void {
  const parsed = parseArgs(rest, { withValue: ['-b', '-B', '-c', '-C', '--orphan'] });
  // `git checkout [<commit>] -- <paths>` and `git checkout -p` change files, not the branch.
  if (rest.some((word) => textOf(word) === '--') || hasOption(parsed, '-p', '--patch')) return;
  const name = optionValues(parsed, '-b', '-B', '-c', '-C', '--orphan')[0] ?? parsed.operands[0];
  if (name === undefined) return;
  // The previous branch (`-`), a detached HEAD or a name only known at run time: the branch is unknown.
  const branch = textOf(name);
  sh.gitBranch = branch === undefined || branch === '-' || hasOption(parsed, '-d', '--detach') ? undefined : branch;
}

function remoteAction(sh: ShellAnalyser, kind: 'fetch' | 'send', remote: string, via: string, remotes: Record<string, string>) {
  // A remote counts as the project's own only while it still points at one of the project's hosts.
  const destination = remotes[remote];
  if (destination !== undefined) return { ...hostAction(kind, destination, via, 22, sh.env), url: remote };
  const looksLikeUrl = /:\/\//.test(remote) || parseRemoteSpec(remote) !== undefined;
  return hostAction(kind, looksLikeUrl ? remote : `unknown-remote:${remote}`, via, 22, sh.env);
}

/** Facts describe the whole git invocation, so they go on its exec action. */
function attachFacts(sh: ShellAnalyser, facts: string[]): void {
  const exec = [...sh.actions].reverse().find((action): action is ExecAction => action.kind === 'exec' && action.program === 'git');
  if (exec) exec.facts = [...(exec.facts ?? []), ...facts];
}
