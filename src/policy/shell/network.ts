// Destinations of network programs: URLs, `host:port`, `user@host`, scp-style `host:path`.
import type { CallEnvironment, NetworkAction } from '../actions.js';

const DEFAULT_PORTS: Record<string, number> = { http: 80, https: 443, ftp: 21, ssh: 22, git: 9418, rsync: 873, ws: 80, wss: 443, sftp: 22 };

export function hostAction(kind: 'fetch' | 'send', target: string, via: string, defaultPort: number, env: CallEnvironment): NetworkAction {
  const { host, port, scheme } = parseDestination(target, defaultPort);
  return {
    kind,
    host,
    port,
    scheme,
    method: kind === 'send' ? 'POST' : 'GET',
    url: target,
    projectRemote: Object.values(env.gitRemotes).includes(host),
    via,
  };
}

export function parseDestination(target: string, defaultPort = 0): { host: string; port: number; scheme: string } {
  const url = /^([a-z][a-z0-9+.-]*):\/\/(?:[^@/]*@)?(\[[^\]]+\]|[^:/?#]*)(?::(\d+))?/i.exec(target);
  if (url) {
    const scheme = url[1]!.toLowerCase().replace(/^git\+/, '');
    return { host: normaliseHost(url[2]!), port: Number(url[3]) || DEFAULT_PORTS[scheme] || defaultPort, scheme };
  }
  const scpLike = parseRemoteSpec(target);
  if (scpLike) return { host: scpLike.host, port: 22, scheme: 'ssh' };
  const hostPort = /^(?:[^@/]*@)?(\[[^\]]+\]|[^:/]+)(?::(\d+))?(\/.*)?$/.exec(target);
  if (hostPort) {
    const port = Number(hostPort[2]) || defaultPort;
    return { host: normaliseHost(hostPort[1]!), port, scheme: port === 443 ? 'https' : defaultPort === 22 ? 'ssh' : 'http' };
  }
  return { host: target, port: defaultPort, scheme: '' };
}

/** `[user@]host:path` as scp, rsync and git understand it; undefined for local paths. */
export function parseRemoteSpec(text: string | undefined): { host: string; path: string } | undefined {
  if (text === undefined) return undefined;
  if (/^rsync:\/\//.test(text)) return { host: parseDestination(text).host, path: '' };
  const match = /^(?:[^@/:]+@)?(\[[^\]]+\]|[^:/\s]+):(.*)$/.exec(text);
  if (!match || /^[a-z]+$/i.test(match[1]!) && match[2]!.startsWith('//')) return undefined;
  return { host: normaliseHost(match[1]!), path: match[2]! };
}

function normaliseHost(host: string): string {
  return host.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase();
}
