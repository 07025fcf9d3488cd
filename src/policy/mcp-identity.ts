// What an MCP server is, from its configuration: the package and version a launcher fetches, the image a
// container runs, the script an interpreter runs, or the URL it answers on. The fingerprint hashes that
// identity, never the name, so renaming a server in a configuration file does not change what policy sees.
//
// The configuration is user-controlled: `package` is filled in only when the launch line is understood
// for certain. An option Writ does not know could take the next word as its value (`npx --x good-pkg
// evil-pkg`), so then `package` stays empty and only the fingerprint (over the whole line) names it.
import { canonicalJson } from '../core/canonical-json.js';
import { sha256Hex } from '../core/digest.js';

/** One server entry of Claude Code's MCP configuration (`.mcp.json`, `~/.claude.json`, `managed-mcp.json`). */
export interface McpServerConfig {
  /** `stdio` (or absent) for a local process; `http`, `sse` or `ws` for a remote server. */
  type?: string;
  command?: string;
  args?: string[];
  env?: Record<string, string>;
  url?: string;
  headers?: Record<string, string>;
}

/** What a server is; the fingerprint is the SHA-256 of its canonical JSON (RFC 8785). */
export type McpIdentityParts =
  | { kind: 'npm' | 'pypi' | 'oci'; package: string; version: string; options: string[]; args: string[]; env: Record<string, string> }
  | { kind: 'script'; interpreter: string; script: string; args: string[]; env: Record<string, string> }
  | { kind: 'command'; command: string; args: string[]; env: Record<string, string> }
  | { kind: 'remote'; url: string };

/** The facts policy reads about a server. */
export interface McpServerIdentity {
  /** `sha256:<hex>` over the canonical identity. */
  fingerprint: string;
  /** npm or PyPI package name, container image (`ghcr.io/org/image`), or an installed script's path; "" when not certain. */
  package: string;
  /** Version, range, tag or digest as configured; "" when unpinned. */
  version: string;
  /** A remote server's URL without credentials, query or fragment; "" for local servers. */
  url: string;
}

const REMOTE_TYPES = new Set(['http', 'sse', 'ws', 'streamable-http']);
const SYSTEM_BIN = /^\/(?:usr\/(?:local\/)?)?s?bin\/|^\/opt\/homebrew\/bin\//;
/** Variables that change which code runs or where a launcher fetches it from; other variables (tokens) stay out. */
const CODE_VARIABLES = /^(?:PATH|NODE_OPTIONS|NODE_PATH|NPM_CONFIG_.+|BUN_CONFIG_REGISTRY|YARN_NPM_REGISTRY_SERVER|PIP_(?:EXTRA_)?INDEX_URL|UV_(?:DEFAULT_|EXTRA_)?INDEX(?:_URL)?|UV_FIND_LINKS|PYTHONPATH|PYTHONSTARTUP|PYTHONHOME|LD_PRELOAD|LD_LIBRARY_PATH|DYLD_.+|DOCKER_HOST|DOCKER_CONTEXT|DENO_.+)$/i;

/** The identity and fingerprint of a configured server. */
export function identifyMcpServer(config: McpServerConfig): McpServerIdentity {
  const parts = identityParts(config);
  const fingerprint = `sha256:${sha256Hex(canonicalJson(parts))}`;
  if (parts.kind === 'remote') return { fingerprint, package: '', version: '', url: parts.url };
  if (parts.kind === 'command') return { fingerprint, package: '', version: '', url: '' };
  if (parts.kind === 'script') return { fingerprint, package: scriptPackage(parts.script), version: '', url: '' };
  return { fingerprint, package: parts.package, version: parts.version, url: '' };
}

export function identityParts(config: McpServerConfig): McpIdentityParts {
  if (REMOTE_TYPES.has(config.type ?? '') || (config.command === undefined && config.url !== undefined)) return { kind: 'remote', url: canonicalUrl(config.url ?? '') };
  const env = Object.fromEntries(Object.entries(config.env ?? {}).filter(([name]) => CODE_VARIABLES.test(name)));
  let [program, ...args] = [programName(config.command ?? ''), ...(config.args ?? [])];
  // Windows: `cmd /c npx …`.
  if ((program === 'cmd') && /^\/c$/i.test(args[0] ?? '') && args[1] !== undefined) [program, ...args] = [programName(args[1]), ...args.slice(2)];
  const launched = launch(program, args);
  return launched ? { ...launched, env } : { kind: 'command', command: program, args, env };
}

/** Every pin given (fingerprint, package, url) matches the identity; an entry without pins matches anything. */
export function pinsMatch(pins: { fingerprint?: string; package?: string; url?: string }, identity: McpServerIdentity | undefined): boolean {
  return (
    (pins.fingerprint === undefined || pins.fingerprint === identity?.fingerprint) &&
    (pins.package === undefined || pins.package === identity?.package) &&
    (pins.url === undefined || (identity?.url !== undefined && identity.url !== '' && canonicalUrl(pins.url) === identity.url))
  );
}

/** A URL without user info, query and fragment, scheme and host lowercased: what names a remote server. */
export function canonicalUrl(text: string): string {
  try {
    const url = new URL(text);
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    return text.replace(/[?#].*$/s, '').replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/]*@/i, '$1');
  }
}

/** Bare names and programs in the system's bin directories by name; any other path as written (`./npx` is not npx). */
function programName(command: string): string {
  const name = command.replace(/\.(?:exe|cmd|bat)$/i, '');
  if (!name.includes('/') && !name.includes('\\')) return name;
  return SYSTEM_BIN.test(name) ? name.slice(name.lastIndexOf('/') + 1) : name;
}

type Launched = Omit<Extract<McpIdentityParts, { kind: 'npm' | 'pypi' | 'oci' }>, 'env'> | Omit<Extract<McpIdentityParts, { kind: 'script' }>, 'env'>;

function launch(program: string, args: string[]): Launched | undefined {
  if (program === 'npx' || program === 'bunx' || program === 'pnpx') return npmLaunch(args);
  if ((program === 'npm' && (args[0] === 'exec' || args[0] === 'x')) || ((program === 'pnpm' || program === 'yarn') && args[0] === 'dlx') || (program === 'bun' && args[0] === 'x')) return npmLaunch(args.slice(1));
  if (program === 'uvx') return pypiLaunch(args);
  if ((program === 'uv' && args[0] === 'tool' && args[1] === 'run') || (program === 'pipx' && args[0] === 'run')) return pypiLaunch(args.slice(program === 'uv' ? 2 : 1));
  if ((program === 'docker' || program === 'podman') && args[0] === 'run') return ociLaunch(args.slice(1));
  if ((program === 'docker' || program === 'podman') && args[0] === 'container' && args[1] === 'run') return ociLaunch(args.slice(2));
  if (/^(?:node|nodejs|bun|deno|tsx|ts-node|python[0-9.]*|pypy3?)$/.test(program)) return scriptLaunch(program, args);
  return undefined;
}

interface OptionGrammar {
  /** Options that change nothing about what runs (`-y`, `--rm`). */
  ignored: Set<string>;
  /** Options that take the next word as their value and are part of the identity (`--registry`, `-v`). */
  valued: Set<string>;
  /** Options that take a value and name the package themselves, or make the package uncertain. */
  special?: Set<string>;
  /** Options without a value that are part of the identity (`--privileged`). */
  flags?: Set<string>;
}

/**
 * Splits a launcher's words into its options and the rest (from the first positional on). `certain` is
 * false when an option is unknown, since it might have swallowed the next word.
 */
function splitOptions(args: string[], grammar: OptionGrammar): { options: [string, string?][]; rest: string[]; certain: boolean } {
  const options: [string, string?][] = [];
  let certain = true;
  for (let i = 0; i < args.length; i++) {
    const word = args[i]!;
    if (word === '--') return { options, rest: args.slice(i + 1), certain };
    if (!word.startsWith('-') || word === '-') return { options, rest: args.slice(i), certain };
    const equals = word.indexOf('=');
    const name = word.startsWith('--') && equals > 0 ? word.slice(0, equals) : word;
    const inline = word.startsWith('--') && equals > 0 ? word.slice(equals + 1) : undefined;
    if (grammar.valued.has(name) || grammar.special?.has(name)) options.push([name, inline ?? args[++i]]);
    else if (grammar.flags?.has(word)) options.push([word]);
    else if (!grammar.ignored.has(name) && !isFlagCluster(name, grammar)) {
      certain = false;
      options.push([word]);
    }
  }
  return { options, rest: [], certain };
}

/** `-it`, `-ti`, `-yq`: single-letter flags run together. */
function isFlagCluster(word: string, grammar: OptionGrammar): boolean {
  return /^-[A-Za-z]{2,}$/.test(word) && [...word.slice(1)].every((letter) => grammar.ignored.has(`-${letter}`));
}

function flatOptions(options: [string, string?][], except: Set<string> = new Set()): string[] {
  return options.filter(([name]) => !except.has(name)).map(([name, value]) => (value === undefined ? name : `${name}=${value}`)).sort();
}

const NPM: OptionGrammar = {
  ignored: new Set(['-y', '--yes', '--no', '--no-install', '-q', '--quiet', '-s', '--silent', '--ignore-existing', '--prefer-offline', '--prefer-online']),
  valued: new Set(['--registry', '--userconfig', '--globalconfig', '--cache', '--prefix', '--node-options', '--loglevel']),
  special: new Set(['-p', '--package', '-c', '--call', '-w', '--workspace']),
};
const NPM_NAME = /^((?:@[a-z0-9~-][a-z0-9._~-]*\/)?[a-z0-9~-][a-z0-9._~-]*)(?:@(.+))?$/;

function npmLaunch(args: string[]): Launched {
  const { options, rest, certain } = splitOptions(args, NPM);
  const spec = NPM_NAME.exec(rest[0] ?? '');
  // `-p pkg cmd` and `-c 'cmd'` run a command that need not come from the package.
  const sure = certain && spec !== null && !options.some(([name]) => NPM.special!.has(name));
  return { kind: 'npm', package: sure ? spec[1]! : '', version: sure ? (spec[2] ?? '') : '', options: flatOptions(options, new Set(['--loglevel'])), args: sure ? rest.slice(1) : rest };
}

const PYPI: OptionGrammar = {
  ignored: new Set(['-q', '--quiet', '-v', '--verbose', '--refresh', '--offline', '--isolated', '--no-cache', '-n', '--native-tls', '--no-progress', '--quiet-warnings']),
  valued: new Set(['--with', '--with-editable', '--with-requirements', '--python', '-p', '--index', '--default-index', '--index-url', '-i', '--extra-index-url', '--find-links', '-f', '--pip-args', '--spec', '--constraints', '--overrides', '--prerelease']),
  special: new Set(['--from']),
};

function pypiLaunch(args: string[]): Launched {
  const { options, rest, certain } = splitOptions(args, PYPI);
  const from = options.find(([name]) => name === '--from' || name === '--spec')?.[1];
  const spec = parsePythonSpec(from ?? rest[0] ?? '');
  const sure = certain && spec !== undefined;
  return { kind: 'pypi', package: sure ? spec.name : '', version: sure ? spec.version : '', options: flatOptions(options), args: sure && from === undefined ? rest.slice(1) : rest };
}

/** `name`, `name==1.2`, `name@1.2`, `name[extra]>=1`; names normalised as PEP 503 does. Undefined for URLs and paths. */
function parsePythonSpec(spec: string): { name: string; version: string } | undefined {
  const match = /^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[A-Za-z0-9,._ -]*\])?(?:@([^\s/:]+)|((?:==|>=|<=|~=|!=|<|>)[^\s]+))?$/.exec(spec);
  if (!match) return undefined;
  return { name: match[1]!.toLowerCase().replace(/[-_.]+/g, '-'), version: match[3] ?? match[4]?.replace(/^==/, '') ?? '' };
}

const OCI: OptionGrammar = {
  ignored: new Set(['-i', '-t', '-d', '--rm', '--init', '--interactive', '--tty', '--detach', '-q', '--quiet', '--sig-proxy']),
  valued: new Set([
    '-e', '--env', '--env-file', '-v', '--volume', '--mount', '-p', '--publish', '--network', '--net', '-w', '--workdir', '-u', '--user', '--platform',
    '-l', '--label', '--cap-add', '--cap-drop', '--security-opt', '--device', '--pid', '--ipc', '--add-host', '--dns', '-h', '--hostname', '-m', '--memory',
    '--cpus', '--restart', '--tmpfs', '--ulimit', '--group-add', '--runtime', '--gpus', '--shm-size', '--userns', '--uts', '--cgroupns', '--volumes-from', '--link',
    '--name', '--pull', '--log-driver', '--log-opt',
  ]),
  special: new Set(['--entrypoint']),
  flags: new Set(['--privileged', '--read-only', '-P', '--publish-all', '--oom-kill-disable']),
};
/** Options with a value that changes nothing about what runs: left out of the identity. */
const COSMETIC = new Set(['--name', '--pull', '--log-driver', '--log-opt']);

function ociLaunch(args: string[]): Launched {
  const { options, rest, certain } = splitOptions(args, OCI);
  const image = parseImage(rest[0] ?? '');
  // A new entrypoint runs another program than the image's own.
  const sure = certain && image !== undefined && !options.some(([name]) => name === '--entrypoint');
  const identityOptions = options.filter(([name]) => !COSMETIC.has(name)).map(([name, value]): [string, string?] => ((name === '-e' || name === '--env') && value !== undefined ? ['-e', value.split('=')[0]] : [name, value]));
  return { kind: 'oci', package: sure ? image.name : '', version: sure ? image.version : '', options: flatOptions(identityOptions), args: sure ? rest.slice(1) : rest };
}

/** `mcp/github:1.2` → `docker.io/mcp/github` and `1.2`; a digest is the version when given. */
function parseImage(reference: string): { name: string; version: string } | undefined {
  const match = /^([a-z0-9][a-z0-9._\-/:]*?)(?::([\w][\w.-]{0,127}))?(?:@(sha256:[0-9a-f]{64}))?$/i.exec(reference);
  if (!match || reference.startsWith('-')) return undefined;
  const parts = match[1]!.toLowerCase().split('/');
  const registry = parts.length > 1 && /[.:]|^localhost$/.test(parts[0]!) ? parts.shift()!.replace(/^index\.docker\.io$/, 'docker.io') : 'docker.io';
  if (registry === 'docker.io' && parts.length === 1) parts.unshift('library');
  return { name: [registry, ...parts].join('/'), version: match[3] ?? match[2] ?? '' };
}

const INTERPRETER: OptionGrammar = {
  ignored: new Set(['-u', '-B', '-E', '-s', '-S', '-I', '--no-warnings', '--enable-source-maps', '--experimental-strip-types', '-A', '--allow-all']),
  valued: new Set(['-r', '--require', '--import', '--loader', '--experimental-loader', '-W', '-X', '--env-file', '--conditions', '-C']),
  special: new Set(['-e', '--eval', '-p', '--print', '-c', '-m']),
};

function scriptLaunch(interpreter: string, args: string[]): Launched | undefined {
  const words = (interpreter === 'deno' || interpreter === 'bun') && args[0] === 'run' ? args.slice(1) : args;
  const { options, rest, certain } = splitOptions(words, INTERPRETER);
  if (!certain) return undefined;
  // `python -m module`, `node -e code`: the option names what runs.
  const inline = options.find(([name]) => INTERPRETER.special!.has(name));
  const script = inline ? `${inline[0]} ${inline[1] ?? ''}` : (rest[0] ?? '');
  return { kind: 'script', interpreter, script, args: [...flatOptions(options.filter((option) => option !== inline)), '--', ...(inline ? rest : rest.slice(1))] };
}

/** An installed script names its package (`…/node_modules/@scope/name/dist/index.js` → `@scope/name`); an absolute path names itself. */
function scriptPackage(script: string): string {
  const installed = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(script);
  if (installed) return installed[1]!;
  return script.startsWith('/') ? script : '';
}
