// `writ policy compile --target claude-code`: the compiler on fixture policies, the standard policy's backstop
// checked against Writ's own decisions, and the command's arguments and output file.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readPolicyDir, STANDARD_POLICY_DIR } from '../../src/home/policy-files.js';
import {
  CompileError,
  compileClaudeCode,
  formatManagedSettings,
  loadShellParser,
  preparePolicy,
  runCases,
  type PolicyCase,
  type ShellParser,
} from '../../src/policy/index.js';
import { writ } from '../support/writ-process.js';

/** A one-file policy; each rule is written out in full by the test. */
const policyOf = (text: string) => preparePolicy([{ name: 'rules.cedar', text }]);
const forbidRead = (annotations: string, id = 'local.secret') =>
  `@id("${id}")\n${annotations}\nforbid (principal, action == Writ::Action::"read", resource) when { resource.path like "/srv/secret/*" };\n`;
const compileError = (code: string, message: RegExp) => (error: unknown) => error instanceof CompileError && error.code === code && message.test(error.message);

describe('compileClaudeCode', () => {
  it('turns @native rules into permission deny rules, and always locks bypass mode and non-managed hooks', () => {
    const policy = policyOf(forbidRead('@native("Read(//srv/secret/**); Bash(cat /srv/secret/*)")') + forbidRead('@native("Read(~/.netrc)")', 'local.netrc'));
    const { settings, warnings } = compileClaudeCode(policy);
    assert.deepEqual(settings, {
      permissions: { deny: ['Read(//srv/secret/**)', 'Bash(cat /srv/secret/*)', 'Read(~/.netrc)'], disableBypassPermissionsMode: 'disable' },
      allowManagedHooksOnly: true,
    });
    assert.deepEqual(warnings, []);
  });

  it('a rule with @effect("ask") becomes an ask rule; an entry both denied and asked stays denied only', () => {
    const policy = policyOf(
      forbidRead('@effect("ask")\n@native("Read(//srv/secret/a); Read(//srv/secret/b)")', 'local.ask') + forbidRead('@native("Read(//srv/secret/b)")', 'local.deny'),
    );
    assert.deepEqual(compileClaudeCode(policy).settings.permissions, { deny: ['Read(//srv/secret/b)'], ask: ['Read(//srv/secret/a)'], disableBypassPermissionsMode: 'disable' });
  });

  it('repeats an entry once, in the order of the rules', () => {
    const policy = policyOf(forbidRead('@native("Read(~/.a);Read(~/.b)")', 'one') + forbidRead('@native(" Read(~/.b) ; Read(~/.c) ;")', 'two'));
    assert.deepEqual(compileClaudeCode(policy).settings.permissions.deny, ['Read(~/.a)', 'Read(~/.b)', 'Read(~/.c)']);
  });

  it('leaves out a monitor-mode rule, which must not block, and says so', () => {
    const { settings, warnings } = compileClaudeCode(policyOf(forbidRead('@mode("monitor")\n@native("Read(~/.netrc)")', 'trial.netrc')));
    assert.deepEqual(settings.permissions.deny, []);
    assert.equal(warnings.length, 2);
    assert.match(warnings[0]!, /^rules\.cedar:1 \(trial\.netrc\) is in monitor mode, so its @native rules are left out$/);
    assert.match(warnings[1]!, /no rule carries @native/);
  });

  it('refuses @native on a permit', () => {
    const policy = policyOf('@id("local.ok")\n@native("Read(~/.netrc)")\npermit (principal, action, resource);\n');
    assert.throws(() => compileClaudeCode(policy), compileError('NATIVE_ON_PERMIT', /^rules\.cedar:1 \(local\.ok\): @native belongs on a forbid rule/));
  });

  const badEntries: [string, RegExp][] = [
    ['Raed(~/.netrc)', /names no Claude Code tool \(`Raed`\)/],
    ['Write(~/.bashrc)', /is never consulted by Claude Code \(hint: write Edit\(~\/\.bashrc\) for file writes\)/],
    ['Read(/etc/shadow)', /is relative to the settings file's directory \(hint: write Read\(\/\/etc\/shadow\) for the absolute path\)/],
    ['WebFetch(evil.example.com)', /needs a domain:host specifier/],
    ['Bash()', /has an empty specifier/],
    ['Read ~/.netrc', /is not a permission rule of the form Tool or Tool\(specifier\)/],
    ['mcp__evil server', /is not an MCP rule/],
  ];
  for (const [entry, message] of badEntries) {
    it(`refuses the malformed entry ${entry}, naming the rule`, () => {
      const policy = policyOf(forbidRead(`@native("Read(~/.netrc); ${entry}")`));
      assert.throws(() => compileClaudeCode(policy), compileError('BAD_NATIVE_RULE', new RegExp(`^rules\\.cedar:1 \\(local\\.secret\\): @native entry \`${entry.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\` ${message.source}`)));
    });
  }

  it('accepts every kind of rule Claude Code documents', () => {
    const entries = ['Bash', 'Bash(npm run test:*)', 'Read(./.env)', 'Edit(//etc/**)', 'WebFetch(domain:*.example.com)', 'mcp__github', 'mcp__github__*', 'mcp__github__create_issue', 'Agent(Explore)', 'WebSearch'];
    assert.deepEqual(compileClaudeCode(policyOf(forbidRead(`@native("${entries.join('; ')}")`))).settings.permissions.deny, entries);
  });

  describe('MCP servers', () => {
    const mcpRule = (annotations: string) => `@id("mcp.unlisted")\n${annotations}\nforbid (principal, action == Writ::Action::"mcp_call", resource);\n`;

    it('names approved servers by name or URL, adds the ones given as options, each once', () => {
      const policy = policyOf(mcpRule('@native_mcp_allowed("github, https://mcp.example.com/*  linear")'));
      const { settings } = compileClaudeCode(policy, { mcp: { allowed: ['github', 'jira'], denied: ['evil-mcp'] } });
      assert.deepEqual(settings.allowedMcpServers, [{ serverName: 'github' }, { serverUrl: 'https://mcp.example.com/*' }, { serverName: 'linear' }, { serverName: 'jira' }]);
      assert.deepEqual(settings.deniedMcpServers, [{ serverName: 'evil-mcp' }]);
    });

    it('an empty approval list approves no server; no annotation leaves MCP to the hook', () => {
      assert.deepEqual(compileClaudeCode(policyOf(mcpRule('@native_mcp_allowed("")'))).settings.allowedMcpServers, []);
      const unannotated = compileClaudeCode(policyOf(mcpRule(''))).settings;
      assert.equal('allowedMcpServers' in unannotated, false);
      assert.equal('deniedMcpServers' in unannotated, false);
    });

    it('denied servers come from @native_mcp_denied', () => {
      assert.deepEqual(compileClaudeCode(policyOf(mcpRule('@native_mcp_denied("shady")'))).settings.deniedMcpServers, [{ serverName: 'shady' }]);
    });

    it('refuses a server that is neither a name nor a URL', () => {
      assert.throws(() => compileClaudeCode(policyOf(mcpRule('@native_mcp_allowed("git/hub")'))), compileError('BAD_MCP_SERVER', /^rules\.cedar:1 \(mcp\.unlisted\): MCP server `git\/hub` is neither/));
      assert.throws(() => compileClaudeCode(policyOf(mcpRule('')), { mcp: { denied: ['a b;c'] } }), compileError('BAD_MCP_SERVER', /^options: MCP server `a b;c` is neither/));
    });
  });

  describe('telemetry', () => {
    const policy = () => policyOf(forbidRead('@native("Read(~/.netrc)")'));

    it('points Claude Code at the Writ server with the device token in the header', () => {
      const { settings } = compileClaudeCode(policy(), { telemetry: { endpoint: 'https://writ.example.com/', token: 'wt_abc-123' } });
      assert.deepEqual(settings.env, {
        CLAUDE_CODE_ENABLE_TELEMETRY: '1',
        OTEL_LOGS_EXPORTER: 'otlp',
        OTEL_METRICS_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'https://writ.example.com',
        OTEL_EXPORTER_OTLP_HEADERS: 'Authorization=Bearer%20wt_abc-123',
        OTEL_LOG_TOOL_DETAILS: '1',
      });
    });

    it('refuses an endpoint that is not a URL and a token that cannot go in a header', () => {
      assert.throws(() => compileClaudeCode(policy(), { telemetry: { endpoint: 'writ.example.com', token: 'wt_x' } }), compileError('BAD_TELEMETRY', /`writ\.example\.com` is not an http\(s\) URL/));
      assert.throws(() => compileClaudeCode(policy(), { telemetry: { endpoint: 'http://127.0.0.1:7070', token: 'wt,x=y' } }), compileError('BAD_TELEMETRY', /telemetry token/));
    });
  });

  it('formats 2-space JSON in a fixed key order, hooks as given', () => {
    const hooks = { PreToolUse: [{ matcher: '*', hooks: [{ type: 'command', command: "'/opt/writ-hook' enforce || exit 2", timeout: 5 }] }] };
    const policy = policyOf(
      forbidRead('@native("Read(~/.netrc)")') + `@id("mcp.x")\n@native_mcp_denied("shady")\n@native_mcp_allowed("github")\nforbid (principal, action == Writ::Action::"mcp_call", resource);\n`,
    );
    const { settings } = compileClaudeCode(policy, { hooks, telemetry: { endpoint: 'http://127.0.0.1:7070', token: 't' } });
    const text = formatManagedSettings(settings);
    assert.ok(text.endsWith('}\n') && text.startsWith('{\n  "permissions": {\n    "deny": [\n      "Read(~/.netrc)"\n    ],'));
    assert.deepEqual(Object.keys(JSON.parse(text)), ['permissions', 'allowManagedHooksOnly', 'hooks', 'allowedMcpServers', 'deniedMcpServers', 'env']);
    assert.deepEqual(JSON.parse(text).hooks, hooks);
  });
});

// Every native rule of the standard policy, with a call it must stop. A native rule denies even where Writ
// would allow (Claude Code's deny wins), so each must be narrower than the Writ rule that carries it.
const STANDARD_EXAMPLES: Record<string, PolicyCase> = {
  'Read(~/.ssh/id_rsa)': { tool: 'Read', input: { file_path: '/home/dev/.ssh/id_rsa' }, expect: 'deny', rule: 'credentials.ssh' },
  'Read(~/.ssh/id_dsa)': { tool: 'Read', input: { file_path: '/home/dev/.ssh/id_dsa' }, expect: 'deny', rule: 'credentials.ssh' },
  'Read(~/.ssh/id_ecdsa)': { tool: 'Read', input: { file_path: '/home/dev/.ssh/id_ecdsa' }, expect: 'deny', rule: 'credentials.ssh' },
  'Read(~/.ssh/id_ecdsa_sk)': { tool: 'Read', input: { file_path: '/home/dev/.ssh/id_ecdsa_sk' }, expect: 'deny', rule: 'credentials.ssh' },
  'Read(~/.ssh/id_ed25519)': { tool: 'Read', input: { file_path: '/home/dev/.ssh/id_ed25519' }, expect: 'deny', rule: 'credentials.ssh' },
  'Read(~/.ssh/id_ed25519_sk)': { tool: 'Read', input: { file_path: '/home/dev/.ssh/id_ed25519_sk' }, expect: 'deny', rule: 'credentials.ssh' },
  'Read(~/.ssh/config)': { tool: 'Read', input: { file_path: '/home/dev/.ssh/config' }, expect: 'deny', rule: 'credentials.ssh' },
  'Read(~/.aws/**)': { tool: 'Read', input: { file_path: '/home/dev/.aws/sso/cache/token.json' }, expect: 'deny', rule: 'credentials.cloud' },
  'Read(~/.config/gcloud/**)': { tool: 'Read', input: { file_path: '/home/dev/.config/gcloud/credentials.db' }, expect: 'deny', rule: 'credentials.cloud' },
  'Read(~/.azure/**)': { tool: 'Read', input: { file_path: '/home/dev/.azure/msal_token_cache.json' }, expect: 'deny', rule: 'credentials.cloud' },
  'Read(~/.kube/config)': { tool: 'Read', input: { file_path: '/home/dev/.kube/config' }, expect: 'deny', rule: 'credentials.tool-tokens' },
  'Read(~/.docker/config.json)': { tool: 'Read', input: { file_path: '/home/dev/.docker/config.json' }, expect: 'deny', rule: 'credentials.tool-tokens' },
  'Read(~/.netrc)': { tool: 'Read', input: { file_path: '/home/dev/.netrc' }, expect: 'deny', rule: 'credentials.tool-tokens' },
  'Read(~/.git-credentials)': { tool: 'Read', input: { file_path: '/home/dev/.git-credentials' }, expect: 'deny', rule: 'credentials.tool-tokens' },
  'Read(~/.npmrc)': { tool: 'Read', input: { file_path: '/home/dev/.npmrc' }, expect: 'deny', rule: 'credentials.tool-tokens' },
  'Read(~/.pypirc)': { tool: 'Read', input: { file_path: '/home/dev/.pypirc' }, expect: 'deny', rule: 'credentials.tool-tokens' },
  'Read(~/.config/gh/hosts.yml)': { tool: 'Read', input: { file_path: '/home/dev/.config/gh/hosts.yml' }, expect: 'deny', rule: 'credentials.tool-tokens' },
  'Read(~/.gnupg/private-keys-v1.d/**)': { tool: 'Read', input: { file_path: '/home/dev/.gnupg/private-keys-v1.d/AB12.key' }, expect: 'deny', rule: 'credentials.tool-tokens' },
  'Read(~/.password-store/**)': { tool: 'Read', input: { file_path: '/home/dev/.password-store/bank.gpg' }, expect: 'deny', rule: 'credentials.tool-tokens' },
  'Read(//**/.env)': { tool: 'Read', input: { file_path: '/home/dev/project/api/.env' }, expect: 'deny', rule: 'credentials.dotenv' },
  'Read(//**/.env.local)': { tool: 'Read', input: { file_path: '/home/dev/project/.env.local' }, expect: 'deny', rule: 'credentials.dotenv' },
  'Read(//**/.env.production)': { tool: 'Read', input: { file_path: '/srv/app/.env.production' }, expect: 'deny', rule: 'credentials.dotenv' },
  'Read(//**/.env.production.local)': { tool: 'Read', input: { file_path: '/home/dev/project/.env.production.local' }, expect: 'deny', rule: 'credentials.dotenv' },
  'Read(//**/.env.development.local)': { tool: 'Read', input: { file_path: '/home/dev/project/.env.development.local' }, expect: 'deny', rule: 'credentials.dotenv' },
  'Bash(gh auth token*)': { bash: 'gh auth token', expect: 'deny', rule: 'credentials.print-token' },
  'Bash(gcloud auth print-access-token*)': { bash: 'gcloud auth print-access-token --account a@example.com', expect: 'deny', rule: 'credentials.print-token' },
  'Bash(gcloud auth print-identity-token*)': { bash: 'gcloud auth print-identity-token', expect: 'deny', rule: 'credentials.print-token' },
  'Bash(aws configure export-credentials*)': { bash: 'aws configure export-credentials --format env', expect: 'deny', rule: 'credentials.print-token' },
  'Bash(az account get-access-token*)': { bash: 'az account get-access-token', expect: 'deny', rule: 'credentials.print-token' },
  'Edit(~/.ssh/**)': { tool: 'Write', input: { file_path: '/home/dev/.ssh/authorized_keys', content: 'ssh-ed25519 AAAA attacker' }, expect: 'deny', rule: 'writes.startup-files' },
  'Edit(~/.bashrc)': { tool: 'Edit', input: { file_path: '/home/dev/.bashrc', old_string: 'a', new_string: 'b' }, expect: 'deny', rule: 'writes.startup-files' },
  'Edit(~/.bash_profile)': { tool: 'Write', input: { file_path: '/home/dev/.bash_profile', content: 'x' }, expect: 'deny', rule: 'writes.startup-files' },
  'Edit(~/.profile)': { tool: 'Write', input: { file_path: '/home/dev/.profile', content: 'x' }, expect: 'deny', rule: 'writes.startup-files' },
  'Edit(~/.zshrc)': { tool: 'Write', input: { file_path: '/home/dev/.zshrc', content: 'x' }, expect: 'deny', rule: 'writes.startup-files' },
  'Edit(~/.zprofile)': { tool: 'Write', input: { file_path: '/home/dev/.zprofile', content: 'x' }, expect: 'deny', rule: 'writes.startup-files' },
  'Edit(~/.zshenv)': { tool: 'Write', input: { file_path: '/home/dev/.zshenv', content: 'x' }, expect: 'deny', rule: 'writes.startup-files' },
  'Edit(~/.gitconfig)': { tool: 'Write', input: { file_path: '/home/dev/.gitconfig', content: 'x' }, expect: 'deny', rule: 'writes.startup-files' },
  'Edit(//**/.claude/settings.json)': { tool: 'Write', input: { file_path: '/home/dev/project/.claude/settings.json', content: '{}' }, expect: 'deny', rule: 'writes.guard-settings' },
  'Edit(//**/.claude/settings.local.json)': { tool: 'Write', input: { file_path: '/home/dev/project/.claude/settings.local.json', content: '{}' }, expect: 'deny', rule: 'writes.guard-settings' },
  'Edit(~/.claude.json)': { tool: 'Write', input: { file_path: '/home/dev/.claude.json', content: '{}' }, expect: 'deny', rule: 'writes.guard-settings' },
  'Edit(//etc/claude-code/**)': { tool: 'Write', input: { file_path: '/etc/claude-code/managed-settings.json', content: '{}' }, expect: 'deny', rule: 'writes.guard-settings' },
  'Edit(~/.writ/**)': { tool: 'Write', input: { file_path: '/home/dev/.writ/policy/10-credentials.cedar', content: '' }, expect: 'deny', rule: 'writes.guard-settings' },
  'Bash(*writ uninstall*)': { bash: 'npx writ uninstall claude-code --scope user', expect: 'deny', rule: 'guard.stop-writ' },
  'Bash(*writ install*)': { bash: 'writ install claude-code --scope user', expect: 'deny', rule: 'guard.stop-writ' },
  'Bash(pkill *writ*)': { bash: 'pkill -f writ', expect: 'deny', rule: 'guard.stop-writ' },
  'Bash(killall *writ*)': { bash: 'killall writ-hook', expect: 'deny', rule: 'guard.stop-writ' },
  'Bash(*-dangerously-skip-permissions*)': { bash: 'claude -p hi --dangerously-skip-permissions', expect: 'deny', rule: 'guard.bypass-agent-checks' },
  'Bash(*--permission-mode bypassPermissions*)': { bash: 'claude --permission-mode bypassPermissions -p hi', expect: 'deny', rule: 'guard.bypass-agent-checks' },
  'Bash(*--permission-mode=bypassPermissions*)': { bash: 'claude --permission-mode=bypassPermissions -p hi', expect: 'deny', rule: 'guard.bypass-agent-checks' },
  'Bash(*--dangerously-bypass-approvals-and-sandbox*)': { bash: 'codex exec --dangerously-bypass-approvals-and-sandbox fix', expect: 'deny', rule: 'guard.bypass-agent-checks' },
  'Bash(codex *--yolo*)': { bash: 'codex exec --yolo fix', expect: 'deny', rule: 'guard.bypass-agent-checks' },
  'Bash(gemini *--yolo*)': { bash: 'gemini -p fix --yolo', expect: 'deny', rule: 'guard.bypass-agent-checks' },
};

describe('the standard policy as a native backstop', () => {
  const policy = preparePolicy(readPolicyDir(STANDARD_POLICY_DIR));
  const { settings, warnings } = compileClaudeCode(policy);
  let parser: ShellParser;
  before(async () => {
    parser = await loadShellParser();
  });

  it('compiles without warnings, approves no MCP server (the policy approves none) and names no hooks or telemetry unasked', () => {
    assert.deepEqual(warnings, []);
    assert.deepEqual(settings.allowedMcpServers, []);
    assert.equal(settings.hooks, undefined);
    assert.equal(settings.env, undefined);
  });

  it('has an example call for every native rule, and no example for a rule it lacks', () => {
    assert.deepEqual([...settings.permissions.deny].sort(), Object.keys(STANDARD_EXAMPLES).sort());
    assert.equal(settings.permissions.ask, undefined);
  });

  it('denies through Writ, by the annotated rule, every call a native rule stops', () => {
    for (const [entry, example] of Object.entries(STANDARD_EXAMPLES)) {
      const [result] = runCases(policy, parser, { cases: [example] });
      assert.ok(result!.passed, `${entry}: ${result!.problem}`);
      const rule = policy.rules.get(example.rule!)!;
      assert.ok(rule.annotations.native!.split(';').map((part) => part.trim()).includes(entry), `${entry} is an @native entry of ${rule.id}`);
    }
  });
});

describe('writ policy compile', () => {
  const root = mkdtempSync(join(tmpdir(), 'writ-compile-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  it('prints the managed settings with Writ hooks that reach each user’s own daemon (no --home)', () => {
    const run = writ(['policy', 'compile', '--target', 'claude-code', '--policy', STANDARD_POLICY_DIR, '--shim', '/opt/writ/writ-hook'], root);
    assert.equal(run.status, 0, run.stderr);
    const settings = JSON.parse(run.stdout);
    assert.equal(settings.permissions.disableBypassPermissionsMode, 'disable');
    assert.equal(settings.allowManagedHooksOnly, true);
    assert.equal(settings.hooks.PreToolUse[0].hooks[0].command, "'/opt/writ/writ-hook' enforce || exit 2");
    assert.equal(settings.hooks.SessionStart[0].hooks[0].command, "exec '/opt/writ/writ-hook' record");
    assert.match(run.stderr, /warning: no executable hook shim at \/opt\/writ\/writ-hook/);
    assert.match(run.stderr, /warning: not enrolled/);
    assert.equal(settings.env, undefined);
  });

  it('writes the file 0644 with --out, the same bytes it prints', () => {
    const out = join(root, 'managed-settings.json');
    const printed = writ(['policy', 'compile', '--target', 'claude-code', '--policy', STANDARD_POLICY_DIR, '--hooks', 'none'], root);
    const written = writ(['policy', 'compile', '--target', 'claude-code', '--policy', STANDARD_POLICY_DIR, '--hooks', 'none', '--out', out], root);
    assert.equal(written.status, 0, written.stderr);
    assert.equal(written.stdout, '');
    assert.equal(readFileSync(out, 'utf8'), printed.stdout);
    assert.equal(statSync(out).mode & 0o777, 0o644);
    assert.equal(JSON.parse(printed.stdout).hooks, undefined);
    assert.match(written.stderr, /writ install claude-code --scope managed/);
  });

  const usageCases: [string, string[], RegExp][] = [
    ['no --target', [], /policy compile needs --target \(one of claude-code\)/],
    ['an unknown target', ['--target', 'codex'], /unknown target "codex": policy compile knows claude-code/],
    ['a bad --hooks', ['--target', 'claude-code', '--hooks', 'http'], /--hooks must be one of command, none, not "http"/],
    ['a stray argument', ['--target', 'claude-code', 'extra'], /policy compile takes no arguments \(got "extra"\)/],
    ['an unknown option', ['--target', 'claude-code', '--bogus'], /Unknown option '--bogus'/],
  ];
  for (const [what, args, message] of usageCases) {
    it(`exits 2 with usage on ${what}`, () => {
      const run = writ(['policy', 'compile', ...args], root);
      assert.equal(run.status, 2, run.stderr);
      assert.match(run.stderr, message);
      assert.match(run.stderr, /usage: writ policy .*compile --target claude-code/);
    });
  }

  it('exits 1 naming the rule when an @native entry is malformed', () => {
    const dir = join(root, 'bad-policy');
    mkdirSync(dir);
    writeFileSync(join(dir, 'rules.cedar'), forbidRead('@native("Write(~/.bashrc)")'));
    const run = writ(['policy', 'compile', '--target', 'claude-code', '--policy', dir], root);
    assert.equal(run.status, 1);
    assert.match(run.stderr, /rules\.cedar:1 \(local\.secret\): @native entry `Write\(~\/\.bashrc\)` is never consulted/);
  });
});
