// Reviewers' side of approvals: list what waits, approve or deny one. The reviewer is whoever the token names
// (an admin token's name, or the person of an OIDC ID token given as --token / WRIT_TOKEN).
import { APPROVAL_ID } from '../../core/approval.js';
import { adminClient, adminClientOptions } from '../admin-client.js';
import { UsageError, type Command } from '../command.js';
import { oneOf } from '../options.js';

interface ApprovalJson {
  id: string;
  status: string;
  device_id: string;
  tool: string;
  summary: { tool_input?: Record<string, unknown> };
  reviewers: string;
  reason: string;
  expires_at: string;
  decided_by?: string;
  comment?: string;
}

export const approvalsCommand: Command = {
  usage: 'approvals list [--status pending|approved|denied|expired] [--json] | approvals approve|deny ID [--comment TEXT] [--server URL] [--token T]',
  summary: 'list the tool calls waiting for a reviewer, and approve or deny one (as the person the token names)',
  options: { ...adminClientOptions, json: { type: 'boolean' }, status: { type: 'string' }, comment: { type: 'string' } },
  async run({ values, positionals }) {
    const [verb, id, ...extra] = positionals;
    if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
    if (verb === 'list') {
      if (id !== undefined) throw new UsageError('list takes no ID');
      const query = values.status === undefined ? '' : `?status=${oneOf(values.status, '--status', ['pending', 'approved', 'denied', 'expired'] as const)}`;
      const answer = await adminClient(values).json<{ items: ApprovalJson[] }>('GET', `/v1/approvals${query}`);
      if (values.json) process.stdout.write(JSON.stringify(answer.items, null, 2) + '\n');
      else if (answer.items.length === 0) process.stderr.write('no approvals\n');
      else for (const approval of answer.items) process.stdout.write(describe(approval) + '\n');
      return 0;
    }
    if (verb === 'approve' || verb === 'deny') {
      if (!id || !APPROVAL_ID.test(id)) throw new UsageError(`${verb} takes an approval id (apr_…)${id ? `, not "${id}"` : ''}`);
      if (values.status !== undefined || values.json) throw new UsageError(`--status and --json go with list, not ${verb}`);
      const body = typeof values.comment === 'string' ? { comment: values.comment } : {};
      const decided = await adminClient(values).json<ApprovalJson>('POST', `/v1/approvals/${id}/${verb}`, body);
      process.stdout.write(`${decided.status} ${decided.id} as ${decided.decided_by}; the agent's retry of the call is ${decided.status === 'approved' ? 'allowed' : 'denied'} until ${decided.expires_at}\n`);
      return 0;
    }
    throw new UsageError(verb === undefined ? 'say what to do: list, approve ID or deny ID' : `unknown approvals verb "${verb}"`);
  },
};

function describe(approval: ApprovalJson): string {
  const input = approval.summary.tool_input ?? {};
  const call = ['command', 'file_path', 'url', 'path'].map((key) => input[key]).find((value) => typeof value === 'string') ?? JSON.stringify(input);
  const decided = approval.decided_by ? ` by ${approval.decided_by}${approval.comment ? ` (${approval.comment})` : ''}` : ` until ${approval.expires_at}`;
  return `${approval.id}  ${approval.status}${decided}  ${approval.reviewers}  ${approval.device_id}  ${approval.tool}: ${call}`;
}
