// Starts a real Writ daemon in a temporary WRIT_HOME and talks to it over its Unix socket.
import { mkdtempSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemon, HOOK_PATH, type RunningDaemon } from '../../src/daemon/daemon.js';
import { resolveWritHome, type WritHome } from '../../src/home/writ-home.js';

export interface TestDaemon {
  home: WritHome;
  daemon: RunningDaemon;
  post(body: string | Buffer, headers?: Record<string, string>): Promise<{ status: number; body: string }>;
  health(): Promise<{ status: number; body: string }>;
}

export async function startTestDaemon(options: { httpPort?: number } = {}): Promise<TestDaemon> {
  const home = resolveWritHome(mkdtempSync(join(tmpdir(), 'writ-home-')));
  const daemon = await startDaemon({ home, httpPort: options.httpPort, log: () => {} });
  const call = (method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ socketPath: home.socket, method, path, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      });
      req.on('error', reject);
      req.end(body);
    });
  return {
    home,
    daemon,
    post: (body, headers) => call('POST', HOOK_PATH, body, headers),
    health: () => call('GET', '/v1/health'),
  };
}

export function preToolUse(toolName: string, toolInput: unknown, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ hook_event_name: 'PreToolUse', session_id: 'session-1', cwd: process.cwd(), permission_mode: 'default', tool_name: toolName, tool_input: toolInput, tool_use_id: `toolu_${Math.random().toString(36).slice(2)}`, ...extra });
}
