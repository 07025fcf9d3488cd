// Receives the org's control state (policy bundle in force, kill switches) from `writ server` over a signed
// server-sent event stream, checks every message against the org key pinned at enrolment, and hands on only
// what verifies and is newer than what the daemon already enforces. The last state and bundle are kept in
// $WRIT_HOME so a restarted daemon enforces them before (or without) reaching the server.
import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseEnvelope, type Envelope } from '../core/dsse.js';
import { openControlState, openPolicyBundle, type PolicyFile } from '../core/policy-bundle.js';
import { writePrivateFileAtomic } from '../home/writ-home.js';
import type { ServerClient } from './server-client.js';
import type { ServiceState } from './uploader.js';

export const CONTROL_STREAM_PATH = '/v1/control/stream';

/** A verified org policy bundle. */
export interface VerifiedBundle {
  hash: string;
  files: PolicyFile[];
  envelope: Envelope;
}

/** One verified control state, newer than the last. */
export interface ControlUpdate {
  version: number;
  kills: string[];
  /** The signed state itself, to persist. */
  state: Envelope;
  /** Hash of the bundle the state puts in force; undefined when the org has none (local policy rules). */
  bundleHash?: string;
  /** That bundle, when it came with the state and verified. */
  bundle?: VerifiedBundle;
  /** Why the named bundle could not be accepted (missing, not signed by the org, hash mismatch). */
  bundleProblem?: string;
}

export interface ControlClientOptions {
  client: ServerClient;
  orgKey: KeyObject;
  /** The version already enforced (from the persisted state); only newer ones are handed on. */
  version: number;
  onControl(update: ControlUpdate): void;
  log(line: string): void;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Reconnect when nothing (not even a keepalive, every 15 s) arrived for this long. */
  idleTimeoutMs?: number;
}

export interface ControlStatus {
  name: 'control';
  state: ServiceState;
  message: string;
  version: number;
  connected: boolean;
  last_error?: string;
}

export class ControlClient {
  readonly #options: Required<ControlClientOptions>;
  #version: number;
  #connected = false;
  #stopped = false;
  #lastError?: string;
  #connection?: AbortController;
  #wake?: () => void;
  #loop?: Promise<void>;

  constructor(options: ControlClientOptions) {
    this.#options = { minBackoffMs: 1000, maxBackoffMs: 60_000, idleTimeoutMs: 45_000, ...options };
    this.#version = options.version;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#connection?.abort();
    this.#wake?.();
    await this.#loop;
  }

  version(): number {
    return this.#version;
  }

  status(): ControlStatus {
    const state: ServiceState = this.#connected ? 'ok' : this.#loop ? 'warn' : 'not_ready';
    const message = this.#connected ? `connected, control version ${this.#version}` : `not connected${this.#lastError ? `: ${this.#lastError}` : ''}; enforcing control version ${this.#version}`;
    return { name: 'control', state, message, version: this.#version, connected: this.#connected, ...(this.#lastError && { last_error: this.#lastError }) };
  }

  /** Verifies one message (untrusted until then) and hands it on if it is newer; returns whether it was. */
  accept(message: unknown): boolean {
    const { state: stateValue, policy_bundle: bundleValue } = (message ?? {}) as { state?: unknown; policy_bundle?: unknown };
    const stateEnvelope = toEnvelope(stateValue, 'control state');
    const state = openControlState(stateEnvelope, this.#options.orgKey);
    if (state.version <= this.#version) return false;
    const update: ControlUpdate = { version: state.version, kills: [...state.kills], state: stateEnvelope };
    if (state.policy_bundle !== undefined) {
      update.bundleHash = state.policy_bundle;
      try {
        if (bundleValue === undefined) throw new Error('the message does not carry it');
        const envelope = toEnvelope(bundleValue, 'policy bundle');
        const opened = openPolicyBundle(envelope, this.#options.orgKey);
        if (opened.hash !== state.policy_bundle) throw new Error(`the bundle sent has hash ${opened.hash}`);
        update.bundle = { hash: opened.hash, files: opened.bundle.files, envelope };
      } catch (error) {
        update.bundleProblem = `policy bundle ${state.policy_bundle} refused: ${(error as Error).message}`;
      }
    }
    this.#options.onControl(update);
    // Only once it is applied: a state whose application failed is taken again on the next connection.
    this.#version = state.version;
    return true;
  }

  async #run(): Promise<void> {
    let failures = 0;
    while (!this.#stopped) {
      const connection = new AbortController();
      this.#connection = connection;
      let received = false;
      try {
        const response = await this.#options.client.stream(CONTROL_STREAM_PATH, connection.signal);
        this.#connected = true;
        this.#lastError = undefined;
        await this.#read(response, connection, () => {
          received = true;
          failures = 0;
        });
        if (!this.#stopped) this.#lastError = 'the server closed the stream';
      } catch (error) {
        if (this.#stopped) break;
        this.#lastError = (error as Error).message;
      }
      this.#connected = false;
      if (this.#stopped) break;
      if (!received) failures += 1;
      const backoff = Math.min(this.#options.maxBackoffMs, this.#options.minBackoffMs * 2 ** Math.max(0, failures - 1));
      if (failures === 1 || failures % 10 === 0) this.#options.log(`control: ${this.#lastError}; reconnecting`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, backoff * (0.75 + Math.random() * 0.5));
        this.#wake = () => (clearTimeout(timer), resolve());
      });
      this.#wake = undefined;
    }
  }

  // Server-sent events (WHATWG HTML §9.2): `field: value` lines, a blank line ends an event, `:` is a comment.
  async #read(response: Response, connection: AbortController, onMessage: () => void): Promise<void> {
    if (!response.body) throw new Error('the control stream has no body');
    const decoder = new TextDecoder();
    let buffer = '';
    let event = '';
    let data: string[] = [];
    let idle = setTimeout(() => connection.abort(), this.#options.idleTimeoutMs);
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        clearTimeout(idle);
        idle = setTimeout(() => connection.abort(), this.#options.idleTimeoutMs);
        buffer += decoder.decode(chunk, { stream: true });
        let newline: number;
        while ((newline = buffer.search(/\r\n|\r|\n/)) >= 0) {
          const line = buffer.slice(0, newline);
          buffer = buffer.slice(newline + (buffer.startsWith('\r\n', newline) ? 2 : 1));
          if (line === '') {
            if (data.length > 0 && (event === '' || event === 'control')) this.#dispatch(data.join('\n'), onMessage);
            event = '';
            data = [];
            continue;
          }
          if (line.startsWith(':')) continue;
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'event') event = value;
          else if (field === 'data') data.push(value);
        }
        if (buffer.length > 32 * 1024 * 1024) throw new Error('a control message is larger than 32 MiB');
      }
    } catch (error) {
      if (this.#stopped) return;
      if (connection.signal.aborted) throw new Error(`no data on the control stream for ${this.#options.idleTimeoutMs} ms`);
      throw error;
    } finally {
      clearTimeout(idle);
    }
  }

  #dispatch(data: string, onMessage: () => void): void {
    onMessage();
    try {
      this.accept(JSON.parse(data));
    } catch (error) {
      // Keep enforcing what we had: a message that does not verify changes nothing.
      this.#options.log(`control: message ignored: ${(error as Error).message}`);
    }
  }
}

/** The control state and bundle kept on disk, verified again when read. */
export interface PersistedControl {
  version: number;
  kills: string[];
  bundle?: VerifiedBundle;
}

/**
 * Reads the persisted control state and policy bundle; either is ignored (and the reason logged) when missing
 * or when it no longer verifies against the org key.
 */
export function readPersistedControl(paths: { controlState: string; policyBundle: string }, orgKey: KeyObject, log: (line: string) => void): PersistedControl {
  const persisted: PersistedControl = { version: 0, kills: [] };
  const stateText = readOptional(paths.controlState, log);
  if (stateText !== undefined) {
    try {
      const state = openControlState(parseEnvelope(stateText), orgKey);
      persisted.version = state.version;
      persisted.kills = [...state.kills];
    } catch (error) {
      log(`ignoring ${paths.controlState}: ${(error as Error).message}`);
    }
  }
  const bundleText = readOptional(paths.policyBundle, log);
  if (bundleText !== undefined) {
    try {
      const envelope = parseEnvelope(bundleText);
      const opened = openPolicyBundle(envelope, orgKey);
      persisted.bundle = { hash: opened.hash, files: opened.bundle.files, envelope };
    } catch (error) {
      log(`ignoring ${paths.policyBundle}: ${(error as Error).message}`);
    }
  }
  return persisted;
}

/** Keeps a signed envelope (control state or policy bundle) on disk, atomically and owner-only. */
export function writeEnvelopeFile(path: string, envelope: Envelope): void {
  writePrivateFileAtomic(path, JSON.stringify(envelope) + '\n');
}

function readOptional(path: string, log: (line: string) => void): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') log(`cannot read ${path}: ${(error as Error).message}`);
    return undefined;
  }
}

function toEnvelope(value: unknown, what: string): Envelope {
  try {
    return parseEnvelope(JSON.stringify(value ?? null));
  } catch {
    throw new Error(`the ${what} is not a DSSE envelope`);
  }
}
