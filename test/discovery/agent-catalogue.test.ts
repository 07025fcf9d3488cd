// The catalogue covers the agents the inventory promises, and its version patterns read the agents' real
// answers while refusing lookalikes; extension folders name extensions, not versions.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AGENT_CATALOGUE, expandCataloguePath } from '../../src/detect/agent-catalogue.js';
import { classifyAgents, extensionIdOf, versionFromOutput } from '../../src/detect/agent-discovery.js';

const binary = (id: string) => AGENT_CATALOGUE.find((signature) => signature.id === id)!.binaries[0]!;

describe('agent catalogue', () => {
  test('covers the promised agents and runners, each id once', () => {
    const ids = AGENT_CATALOGUE.map((signature) => signature.id);
    assert.equal(new Set(ids).size, ids.length);
    for (const id of ['claude-code', 'claude-desktop', 'codex-cli', 'gemini-cli', 'cursor', 'copilot-cli', 'github-copilot', 'windsurf', 'cline', 'continue', 'aider', 'amp', 'opencode', 'goose', 'ollama', 'lm-studio']) assert.ok(ids.includes(id), id);
  });

  test('version patterns read real answers and refuse others', () => {
    assert.equal(versionFromOutput(binary('claude-code'), '2.1.197 (Claude Code)\n'), '2.1.197');
    assert.equal(versionFromOutput(binary('claude-code'), 'claude 1.0.0\n'), undefined);
    assert.equal(versionFromOutput(binary('codex-cli'), 'codex-cli 0.169.0\n'), '0.169.0');
    assert.equal(versionFromOutput(binary('gemini-cli'), '0.61.0\n'), '0.61.0');
    assert.equal(versionFromOutput(binary('gemini-cli'), 'Usage: gemini 0.61.0 [options]\n'), undefined);
    assert.equal(versionFromOutput(binary('aider'), 'aider 0.86.1\n'), '0.86.1');
    assert.equal(versionFromOutput(binary('ollama'), 'Warning: could not connect to a running Ollama instance\nWarning: client version is 0.5.7\n'), '0.5.7');
    assert.equal(versionFromOutput(binary('ollama'), 'ollama version is 0.12.3\n'), '0.12.3');
  });

  test('extension folders: the id without the version; other folders are not extensions', () => {
    assert.equal(extensionIdOf('github.copilot-chat-0.22.4'), 'github.copilot-chat');
    assert.equal(extensionIdOf('anthropic.claude-code-2.1.197-linux-x64'), 'anthropic.claude-code');
    assert.equal(extensionIdOf('Continue.continue-1.0.5'), 'continue.continue');
    assert.equal(extensionIdOf('.obsolete'), undefined);
    assert.equal(extensionIdOf('extensions.json'), undefined);
  });

  test('paths expand per system; a project path without a project is skipped', () => {
    assert.equal(expandCataloguePath('{appdata}/Claude/x.json', { home: '/Users/dev', platform: 'darwin' }), '/Users/dev/Library/Application Support/Claude/x.json');
    assert.equal(expandCataloguePath('{appdata}/Claude/x.json', { home: 'C:\\Users\\dev', platform: 'win32' }), 'C:\\Users\\dev\\AppData\\Roaming\\Claude\\x.json');
    assert.equal(expandCataloguePath('{managed}/managed-mcp.json', { home: '/h', platform: 'linux' }), '/etc/claude-code/managed-mcp.json');
    assert.equal(expandCataloguePath('{project}/.mcp.json', { home: '/h', platform: 'linux' }), undefined);
  });

  test('an agent confirmed by an app is ungoverned; one seen only by an unconfirmed binary is unknown', () => {
    const findings = classifyAgents([
      { agent: 'cursor', confirmed: true, evidence: { source: 'app', path: '/Applications/Cursor.app' } },
      { agent: 'codex-cli', confirmed: false, evidence: { source: 'binary', path: '/usr/local/bin/codex', detail: 'did not answer' } },
    ]);
    const cursor = findings.find((finding) => finding.id === 'cursor');
    const codex = findings.find((finding) => finding.id === 'codex-cli');
    assert.equal(cursor!.governance, 'ungoverned');
    assert.equal(cursor!.running, false);
    assert.equal(codex!.governance, 'unknown');
    assert.match(codex!.governance_reason, /\/usr\/local\/bin\/codex/);
  });
});
