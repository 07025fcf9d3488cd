// The confirm page behind a webhook's Approve/Deny links. It shows the redacted call and how to decide; it never
// decides itself, so a link unfurler or a mail scanner that follows the link changes nothing.
import type { Approval } from '../store/store.js';
import { effectiveStatus } from './approvals.js';
import { describeCall } from './approval-webhook.js';

export function approvalPage(approval: Approval | undefined, id: string, asked: 'approve' | 'deny', now: Date): string {
  if (!approval) return html('No such approval', `<p>There is no approval <code>${escape(id)}</code> on this server.</p>`);
  const status = effectiveStatus(approval, now);
  const facts = [
    ['Tool', approval.tool],
    ['Call', describeCall(approval)],
    ['Why', approval.reason],
    ['Rules', approval.rules.join(', ')],
    ['Reviewers', approval.reviewers],
    ['Device', approval.deviceId],
    ['Requested', approval.createdAt],
    ['Expires', approval.expiresAt],
    ['Status', status + (approval.decidedBy ? ` by ${approval.decidedBy} at ${approval.decidedAt}` : '')],
  ];
  const table = `<table>${facts.map(([name, value]) => `<tr><th>${name}</th><td><code>${escape(value)}</code></td></tr>`).join('')}</table>`;
  const next =
    status === 'pending'
      ? `<p id="how-to-decide">To ${asked} it, sign in as a member of <code>${escape(approval.reviewers)}</code> (or as an admin) and run:</p>
<pre>writ approvals ${asked} ${escape(approval.id)} [--comment TEXT]</pre>
<p>This page does not ${asked} anything by itself: opening a link must never decide an approval.</p>`
      : `<p>This approval can no longer be decided: it is ${escape(status)}.</p>`;
  return html(`Approval ${approval.id}`, table + next);
}

function html(title: string, body: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><meta name="robots" content="noindex"><title>${escape(title)}</title>
<style>body{font:15px system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem}th{text-align:left;padding-right:1rem;vertical-align:top}code,pre{white-space:pre-wrap;word-break:break-all}</style>
</head><body><h1>${escape(title)}</h1>${body}</body></html>`;
}

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
