// writ scan against the real agents: Claude Code, Codex CLI and Gemini CLI installed from npm into a temporary
// prefix, MCP servers added with each agent's own `mcp add`, Writ installed for Claude Code only. The scan must
// find all three with the versions their binaries report, their servers as the agents wrote them (secret values
// never shown), Claude Code governed and the others not, the real posture checks, and the level that follows.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import type { DeviceInventory } from '../../src/core/inventory.js';
import type { EvidenceFacts, MaturityAssessment } from '../../src/detect/maturity.js';
import { renderScan } from '../../src/cli/commands/scan.js';
import { resolveWritHome } from '../../src/home/writ-home.js';
import { startWritDaemon, stopWritDaemon, WRIT_BIN } from '../support/writ-process.js';

const PACKAGES = ['@anthropic-ai/claude-code@2.1.197', '@openai/codex@0.169.0', '@google/gemini-cli@0.61.0'];
const GITHUB_TOKEN = 'ghp_SCANTESTsecretvalue0000000000000000000';
const DB_PASSWORD = 'hunter2-SCANTEST-db-password';
const WEATHER_KEY = 'weather-SCANTEST-api-key';
const SECRETS = [GITHUB_TOKEN, DB_PASSWORD, WEATHER_KEY];

const execFileAsync = promisify(execFile);

type ScanJson = DeviceInventory & { assessment: MaturityAssessment; evidence: EvidenceFacts };

describe('writ scan on a machine with real Claude Code, Codex CLI and Gemini CLI', { timeout: 240_000 }, () => {
  const root = mkdtempSync(join(tmpdir(), 'writ-scan-e2e-'));
  const prefix = join(root, 'prefix');
  const home = join(root, 'home');
  const project = join(root, 'project');
  const writHome = resolveWritHome(join(home, '.writ'));
  let env: NodeJS.ProcessEnv;
  const versions: Record<string, string> = {};
  let json: ScanJson;
  let text: string;

  const run = (file: string, args: string[], cwd = home) => {
    const result = spawnSync(file, args, { cwd, env, encoding: 'utf8', timeout: 60_000 });
    assert.equal(result.status, 0, `${file} ${args.join(' ')}: ${result.stderr}${result.error ?? ''}`);
    return result.stdout;
  };
  const writ = (args: string[], cwd = home) => run(process.execPath, [WRIT_BIN, ...args], cwd);
  // The slow steps (each agent's start-up, each scan's probes) run side by side to keep the test short.
  const runAsync = async (file: string, args: string[], cwd = home) => (await execFileAsync(file, args, { cwd, env, encoding: 'utf8', timeout: 60_000 })).stdout;

  before(async () => {
    mkdirSync(home);
    mkdirSync(project);
    const npm = spawnSync('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', ...PACKAGES], { encoding: 'utf8', timeout: 180_000 });
    assert.equal(npm.status, 0, `npm install: ${npm.stderr}`);
    env = {
      PATH: [join(prefix, 'bin'), dirname(process.execPath), '/usr/bin', '/bin'].join(delimiter),
      HOME: home,
      WRIT_HOME: writHome.root,
      LANG: process.env.LANG ?? 'C.UTF-8',
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      DISABLE_TELEMETRY: '1',
      DISABLE_AUTOUPDATER: '1',
      DISABLE_ERROR_REPORTING: '1',
      NO_COLOR: '1',
    };
    const bin = (name: string) => join(prefix, 'bin', name);
    const outputs = await Promise.all([
      ...[['claude-code', 'claude'], ['codex-cli', 'codex'], ['gemini-cli', 'gemini']].map(async ([id, binary]) => {
        versions[id] = /\d+\.\d+\.\d+/.exec(await runAsync(bin(binary), ['--version']))![0];
      }),
      // Each agent writes its own configuration, in its own format (Claude Code's two scopes one after the other:
      // both rewrite ~/.claude.json).
      runAsync(bin('claude'), ['mcp', 'add', 'github', '--scope', 'user', '-e', `GITHUB_TOKEN=${GITHUB_TOKEN}`, '--', 'npx', '-y', '@modelcontextprotocol/server-github']).then(() =>
        runAsync(bin('claude'), ['mcp', 'add', 'docs', '--scope', 'project', '--transport', 'http', 'https://docs.example.com/mcp'], project),
      ),
      runAsync(bin('codex'), ['mcp', 'add', 'postgres', '--env', `DB_PASSWORD=${DB_PASSWORD}`, '--', 'npx', '-y', '@modelcontextprotocol/server-postgres', 'postgresql://localhost/app']),
      runAsync(bin('gemini'), ['mcp', 'add', '--scope', 'user', '--transport', 'http', '-H', `X-Api-Key: ${WEATHER_KEY}`, 'weather', 'https://mcp.example.com/weather']),
    ]);
    assert.equal(outputs.length, 6);

    writ(['install', 'claude-code', '--scope', 'user']);
    // A daemon run leaves a journal: the policy it loaded and its signed events.
    const daemon = await startWritDaemon(home, writHome);
    await stopWritDaemon(daemon);

    json = JSON.parse(writ(['scan', '--json', '--project', project])) as ScanJson;
    // One scan: the text report is the same renderer over the same data (writ scan without --json prints exactly this).
    text = renderScan({ inventory: json, assessment: json.assessment, facts: json.evidence }, 'this-host');
  });

  after(() => rmSync(root, { recursive: true, force: true }));

  test('all three agents are found with the versions their binaries report', () => {
    for (const id of ['claude-code', 'codex-cli', 'gemini-cli']) {
      const agent = json.agents.find((candidate) => candidate.id === id);
      assert.ok(agent, `${id} not found: ${JSON.stringify(json.agents.map((item) => item.id))}`);
      assert.equal(agent.version, versions[id], id);
      assert.ok(agent.evidence.some((item) => item.source === 'binary' && item.path?.startsWith(prefix)), `${id}: ${JSON.stringify(agent.evidence)}`);
    }
  });

  test('Claude Code is governed by the hooks writ install wrote; Codex CLI and Gemini CLI are not', () => {
    const governance = Object.fromEntries(json.agents.map((agent) => [agent.id, agent.governance]));
    assert.equal(governance['claude-code'], 'governed');
    assert.equal(governance['codex-cli'], 'ungoverned');
    assert.equal(governance['gemini-cli'], 'ungoverned');
    assert.equal(json.guard?.agents[0].hooks_installed, true);
  });

  test("each agent's MCP servers are listed from its own files, with env and header names but never their values", () => {
    const servers = Object.fromEntries(json.mcp_servers.map((server) => [`${server.agent}/${server.name}`, server]));
    const github = servers['claude-code/github'];
    assert.deepEqual([github?.scope, github?.transport, github?.command, github?.args, github?.env_names, github?.approval], ['user', 'stdio', 'npx', ['-y', '@modelcontextprotocol/server-github'], ['GITHUB_TOKEN'], 'unapproved']);
    assert.equal(github.file, join(home, '.claude.json'));
    const docs = servers['claude-code/docs'];
    assert.deepEqual([docs?.scope, docs?.transport, docs?.url, docs?.file], ['project', 'http', 'https://docs.example.com/mcp', join(project, '.mcp.json')]);
    const postgres = servers['codex-cli/postgres'];
    assert.deepEqual([postgres?.scope, postgres?.transport, postgres?.command, postgres?.env_names], ['user', 'stdio', 'npx', ['DB_PASSWORD']]);
    assert.equal(postgres.file, join(home, '.codex', 'config.toml'));
    const weather = servers['gemini-cli/weather'];
    // Gemini CLI 0.61 writes `"type": "http"` beside `url` (a bare `url` would be SSE).
    assert.deepEqual([weather?.transport, weather?.url, weather?.header_names], ['http', 'https://mcp.example.com/weather', ['X-Api-Key']]);
    // The values are really in the agents' files, and in neither output.
    assert.match(readFileSync(join(home, '.claude.json'), 'utf8'), new RegExp(GITHUB_TOKEN));
    assert.match(readFileSync(join(home, '.codex', 'config.toml'), 'utf8'), new RegExp(DB_PASSWORD));
    for (const secret of SECRETS) {
      assert.ok(!JSON.stringify(json).includes(secret), `${secret} in --json`);
      assert.ok(!text.includes(secret), `${secret} in the text report`);
    }
  });

  test("the posture checks ran on this machine and say where each answer came from", () => {
    const checks = json.posture?.checks ?? [];
    assert.ok(checks.length >= 5, JSON.stringify(checks));
    for (const check of checks) assert.ok(check.status === 'unknown' ? check.reason : check.source ?? check.reason, JSON.stringify(check));
    if (process.platform === 'linux') {
      const id = /^ID=("?)([^"\n]+)\1$/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[2];
      const osVersion = checks.find((check) => check.name === 'os_version');
      assert.match(String(osVersion?.value), new RegExp(`^${id}`));
    }
  });

  test('the journal the daemon left is evidence: verified, with the policy it enforced', () => {
    assert.equal(json.evidence.journal?.verified, true);
    assert.ok((json.evidence.journal?.events ?? 0) > 0);
    assert.match(json.evidence.policy?.hash ?? '', /^[0-9a-f]{64}$/);
    assert.equal(json.evidence.policy?.org_bundle, false);
    assert.ok(json.evidence.scan_ms > 0);
  });

  test('the device is visible, not governed: the ungoverned agents and unapproved servers are what is missing', () => {
    assert.equal(json.assessment.level, 1, JSON.stringify(json.assessment.requirements.filter((item) => !item.met)));
    const missing = Object.fromEntries(json.assessment.next!.missing.map((item) => [item.id, item]));
    assert.match(missing['agents-governed'].detail, /codex-cli.*gemini-cli/);
    assert.match(missing['mcp-approved'].fix ?? '', /writ kill mcp:github/);
    assert.deepEqual(json.assessment.questions.map((question) => question.id), ['agents', 'access', 'identity', 'health', 'proof', 'speed']);
  });

  test('the text report lists what is ungoverned first and ends with the level', () => {
    const attention = text.slice(text.indexOf('Needs attention'), text.indexOf('Agents ('));
    assert.match(attention, /agent codex-cli 0\.169\.0 is ungoverned/);
    assert.match(attention, /agent gemini-cli 0\.61\.0 is ungoverned/);
    assert.doesNotMatch(attention, /agent claude-code/);
    assert.match(text, /Maturity: level 1, visible\n/);
  });
});
