// Kill switches: an organisation disables a tool or an MCP server fleet-wide, and every daemon denies
// matching calls before its policy is asked. Targets come from the org-signed control state.

/**
 * The first kill target that matches a tool call, if any. `tool:<name>` matches the tool name exactly and
 * `mcp:<server>` every tool `mcp__<server>__*`; a `*` in a target (the server accepts it) matches any run of
 * characters, so `mcp:*` disables every MCP server.
 */
export function matchKill(kills: readonly string[], toolName: string): string | undefined {
  for (const target of kills) {
    if (target.startsWith('tool:') && globMatches(target.slice('tool:'.length), toolName)) return target;
    if (target.startsWith('mcp:') && toolName.startsWith('mcp__')) {
      const server = target.slice('mcp:'.length);
      if (server === '') continue;
      if (!server.includes('*') && toolName.startsWith(`mcp__${server}__`)) return target;
      const named = /^mcp__(.+?)__/.exec(toolName)?.[1];
      if (server.includes('*') && named !== undefined && globMatches(server, named)) return target;
    }
  }
  return undefined;
}

function globMatches(pattern: string, value: string): boolean {
  if (!pattern.includes('*')) return pattern === value;
  const source = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*');
  return new RegExp(`^${source}$`, 's').test(value);
}

export const KILL_SWITCH_RULE = 'writ.kill-switch';

/** The reason shown to the person whose agent was stopped. */
export function killReason(target: string, toolName: string): string {
  const what = target.startsWith('mcp:') ? `the MCP server \`${target.slice('mcp:'.length)}\`` : `the tool \`${target.slice('tool:'.length)}\``;
  return (
    `Writ denied this call to \`${toolName}\`: your organisation has disabled ${what} fleet-wide (kill switch \`${target}\`). ` +
    'Do not retry it or work around it; ask your Writ administrator if you need it.'
  );
}

/** Whether two kill lists name the same targets, whatever their order. */
export function sameKills(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const set = new Set(a);
  return b.every((target) => set.has(target));
}
