// Tells people that an approval waits: a Slack-compatible incoming-webhook message (`text` for notifications and
// clients without blocks, Block Kit `blocks` with Approve/Deny link buttons). The links open a confirm page: a GET
// never decides, because link unfurlers and mail scanners follow GETs.
import type { Approval } from '../store/store.js';

const WEBHOOK_TIMEOUT_MS = 5000;
const MAX_CALL_TEXT = 500;

/** The page behind an approval's links, with the decision the button asked for. */
export function approvalLink(baseUrl: string, id: string, decision?: 'approve' | 'deny'): string {
  return `${baseUrl.replace(/\/+$/, '')}/approvals/${encodeURIComponent(id)}${decision ? `?decision=${decision}` : ''}`;
}

/** The redacted call in a line or a few: the command, path or URL when it has one, else its summary as JSON. */
export function describeCall(approval: Pick<Approval, 'tool' | 'summary'>): string {
  const input = approval.summary.tool_input as Record<string, unknown> | undefined;
  const main = ['command', 'file_path', 'url', 'path', 'pattern', 'query'].map((key) => input?.[key]).find((value) => typeof value === 'string');
  const text = typeof main === 'string' ? main : JSON.stringify(input ?? {});
  return text.length > MAX_CALL_TEXT ? `${text.slice(0, MAX_CALL_TEXT)}…` : text;
}

/** The incoming-webhook body for a new approval. */
export function approvalWebhookPayload(approval: Approval, baseUrl: string): { text: string; blocks: unknown[] } {
  const approve = approvalLink(baseUrl, approval.id, 'approve');
  const deny = approvalLink(baseUrl, approval.id, 'deny');
  const call = describeCall(approval);
  const text =
    `Writ: ${approval.tool} call on ${approval.deviceId} needs approval from ${approval.reviewers} (${approval.id}): ${call}. ` +
    `Approve: ${approve} Deny: ${deny}`;
  return {
    text,
    blocks: [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text:
            `*Approval needed* from \`${mrkdwn(approval.reviewers)}\`: ${mrkdwn(approval.tool)} on \`${approval.deviceId}\`\n` +
            `\`\`\`${mrkdwn(call.replace(/```/g, "'''"))}\`\`\`\n` +
            `*Why:* ${mrkdwn(approval.reason)}\n*Expires:* ${approval.expiresAt}`,
        },
      },
      {
        type: 'actions',
        block_id: `writ_approval_${approval.id}`,
        elements: [
          { type: 'button', action_id: 'approve', style: 'primary', text: { type: 'plain_text', text: 'Approve' }, url: approve },
          { type: 'button', action_id: 'deny', style: 'danger', text: { type: 'plain_text', text: 'Deny' }, url: deny },
        ],
      },
      { type: 'context', elements: [{ type: 'mrkdwn', text: `Or from a terminal: \`writ approvals approve ${approval.id}\` (or \`deny\`)` }] },
    ],
  };
}

/** Posts the message; failures are reported, never thrown (the approval stands without it). */
export async function postApprovalWebhook(url: string, approval: Approval, baseUrl: string, log: (line: string) => void): Promise<void> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(approvalWebhookPayload(approval, baseUrl)),
      signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
    });
    await response.arrayBuffer();
    if (!response.ok) log(`approval webhook for ${approval.id}: ${response.status} from the receiver`);
  } catch (error) {
    log(`approval webhook for ${approval.id}: ${(error as Error).message}`);
  }
}

// Slack mrkdwn: &, < and > are control characters (api.slack.com/reference/surfaces/formatting#escaping).
function mrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
