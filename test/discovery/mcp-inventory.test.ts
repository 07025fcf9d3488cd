// The MCP inventory from real-format configuration files of each agent: every shape, names but never
// values of env and headers, disabled servers, project-scoped entries, the register's verdict, broken files.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { McpServerFinding } from '../../src/core/inventory.js';
import { AGENT_CATALOGUE, type McpConfigLocation } from '../../src/detect/agent-catalogue.js';
import { inventoryMcpConfig, stripJsonComments } from '../../src/detect/mcp-inventory.js';
import { identifyMcpServer } from '../../src/policy/mcp-identity.js';
import { DEFAULT_SETTINGS, parsePolicySettings, type PolicySettings } from '../../src/policy/settings.js';

const FIXTURES = join(import.meta.dirname, 'fixtures');

/** Reads a fixture as the catalogue says the agent's file is laid out. */
function inventory(agent: string, catalogued: string, fixture: string, settings: PolicySettings = DEFAULT_SETTINGS) {
  const location = AGENT_CATALOGUE.find((signature) => signature.id === agent)!.mcpConfigs.find((item) => item.path === catalogued) as McpConfigLocation;
  assert.ok(location, `${agent} has ${catalogued} in the catalogue`);
  const file = join(FIXTURES, fixture);
  return inventoryMcpConfig({ agent, scope: location.scope, file, format: location.format, shape: location.shape, text: readFileSync(file, 'utf8') }, settings);
}

const byName = (servers: McpServerFinding[]) => Object.fromEntries(servers.map((server) => [server.name, server]));

describe('MCP inventory per agent format', () => {
  test('~/.claude.json: user servers and every project-scoped entry, env and header names only', () => {
    const { servers, findings } = inventory('claude-code', '~/.claude.json', 'home/.claude.json');
    const named = byName(servers);
    assert.deepEqual(Object.keys(named).sort(), ['github', 'linear', 'postgres', 'sentry']);
    assert.equal(named.github!.scope, 'user');
    assert.equal(named.github!.transport, 'stdio');
    assert.deepEqual(named.github!.env_names, ['GITHUB_PERSONAL_ACCESS_TOKEN']);
    assert.equal(named.linear!.transport, 'http');
    assert.equal(named.linear!.url, 'https://mcp.linear.app/mcp', 'the query string is not part of what names it');
    assert.deepEqual(named.linear!.header_names, ['Authorization']);
    assert.equal(named.postgres!.scope, 'local');
    assert.match(named.postgres!.file, /projects\["\/work\/acme"\]$/);
    assert.equal(named.sentry!.transport, 'sse');
    assert.deepEqual(named.sentry!.header_names, ['X-Sentry-Token']);
    // The broken entry is a finding, not a server and not a crash.
    assert.equal(findings.length, 1);
    assert.match(findings[0]!.message, /"broken".*needs a string "command"/);
    assert.doesNotMatch(JSON.stringify({ servers, findings }), /FIXTURESECRET|ghp_|Bearer/);
  });

  test('the fingerprint is the one policy pins (src/policy/mcp-identity.ts)', () => {
    const { servers } = inventory('claude-code', '~/.claude.json', 'home/.claude.json');
    const github = byName(servers).github!;
    assert.equal(github.fingerprint, identifyMcpServer({ type: 'stdio', command: 'npx', args: ['-y', '@modelcontextprotocol/server-github@2025.4.8'], env: { GITHUB_PERSONAL_ACCESS_TOKEN: 'anything' } }).fingerprint);
  });

  test('Codex TOML: stdio, remote with bearer and env headers, a disabled server', () => {
    const named = byName(inventory('codex-cli', '~/.codex/config.toml', 'home/.codex/config.toml').servers);
    assert.deepEqual(named.docs!.env_names, ['DOCS_API_KEY', 'DOCS_REGION']);
    assert.deepEqual(named.docs!.args, ['-y', '@acme/docs-mcp@1.2.0']);
    assert.equal(named.figma!.transport, 'http');
    assert.deepEqual(named.figma!.header_names, ['Authorization', 'X-Key', 'X-Org']);
    assert.deepEqual(named.figma!.env_names, ['FIGMA_KEY', 'FIGMA_TOKEN']);
    assert.equal(named.retired!.disabled, true);
    assert.equal(named.docs!.disabled, undefined);
  });

  test('Gemini settings: httpUrl is streamable HTTP, an untyped url is SSE, command is stdio', () => {
    const named = byName(inventory('gemini-cli', '~/.gemini/settings.json', 'home/.gemini/settings.json').servers);
    assert.equal(named.bigquery!.transport, 'http');
    assert.equal(named.bigquery!.url, 'https://bigquery.googleapis.com/mcp');
    assert.equal(named.events!.transport, 'sse');
    assert.equal(named.weather!.transport, 'http', 'an explicit type wins, as `gemini mcp add --transport http` writes it');
    assert.equal(named.files!.transport, 'stdio');
    assert.deepEqual(named.files!.env_names, ['ROOT']);
  });

  test('VS Code mcp.json with comments, trailing commas and "servers"', () => {
    const { servers, findings } = inventory('github-copilot', '{appdata}/Code/User/mcp.json', 'home/.config/Code/User/mcp.json');
    assert.deepEqual(findings, []);
    const named = byName(servers);
    assert.equal(named['github-remote']!.transport, 'http');
    assert.deepEqual(named['github-remote']!.header_names, ['Authorization']);
    assert.equal(named.memory!.command, 'npx');
  });

  test('Cline marks a disabled server; Windsurf serverUrl; Cursor, Amp, Copilot CLI and Claude Desktop use mcpServers', () => {
    const cline = byName(inventory('cline', '{appdata}/Code/User/globalStorage/saoudrizwan.claude-dev/settings/cline_mcp_settings.json', 'home/.config/Code/User/globalStorage/saoudrizwan.claude-dev/settings/cline_mcp_settings.json').servers);
    assert.equal(cline.puppeteer!.disabled, true);
    assert.equal(cline.fetch!.disabled, undefined);
    const windsurf = byName(inventory('windsurf', '~/.codeium/windsurf/mcp_config.json', 'home/.codeium/windsurf/mcp_config.json').servers);
    assert.equal(windsurf.context7!.url, 'https://mcp.context7.com/mcp');
    assert.deepEqual(windsurf.context7!.header_names, ['CONTEXT7_API_KEY']);
    assert.equal(byName(inventory('cursor', '~/.cursor/mcp.json', 'home/.cursor/mcp.json').servers).notion!.transport, 'http');
    assert.deepEqual(byName(inventory('amp', '~/.config/amp/settings.json', 'home/.config/amp/settings.json').servers).playwright!.args, ['-y', '@playwright/mcp@latest', '--headless']);
    assert.ok(byName(inventory('copilot-cli', '~/.copilot/mcp-config.json', 'home/.copilot/mcp-config.json').servers).azure);
    assert.ok(byName(inventory('claude-desktop', '{appdata}/Claude/claude_desktop_config.json', 'home/.config/Claude/claude_desktop_config.json').servers).filesystem);
  });

  test('YAML: Continue lists servers; Goose extensions skip built-ins and keep env_keys', () => {
    const continued = byName(inventory('continue', '~/.continue/config.yaml', 'home/.continue/config.yaml').servers);
    assert.deepEqual(Object.keys(continued).sort(), ['search', 'sqlite']);
    assert.equal(continued.search!.transport, 'http');
    const goose = byName(inventory('goose', '~/.config/goose/config.yaml', 'home/.config/goose/config.yaml').servers);
    assert.deepEqual(Object.keys(goose).sort(), ['jira', 'remote-tools']);
    assert.equal(goose.jira!.command, 'uvx');
    assert.deepEqual(goose.jira!.env_names, ['JIRA_API_TOKEN', 'JIRA_URL']);
    assert.equal(goose['remote-tools']!.transport, 'http');
    assert.equal(goose['remote-tools']!.disabled, true);
  });

  test('opencode: a command array and a remote server', () => {
    const named = byName(inventory('opencode', '~/.config/opencode/opencode.json', 'home/.config/opencode/opencode.json').servers);
    assert.equal(named.k8s!.command, 'bun');
    assert.deepEqual(named.k8s!.args, ['x', 'kubernetes-mcp-server@0.0.50']);
    assert.deepEqual(named.k8s!.env_names, ['KUBECONFIG']);
    assert.equal(named.grafana!.disabled, true);
    assert.deepEqual(named.grafana!.header_names, ['Authorization']);
  });

  test('a truncated JSON file and bad TOML are findings, with no servers', () => {
    const truncated = inventory('gemini-cli', '{project}/.gemini/settings.json', 'project/.gemini/settings.json');
    assert.deepEqual(truncated.servers, []);
    assert.equal(truncated.findings[0]!.severity, 'error');
    assert.match(truncated.findings[0]!.message, /JSON that cannot be parsed/);
    const toml = inventory('codex-cli', '{project}/.codex/config.toml', 'project/.codex/config.toml');
    assert.deepEqual(toml.servers, []);
    assert.match(toml.findings[0]!.message, /TOML that cannot be parsed/);
  });

  test('odd documents: a list, a string where servers should be, an empty file', () => {
    const run = (text: string, format: 'json' | 'yaml' = 'json') => inventoryMcpConfig({ agent: 'cursor', scope: 'user', file: 'f', format, shape: 'mcpServers', text }, DEFAULT_SETTINGS);
    assert.match(run('[1,2]').findings[0]!.message, /not an object/);
    assert.match(run('{"mcpServers": "npx evil"}').findings[0]!.message, /"mcpServers" is not an object/);
    assert.deepEqual(run(''), { servers: [], findings: [] });
    assert.match(run('a: &a [*a]\nb: *a', 'yaml').findings.concat(run('{"mcpServers":{"x":{"command":5}}}').findings).map((finding) => finding.message).join('\n'), /needs a string "command"/);
  });

  test('stripJsonComments leaves comment-like text inside strings alone', () => {
    assert.deepEqual(JSON.parse(stripJsonComments('{"url": "https://a/*b*/c", // note\n "x": [1,],}')), { url: 'https://a/*b*/c', x: [1] });
  });
});

describe('the MCP register', () => {
  const { settings, problems } = parsePolicySettings(
    JSON.stringify({
      mcp_servers: {
        wiki: { trust: 'internal', package: '@acme/wiki-mcp', owner: 'platform-team', purpose: 'internal docs search', data: ['wiki pages'], access: 'read-only', approval_rule: 'SEC-1234' },
        github: { trust: 'external', package: '@modelcontextprotocol/server-github' },
      },
    }),
  );

  test('parses the register fields strictly', () => {
    assert.deepEqual(problems, []);
    assert.deepEqual(settings.mcp_servers.wiki, { trust: 'internal', package: '@acme/wiki-mcp', owner: 'platform-team', purpose: 'internal docs search', data: ['wiki pages'], access: 'read-only', approval_rule: 'SEC-1234' });
    const bad = parsePolicySettings(JSON.stringify({ mcp_servers: { x: { trust: 'external', owner: '', access: 'admin', data: 'wiki', approver: 'me' } } }));
    const messages = bad.problems.map((problem) => problem.message).join('\n');
    assert.match(messages, /unknown keys: approver/);
    assert.match(messages, /mcp_servers\.x\.owner must be a non-empty string/);
    assert.match(messages, /mcp_servers\.x\.access must be "read-only" or "write"/);
    assert.match(messages, /mcp_servers\.x\.data must be a list/);
  });

  test('approved when the pins match, denied when a server only borrows the name, unapproved when unlisted', () => {
    const named = byName(inventory('claude-code', '{project}/.mcp.json', 'project/.mcp.json', settings).servers);
    assert.equal(named.wiki!.approval, 'approved');
    assert.deepEqual(named.wiki!.register, { name: 'wiki', owner: 'platform-team', purpose: 'internal docs search', data: ['wiki pages'], access: 'read-only', approval_rule: 'SEC-1234', disable: 'writ kill mcp:wiki' });
    assert.equal(named.github!.approval, 'denied', '@evil/github-mcp is not the registered @modelcontextprotocol/server-github');
    assert.equal(named.github!.register!.approval_rule, 'settings.json mcp_servers.github');
    const user = byName(inventory('claude-code', '~/.claude.json', 'home/.claude.json', settings).servers);
    assert.equal(user.github!.approval, 'approved');
    assert.equal(user.linear!.approval, 'unapproved');
    assert.equal(user.linear!.register, undefined);
  });
});
