// Destinations of network programs: URLs, `host:port`, `user@host`, scp-style `host:path`.
import { domainToASCII } from 'node:url';
import type { CallEnvironment, NetworkAction } from '../actions.js';
import { embeddedIp, parseIpLiteral } from './ip-address.js';

const DEFAULT_PORTS: Record<string, number> = { http: 80, https: 443, ftp: 21, ssh: 22, git: 9418, rsync: 873, ws: 80, wss: 443, sftp: 22 };

export function hostAction(kind: 'fetch' | 'send', target: string, via: string, defaultPort: number, env: CallEnvironment): NetworkAction {
  const { host, port, scheme } = parseDestination(target, defaultPort);
  const ip = parseIpLiteral(host) ?? embeddedIp(host);
  return {
    kind,
    host,
    ...(ip !== undefined && { ip }),
    port,
    scheme,
    method: kind === 'send' ? 'POST' : 'GET',
    url: target,
    projectRemote: Object.values(env.gitRemotes).includes(host),
    via,
  };
}

export function parseDestination(target: string, defaultPort = 0): { host: string; port: number; scheme: string } {
  // The user-information part ends at the last `@` before the path (`http://a@b@169.254.169.254/`).
  const url = /^([a-z][a-z0-9+.-]*):\/\/(?:[^/?#]*@)?(\[[^\]]+\]|[^:/?#]*)(?::(\d+))?/i.exec(target);
  if (url) {
    const scheme = url[1]!.toLowerCase().replace(/^git\+/, '');
    return { host: normaliseHost(decodePercent(url[2]!)), port: Number(url[3]) || DEFAULT_PORTS[scheme] || defaultPort, scheme };
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

/**
 * One spelling per destination: lower case, no trailing dot, an IP literal in its canonical form
 * (`0xA9FEA9FE` → `169.254.169.254`), an internationalised name in its ASCII (punycode) form.
 */
export function normaliseHost(host: string): string {
  const bare = host.replace(/^\[|\]$/g, '').replace(/\.+$/, '').toLowerCase();
  const ip = parseIpLiteral(bare);
  if (ip !== undefined) return ip;
  return /^[\x21-\x7e]*$/.test(bare) ? bare : domainToASCII(bare) || bare;
}

/** `%31%36%39` → `169`; text that is no valid percent-encoding stays as it is. */
export function decodePercent(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
