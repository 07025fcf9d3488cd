// `writ install claude-code` / `writ uninstall claude-code` against real-format settings files
// in temporary homes and projects.
import assert from 'node:assert/strict';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  lstatSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, beforeEach, test } from 'node:test';
import {
  claudeSettingsPath,
  installClaudeCode,
  uninstallClaudeCode,
  type InstallClaudeCodeOptions,
  type InstallOutput,
} from '../../../src/agents/claude-code/install.js';
import {
  InvalidSettingsError,
  isWritHandler,
  planUninstall,
  WRIT_HOOK_EVENTS,
} from '../../../src/agents/claude-code/settings.js';

const fixturesDir = new URL('./fixtures/', import.meta.url);
const fixtureNames = ['typical.json', 'four-space-no-newline.json', 'one-line.json', 'tabs-crlf.json'];
const workDir = mkdtempSync(join(tmpdir(), 'writ-install-'));
after(() => rmSync(workDir, { recursive: true, force: true }));

interface Sandbox {
  home: string;
  writHome: string;
  shimPath: string;
  settingsPath: string;
  messages: { info: string[]; warn: string[] };
  options(extra?: Partial<InstallClaudeCodeOptions>): InstallClaudeCodeOptions;
}

let sandbox: Sandbox;
let sandboxCount = 0;

beforeEach(() => {
  const root = join(workDir, String(++sandboxCount));
  const home = join(root, 'home');
  const shimPath = join(root, 'bin', 'writ-hook');
  mkdirSync(dirname(shimPath), { recursive: true });
  writeFileSync(shimPath, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  mkdirSync(home, { recursive: true });
  const messages = { info: [] as string[], warn: [] as string[] };
  const output: InstallOutput = { info: (text) => messages.info.push(text), warn: (text) => messages.warn.push(text) };
  sandbox = {
    home,
    writHome: join(home, '.writ'),
    shimPath,
    settingsPath: join(home, '.claude', 'settings.json'),
    messages,
    // env: {} so a CLAUDE_CONFIG_DIR around the test run can never point these tests at real settings.
    options: (extra = {}) => ({
      scope: 'user',
      transport: 'command',
      writHome: sandbox.writHome,
      shimPath,
      home,
      env: {},
      output,
      ...extra,
    }),
  };
});

function fixture(name: string): Buffer {
  return readFileSync(new URL(name, fixturesDir));
}

function placeSettings(bytes: Buffer | string, path = sandbox.settingsPath): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, bytes);
}

function uninstallOptions() {
  const { scope, writHome, home, env, output } = sandbox.options();
  return { scope, writHome, home, env, output };
}

function installRecords(): string[] {
  const dir = join(sandbox.writHome, 'installs');
  return existsSync(dir) ? readdirSync(dir) : [];
}

type Handler = Record<string, unknown>;
type Settings = { hooks?: Record<string, { matcher?: string; hooks: Handler[] }[]> } & Record<string, unknown>;

function writHandlers(settings: Settings): Record<string, Handler[]> {
  const found: Record<string, Handler[]> = {};
  for (const [event, groups] of Object.entries(settings.hooks ?? {})) {
    const handlers = groups.flatMap((group) => group.hooks.filter(isWritHandler));
    if (handlers.length > 0) found[event] = handlers;
  }
  return found;
}

for (const name of fixtureNames) {
  test(`${name}: install adds Writ's hooks and keeps everything else; uninstall restores the exact bytes`, async () => {
    const original = fixture(name);
    placeSettings(original);
    const result = await installClaudeCode(sandbox.options());
    assert.equal(result.action, 'written');
    assert.equal(result.target, sandbox.settingsPath);

    const installedText = readFileSync(sandbox.settingsPath, 'utf8');
    const installed = JSON.parse(installedText) as Settings;
    // Events the file already had keep their place; new ones are added at the end.
    assert.deepEqual(Object.keys(writHandlers(installed)).sort(), [...WRIT_HOOK_EVENTS].sort());
    // Taking Writ's entries back out of the text gives the original to the byte: nothing
    // else was reformatted, reordered or re-escaped.
    assert.equal(planUninstall(installedText), original.toString('utf8'));
    assert.equal(installedText.endsWith('\n'), original.toString('utf8').endsWith('\n'));
    assert.equal(installRecords().length, 1);

    const removal = await uninstallClaudeCode(uninstallOptions());
    assert.equal(removal.action, 'restored');
    assert.deepEqual(readFileSync(sandbox.settingsPath), original);
    assert.deepEqual(installRecords(), []);
  });
}

test("another tool's PreToolUse hook stays, and Writ's handlers carry only keys the settings schema knows", async () => {
  placeSettings(fixture('typical.json'));
  await installClaudeCode(sandbox.options());
  const installed = JSON.parse(readFileSync(sandbox.settingsPath, 'utf8')) as Settings;
  const preToolUse = installed.hooks!.PreToolUse;
  assert.equal(preToolUse.length, 2);
  assert.deepEqual(preToolUse[0], JSON.parse(fixture('typical.json').toString()).hooks.PreToolUse[0]);
  assert.deepEqual(preToolUse[1], {
    matcher: '*',
    hooks: [{ type: 'command', command: `'${sandbox.shimPath}' --home '${sandbox.writHome}' enforce || exit 2`, timeout: 5 }],
  });
  assert.deepEqual(installed.hooks!.SessionEnd, [
    { hooks: [{ type: 'command', command: `exec '${sandbox.shimPath}' --home '${sandbox.writHome}' record`, timeout: 5 }] },
  ]);
  assert.deepEqual(Object.keys(installed), Object.keys(JSON.parse(fixture('typical.json').toString())), 'key order kept');
});

test('an empty event array the user had is restored by uninstall, but dropped when entries are removed from an edited file', async () => {
  const original = '{\n  "hooks": {\n    "SessionStart": []\n  }\n}\n';
  placeSettings(original);
  await installClaudeCode(sandbox.options());
  const installedText = readFileSync(sandbox.settingsPath, 'utf8');
  assert.equal(JSON.parse(installedText).hooks.SessionStart.length, 1);
  // Text alone cannot tell an empty array the user wrote from one Writ emptied; both mean "no hooks".
  assert.equal(planUninstall(installedText), '{}\n');
  await uninstallClaudeCode(uninstallOptions());
  assert.equal(readFileSync(sandbox.settingsPath, 'utf8'), original);
});

test('installing twice gives the same bytes', async () => {
  placeSettings(fixture('four-space-no-newline.json'));
  await installClaudeCode(sandbox.options());
  const first = readFileSync(sandbox.settingsPath);
  const again = await installClaudeCode(sandbox.options());
  assert.equal(again.action, 'unchanged');
  assert.deepEqual(readFileSync(sandbox.settingsPath), first);
});

test("installing again leaves Writ's entries where they are, even with the user's hooks after them", async () => {
  await installClaudeCode(sandbox.options());
  const settings = JSON.parse(readFileSync(sandbox.settingsPath, 'utf8')) as Settings;
  settings.hooks!.PreToolUse.push({ matcher: 'Bash', hooks: [{ type: 'command', command: 'audit-bash' }] });
  const edited = `${JSON.stringify(settings, null, 2)}\n`;
  writeFileSync(sandbox.settingsPath, edited);
  const again = await installClaudeCode(sandbox.options());
  assert.equal(again.action, 'unchanged');
  assert.equal(readFileSync(sandbox.settingsPath, 'utf8'), edited);
});

test("a file edited after install keeps the user's edit on uninstall and loses only Writ's entries", async () => {
  placeSettings(fixture('typical.json'));
  await installClaudeCode(sandbox.options());
  const edited = readFileSync(sandbox.settingsPath, 'utf8')
    .replace('"Read(~/.zshrc)"', '"Read(~/.zshrc)",\n      "Bash(make *)"')
    .replace('"model": "claude-opus-4-8"', '"model": "claude-sonnet-4-6"');
  writeFileSync(sandbox.settingsPath, edited);

  const removal = await uninstallClaudeCode(uninstallOptions());
  assert.equal(removal.action, 'removed-entries');
  const after = JSON.parse(readFileSync(sandbox.settingsPath, 'utf8')) as Settings;
  const expected = JSON.parse(fixture('typical.json').toString()) as Settings & { permissions: { allow: string[] } };
  expected.permissions.allow.push('Bash(make *)');
  expected.model = 'claude-sonnet-4-6';
  assert.deepEqual(after, expected);
  assert.deepEqual(installRecords(), []);
});

test('no file before install means no file (and no .claude directory) after uninstall', async () => {
  const result = await installClaudeCode(sandbox.options());
  assert.equal(result.action, 'written');
  assert.ok(existsSync(sandbox.settingsPath));
  assert.ok(result.text.endsWith('}\n'));
  const removal = await uninstallClaudeCode(uninstallOptions());
  assert.equal(removal.action, 'deleted');
  assert.equal(existsSync(sandbox.settingsPath), false);
  assert.equal(existsSync(join(sandbox.home, '.claude')), false);
  assert.deepEqual(readdirSync(sandbox.home), ['.writ']);
});

test('a .claude directory that holds other files stays after uninstall', async () => {
  await installClaudeCode(sandbox.options());
  writeFileSync(join(sandbox.home, '.claude', 'history.jsonl'), '{}\n');
  await uninstallClaudeCode(uninstallOptions());
  assert.equal(existsSync(sandbox.settingsPath), false);
  assert.deepEqual(readdirSync(join(sandbox.home, '.claude')), ['history.jsonl']);
});

test('a settings file that is not valid JSON is refused and left untouched', async () => {
  const broken = '{\n  "model": "opus",\n}\n';
  placeSettings(broken);
  await assert.rejects(installClaudeCode(sandbox.options()), (error: Error) => {
    assert.ok(error instanceof InvalidSettingsError);
    assert.match(error.message, new RegExp(`Refusing to change ${sandbox.settingsPath}: not valid JSON`));
    return true;
  });
  assert.equal(readFileSync(sandbox.settingsPath, 'utf8'), broken);
  assert.deepEqual(installRecords(), []);
});

test('a hooks section of the wrong shape is refused rather than overwritten', async () => {
  const odd = '{"hooks": {"PreToolUse": {"matcher": "*"}}}\n';
  placeSettings(odd);
  await assert.rejects(installClaudeCode(sandbox.options()), /"hooks\.PreToolUse" is not an array/);
  assert.equal(readFileSync(sandbox.settingsPath, 'utf8'), odd);
});

test('a missing shim is refused before anything is written', async () => {
  await assert.rejects(
    installClaudeCode(sandbox.options({ shimPath: join(sandbox.home, 'nowhere', 'writ-hook') })),
    /hook shim is missing or not executable at .*nowhere\/writ-hook.*npm run build/,
  );
  assert.equal(existsSync(sandbox.settingsPath), false);
  assert.deepEqual(installRecords(), []);
});

test('managed scope with print writes nothing and prints the drop-in and where it goes', async () => {
  const managedDir = join(sandbox.home, 'etc-claude-code');
  const result = await installClaudeCode(sandbox.options({ scope: 'managed', managedDir, print: true }));
  assert.equal(result.action, 'printed');
  const dropIn = join(managedDir, 'managed-settings.d', '50-writ.json');
  assert.equal(result.target, dropIn);
  assert.equal(existsSync(managedDir), false);
  assert.equal(existsSync(sandbox.writHome), false);
  assert.equal(sandbox.messages.info.length, 1);
  assert.ok(sandbox.messages.info[0].includes(`save it as ${dropIn}`));
  assert.ok(sandbox.messages.info[0].endsWith(result.text));
  // One drop-in serves every user, so the shim finds each user's own daemon: no --home.
  const dropInHooks = writHandlers(JSON.parse(result.text) as Settings);
  assert.equal(dropInHooks.PreToolUse[0].command, `'${sandbox.shimPath}' enforce || exit 2`);
});

test('managed scope as root writes the drop-in readable by every user, and uninstall removes it', {
  skip: process.getuid?.() !== 0 && 'needs root',
}, async () => {
  const managedDir = join(sandbox.home, 'etc-claude-code');
  const result = await installClaudeCode(sandbox.options({ scope: 'managed', managedDir }));
  assert.equal(result.action, 'written');
  assert.equal(statSync(result.target).mode & 0o777, 0o644);
  assert.equal(readFileSync(result.target, 'utf8'), result.text);
  const removal = await uninstallClaudeCode({ ...uninstallOptions(), scope: 'managed', managedDir });
  assert.equal(removal.action, 'deleted');
  assert.equal(existsSync(result.target), false);
});

test('project scope writes DIR/.claude/settings.json', async () => {
  const projectDir = join(sandbox.home, 'code', 'app');
  mkdirSync(projectDir, { recursive: true });
  const result = await installClaudeCode(sandbox.options({ scope: 'project', projectDir }));
  assert.equal(result.target, join(projectDir, '.claude', 'settings.json'));
  assert.ok(existsSync(result.target));
  assert.equal(existsSync(sandbox.settingsPath), false);
  const removal = await uninstallClaudeCode({ ...uninstallOptions(), scope: 'project', projectDir });
  assert.equal(removal.action, 'deleted');
  assert.deepEqual(readdirSync(projectDir), []);
});

test('user scope honours CLAUDE_CONFIG_DIR', () => {
  const configDir = join(sandbox.home, 'alt-config');
  assert.equal(
    claudeSettingsPath({ scope: 'user', home: sandbox.home, env: { CLAUDE_CONFIG_DIR: configDir } }),
    join(configDir, 'settings.json'),
  );
  assert.equal(claudeSettingsPath({ scope: 'user', home: sandbox.home, env: {} }), sandbox.settingsPath);
});

test('the http transport warns that it fails open, and SessionStart stays a command hook', async () => {
  const result = await installClaudeCode(sandbox.options({ transport: 'http', httpPort: 7433 }));
  assert.equal(sandbox.messages.warn.length, 1);
  assert.match(sandbox.messages.warn[0], /fail open/);
  const hooks = writHandlers(JSON.parse(result.text) as Settings);
  assert.deepEqual(hooks.PreToolUse, [
    { type: 'http', url: 'http://127.0.0.1:7433/v1/hooks/claude-code', headers: { 'X-Writ-Mode': 'enforce' }, timeout: 5 },
  ]);
  assert.equal(hooks.SessionStart[0].type, 'command');
  assert.equal(hooks.SessionEnd[0].type, 'http');
});

test("reinstalling with another home replaces Writ's old entries instead of adding to them", async () => {
  placeSettings(fixture('typical.json'));
  await installClaudeCode(sandbox.options());
  const moved = join(sandbox.home, "it's elsewhere");
  await installClaudeCode(sandbox.options({ writHome: moved }));
  const hooks = writHandlers(JSON.parse(readFileSync(sandbox.settingsPath, 'utf8')) as Settings);
  assert.deepEqual(
    Object.values(hooks).map((handlers) => handlers.length),
    WRIT_HOOK_EVENTS.map(() => 1),
  );
  assert.equal(hooks.PreToolUse[0].command, `'${sandbox.shimPath}' --home '${moved.replace("'", `'\\''`)}' enforce || exit 2`);
  // The first home's record no longer matches the file, so only Writ's entries go: that is the original.
  const removal = await uninstallClaudeCode({ ...uninstallOptions(), writHome: sandbox.writHome });
  assert.equal(removal.action, 'removed-entries');
  assert.deepEqual(readFileSync(sandbox.settingsPath), fixture('typical.json'));
});

test("the file's mode is kept, and a symlinked settings file stays a symlink", async () => {
  const dotfiles = join(sandbox.home, 'dotfiles', 'claude-settings.json');
  placeSettings(fixture('typical.json'), dotfiles);
  chmodSync(dotfiles, 0o600);
  mkdirSync(dirname(sandbox.settingsPath), { recursive: true });
  symlinkSync(dotfiles, sandbox.settingsPath);

  await installClaudeCode(sandbox.options());
  assert.ok(lstatSync(sandbox.settingsPath).isSymbolicLink());
  assert.equal(realpathSync(sandbox.settingsPath), dotfiles);
  assert.equal(statSync(dotfiles).mode & 0o777, 0o600);
  assert.ok(Object.keys(writHandlers(JSON.parse(readFileSync(dotfiles, 'utf8')) as Settings)).length > 0);

  await uninstallClaudeCode(uninstallOptions());
  assert.deepEqual(readFileSync(dotfiles), fixture('typical.json'));
  assert.equal(statSync(dotfiles).mode & 0o777, 0o600);
});

test('the install record is private to the user', async () => {
  await installClaudeCode(sandbox.options());
  const [record] = installRecords();
  assert.match(record, /^user-[0-9a-f]{64}\.json$/);
  assert.equal(statSync(join(sandbox.writHome, 'installs', record)).mode & 0o777, 0o600);
});

test("Writ's hooks are recognised in every form it has written, and nothing else is", () => {
  assert.equal(isWritHandler({ type: 'command', command: `exec '/opt/writ/writ-hook' --home '/home/a/.writ' record` }), true);
  assert.equal(isWritHandler({ type: 'command', command: `'/opt/writ/writ-hook' --home '/home/a/.writ' record || true` }), true);
  assert.equal(isWritHandler({ type: 'command', command: `'/opt/writ/writ-hook' enforce || exit 2` }), true);
  assert.equal(isWritHandler({ type: 'command', command: `'/opt/writ/writ-hook' record; curl evil.example` }), false);
  assert.equal(isWritHandler({ type: 'command', command: 'prettier --write .' }), false);
});
