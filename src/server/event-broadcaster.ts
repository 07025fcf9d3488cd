// Newly logged events for the dashboard's live page: ingest publishes each committed batch here and every open
// stream receives the events its filter keeps. With several replicas on one PostgreSQL database, a replica also
// polls the store for events logged through the others (`startPolling`); an index already sent is not sent twice.
import type { StoredEvent, Store } from '../store/store.js';

export interface StreamFilter {
  personId?: string;
  deviceId?: string;
  agentName?: string;
  sessionId?: string;
  decision?: string;
  rule?: string;
}

type Listener = (events: StoredEvent[]) => void;

/** How many recent log indexes are remembered to drop an event that both ingest and polling publish. */
const RECENT_INDEXES = 10_000;
const POLL_PAGE = 1000;

export function matchesStreamFilter(event: StoredEvent, filter: StreamFilter): boolean {
  return (
    (filter.personId === undefined || event.personId === filter.personId) &&
    (filter.deviceId === undefined || event.deviceId === filter.deviceId) &&
    (filter.agentName === undefined || event.agentName === filter.agentName) &&
    (filter.sessionId === undefined || event.sessionId === filter.sessionId) &&
    (filter.decision === undefined || event.decision === filter.decision) &&
    (filter.rule === undefined || event.rules.includes(filter.rule))
  );
}

export class EventBroadcaster {
  readonly #listeners = new Set<Listener>();
  readonly #recent = new Set<number>();
  #timer?: NodeJS.Timeout;
  #polledTo = -1;

  get listeners(): number {
    return this.#listeners.size;
  }

  /** Calls `listener` with each batch of new events until the returned function is called. */
  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Sends newly logged events to every subscriber; a subscriber that throws is dropped, the others still receive. */
  publish(events: StoredEvent[]): void {
    const fresh = events.filter((event) => !this.#recent.has(event.index));
    if (fresh.length === 0) return;
    for (const event of fresh) this.#remember(event.index);
    for (const listener of [...this.#listeners]) {
      try {
        listener(fresh);
      } catch {
        this.#listeners.delete(listener);
      }
    }
  }

  /** Polls the store for events logged through other replicas, from the current end of the log onwards. */
  async startPolling(store: Store, intervalMs: number, onError: (error: Error) => void): Promise<void> {
    this.#polledTo = (await store.logSize()) - 1;
    const poll = async () => {
      for (;;) {
        const page = await store.events({ afterIndex: this.#polledTo, limit: POLL_PAGE, order: 'asc' });
        if (page.length === 0) return;
        this.#polledTo = page[page.length - 1].index;
        // Only while someone listens is a page worth sending; the position advances either way.
        if (this.#listeners.size > 0) this.publish(page);
        if (page.length < POLL_PAGE) return;
      }
    };
    this.#timer = setInterval(() => void poll().catch(onError), intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#listeners.clear();
  }

  #remember(index: number): void {
    this.#recent.add(index);
    if (this.#recent.size > RECENT_INDEXES) this.#recent.delete(this.#recent.values().next().value!);
  }
}
