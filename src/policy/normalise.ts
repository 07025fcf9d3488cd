// One agent tool call → the actions it implies. Claude Code's tool names are the vocabulary; other agents'
// adapters translate their calls into these before deciding.
import type { Action, CallEnvironment, FileAction } from './actions.js';
import { mcpCallActions } from './mcp.js';
import { pathVariants, resolvePath } from './paths.js';
import { hostAction } from './shell/network.js';
import { analyseShell } from './shell/analyse.js';
import type { ShellParser } from './shell/parse.js';

export interface ToolCall {
  tool: string;
  input: unknown;
}

/** The call is not what the tool's contract says: the caller must deny, not guess. */
export class MalformedCall extends Error {}

const EDIT_TOOLS = new Set(['Edit', 'MultiEdit', 'NotebookEdit']);

export function normaliseToolCall(call: ToolCall, env: CallEnvironment, parser: ShellParser): Action[] {
  const input = call.input;
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new MalformedCall(`tool_input of ${call.tool} is not an object`);
  const fields = input as Record<string, unknown>;
  const via = call.tool;
  const file = (kind: FileAction['kind'], field: string, recursive = false): Action[] => {
    const path = requireString(fields, field, call.tool);
    return pathVariants(resolvePath(path, env.cwd, env.home), env).map((variant) => ({ kind, path: variant, recursive, via }));
  };

  if (call.tool === 'Bash') {
    // A path may be a symlink that already exists: the policy sees where it really leads too.
    return analyseShell(parser, requireString(fields, 'command', call.tool), env).flatMap((action) =>
      action.kind === 'read' || action.kind === 'write' || action.kind === 'delete' ? pathVariants(action.path, env).map((path) => ({ ...action, path })) : [action],
    );
  }
  if (call.tool === 'Read') return file('read', 'file_path');
  if (call.tool === 'Write') return file('write', 'file_path');
  // An edit shows the model the surrounding text, so it reads as well as writes.
  if (EDIT_TOOLS.has(call.tool)) {
    const field = call.tool === 'NotebookEdit' ? 'notebook_path' : 'file_path';
    return [...file('read', field), ...file('write', field)];
  }
  if (call.tool === 'Grep') {
    const path = optionalString(fields, 'path', call.tool) ?? env.cwd;
    return pathVariants(resolvePath(path, env.cwd, env.home), env).map((variant) => ({ kind: 'read', path: variant, recursive: true, via }));
  }
  if (call.tool === 'Glob' || call.tool === 'LS') return [];
  if (call.tool === 'WebFetch') {
    const url = requireString(fields, 'url', call.tool);
    return [{ ...hostAction('fetch', url, via, 443, env), method: 'GET' }];
  }
  if (call.tool === 'WebSearch') return [{ kind: 'search', query: requireString(fields, 'query', call.tool), via }];
  if (call.tool === 'Task' || call.tool === 'Agent') {
    return [{ kind: 'delegate', subagent: optionalString(fields, 'subagent_type', call.tool) ?? 'general-purpose', description: optionalString(fields, 'description', call.tool) ?? '', via }];
  }
  return mcpCallActions(call.tool, input, env) ?? [];
}

function requireString(fields: Record<string, unknown>, name: string, tool: string): string {
  const value = fields[name];
  if (typeof value !== 'string') throw new MalformedCall(`${tool} call without a string ${name}`);
  if (value.includes('\0')) throw new MalformedCall(`${tool} ${name} contains a NUL byte`);
  return value;
}

function optionalString(fields: Record<string, unknown>, name: string, tool: string): string | undefined {
  return fields[name] === undefined || fields[name] === null ? undefined : requireString(fields, name, tool);
}
