// MCP servers by what they are, arguments as rules see them, SQL that writes however it is spelt.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { CallEnvironment, McpCallAction, NetworkAction } from '../../src/policy/actions.js';
import { readPolicyDir, STANDARD_POLICY_DIR } from '../../src/home/policy-files.js';
import { CASE_ENVIRONMENT, decide, loadShellParser, normaliseToolCall, parsePolicySettings, preparePolicy, type PreparedPolicy, type ShellParser } from '../../src/policy/index.js';
import { argumentFacts, flattenArguments, identifyMcpServer, isInternalServer, isWritingTool, mcpToolEntity, parseMcpToolName, type McpServerConfig } from '../../src/policy/mcp.js';
import { DEFAULT_SETTINGS, type PolicySettings } from '../../src/policy/settings.js';
import { classifySql } from '../../src/policy/sql.js';

const npx = (...args: string[]): McpServerConfig => ({ command: 'npx', args });
const fingerprint = (config: McpServerConfig) => identifyMcpServer(config).fingerprint;

describe('server identity', () => {
  it('resolves package and version from npx, bunx, npm exec, pnpm dlx', () => {
    for (const config of [npx('-y', '@modelcontextprotocol/server-github@2025.4.8'), { command: 'bunx', args: ['@modelcontextprotocol/server-github@2025.4.8'] }, { command: 'npm', args: ['exec', '--yes', '--', '@modelcontextprotocol/server-github@2025.4.8'] }, { command: 'pnpm', args: ['dlx', '@modelcontextprotocol/server-github@2025.4.8'] }]) {
      const identity = identifyMcpServer(config);
      assert.equal(identity.package, '@modelcontextprotocol/server-github', JSON.stringify(config));
      assert.equal(identity.version, '2025.4.8');
    }
    assert.deepEqual(identifyMcpServer(npx('-y', 'mcp-remote')).version, '');
  });

  it('resolves uvx, pipx and uv tool run specs, names normalised as PyPI does', () => {
    assert.deepEqual(pick(identifyMcpServer({ command: 'uvx', args: ['mcp-server-git@0.6.2', '--repository', '.'] })), ['mcp-server-git', '0.6.2']);
    assert.deepEqual(pick(identifyMcpServer({ command: 'uvx', args: ['--from', 'Mcp_Server.Fetch==1.0', 'mcp-server-fetch'] })), ['mcp-server-fetch', '1.0']);
    assert.deepEqual(pick(identifyMcpServer({ command: 'uv', args: ['tool', 'run', 'mcp-server-time'] })), ['mcp-server-time', '']);
    assert.deepEqual(pick(identifyMcpServer({ command: 'pipx', args: ['run', 'mcp-server-time==2.0'] })), ['mcp-server-time', '2.0']);
    assert.equal(identifyMcpServer({ command: 'uvx', args: ['git+https://evil.test/x.git'] }).package, '');
  });

  it('resolves container images in full, with tag or digest', () => {
    assert.deepEqual(pick(identifyMcpServer({ command: 'docker', args: ['run', '-i', '--rm', '-e', 'GITHUB_PERSONAL_ACCESS_TOKEN', 'ghcr.io/github/github-mcp-server:v0.5'] })), ['ghcr.io/github/github-mcp-server', 'v0.5']);
    assert.deepEqual(pick(identifyMcpServer({ command: 'docker', args: ['run', '-it', 'mcp/github'] })), ['docker.io/mcp/github', '']);
    assert.deepEqual(pick(identifyMcpServer({ command: 'podman', args: ['run', 'postgres:16'] })), ['docker.io/library/postgres', '16']);
    const digest = `sha256:${'a'.repeat(64)}`;
    assert.deepEqual(pick(identifyMcpServer({ command: 'docker', args: ['container', 'run', `localhost:5000/db@${digest}`] })), ['localhost:5000/db', digest]);
  });

  it('names an installed script by its package, a remote server by its URL without secrets', () => {
    assert.equal(identifyMcpServer({ command: 'node', args: ['/usr/lib/node_modules/@acme/mcp/dist/index.js'] }).package, '@acme/mcp');
    assert.equal(identifyMcpServer({ command: 'node', args: ['/opt/acme/server.js'] }).package, '/opt/acme/server.js');
    assert.equal(identifyMcpServer({ command: 'node', args: ['./server.js'] }).package, '');
    const remote = identifyMcpServer({ type: 'http', url: 'https://user:token@MCP.Example.com:443/mcp?key=secret#x', headers: { Authorization: 'Bearer x' } });
    assert.deepEqual([remote.url, remote.package], ['https://mcp.example.com/mcp', '']);
    assert.equal(fingerprint({ type: 'sse', url: 'https://mcp.example.com/mcp?key=other' }), remote.fingerprint);
  });

  it('leaves the package empty when an option Writ does not know could have taken the next word', () => {
    assert.equal(identifyMcpServer(npx('--frobnicate', '@modelcontextprotocol/server-github', '@evil/pkg')).package, '');
    assert.equal(identifyMcpServer(npx('-p', '@modelcontextprotocol/server-github', 'evil-bin')).package, '');
    assert.equal(identifyMcpServer(npx('-c', 'evil')).package, '');
    assert.equal(identifyMcpServer({ command: 'docker', args: ['run', '--entrypoint', 'sh', 'mcp/github', '-c', 'x'] }).package, '');
    assert.equal(identifyMcpServer({ command: 'docker', args: ['run', '--frobnicate', 'mcp/github', 'evil/image'] }).package, '');
  });

  it('gives stable fingerprints that ignore spelling and secrets but not what runs', () => {
    const base = npx('-y', '@modelcontextprotocol/server-github@2025.4.8');
    const same = [
      npx('--yes', '@modelcontextprotocol/server-github@2025.4.8'),
      { ...base, command: '/usr/local/bin/npx' },
      { ...base, command: 'npx.cmd' },
      { command: 'cmd', args: ['/c', 'npx', '-y', '@modelcontextprotocol/server-github@2025.4.8'] },
      { ...base, env: { GITHUB_PERSONAL_ACCESS_TOKEN: 'ghp_secret' } },
    ];
    for (const config of same) assert.equal(fingerprint(config), fingerprint(base), JSON.stringify(config));
    assert.match(fingerprint(base), /^sha256:[0-9a-f]{64}$/);
    const different = [
      npx('-y', '@modelcontextprotocol/server-github@2025.4.9'),
      npx('-y', '@modelcontextprotocol/server-github'),
      npx('-y', '@modelcontextprotocol/server-github@2025.4.8', '--extra'),
      npx('-y', '--registry', 'https://evil.test', '@modelcontextprotocol/server-github@2025.4.8'),
      { ...base, command: './npx' },
      { ...base, env: { NPM_CONFIG_REGISTRY: 'https://evil.test' } },
      { ...base, env: { NODE_OPTIONS: '--require /tmp/evil.js' } },
      { type: 'http', url: 'https://mcp.example.com/mcp' },
    ];
    const prints = different.map(fingerprint);
    assert.equal(new Set([fingerprint(base), ...prints]).size, different.length + 1);
    const docker = (...args: string[]) => fingerprint({ command: 'docker', args: ['run', ...args, 'mcp/github:1'] });
    assert.equal(docker('-i', '--rm'), docker('--rm', '-i'));
    assert.equal(docker('-e', 'TOKEN=a'), docker('-e', 'TOKEN=b'));
    assert.notEqual(docker('-i'), docker('-i', '-v', '/:/host'));
    assert.notEqual(docker('-i'), docker('-i', '--privileged'));
  });
});

function pick(identity: { package: string; version: string }): [string, string] {
  return [identity.package, identity.version];
}

describe('tool names', () => {
  const servers = { github: npx('-y', 'a'), 'my.db': npx('-y', 'b'), db__admin: npx('-y', 'c'), db: npx('-y', 'd') };

  it('splits on configured names, longest first, and maps names as Claude Code does', () => {
    assert.deepEqual(parseMcpToolName('mcp__github__create_issue', servers), { server: 'github', tool: 'create_issue', config: servers.github });
    assert.deepEqual(parseMcpToolName('mcp__my_db__query', servers), { server: 'my_db', tool: 'query', config: servers['my.db'] });
    assert.deepEqual(parseMcpToolName('mcp__db__admin__query', servers), { server: 'db__admin', tool: 'query', config: servers.db__admin });
    assert.deepEqual(parseMcpToolName('mcp__other__x', servers), { server: 'other', tool: 'x' });
    assert.equal(parseMcpToolName('Read', servers), undefined);
  });

  it('uses no identity when two servers share a tool-name form', () => {
    assert.equal(parseMcpToolName('mcp__a_b__x', { 'a.b': npx('-y', 'one'), a_b: npx('-y', 'two') })?.config, undefined);
  });
});

describe('arguments', () => {
  it('flattens scalars to path=value, arrays both indexed and as any item', () => {
    const { args, truncated } = flattenArguments({ owner: 'acme', draft: false, number: 12, labels: ['bug', 'ci'], head: { ref: 'main', repo: { owner: 'acme' } }, note: null, items: [{ name: 'a' }] });
    assert.deepEqual(args.sort(), ['draft=false', 'head.ref=main', 'head.repo.owner=acme', 'items[0].name=a', 'items[].name=a', 'labels[0]=bug', 'labels[1]=ci', 'labels[]=bug', 'labels[]=ci', 'note=null', 'number=12', 'owner=acme']);
    assert.equal(truncated, false);
  });

  it('encodes keys so no key or value can spell another path', () => {
    assert.deepEqual(flattenArguments({ 'owner=acme': '', 'a.b': 1, 'c[0]': 2, '%3D': 3 }).args, ['owner%3Dacme=', 'a%2Eb=1', 'c%5B0%5D=2', '%253D=3']);
    assert.ok(!flattenArguments({ x: 'owner=acme' }).args.includes('owner=acme'));
  });

  it('says when it had to leave arguments out', () => {
    assert.equal(flattenArguments(Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`k${i}`, 'v']))).truncated, true);
    assert.equal(flattenArguments({ sql: 'x'.repeat(5000) }).truncated, true);
  });
});

describe('SQL', () => {
  const verdict = (sql: string) => classifySql(sql).verdict;
  const writes = [
    'DELETE FROM users', 'delete from users', 'insert into t values (1)', 'UPDATE t SET a = 1', 'MERGE INTO t USING s ON true WHEN MATCHED THEN DELETE',
    'CREATE TABLE t (a int)', 'ALTER TABLE t ADD b int', 'DROP TABLE t', 'TRUNCATE t', 'GRANT ALL ON t TO PUBLIC', 'REVOKE ALL ON t FROM x', 'COPY t FROM STDIN',
    'COPY t TO PROGRAM \'curl evil\'', 'REPLACE INTO t VALUES (1)', 'SET ROLE postgres', 'VACUUM', 'LOCK TABLE t', 'PRAGMA writable_schema = 1',
    '/* c */ DELETE FROM t', '-- c\nDELETE FROM t', '-- c\rDELETE FROM t', '# c\nDELETE FROM t', '/* a /* nested */ b */ DELETE FROM t',
    'SELECT 1; DELETE FROM t', 'SELECT 1;DROP TABLE t;--', 'WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d', 'WITH x AS (SELECT 1) UPDATE t SET a = 1',
    'WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x', 'SELECT * INTO t2 FROM t', "SELECT * FROM t INTO OUTFILE '/tmp/x'", "SELECT 'a\\'; DROP TABLE t; -- '",
    'SELECT 1 /*! ; DROP TABLE t */', '/*!50000 DROP TABLE t */', 'EXPLAIN ANALYZE UPDATE t SET a = 1', 'EXPLAIN (ANALYZE, BUFFERS) DELETE FROM t',
    "SELECT setval('s', 1)", 'SELECT "setval"(\'s\', 1)', 'SELECT pg_catalog.set_config(\'role\', \'x\', false)', "SELECT dblink_exec('db', 'DELETE FROM t')",
    "SELECT query_to_xml('DELETE FROM t RETURNING 1', true, true, '')", 'BEGIN; DELETE FROM t; COMMIT;', 'BEGIN DELETE FROM t END', '(DELETE FROM t)',
    'PREPARE p AS DELETE FROM t', 'SELECT $$; DROP TABLE t; $$',
  ];
  for (const sql of writes) it(`writes: ${JSON.stringify(sql)}`, () => assert.equal(verdict(sql), 'write'));

  const unknown = ['CALL purge()', 'EXECUTE p', 'EXEC sp_who', 'DO $$ BEGIN PERFORM 1; END $$', "PREPARE p FROM 'DELETE FROM t'", 'DEL\u200bETE FROM t', 'SELECT 1 /* open', "SELECT 'open", 'frobnicate t', 'SELECT U&"\\0073etval"(\'s\', 1)', ''];
  for (const sql of unknown) it(`cannot tell: ${JSON.stringify(sql)}`, () => assert.equal(verdict(sql), 'unknown'));

  const reads = [
    'SELECT 1', 'select count(*) from orders', 'WITH r AS (SELECT * FROM o) SELECT * FROM r', "SELECT 'DELETE FROM t' AS x", 'SELECT "delete" FROM t',
    "SELECT * FROM t WHERE note = 'drop table'", 'SELECT * FROM t FOR UPDATE', 'SELECT * FROM t FOR NO KEY UPDATE', 'EXPLAIN SELECT 1', 'EXPLAIN (ANALYZE) SELECT 1',
    'SHOW TABLES', 'DESCRIBE t', 'VALUES (1), (2)', 'TABLE t', 'BEGIN; SELECT 1; COMMIT', '-- report\nSELECT 1', 'SELECT 1;', 'PRAGMA table_info(t)',
    "SELECT replace(name, 'a', 'b') FROM t", "SELECT E'it\\'s' FROM t",
  ];
  for (const sql of reads) it(`reads: ${JSON.stringify(sql)}`, () => assert.equal(verdict(sql), 'read'));

  it('names each statement', () => {
    assert.deepEqual(classifySql('SELECT 1; DROP TABLE t').statements, ['select', 'drop']);
  });
});

describe('facts and writes', () => {
  const facts = (tool: string, args: unknown, server = 'db') => argumentFacts({ server, tool, args });

  it('classifies SQL arguments at any depth, the most dangerous statement winning', () => {
    assert.deepEqual(facts('query', { sql: 'SELECT 1' }), ['sql.read', 'sql.statement:select']);
    assert.deepEqual(facts('query', { statements: ['SELECT 1', 'DELETE FROM t'] }), ['sql.multiple', 'sql.statement:delete', 'sql.statement:select', 'sql.write']);
    assert.deepEqual(facts('run', { options: { query: 'CALL x()' } }), ['sql.statement:call', 'sql.unknown']);
    assert.deepEqual(facts('query', { sql: 'frobnicate' }, 'anything'), ['sql.statement:frobnicate', 'sql.unknown']);
  });

  it('reads a search tool\'s query as words, another tool\'s only when it reads as SQL', () => {
    assert.deepEqual(facts('search_code', { query: 'delete from users' }, 'github'), []);
    assert.deepEqual(facts('run_report', { query: 'quarterly revenue' }, 'analytics'), []);
    assert.deepEqual(facts('run_report', { query: 'DELETE FROM users' }, 'analytics'), ['sql.statement:delete', 'sql.write']);
    assert.deepEqual(facts('graphql', { query: 'mutation { deleteRepo(id: 1) }' }, 'api'), ['graphql.mutation']);
  });

  it('tells writing tools by their verbs and facts', () => {
    for (const tool of ['create_pull_request', 'merge_pull_request', 'push_files', 'add_issue_comment', 'browser_navigate', 'get_or_create_user', 'issue_write', 'sendMessage', 'frobnicate']) assert.equal(isWritingTool(tool, []), true, tool);
    for (const tool of ['get_me', 'list_issues', 'search_code', 'get_commit', 'pull_request_read', 'list_labels', 'get-library-docs', 'browser_snapshot', 'readFile']) assert.equal(isWritingTool(tool, []), false, tool);
    assert.equal(isWritingTool('execute_sql', ['sql.read']), false);
    assert.equal(isWritingTool('query', ['sql.write']), true);
    assert.equal(isWritingTool('query', ['sql.unknown']), true);
    assert.equal(isWritingTool('sql', ['sql.read']), false);
  });
});

describe('internal servers', () => {
  const github = npx('-y', '@acme/github-mcp@1.0.0');
  const identity = identifyMcpServer(github);
  const settings = (text: object): PolicySettings => {
    const parsed = parsePolicySettings(JSON.stringify(text));
    assert.deepEqual(parsed.problems, []);
    return parsed.settings;
  };

  it('trusts a server by name only when the settings pin nothing', () => {
    assert.equal(isInternalServer('github', identity, settings({ mcp_servers: { github: { trust: 'internal' } } })), true);
    assert.equal(isInternalServer('github', identity, settings({ mcp_servers: { github: { trust: 'external' } } })), false);
    assert.equal(isInternalServer('github', identity, DEFAULT_SETTINGS), false);
  });

  it('trusts a pinned server only when it is what the pin says, under any name', () => {
    const pinned = settings({ mcp_servers: { github: { trust: 'internal', fingerprint: identity.fingerprint } } });
    assert.equal(isInternalServer('github', identity, pinned), true);
    assert.equal(isInternalServer('renamed', identity, pinned), true);
    assert.equal(isInternalServer('github', identifyMcpServer(npx('-y', '@evil/github-mcp')), pinned), false);
    assert.equal(isInternalServer('github', undefined, pinned), false);
    const byPackage = settings({ mcp_servers: { github: { trust: 'internal', package: '@acme/github-mcp' } } });
    assert.equal(isInternalServer('gh', identity, byPackage), true);
    const byUrl = settings({ mcp_servers: { docs: { trust: 'internal', url: 'https://MCP.acme.example/mcp' } } });
    assert.equal(isInternalServer('docs', identifyMcpServer({ type: 'http', url: 'https://mcp.acme.example/mcp?x=1' }), byUrl), true);
  });

  it('refuses malformed pins', () => {
    const { problems } = parsePolicySettings(JSON.stringify({ mcp_servers: { a: { trust: 'internal', fingerprint: 'sha256:xyz', package: '', url: 'https://u:p@x.example/mcp?q', pin: 1 } } }));
    assert.deepEqual(problems.map((problem) => problem.message.split(' ')[0]), ['mcp_servers.a', 'mcp_servers.a.fingerprint', 'mcp_servers.a.package', 'mcp_servers.a.url']);
  });
});

describe('decisions', () => {
  let policy: PreparedPolicy;
  let parser: ShellParser;
  before(async () => {
    policy = preparePolicy(readPolicyDir(STANDARD_POLICY_DIR));
    parser = await loadShellParser();
  });
  const digest = 'c4feed0b6be8d52f1b474b613567821d3f4f1a6443a2040cc471f31718f6793f';
  const approvedDb: McpServerConfig = { command: 'docker', args: ['run', '-i', '--rm', '-e', 'DATABASE_URL', `registry.example/acme/db-mcp@sha256:${digest}`] };
  const run = (tool: string, input: unknown, mcpServers: Record<string, McpServerConfig>) => {
    const env: CallEnvironment = { ...CASE_ENVIRONMENT, mcpServers };
    return decide(policy, parser, { user: 'dev', assurance: 'local-os-user', groups: [] }, { tool, input }, env, { agent: 'claude-code', agentVersion: 'test', session: 's', permissionMode: 'default', writHome: '/home/dev/.writ' });
  };

  it('keeps a renamed server approved and a server renamed to an approved name denied', () => {
    assert.equal(run('mcp__warehouse__query', { sql: 'SELECT 1' }, { warehouse: approvedDb }).decision, 'allow');
    const evil = run('mcp__db__query', { sql: 'SELECT 1' }, { db: { command: 'npx', args: ['-y', '@evil/db-mcp'] }, warehouse: approvedDb });
    assert.equal(evil.decision, 'deny');
    assert.deepEqual(evil.rules, ['mcp.unlisted-server']);
    assert.equal(fingerprint({ command: 'npx', args: ['-y', '@evil/db-mcp'] }), (evil.actions[0] as McpCallAction).identity?.fingerprint);
  });

  it('denies SQL that writes on the read-only example, with the reason', () => {
    const decision = run('mcp__db__query', { sql: 'WITH d AS (DELETE FROM users RETURNING *) SELECT * FROM d' }, { db: approvedDb });
    assert.equal(decision.decision, 'deny');
    assert.deepEqual(decision.rules, ['mcp.example-db-read-only']);
    assert.match(decision.reason, /calls tool query of MCP server db/);
  });

  it('makes a remote server a send to its host', () => {
    const actions = normaliseToolCall({ tool: 'mcp__linear__list_issues', input: {} }, { ...CASE_ENVIRONMENT, mcpServers: { linear: { type: 'http', url: 'https://mcp.linear.app/mcp?token=x' } } }, parser);
    const send = actions.find((action): action is NetworkAction => action.kind === 'send');
    assert.deepEqual(send && [send.host, send.port, send.method, send.url], ['mcp.linear.app', 443, 'POST', 'https://mcp.linear.app/mcp']);
    const decision = run('mcp__linear__list_issues', {}, { linear: { type: 'http', url: 'https://mcp.linear.app/mcp' } });
    assert.ok(decision.rules.includes('mcp.unlisted-server') && decision.rules.includes('network.send-unlisted-host'), decision.rules.join());
  });

  it('fills every McpTool attribute of the schema, and names the server by fingerprint', () => {
    const identity = identifyMcpServer(approvedDb);
    const entity = mcpToolEntity({ kind: 'mcp_call', server: 'db', tool: 'query', args: { sql: 'SELECT 1' }, via: 'mcp__db__query', identity }, DEFAULT_SETTINGS);
    assert.deepEqual(Object.keys(entity.attrs).sort(), ['args', 'facts', 'fingerprint', 'internal', 'package', 'server', 'tool', 'url', 'version', 'writes']);
    assert.deepEqual(entity.parents, [{ type: 'Writ::McpServer', id: identity.fingerprint }]);
    const unconfigured = mcpToolEntity({ kind: 'mcp_call', server: 'db', tool: 'query', args: {}, via: 'mcp__db__query' }, DEFAULT_SETTINGS);
    assert.deepEqual([unconfigured.attrs.fingerprint, unconfigured.parents[0]!.id], ['', 'name:db']);
  });
});
