// Admin commands against the server: kill switches, policy publishing, devices, people, tokens, export.
import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { readPolicyDir } from '../../home/policy-files.js';
import { KILL_TARGET } from '../../core/policy-bundle.js';
import { adminClient, adminClientOptions } from '../admin-client.js';
import { UsageError, type Command } from '../command.js';
import { oneOf } from '../options.js';
import { INVENTORY_USAGE, inventoryOptions, runInventory } from './inventory.js';


export const killCommand: Command = {
  usage: 'kill mcp:<server>|tool:<name> [--reason TEXT] [--lift] [--server URL] [--token T]',
  summary: 'block an MCP server or a tool on every connected device (or lift the block)',
  options: { ...adminClientOptions, reason: { type: 'string' }, lift: { type: 'boolean' } },
  async run({ values, positionals }) {
    const [target, ...extra] = positionals;
    if (!target || extra.length > 0 || !KILL_TARGET.test(target)) throw new UsageError('give one target: mcp:<server> or tool:<name>');
    const client = adminClient(values);
    if (values.lift) {
      await client.json('DELETE', `/v1/kills/${encodeURIComponent(target)}`);
      process.stdout.write(`lifted ${target}\n`);
      return 0;
    }
    const answer = await client.json<{ version: number; connected_devices: number }>('POST', '/v1/kills', { target, ...(typeof values.reason === 'string' && { reason: values.reason }) });
    process.stdout.write(`killed ${target} (control version ${answer.version}; pushed to ${answer.connected_devices} connected devices)\n`);
    return 0;
  },
};

export const publishCommand = {
  usage: 'policy publish DIR [--comment TEXT] [--server URL] [--token T]',
  async run(values: Record<string, unknown>, dir: string): Promise<number> {
    const files = readPolicyDir(dir);
    const answer = await adminClient(values).json<{ hash: string }>('POST', '/v1/policy/bundles', { files, ...(typeof values.comment === 'string' && { comment: values.comment }) });
    process.stdout.write(`published ${files.length} policy files as bundle ${answer.hash}\n`);
    return 0;
  },
};

export const fleetCommand: Command = {
  usage: `fleet devices|people|tokens [list] | fleet devices|people revoke ID | fleet tokens create NAME --role admin|auditor|enroller | ${INVENTORY_USAGE} [--server URL] [--token T]`,
  summary: 'list and revoke devices and people; create API and enrolment tokens; query the fleet inventory',
  options: { ...adminClientOptions, role: { type: 'string' }, json: { type: 'boolean' }, ...inventoryOptions },
  async run({ values, positionals }) {
    if (positionals[0] === 'inventory') return runInventory(values, positionals.slice(1));
    const [what, verb = 'list', argument] = positionals;
    const collection = oneOf(what, 'what to manage', ['devices', 'people', 'tokens'] as const);
    const client = adminClient(values);
    if (verb === 'list') {
      const answer = await client.json<{ items: Record<string, unknown>[] }>('GET', `/v1/${collection}${collection === 'tokens' ? '' : '?limit=1000'}`);
      if (values.json) process.stdout.write(JSON.stringify(answer.items, null, 2) + '\n');
      else for (const item of answer.items) process.stdout.write(describe(collection, item) + '\n');
      return 0;
    }
    if (verb === 'revoke' && argument) {
      await client.json('POST', `/v1/${collection}/${encodeURIComponent(argument)}/revoke`);
      process.stdout.write(`revoked ${argument}\n`);
      return 0;
    }
    if (verb === 'create' && collection === 'tokens' && argument) {
      const role = oneOf(values.role, '--role', ['admin', 'auditor', 'enroller'] as const);
      const token = await client.json<{ id: string; secret: string }>('POST', '/v1/tokens', { name: argument, role });
      process.stderr.write(`created ${role} token ${token.id}; the secret is shown once:\n`);
      process.stdout.write(token.secret + '\n');
      return 0;
    }
    throw new UsageError(`unknown fleet verb "${verb}"${argument ? '' : ' (or a missing argument)'}`);
  },
};

function describe(collection: string, item: Record<string, unknown>): string {
  const revoked = item.revokedAt ? `  REVOKED ${item.revokedAt}` : '';
  if (collection === 'devices') return `${item.id}  ${item.hostname ?? '-'}  ${item.personId}  ${item.assurance}  seq ${item.headSeq}${revoked}`;
  if (collection === 'people') return `${item.id}  ${item.email ?? item.sub}  ${item.iss}${revoked}`;
  return `${item.id}  ${item.name}  ${item.role}${revoked}`;
}

export const exportCommand: Command = {
  usage: 'export (--bundle FILE | --format ocsf|jsonl [--out FILE]) [--since T] [--until T] [--person ID] [--device ID] [--session ID] [--server URL] [--token T]',
  summary: 'write an evidence bundle for `writ verify`, or stream events as OCSF or JSONL for a SIEM',
  options: {
    ...adminClientOptions,
    bundle: { type: 'string' },
    format: { type: 'string' },
    out: { type: 'string' },
    since: { type: 'string' },
    until: { type: 'string' },
    person: { type: 'string' },
    device: { type: 'string' },
    session: { type: 'string' },
  },
  async run({ values }) {
    if (values.bundle && values.format) throw new UsageError('--bundle writes an evidence bundle; --format ocsf|jsonl is the other kind of export');
    const format = values.bundle ? 'bundle' : oneOf(values.format, '--format', ['ocsf', 'jsonl'] as const);
    const query = new URLSearchParams({ format });
    for (const name of ['since', 'until', 'person', 'device', 'session'] as const) {
      const value = values[name];
      if (typeof value !== 'string') continue;
      if ((name === 'since' || name === 'until') && Number.isNaN(Date.parse(value))) throw new UsageError(`--${name} takes a date or RFC 3339 time, not "${value}"`);
      query.set(name, name === 'since' || name === 'until' ? new Date(value).toISOString() : value);
    }
    const response = await adminClient(values).request('GET', `/v1/export?${query}`);
    if (!response.ok || !response.body) {
      const text = await response.text();
      throw new Error(`${response.status} ${safeMessage(text)}`);
    }
    const path = (values.bundle ?? values.out) as string | undefined;
    const source = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream);
    await pipeline(source, path ? createWriteStream(path, { mode: 0o600 }) : process.stdout);
    if (path) process.stderr.write(`wrote ${path}${format === 'bundle' ? `; check it with: writ verify ${path}` : ''}\n`);
    return 0;
  },
};

function safeMessage(text: string): string {
  try {
    return (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? text;
  } catch {
    return text;
  }
}
