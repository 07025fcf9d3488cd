// A local fake of the Anthropic Messages API that plays a planned script of model turns, so that
// real Claude Code can be driven deterministically in tests. See test/support/README.md.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One tool call the scripted model makes; `id` defaults to `toolu_scripted_<n>`. */
export interface ScriptedToolUse {
  name: string;
  input: Record<string, unknown>;
  id?: string;
}

/** What the model answers in one turn: tool calls (several = parallel calls) or a final text. */
export type ScriptedReply = readonly ScriptedToolUse[] | string;

/** What a turn function sees: the request it answers and every tool result sent back so far. */
export interface TurnContext {
  request: MessagesRequest;
  toolResults: Map<string, ToolResult>;
}

/** One entry of the script: a fixed reply, or a reply computed from the request it answers. */
export type ScriptedTurn = ScriptedReply | ((context: TurnContext) => ScriptedReply);

/** The parts of a Messages API request body the harness reads; the rest is kept as sent. */
export interface MessagesRequest {
  model: string;
  stream?: boolean;
  // Claude Code 2.1.197 also puts `system` entries (agent listings) between the messages.
  messages: { role: 'user' | 'assistant' | 'system'; content: string | ContentBlock[] }[];
  tools?: { name: string }[];
  [key: string]: unknown;
}

/** A content block as Claude Code sends it back (text, tool_use, tool_result, …). */
export interface ContentBlock {
  type: string;
  [key: string]: unknown;
}

/** What Claude Code reported for one tool_use: its text content and whether it failed. */
export interface ToolResult {
  content: string;
  is_error: boolean;
}

/** One HTTP request the server received, whatever its path. */
export interface ReceivedRequest {
  method: string;
  url: string;
}

/** Text the model ends with once every scripted turn has been played. */
export const SCRIPT_EXHAUSTED_TEXT = 'Done: the script has no more turns.';

/** The running fake model; start it with `startScriptedModel`. */
export class ScriptedModel {
  /** Every request received, in order (HEAD /, count_tokens, …). */
  readonly received: ReceivedRequest[] = [];
  /** Bodies of the `POST /v1/messages` requests, one per model turn played. */
  readonly messagesRequests: MessagesRequest[] = [];
  /** The tool calls the model has made so far, with the ids it gave them. */
  readonly toolUses: Required<ScriptedToolUse>[] = [];

  #script: ScriptedTurn[];
  #server: Server;
  #generatedIds = 0;

  constructor(script: readonly ScriptedTurn[], server: Server) {
    this.#script = [...script];
    this.#server = server;
  }

  /** Base URL for `ANTHROPIC_BASE_URL`, e.g. `http://127.0.0.1:40123`. */
  get url(): string {
    const { port } = this.#server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  /** How many scripted turns have not been played yet. */
  get remainingTurns(): number {
    return this.#script.length;
  }

  /** Every tool_result Claude Code has sent back, keyed by tool_use_id. */
  toolResults(): Map<string, ToolResult> {
    const results = new Map<string, ToolResult>();
    // Each request repeats the whole conversation, so later requests simply overwrite earlier ones.
    for (const request of this.messagesRequests) {
      for (const message of request.messages) {
        if (message.role !== 'user' || typeof message.content === 'string') continue;
        for (const block of message.content) {
          if (block.type !== 'tool_result') continue;
          results.set(String(block.tool_use_id), {
            content: toolResultText(block.content),
            is_error: block.is_error === true,
          });
        }
      }
    }
    return results;
  }

  /** Stops listening and drops open connections. */
  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve, reject) => this.#server.close((error) => (error ? reject(error) : resolve())));
  }

  /** Routes one HTTP request; anything unknown gets an Anthropic-shaped 404. */
  async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = request.url ?? '/';
    this.received.push({ method: request.method ?? '', url });
    const path = url.split('?')[0];
    if (request.method === 'HEAD' || (request.method === 'GET' && path === '/')) {
      // Claude Code sends `HEAD /` first as a reachability check.
      response.writeHead(200).end();
      return;
    }
    if (request.method === 'POST' && path === '/v1/messages/count_tokens') {
      const body = JSON.parse(await readBody(request)) as MessagesRequest;
      sendJson(response, 200, { input_tokens: estimateTokens(JSON.stringify(body)) });
      return;
    }
    if (request.method === 'POST' && path === '/v1/messages') {
      const body = JSON.parse(await readBody(request)) as MessagesRequest;
      this.messagesRequests.push(body);
      const message = this.#nextMessage(body);
      if (body.stream) streamMessage(response, message);
      else sendJson(response, 200, message);
      return;
    }
    sendJson(response, 404, { type: 'error', error: { type: 'not_found_error', message: `no route for ${request.method} ${path}` } });
  }

  #nextMessage(request: MessagesRequest): AssistantMessage {
    const turn = this.#script.shift() ?? SCRIPT_EXHAUSTED_TEXT;
    const reply = typeof turn === 'function' ? turn({ request, toolResults: this.toolResults() }) : turn;
    const content: AssistantBlock[] =
      typeof reply === 'string'
        ? [{ type: 'text', text: reply }]
        : reply.map((toolUse) => {
            const call = { id: toolUse.id ?? `toolu_scripted_${++this.#generatedIds}`, name: toolUse.name, input: toolUse.input };
            this.toolUses.push(call);
            return { type: 'tool_use', ...call };
          });
    return {
      id: `msg_scripted_${this.messagesRequests.length}`,
      type: 'message',
      role: 'assistant',
      model: request.model,
      content,
      stop_reason: typeof reply === 'string' ? 'end_turn' : 'tool_use',
      stop_sequence: null,
      usage: { input_tokens: estimateTokens(JSON.stringify(request.messages)), output_tokens: estimateTokens(JSON.stringify(content)) },
    };
  }
}

/** Starts a scripted model on 127.0.0.1 with a free port. */
export async function startScriptedModel(script: readonly ScriptedTurn[]): Promise<ScriptedModel> {
  let model: ScriptedModel | undefined;
  const server = createServer((request, response) => {
    model!.handle(request, response).catch((error: unknown) => {
      // A broken script or a body that is not JSON must show up in the test, not hang Claude Code.
      if (!response.headersSent) sendJson(response, 500, { type: 'error', error: { type: 'api_error', message: String(error) } });
      else response.destroy();
    });
  });
  model = new ScriptedModel(script, server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return model;
}

type AssistantBlock = { type: 'text'; text: string } | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> };

interface AssistantMessage {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: AssistantBlock[];
  stop_reason: 'end_turn' | 'tool_use';
  stop_sequence: null;
  usage: { input_tokens: number; output_tokens: number };
}

/**
 * Writes `message` as the SSE event flow of the streaming Messages API: message_start (empty content),
 * then per block content_block_start / content_block_delta… / content_block_stop, then message_delta
 * (stop_reason, output usage) and message_stop. Each event is `event: <type>` + `data: <json>`.
 */
function streamMessage(response: ServerResponse, message: AssistantMessage): void {
  response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'request-id': `req_${message.id}` });
  const send = (data: { type: string; [key: string]: unknown }) => response.write(`event: ${data.type}\ndata: ${JSON.stringify(data)}\n\n`);
  send({
    type: 'message_start',
    message: { ...message, content: [], stop_reason: null, usage: { ...message.usage, output_tokens: 1, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 } },
  });
  send({ type: 'ping' });
  message.content.forEach((block, index) => {
    if (block.type === 'text') {
      send({ type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
      send({ type: 'content_block_delta', index, delta: { type: 'text_delta', text: block.text } });
    } else {
      send({ type: 'content_block_start', index, content_block: { ...block, input: {} } });
      // The real API streams the input as partial JSON strings that only parse once joined; two
      // pieces make sure the client really accumulates them.
      const json = JSON.stringify(block.input);
      const middle = Math.floor(json.length / 2);
      for (const partial_json of [json.slice(0, middle), json.slice(middle)]) {
        send({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json } });
      }
    }
    send({ type: 'content_block_stop', index });
  });
  send({ type: 'message_delta', delta: { stop_reason: message.stop_reason, stop_sequence: null }, usage: { output_tokens: message.usage.output_tokens } });
  send({ type: 'message_stop' });
  response.end();
}

/** A tool_result's content is a string or a list of blocks; tests compare the text. */
function toolResultText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((block: ContentBlock) => (block.type === 'text' ? String(block.text) : `[${block.type}]`)).join('\n');
}

/** Rough token count (4 characters a token); Claude Code only uses it for its cost display. */
function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
