// Package managers talk to registries: the ones named on the line (`--registry`, `--index-url`, a URL or git
// spec to install from) become fetches, and publishing sends the package to its registry.
import { hostAction } from './network.js';
import { textOf } from './options.js';
import type { Invocation, Output, ShellAnalyser } from './analyse.js';
import { NOTHING, readFile, readPathLike, runArgv } from './commands.js';
import type { Word } from './words.js';

interface ManagerSpec {
  /** Options whose value is a registry or index URL. */
  registries: string[];
  /** Subcommands that upload the package, and where to when no registry is named. */
  publish: Record<string, string>;
  /** Subcommands that run a package's program with the words that follow (`npm exec`, `pnpm dlx`). */
  runs?: string[];
  /** Options whose value is a file of requirements to read. */
  files?: string[];
}

const NPM: ManagerSpec = { registries: ['--registry'], publish: { publish: 'registry.npmjs.org' }, runs: ['exec', 'x', 'dlx'] };

const MANAGERS: Record<string, ManagerSpec> = {
  npm: NPM,
  pnpm: NPM,
  yarn: { ...NPM, publish: { publish: 'registry.yarnpkg.com' } },
  pip: { registries: ['-i', '--index-url', '--extra-index-url', '-f', '--find-links', '--index'], publish: {}, files: ['-r', '--requirement', '-c', '--constraint'] },
  uv: { registries: ['-i', '--index-url', '--extra-index-url', '-f', '--find-links', '--index', '--default-index', '--publish-url'], publish: { publish: 'upload.pypi.org' }, files: ['-r', '--requirement'] },
  poetry: { registries: ['--source'], publish: { publish: 'upload.pypi.org' } },
  twine: { registries: ['--repository-url'], publish: { upload: 'upload.pypi.org' } },
  cargo: { registries: ['--index', '--git', '--registry'], publish: { publish: 'crates.io' } },
  gem: { registries: ['--source', '-s', '--host', '--clear-sources'], publish: { push: 'rubygems.org' } },
  composer: { registries: ['--repository'], publish: {} },
};

export const PACKAGE_MANAGERS = Object.keys(MANAGERS);

/** One package manager invocation: registries named, sources installed from, and the upload of a publish. */
export function packageManager(sh: ShellAnalyser, inv: Invocation): Output {
  const spec = MANAGERS[inv.program]!;
  const via = inv.chain.join(' → ');
  const words = inv.args.map(textOf);
  const registries: string[] = [];
  let subcommand: string | undefined;
  for (let i = 0; i < words.length; i++) {
    const word = words[i];
    if (word === undefined) continue;
    if (subcommand === undefined && !word.startsWith('-')) {
      subcommand = word;
      if (spec.runs?.includes(word)) return runPackage(sh, inv, inv.args.slice(i + 1));
      continue;
    }
    const [name, attached] = word.startsWith('--') && word.includes('=') ? [word.slice(0, word.indexOf('=')), word.slice(word.indexOf('=') + 1)] : [word, undefined];
    if (spec.registries.includes(name)) {
      const value = attached ?? words[++i];
      if (value !== undefined && /[./:]/.test(value)) registries.push(value);
    } else if (spec.files?.includes(name)) {
      const file: Word | undefined = attached !== undefined ? sh.wordFromText(attached) : inv.args[++i];
      if (file) readFile(sh, inv, file);
    } else if (!word.startsWith('-') && /^(?:git\+)?[a-z][a-z0-9+.-]*:\/\/|^git@[^:]+:/i.test(word)) {
      // `pip install git+https://host/x.git`, `npm install https://host/x.tgz`: the package comes from there.
      sh.actions.push({ ...hostAction('fetch', word.replace(/^git\+/, ''), via, 443, sh.env), method: 'GET' });
    }
  }
  readPathLike(sh, inv, inv.args);
  const publishTo = subcommand === undefined ? undefined : spec.publish[subcommand];
  if (publishTo !== undefined) {
    for (const registry of registries.length > 0 ? registries : [publishTo]) sh.actions.push({ ...hostAction('send', registry, via, 443, sh.env), method: 'PUBLISH' });
  } else {
    for (const registry of registries) sh.actions.push({ ...hostAction('fetch', registry, via, 443, sh.env), method: 'GET' });
  }
  return NOTHING;
}

/** `npm exec -- tool args`, `pnpm dlx tool args`: the package's program runs with the words that follow. */
function runPackage(sh: ShellAnalyser, inv: Invocation, rest: Word[]): Output {
  const dashes = rest.findIndex((word) => textOf(word) === '--');
  const argv = dashes >= 0 ? rest.slice(dashes + 1) : rest.filter((word) => !(textOf(word) ?? '').startsWith('-'));
  return runArgv(sh, inv, argv);
}
