// Per-session flags (what a session already touched) for the daemon: kept in memory, stored in the
// journal's meta table so a restarted daemon does not forget a tainted session, and each change recorded as
// a signed `session.touched` event so the evidence shows when and by which call a session became tainted.
import { observe, TOUCHED_FLAGS, UNTOUCHED, type Touched, type TouchedFlag } from '../policy/index.js';
import type { Journal } from './journal.js';

const META_PREFIX = 'session.touched:';
const MAX_SESSIONS_IN_MEMORY = 1024;

export class SessionTracker {
  readonly #sessions = new Map<string, Touched>();

  constructor(
    private readonly journal: Journal,
    private readonly recordChange: (session: string, touched: Touched, added: TouchedFlag[], toolUseId?: string) => void,
  ) {}

  touched(session: string): Touched {
    if (session === '') return UNTOUCHED;
    const known = this.#sessions.get(session);
    if (known) return known;
    const stored = this.journal.getMeta(META_PREFIX + session);
    const touched = stored ? { ...UNTOUCHED, ...(JSON.parse(stored) as Partial<Touched>) } : UNTOUCHED;
    this.#remember(session, touched);
    return touched;
  }

  /** Adds the flags of a call that ran; stores and records only what is new. */
  add(session: string, flags: ReadonlySet<TouchedFlag>, toolUseId?: string): void {
    if (session === '' || flags.size === 0) return;
    const before = this.touched(session);
    const after = observe(before, flags);
    if (after === before) return;
    this.journal.setMeta(META_PREFIX + session, JSON.stringify(after));
    this.#remember(session, after);
    this.recordChange(session, after, TOUCHED_FLAGS.filter((flag) => after[flag] && !before[flag]), toolUseId);
  }

  #remember(session: string, touched: Touched): void {
    if (this.#sessions.size >= MAX_SESSIONS_IN_MEMORY) this.#sessions.clear();
    this.#sessions.set(session, touched);
  }
}
