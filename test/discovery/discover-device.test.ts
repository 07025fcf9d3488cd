// discoverDevice on a fixture home: real agent binaries on a temp PATH answer --version, a fake `claude`
// does not; recorded process lists mark agents running; hostile files become findings, never a crash.
import assert from 'node:assert/strict';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { before, describe, test } from 'node:test';
import type { AgentFinding } from '../../src/core/inventory.js';
import { AGENT_CATALOGUE } from '../../src/detect/agent-catalogue.js';
import { processMatches, type ProcessInfo } from '../../src/detect/agent-discovery.js';
import { discoverDevice, discoverMcpServers } from '../../src/discovery/index.js';
import { parsePs, parseTasklist } from '../../src/discovery/processes.js';
import { planInstall, writHookCommands } from '../../src/agents/claude-code/settings.js';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const BIN = resolve(import.meta.dirname, '../../node_modules/.bin');
const RECORDED: ProcessInfo[] = JSON.parse(readFileSync(join(FIXTURES, 'processes-linux.json'), 'utf8'));
// The real CLIs start slowly on a busy machine; the production default is 3 s.
const VERSION_TIMEOUT_MS = 30_000;

function fixtureHome(): { home: string; projectDir: string; managedDir: string; root: string } {
  const root = mkdtempSync(join(tmpdir(), 'writ-discovery-'));
  cpSync(join(FIXTURES, 'home'), join(root, 'home'), { recursive: true });
  cpSync(join(FIXTURES, 'project'), join(root, 'project'), { recursive: true });
  mkdirSync(join(root, 'managed'));
  return { root, home: join(root, 'home'), projectDir: join(root, 'project'), managedDir: join(root, 'managed') };
}

const agent = (agents: AgentFinding[], id: string) => agents.find((item) => item.id === id);

describe('discoverDevice', () => {
  let result: Awaited<ReturnType<typeof discoverDevice>>;
  let dirs: ReturnType<typeof fixtureHome>;

  before(async () => {
    dirs = fixtureHome();
    const path = join(dirs.root, 'bin');
    mkdirSync(path);
    for (const name of ['claude', 'codex', 'gemini']) symlinkSync(join(BIN, name), join(path, name));
    result = await discoverDevice({ ...dirs, pathEnv: path, platform: 'linux', processes: RECORDED, versionTimeoutMs: VERSION_TIMEOUT_MS });
  });

  test('npm-installed binaries are confirmed by the manifest of the package they belong to, without running them', () => {
    for (const [id, version, name] of [['claude-code', '2.1.197', '@anthropic-ai/claude-code'], ['codex-cli', '0.169.0', '@openai/codex'], ['gemini-cli', '0.61.0', '@google/gemini-cli']] as const) {
      const found = agent(result.agents, id)!;
      assert.equal(found.version, version, id);
      const binary = found.evidence.find((evidence) => evidence.source === 'binary')!;
      assert.match(binary.detail!, new RegExp(`is ${name} ${version.replace(/\./g, '\\.')} \\(.*package\\.json\\)`), id);
    }
  });

  test('a recorded process list marks the agents that run, and only them', () => {
    assert.equal(agent(result.agents, 'claude-code')?.running, true);
    assert.equal(agent(result.agents, 'gemini-cli')?.running, true, 'node running @google/gemini-cli');
    assert.equal(agent(result.agents, 'codex-cli')?.running, true);
    assert.equal(agent(result.agents, 'ollama')?.running, true);
    assert.equal(agent(result.agents, 'ollama')?.governance, 'ungoverned');
    // vim editing claude.md, less reading gemini.log and a server started with `--name codex` are not agents.
    const pids = result.agents.flatMap((item) => item.evidence.map((evidence) => evidence.pid)).filter(Boolean);
    assert.deepEqual(pids.sort(), [3120, 3388, 3402, 4010]);
  });

  test('Claude Code without Writ hooks is ungoverned; others ungoverned for want of an integration', () => {
    const claude = agent(result.agents, 'claude-code')!;
    assert.equal(claude.governance, 'ungoverned');
    assert.match(claude.governance_reason, /writ install claude-code/);
    assert.match(agent(result.agents, 'codex-cli')!.governance_reason, /no integration for OpenAI Codex CLI/);
  });

  test('extensions are found by folder; the version comes from the manifest, never the folder name', () => {
    const copilot = agent(result.agents, 'github-copilot')!;
    assert.equal(copilot.version, '1.250.0');
    assert.equal(copilot.governance, 'ungoverned');
    const continued = agent(result.agents, 'continue')!;
    assert.equal(continued.version, undefined, 'continue.continue-1.0.5 has no manifest');
    assert.ok(continued.evidence.some((item) => item.source === 'extension'));
  });

  test('leftovers alone (a config folder) give unknown, with a reason a person can act on', () => {
    const goose = agent(result.agents, 'goose')!;
    assert.equal(goose.governance, 'unknown');
    assert.match(goose.governance_reason, /only leftovers.*\.config\/goose/);
    assert.equal(agent(result.agents, 'aider'), undefined, 'nothing of aider is there');
  });

  test('every agent\'s MCP file in the home and the project is in the inventory', () => {
    const agents = new Set(result.mcp_servers.map((server) => server.agent));
    for (const id of ['claude-code', 'claude-desktop', 'codex-cli', 'gemini-cli', 'cursor', 'copilot-cli', 'github-copilot', 'windsurf', 'cline', 'continue', 'amp', 'opencode', 'goose']) assert.ok(agents.has(id), id);
    const project = result.mcp_servers.filter((server) => server.scope === 'project').map((server) => `${server.agent}:${server.name}`).sort();
    assert.deepEqual(project, ['claude-code:github', 'claude-code:wiki', 'github-copilot:wiki']);
    assert.doesNotMatch(JSON.stringify(result), /FIXTURESECRET/);
  });

  test('plugin MCP servers are found in the plugin cache, at plugin scope', () => {
    const plugin = result.mcp_servers.find((server) => server.name === 'plugin-database')!;
    assert.equal(plugin.scope, 'plugin');
    assert.match(plugin.file, /plugins\/cache\/acme-market\/db-tools\/1\.0\.0\/\.mcp\.json$/);
    assert.deepEqual(plugin.env_names, ['DB_URL']);
  });

  test('the project\'s truncated JSON and bad TOML are findings', () => {
    const paths = result.findings.map((finding) => finding.path ?? '');
    assert.ok(paths.some((path) => path.endsWith(join('project', '.gemini', 'settings.json'))));
    assert.ok(paths.some((path) => path.endsWith(join('project', '.codex', 'config.toml'))));
  });
});

describe('binaries that are not what they are named', () => {
  /** A temp PATH holding one shell script under an agent's binary name. */
  function scriptOnPath(name: string, body: string): { path: string; home: string } {
    const root = mkdtempSync(join(tmpdir(), 'writ-discovery-bin-'));
    writeFileSync(join(root, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(root, name), 0o755);
    return { path: root, home: join(root, 'empty-home') };
  }

  test('a binary outside any npm package is confirmed by running --version', async () => {
    const { path, home } = scriptOnPath('codex', `exec ${JSON.stringify(process.execPath)} ${JSON.stringify(resolve(BIN, '../@openai/codex/bin/codex.js'))} "$@"`);
    const { agents } = await discoverDevice({ home, pathEnv: path, platform: 'linux', processes: [], versionTimeoutMs: VERSION_TIMEOUT_MS });
    const codex = agent(agents, 'codex-cli')!;
    assert.equal(codex.version, '0.169.0');
    assert.match(codex.evidence[0]!.detail!, /codex --version → 0\.169\.0/);
  });

  test('a manifest that is not the named package gives no version', async () => {
    const { path, home } = scriptOnPath('gemini', 'echo "not gemini"');
    const packageDir = join(path, 'node_modules', '@google', 'gemini-cli');
    mkdirSync(packageDir, { recursive: true });
    writeFileSync(join(packageDir, 'package.json'), JSON.stringify({ name: '@google/gemini-cli-impostor', version: '9.9.9' }));
    cpSync(join(path, 'gemini'), join(packageDir, 'gemini'));
    const { agents } = await discoverDevice({ home, pathEnv: packageDir, platform: 'linux', processes: [], versionTimeoutMs: VERSION_TIMEOUT_MS });
    assert.equal(agent(agents, 'gemini-cli')!.version, undefined);
  });

  test('a fake claude that prints nothing useful gets no version', async () => {
    const { path, home } = scriptOnPath('claude', 'echo "hello from a script named claude"');
    const { agents } = await discoverDevice({ home, pathEnv: path, platform: 'linux', processes: [] });
    const claude = agent(agents, 'claude-code')!;
    assert.equal(claude.version, undefined);
    assert.match(claude.evidence[0]!.detail!, /did not answer as Claude Code does/);
  });

  test('a binary that hangs is stopped at the timeout', async () => {
    const { path, home } = scriptOnPath('codex', 'exec sleep 600');
    const { agents } = await discoverDevice({ home, pathEnv: path, platform: 'linux', processes: [], versionTimeoutMs: 200 });
    assert.match(agent(agents, 'codex-cli')!.evidence[0]!.detail!, /timed out/);
    assert.equal(agent(agents, 'codex-cli')!.governance, 'unknown');
  });
});

describe('hostile files', () => {
  test('a 50 MB file, symlink loops, a binary file and a directory become findings', async () => {
    const dirs = fixtureHome();
    const huge = join(dirs.home, '.cursor', 'mcp.json');
    writeFileSync(huge, '{"mcpServers": {');
    truncateSync(huge, 50 * 1024 * 1024);
    symlinkSync('loop-b', join(dirs.home, '.codex', 'loop-a'));
    symlinkSync('loop-a', join(dirs.home, '.codex', 'loop-b'));
    const toml = join(dirs.home, '.codex', 'config.toml');
    writeFileSync(join(dirs.home, '.codex', 'saved.toml'), readFileSync(toml));
    await import('node:fs').then((fs) => fs.rmSync(toml));
    symlinkSync('loop-a', toml);
    writeFileSync(join(dirs.home, '.gemini', 'settings.json'), Buffer.from([0x7b, 0x00, 0xff, 0xfe, 0x00, 0x22]));
    await import('node:fs').then((fs) => fs.rmSync(join(dirs.home, '.copilot', 'mcp-config.json')));
    mkdirSync(join(dirs.home, '.copilot', 'mcp-config.json'));
    symlinkSync('..', join(dirs.home, '.claude', 'plugins', 'cache', 'acme-market', 'loop'));
    const { mcp_servers, findings } = discoverMcpServers({ home: dirs.home, projectDir: dirs.projectDir, managedDir: dirs.managedDir, platform: 'linux' });
    const finding = (end: string) => findings.find((item) => item.path?.endsWith(end))?.message ?? '';
    assert.match(finding(join('.cursor', 'mcp.json')), /52428800 bytes, over the/);
    assert.match(finding(join('.codex', 'config.toml')), /symbolic link loop/);
    assert.match(finding(join('.gemini', 'settings.json')), /binary file/);
    assert.match(finding(join('.copilot', 'mcp-config.json')), /a directory where a file was expected/);
    // The rest of the device is still inventoried.
    assert.ok(mcp_servers.some((server) => server.agent === 'claude-code' && server.name === 'github'));
    assert.equal(mcp_servers.filter((server) => server.name === 'plugin-database').length, 1, 'a link back up the plugin cache is not followed');
  });

  test('a FIFO where a config file should be does not hang the scan', async () => {
    const dirs = fixtureHome();
    const fifo = join(dirs.home, '.cursor', 'mcp.json');
    await import('node:fs').then((fs) => fs.rmSync(fifo));
    const { spawnSync } = await import('node:child_process');
    if (spawnSync('mkfifo', [fifo]).status !== 0) return;
    const { findings } = discoverMcpServers({ home: dirs.home, platform: 'linux' });
    assert.match(findings.find((item) => item.path === fifo)!.message, /not a regular file/);
  });

  test('a managed-mcp.json is inventoried at managed scope, with a note that it takes exclusive control', () => {
    const dirs = fixtureHome();
    writeFileSync(join(dirs.managedDir, 'managed-mcp.json'), JSON.stringify({ mcpServers: { wiki: { command: 'npx', args: ['-y', '@acme/wiki-mcp@2.1.0'] } } }));
    const { mcp_servers, findings } = discoverMcpServers({ home: dirs.home, managedDir: dirs.managedDir, platform: 'linux' });
    assert.ok(mcp_servers.some((server) => server.scope === 'managed' && server.name === 'wiki'));
    assert.match(findings.find((finding) => finding.severity === 'info')!.message, /exclusive control/);
  });

  test('Writ hooks in the fixture user settings make Claude Code governed', async () => {
    const dirs = fixtureHome();
    writeFileSync(join(dirs.home, '.claude', 'settings.json'), planInstall(undefined, writHookCommands({ transport: 'command', shimPath: '/opt/writ/writ-hook', writHome: join(dirs.home, '.writ') })));
    const { agents } = await discoverDevice({ ...dirs, pathEnv: '', platform: 'linux', processes: [] });
    assert.equal(agent(agents, 'claude-code')!.governance, 'governed');
  });
});

describe('recorded process lists of other systems', () => {
  const matching = (processes: ProcessInfo[]) => processes.flatMap((process) => AGENT_CATALOGUE.filter((signature) => processMatches(signature, process)).map((signature) => `${process.pid}:${signature.id}`));

  test('macOS ps output, names with spaces included', () => {
    const processes = parsePs(readFileSync(join(FIXTURES, 'ps-macos-comm.txt'), 'utf8'), readFileSync(join(FIXTURES, 'ps-macos-args.txt'), 'utf8'));
    assert.deepEqual(matching(processes), ['411:cursor', '530:lm-studio', '977:claude-code', '1204:amp']);
  });

  test('Windows tasklist output', () => {
    assert.deepEqual(matching(parseTasklist(readFileSync(join(FIXTURES, 'tasklist.csv'), 'utf8'))), ['7420:claude-code', '8120:windsurf']);
  });
});
