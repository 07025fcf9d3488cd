// A run record as Markdown for a reviewer: each line ends with the signed events behind it.
import type { EventRef, RunRecord } from './record.js';

// A 5,000-call session must stay readable: long lists show their first entries and say how many more there are.
const MAX_ROWS = 200;

export function renderMarkdown(record: RunRecord): string {
  const out: string[] = [];
  const section = (title: string, rows: string[], empty: string) => {
    out.push('', `## ${title}`, '');
    if (rows.length === 0) out.push(`_${empty}_`);
    else out.push(...rows.slice(0, MAX_ROWS), ...(rows.length > MAX_ROWS ? [`- … and ${rows.length - MAX_ROWS} more (see --format json)`] : []));
  };
  out.push(`# Run ${record.session_id}`, '');
  out.push(`- Status: **${statusText(record)}**`);
  out.push(`- Events: ${record.events}${record.started_at ? `, from ${record.started_at} to ${record.last_event_at}` : ''}`);
  if (record.delegator) {
    const d = record.delegator;
    out.push(`- Delegated by: ${d.os_user} (assurance: ${d.assurance}) on device ${d.device_id} ${refs([d.ref])}`);
  }
  const agent = record.agent;
  out.push(`- Agent: ${agent.name ?? 'unknown'}${agent.versions.length ? ` ${agent.versions.join(', ')}` : ''}; permission mode: ${list(agent.permission_modes)}`);
  out.push(`- Policy in force: ${list(agent.policy_hashes.map((hash) => hash.slice(0, 12)))}${agent.bundles.length ? `; org bundle ${list(agent.bundles.map((hash) => hash.slice(0, 19)))}` : ''}`);
  if (record.late_events.length) out.push(`- Late events (spooled while the daemon was away): ${record.late_events.length} ${refs(record.late_events.map((event) => event.ref))}`);
  if (record.malformed_events.length) out.push(`- Malformed hook payloads: ${record.malformed_events.length} ${refs(record.malformed_events)}`);

  section('Task request', record.request.prompts.map((prompt) => `- ${quote(prompt.text)} ${refs([prompt.ref])}`), 'no prompt was recorded');
  if (record.contract) {
    const contract = record.contract;
    const outside = contract.checks.filter((check) => check.outcome !== 'inside');
    section(
      'Task contract',
      [
        `- Contract ${contract.hash}${contract.source ? ` from ${contract.source}` : ''} ${refs([contract.ref])}`,
        `- Calls checked against it: ${contract.checks.length}, inside: ${contract.checks.length - outside.length}, outside: ${outside.length}`,
        ...outside.map((check) => `- ${check.outcome}: ${check.tool ?? ''} (${check.clause}) ${refs([check.ref])}`),
        ...contract.stops.map((stop) => `- **stopped**: ${stop.condition}: ${stop.reason} ${refs([stop.ref])}`),
      ],
      '',
    );
  }
  section('Files inspected', record.files_inspected.map((file) => `- ${file.path} ${refs(file.refs)}`), 'none');
  section(
    'Files changed',
    record.files_changed.map((file) => `- ${file.path}: ${file.edits} change${file.edits === 1 ? '' : 's'}, +${file.lines_added} −${file.lines_removed}${file.stats_complete ? '' : ' (line counts incomplete: changed by a command)'} ${refs(file.refs)}`),
    'none',
  );
  section('Commits', record.commits.map((commit) => `- ${commit.id} on ${commit.branch} ${refs([commit.ref])}`), 'none');
  section('Tools', record.tools.map((tool) => `- ${tool.name}: ${tool.calls} call${tool.calls === 1 ? '' : 's'}`), 'no tool calls');
  if (record.mcp_servers.length) section('MCP servers', record.mcp_servers.map((server) => `- ${server.server}: ${server.calls} call${server.calls === 1 ? '' : 's'} (${server.tools.join(', ')})`), '');
  section('Commands', record.commands.map((command) => `- \`${oneLine(command.command)}\`: ${outcomeText(command.outcome, command.exit_code)} ${refs([command.ref, ...(command.result_ref ? [command.result_ref] : [])])}`), 'none');
  section('Denied', record.denials.map((denial) => `- ${denial.tool} \`${oneLine(denial.target)}\` [${denial.rules.join(', ')}]: ${oneLine(denial.reason)} ${refs([denial.ref])}`), 'nothing was denied');
  section(
    'Approvals',
    record.approvals.map((approval) => `- ${approval.via === 'reviewer' ? `approval ${approval.id ?? ''} for ${approval.reviewers ?? ''}` : `${approval.tool} at the agent's prompt`}: ${approval.outcome}${approval.by ? ` by ${approval.by}` : ''} ${refs([approval.ref, ...(approval.decided_ref ? [approval.decided_ref] : [])])}`),
    'none requested',
  );
  section('Tests run', record.tests.map((run) => `- \`${oneLine(run.command)}\` (${run.framework}): ${outcomeText(run.outcome, run.exit_code)} ${refs([run.ref, ...(run.result_ref ? [run.result_ref] : [])])}`), 'no test command was run');
  section('Test gaps', record.test_gaps.map((gap) => `- ${gap.path} changed with no test run after it ${refs([gap.changed_ref])}`), 'none');
  if (record.claims) {
    const claims = record.claims;
    section(
      "The agent's claims (its own words, not evidence)",
      [
        ...claims.assumptions.map((line) => `- Assumption (agent's claim): ${quote(line)}`),
        ...claims.risks.map((line) => `- Residual risk (agent's claim): ${quote(line)}`),
        `- Final message (agent's claim) ${refs([claims.ref])}:`,
        '',
        ...claims.final_message.split('\n').map((line) => `  > ${line}`),
      ],
      '',
    );
  }
  section('Rollback', record.rollback ? record.rollback.split('\n').map((line) => `- ${line}`) : [], 'no rollback note (the session has no task contract with one)');
  section('Review', record.reviews.map((review) => `- **${review.decision}** by ${review.reviewer.subject}${review.reviewer.email ? ` <${review.reviewer.email}>` : ''} (${review.reviewer.via}) at ${review.at}: ${quote(review.comment)} ${refs([review.ref])}`), 'not reviewed yet');
  return `${out.join('\n')}\n`;
}

function statusText(record: RunRecord): string {
  const stopped = record.contract?.stops.length ? ', stopped by its contract' : '';
  if (record.status === 'ended') return `ended${stopped}`;
  if (record.status === 'turn-ended') return `agent finished its turn; the session did not end${stopped}`;
  return `interrupted: no SessionEnd or Stop was recorded${stopped}`;
}

function outcomeText(outcome: string, exitCode: number | undefined): string {
  return exitCode === undefined ? outcome : `${outcome} (exit ${exitCode})`;
}

/** `[device:seq hash]` for each event, the hash shortened; --format json has the full hashes. */
export function refs(events: readonly EventRef[]): string {
  const shown = events.slice(0, 5).map((ref) => `${ref.device.slice(0, 12)}:${ref.seq} ${ref.hash.slice(0, 12)}`);
  return `[${shown.join('; ')}${events.length > 5 ? `; +${events.length - 5}` : ''}]`;
}

function list(values: string[]): string {
  return values.length ? values.join(', ') : 'unknown';
}

function quote(text: string): string {
  return `“${oneLine(text)}”`;
}

function oneLine(text: string): string {
  const line = text.replace(/\s+/g, ' ').replace(/`/g, "'");
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}
