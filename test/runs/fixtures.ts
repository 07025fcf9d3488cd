// Journal events of one session, shaped as the daemon records them: hook data through the real eventData,
// decisions with the normaliser's actions, each body hashed as the journal hashes it.
import { eventHash, type EventBody } from '../../src/core/event.js';
import { eventData, type HookPayload } from '../../src/agents/claude-code/hook-contract.js';
import type { RunEvent } from '../../src/runs/index.js';

export const SESSION = 'session-fixture';
export const DEVICE = 'dev-0123456789abcdef';

export class SessionFixture {
  readonly events: RunEvent[] = [];
  #seq = 0;
  #prev = '';
  #clock = Date.parse('2026-11-22T01:00:00.000Z');

  constructor(readonly session = SESSION) {}

  /** Appends one event, chained to the previous one as the journal chains it. */
  add(kind: string, data: Record<string, unknown>, extra: Partial<EventBody> = {}): RunEvent {
    this.#seq++;
    const body: EventBody = {
      v: 1,
      seq: this.#seq,
      prev: this.#prev,
      time: new Date((this.#clock += 1000)).toISOString(),
      device: { id: DEVICE, key_id: 'key-1' },
      actor: { os_user: 'alice', assurance: 'local-os-user' },
      agent: { name: kind.startsWith('hook.') ? 'claude-code' : 'writ', ...(kind.startsWith('hook.') && { version: '2.1.197' }) },
      kind,
      session_id: this.session,
      data,
      ...extra,
    };
    const event = { body, hash: eventHash(body) };
    this.#prev = event.hash;
    this.events.push(event);
    return event;
  }

  hook(payload: Omit<HookPayload, 'session_id'>, decided: Record<string, unknown> = {}, spooledAt?: string): RunEvent {
    const full = { session_id: this.session, cwd: '/work/repo', permission_mode: 'acceptEdits', ...payload } as HookPayload;
    const data = { ...eventData(full), ...decided, ...(spooledAt && { spooled_at: spooledAt }) };
    return this.add(`hook.${payload.hook_event_name}`, data, { ...(full.tool_use_id && { tool_use_id: full.tool_use_id }) });
  }

  prompt(text: string): RunEvent {
    return this.hook({ hook_event_name: 'UserPromptSubmit', prompt: text });
  }

  /** A PreToolUse with its decision, then (unless denied or cut off) its PostToolUse or PostToolUseFailure. */
  call(
    id: string,
    tool: string,
    input: Record<string, unknown>,
    actions: Record<string, unknown>[],
    options: { decision?: 'allow' | 'deny' | 'ask'; rules?: string[]; reason?: string; response?: unknown; error?: string; noResult?: boolean; contract?: Record<string, unknown> } = {},
  ): void {
    const decision = options.decision ?? 'allow';
    this.hook(
      { hook_event_name: 'PreToolUse', tool_name: tool, tool_input: input, tool_use_id: id },
      {
        actions,
        decision: {
          decision,
          answer: decision === 'allow' ? 'silent' : decision,
          rules: options.rules ?? [],
          reason: options.reason ?? '',
          policy_hash: 'policyhash0123456789',
          ...(options.contract && { contract: options.contract }),
        },
      },
    );
    if (decision === 'deny' || options.noResult) return;
    if (options.error !== undefined) this.hook({ hook_event_name: 'PostToolUseFailure', tool_name: tool, tool_input: input, tool_use_id: id, error: options.error });
    else this.hook({ hook_event_name: 'PostToolUse', tool_name: tool, tool_input: input, tool_use_id: id, tool_response: options.response ?? { success: true } });
  }

  read(id: string, path: string): void {
    this.call(id, 'Read', { file_path: path }, [{ kind: 'read', path, recursive: false, via: 'Read' }]);
  }

  edit(id: string, path: string, oldString: string, newString: string): void {
    this.call(id, 'Edit', { file_path: path, old_string: oldString, new_string: newString }, [{ kind: 'write', path, recursive: false, via: 'Edit' }]);
  }

  bash(id: string, command: string, programs: { program: string; args: string[] }[], options: Parameters<SessionFixture['call']>[4] = {}): void {
    const actions = programs.map(({ program, args }) => ({ kind: 'exec', program, args, line: [program, ...args].join(' '), remoteCode: false, opaque: '', via: 'Bash' }));
    this.call(id, 'Bash', { command }, actions, { response: { stdout: '', stderr: '', interrupted: false }, ...options });
  }

  end(): void {
    this.hook({ hook_event_name: 'Stop', stop_hook_active: false, last_assistant_message: 'Done. I assumed the API is stable.\nRisk: the migration is not tested.' });
    this.hook({ hook_event_name: 'SessionEnd', reason: 'other' });
  }
}
