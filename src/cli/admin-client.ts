// How admin commands reach the server: --server / WRIT_SERVER / the enrolled server / the local default,
// with --token / WRIT_TOKEN / the local server's bootstrap admin token.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveWritHome } from '../home/writ-home.js';
import { UsageError } from './command.js';

export const adminClientOptions = {
  server: { type: 'string' },
  token: { type: 'string' },
  home: { type: 'string' },
} as const;

export interface AdminClient {
  server: string;
  request(method: string, path: string, body?: unknown): Promise<Response>;
  json<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
}

export function adminClient(values: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): AdminClient {
  const home = resolveWritHome(values.home as string | undefined, env);
  const enrolled = readJson(join(home.root, 'enrollment.json')) as { server?: string } | undefined;
  const server = ((values.server as string | undefined) ?? env.WRIT_SERVER ?? enrolled?.server ?? 'http://127.0.0.1:7070').replace(/\/+$/, '');
  if (!/^https?:\/\//.test(server)) throw new UsageError(`--server must be an http(s) URL, not "${server}"`);
  const tokenFile = join(home.root, 'server', 'admin-token');
  const token = (values.token as string | undefined) ?? env.WRIT_TOKEN ?? (existsSync(tokenFile) ? readFileSync(tokenFile, 'utf8').trim() : undefined);
  if (!token) throw new UsageError('no admin token: pass --token or set WRIT_TOKEN');

  const request = async (method: string, path: string, body?: unknown): Promise<Response> => {
    try {
      return await fetch(server + path, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
    } catch (error) {
      throw new Error(`cannot reach ${server}: ${(error as Error & { cause?: Error }).cause?.message ?? (error as Error).message}`);
    }
  };
  return {
    server,
    request,
    async json<T>(method: string, path: string, body?: unknown): Promise<T> {
      const response = await request(method, path, body);
      const text = await response.text();
      const parsed = text ? JSON.parse(text) : undefined;
      if (!response.ok) {
        const error = parsed?.error;
        const details = Array.isArray(error?.problems) ? `\n${error.problems.join('\n')}` : '';
        throw new Error(`${response.status} ${error?.message ?? text}${details}`);
      }
      return parsed as T;
    },
  };
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}
