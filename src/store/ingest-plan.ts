// What one ingest batch does, decided apart from any SQL: which events are stored duplicates, which are appended
// to the org log, where the batch stops, and how the session and agent summaries change. Both adapters read the
// device head and the stored rows, call planIngest, then write what it returns (read → plan → apply).
import { StoreError, type IngestEvent, type IngestResult, type IngestStop } from './store.js';

export interface DeviceHead {
  seq: number;
  hash: string;
}

/** An event of the device already in the log. */
export interface StoredLeaf {
  hash: string;
  index: number;
}

/** An appended event with the columns the adapters store beside it. */
export interface PlannedAppend {
  event: IngestEvent;
  index: number; // leaf index in the org log
  timeMs: number; // event time as epoch milliseconds, for range filters
}

export interface SessionChange {
  sessionId: string;
  agentName: string;
  agentVersion?: string;
  firstTime: string;
  firstMs: number;
  lastTime: string;
  lastMs: number;
  events: number;
  denials: number;
}

export interface AgentChange {
  agentName: string;
  agentVersion?: string; // of the latest event
  lastTime: string;
  lastMs: number;
  events: number;
}

export interface IngestPlan {
  sequenced: IngestResult['sequenced'];
  appends: PlannedAppend[];
  stop?: IngestStop;
  head: DeviceHead; // the device head after the batch
  logSize: number; // the log size after the batch
  sessions: SessionChange[]; // what the appended events add, one per session
  agents: AgentChange[]; // one per agent name
}

/** Seqs of the batch at or below the head: the stored rows planIngest needs to tell duplicates from conflicts. */
export function seqsToLookUp(head: DeviceHead, events: readonly IngestEvent[]): number[] {
  return [...new Set(events.map((event) => event.seq).filter((seq) => seq <= head.seq))];
}

/**
 * Walks the batch in seq order from the device head. A seq at or below the head is a duplicate when its hash is
 * the stored one and a conflict otherwise; head+1 whose prev is the head hash is appended at the next leaf index;
 * head+1 with another prev is a chain break; anything higher is a gap. The first conflict, break or gap stops it.
 */
export function planIngest(
  head: DeviceHead,
  logSize: number,
  stored: ReadonlyMap<number, StoredLeaf>,
  events: readonly IngestEvent[],
): IngestPlan {
  const batch = [...events].sort((a, b) => a.seq - b.seq);
  batch.forEach(checkEvent);
  // Appends of this batch count as stored, so a seq repeated inside the batch is a duplicate too.
  const known = new Map(stored);
  const sequenced: IngestResult['sequenced'] = [];
  const appends: PlannedAppend[] = [];
  let current = head;
  let stop: IngestStop | undefined;
  for (const event of batch) {
    if (event.seq <= current.seq) {
      const leaf = known.get(event.seq);
      if (leaf === undefined) throw new StoreError('CORRUPT', `stored event seq ${event.seq} is missing below the head`);
      if (leaf.hash !== event.hash) {
        stop = { reason: 'conflict', seq: event.seq };
        break;
      }
      sequenced.push({ seq: event.seq, index: leaf.index, duplicate: true });
    } else if (event.seq === current.seq + 1) {
      if (event.prev !== current.hash) {
        stop = { reason: 'chain', seq: event.seq };
        break;
      }
      const index = logSize + appends.length;
      appends.push({ event, index, timeMs: Date.parse(event.time) });
      known.set(event.seq, { hash: event.hash, index });
      sequenced.push({ seq: event.seq, index, duplicate: false });
      current = { seq: event.seq, hash: event.hash };
    } else {
      stop = { reason: 'gap', seq: event.seq, expectedSeq: current.seq + 1 };
      break;
    }
  }
  return {
    sequenced,
    appends,
    stop,
    head: current,
    logSize: logSize + appends.length,
    sessions: sessionChanges(appends),
    agents: agentChanges(appends),
  };
}

// The server checked signatures and shapes; these are the values the store itself could not keep.
function checkEvent(event: IngestEvent): void {
  if (!Number.isSafeInteger(event.seq) || event.seq < 1) {
    throw new StoreError('INVALID_INPUT', `event seq \`${event.seq}\` is not a positive integer`);
  }
  if (Number.isNaN(Date.parse(event.time))) {
    throw new StoreError('INVALID_INPUT', `event seq ${event.seq}: time \`${event.time}\` is not RFC 3339`);
  }
  if (event.leafHash.length !== 32) {
    throw new StoreError('INVALID_INPUT', `event seq ${event.seq}: leaf hash is ${event.leafHash.length} bytes, not 32`);
  }
}

function sessionChanges(appends: readonly PlannedAppend[]): SessionChange[] {
  const sessions = new Map<string, SessionChange>();
  for (const { event, timeMs } of appends) {
    if (event.sessionId === undefined) continue;
    const denial = event.decision === 'deny' ? 1 : 0;
    const session = sessions.get(event.sessionId);
    if (session === undefined) {
      sessions.set(event.sessionId, {
        sessionId: event.sessionId,
        agentName: event.agentName,
        agentVersion: event.agentVersion,
        firstTime: event.time,
        firstMs: timeMs,
        lastTime: event.time,
        lastMs: timeMs,
        events: 1,
        denials: denial,
      });
      continue;
    }
    session.events += 1;
    session.denials += denial;
    if (timeMs < session.firstMs) Object.assign(session, { firstTime: event.time, firstMs: timeMs });
    if (timeMs >= session.lastMs) {
      Object.assign(session, { lastTime: event.time, lastMs: timeMs, agentVersion: event.agentVersion ?? session.agentVersion });
    }
  }
  return [...sessions.values()];
}

function agentChanges(appends: readonly PlannedAppend[]): AgentChange[] {
  const agents = new Map<string, AgentChange>();
  for (const { event, timeMs } of appends) {
    const agent = agents.get(event.agentName);
    if (agent === undefined) {
      agents.set(event.agentName, {
        agentName: event.agentName,
        agentVersion: event.agentVersion,
        lastTime: event.time,
        lastMs: timeMs,
        events: 1,
      });
      continue;
    }
    agent.events += 1;
    if (timeMs >= agent.lastMs) {
      Object.assign(agent, { lastTime: event.time, lastMs: timeMs, agentVersion: event.agentVersion ?? agent.agentVersion });
    }
  }
  return [...agents.values()];
}
