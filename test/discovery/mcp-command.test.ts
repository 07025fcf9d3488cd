// `writ mcp list` as a user runs it, on the fixture home and project, with a register in the policy settings.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const MAIN = resolve(import.meta.dirname, '../../src/cli/main.ts');

function writMcp(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const root = mkdtempSync(join(tmpdir(), 'writ-mcp-list-'));
  cpSync(join(FIXTURES, 'home'), join(root, 'home'), { recursive: true });
  cpSync(join(FIXTURES, 'project'), join(root, 'project'), { recursive: true });
  const policy = join(root, 'policy');
  mkdirSync(policy);
  writeFileSync(join(policy, 'base.cedar'), 'permit(principal, action, resource);\n');
  writeFileSync(join(policy, 'settings.json'), JSON.stringify({ mcp_servers: { wiki: { trust: 'internal', package: '@acme/wiki-mcp', owner: 'platform-team', access: 'read-only' } } }));
  const script = `import(${JSON.stringify(MAIN)}).then(async (cli) => { process.exitCode = await cli.main(${JSON.stringify(['mcp', ...args, '--policy', policy])}); });`;
  const run = spawnSync(process.execPath, ['--import', import.meta.resolve('tsx'), '--input-type=module', '-e', script], {
    cwd: join(root, 'project'),
    env: { ...process.env, HOME: join(root, 'home'), WRIT_HOME: join(root, 'home', '.writ') },
    encoding: 'utf8',
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('writ mcp list', () => {
  test('--json: unapproved first, the register joined, each with its disable command, no secret values', () => {
    const run = writMcp(['list', '--json']);
    assert.equal(run.status, 0, run.stderr);
    const { mcp_servers: servers, findings } = JSON.parse(run.stdout) as { mcp_servers: { name: string; agent: string; approval: string; disable: string; register?: { owner?: string } }[]; findings: unknown[] };
    const approvals = servers.map((server) => server.approval);
    assert.equal(approvals.indexOf('approved'), approvals.length - 2, 'the two approved wiki entries come last');
    assert.ok(approvals.slice(0, approvals.indexOf('approved')).every((approval) => approval === 'unapproved'));
    const wiki = servers.filter((server) => server.name === 'wiki');
    assert.deepEqual(wiki.map((server) => server.agent).sort(), ['claude-code', 'github-copilot']);
    assert.equal(wiki[0]!.register?.owner, 'platform-team');
    assert.equal(servers.find((server) => server.name === 'sentry')?.disable, 'writ kill mcp:sentry');
    assert.ok(findings.length >= 2, 'the project\'s broken Gemini and Codex files');
    assert.doesNotMatch(run.stdout, /FIXTURESECRET/);
  });

  test('text: one block per server with its file and disable command', () => {
    const run = writMcp(['list']);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /^UNAPPROVED/);
    assert.match(run.stdout, /APPROVED +wiki +stdio +npx -y @acme\/wiki-mcp@2\.1\.0\n.*claude-code, project scope: .*\.mcp\.json\n +register: owner platform-team; read-only/);
    assert.match(run.stdout, /disable: writ kill mcp:github/);
    assert.match(run.stderr, /TOML that cannot be parsed/);
  });

  test('an unknown verb is a usage error', () => {
    const run = writMcp(['remove', 'x']);
    assert.equal(run.status, 2);
    assert.match(run.stderr, /unknown mcp verb/);
  });
});
