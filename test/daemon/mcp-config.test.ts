// Claude Code's MCP configuration read from real files in a temporary home: scopes, precedence, managed
// exclusivity, and broken files that are ignored with a reason instead of crashing or opening a gap.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { cachedMcpConfiguration, readMcpConfiguration, type McpConfigLocations } from '../../src/daemon/mcp-config.js';

let root: string;
let locations: McpConfigLocations;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'writ-mcp-config-'));
  locations = { home: join(root, 'home'), projectDir: join(root, 'home', 'code', 'app'), cwd: join(root, 'home', 'code', 'app', 'src'), managedDir: join(root, 'etc') };
  mkdirSync(locations.cwd!, { recursive: true });
  mkdirSync(locations.managedDir!, { recursive: true });
});

afterEach(() => rmSync(root, { recursive: true, force: true }));

function write(path: string, content: unknown): void {
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
}

const server = (pkg: string) => ({ command: 'npx', args: ['-y', pkg] });

describe('MCP configuration', () => {
  it('reads user, project and local scopes, local over project over user', () => {
    write(join(locations.home, '.claude.json'), {
      mcpServers: { github: server('user-github'), memory: server('user-memory') },
      projects: { [locations.projectDir]: { mcpServers: { github: server('local-github') } }, '/elsewhere': { mcpServers: { other: server('x') } } },
    });
    write(join(locations.projectDir, '.mcp.json'), { mcpServers: { github: server('project-github'), db: { type: 'http', url: 'https://db.example.com/mcp', headers: { Authorization: 'Bearer secret' } } } });
    const configuration = readMcpConfiguration(locations);
    assert.deepEqual(configuration.servers, { github: server('local-github'), db: { type: 'http', url: 'https://db.example.com/mcp' }, memory: server('user-memory') });
    assert.deepEqual(configuration.scopes, { github: 'local', db: 'project', memory: 'user' });
    assert.deepEqual(configuration.problems, []);
  });

  it('finds the local scope keyed by a directory above the working directory', () => {
    write(join(locations.home, '.claude.json'), { projects: { [join(locations.home, 'code')]: { mcpServers: { local: server('l') } } } });
    assert.deepEqual(readMcpConfiguration({ ...locations, projectDir: locations.cwd! }).servers, { local: server('l') });
  });

  it('takes .claude.json from CLAUDE_CONFIG_DIR when Claude Code runs with one', () => {
    const configDir = join(root, 'config');
    mkdirSync(configDir);
    write(join(locations.home, '.claude.json'), { mcpServers: { home: server('h') } });
    write(join(configDir, '.claude.json'), { mcpServers: { configured: server('c') } });
    assert.deepEqual(Object.keys(readMcpConfiguration({ ...locations, configDir }).servers), ['configured']);
  });

  it('lets managed-mcp.json take exclusive control', () => {
    write(join(locations.home, '.claude.json'), { mcpServers: { github: server('user-github') } });
    write(join(locations.projectDir, '.mcp.json'), { mcpServers: { db: server('project-db') } });
    write(join(locations.managedDir!, 'managed-mcp.json'), { mcpServers: { approved: server('managed') } });
    assert.deepEqual(readMcpConfiguration(locations).servers, { approved: server('managed') });
    write(join(locations.managedDir!, 'managed-mcp.json'), { mcpServers: {} });
    assert.deepEqual(readMcpConfiguration(locations).servers, {});
  });

  it('ignores files that are not JSON, keeping the reason', () => {
    write(join(locations.home, '.claude.json'), '{ "mcpServers": ');
    write(join(locations.projectDir, '.mcp.json'), { mcpServers: { db: server('db') } });
    write(join(locations.managedDir!, 'managed-mcp.json'), '[1, 2');
    const configuration = readMcpConfiguration(locations);
    assert.deepEqual(configuration.servers, { db: server('db') });
    assert.deepEqual(configuration.problems.map((problem) => [problem.file.slice(root.length), problem.message.split(':')[0]]), [
      ['/etc/managed-mcp.json', 'not JSON'],
      ['/home/.claude.json', 'not JSON'],
    ]);
  });

  it('ignores documents and entries of the wrong shape', () => {
    write(join(locations.home, '.claude.json'), { mcpServers: ['not', 'an', 'object'], projects: 'nope' });
    write(join(locations.projectDir, '.mcp.json'), {
      mcpServers: { noCommand: {}, badArgs: { command: 'npx', args: [1] }, badEnv: { command: 'x', env: { A: 1 } }, badType: { type: 'carrier-pigeon', url: 'x' }, remote: { type: 'sse' }, ok: server('ok') },
    });
    const configuration = readMcpConfiguration(locations);
    assert.deepEqual(configuration.servers, { ok: server('ok') });
    assert.equal(configuration.problems.length, 1 + 5 * 2);
    assert.ok(configuration.problems.some((problem) => problem.message.includes('"mcpServers" is not an object')));
  });

  it('does not let a lower scope stand in for a higher entry that is broken', () => {
    write(join(locations.home, '.claude.json'), { mcpServers: { github: server('approved-github') } });
    write(join(locations.projectDir, '.mcp.json'), { mcpServers: { github: { command: 'npx', args: ['-y', 'evil', { weird: true }] } } });
    const configuration = readMcpConfiguration(locations);
    assert.deepEqual(configuration.servers, {});
    assert.ok(configuration.problems.some((problem) => problem.message.startsWith('server "github" is not a valid entry')));
  });

  it('treats a missing home or project as an empty configuration', () => {
    assert.deepEqual(readMcpConfiguration({ home: join(root, 'nobody'), projectDir: join(root, 'nowhere'), managedDir: join(root, 'none') }), { servers: {}, scopes: {}, problems: [] });
  });

  it('caches briefly, then reads again', () => {
    write(join(locations.projectDir, '.mcp.json'), { mcpServers: { one: server('one') } });
    assert.deepEqual(Object.keys(cachedMcpConfiguration(locations, 1_000).servers), ['one']);
    write(join(locations.projectDir, '.mcp.json'), { mcpServers: { second: server('second') } });
    assert.deepEqual(Object.keys(cachedMcpConfiguration(locations, 1_500).servers), ['one']);
    assert.deepEqual(Object.keys(cachedMcpConfiguration(locations, 4_000).servers), ['second']);
  });
});
