// Pushes the control state (policy bundle in force, kill switches) to every connected daemon. Changes made
// through another replica reach this one by polling the store's control version, so replicas need no bus.
import { parseEnvelope, type Envelope } from '../core/dsse.js';
import { signControlState } from '../core/policy-bundle.js';
import type { Store } from '../store/store.js';
import type { Org } from './org.js';

/** What a daemon receives: the signed state, and the signed policy bundle it names. */
export interface ControlMessage {
  version: number;
  state: Envelope;
  policy_bundle?: Envelope;
}

type Subscriber = (message: ControlMessage) => void;

export class ControlHub {
  #current?: ControlMessage;
  #loading?: Promise<ControlMessage>;
  #subscribers = new Set<Subscriber>();
  #timer?: NodeJS.Timeout;

  constructor(
    private readonly store: Store,
    private readonly org: Org,
    private readonly now: () => Date,
  ) {}

  get connections(): number {
    return this.#subscribers.size;
  }

  async current(): Promise<ControlMessage> {
    return this.#current ?? this.refresh();
  }

  /** Reloads from the store if the version moved, and pushes to every subscriber when it did. */
  async refresh(): Promise<ControlMessage> {
    this.#loading ??= this.#load().finally(() => (this.#loading = undefined));
    const message = await this.#loading;
    if (message.version !== this.#current?.version) {
      this.#current = message;
      for (const subscriber of this.#subscribers) subscriber(message);
    }
    return message;
  }

  subscribe(subscriber: Subscriber): () => void {
    this.#subscribers.add(subscriber);
    return () => this.#subscribers.delete(subscriber);
  }

  /** Resolves with the first message newer than `version`, or the current one after `waitMs`. */
  async waitForChange(version: number, waitMs: number): Promise<ControlMessage> {
    const current = await this.current();
    if (current.version > version) return current;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        unsubscribe();
        resolve(this.#current ?? current);
      }, waitMs);
      const unsubscribe = this.subscribe((message) => {
        clearTimeout(timer);
        unsubscribe();
        resolve(message);
      });
    });
  }

  start(pollMs: number, onError: (error: Error) => void): void {
    this.#timer = setInterval(() => {
      this.store
        .controlVersion()
        .then((version) => (version !== this.#current?.version ? this.refresh() : undefined))
        .catch(onError);
    }, pollMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#subscribers.clear();
  }

  async #load(): Promise<ControlMessage> {
    const version = await this.store.controlVersion();
    const [bundle, kills] = await Promise.all([this.store.activePolicyBundle(), this.store.activeKills()]);
    const state = signControlState(
      {
        v: 1,
        version,
        ...(bundle && { policy_bundle: bundle.hash }),
        kills: kills.map((kill) => kill.target).sort(),
        issued_at: this.now().toISOString(),
      },
      this.org.signer,
    );
    return { version, state, ...(bundle && { policy_bundle: parseEnvelope(bundle.envelope) }) };
  }
}
