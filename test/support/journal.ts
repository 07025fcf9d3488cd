// A device journal's events, read as `writ log` reads them: read-only and without the device key.
import Database from 'better-sqlite3';
import { parseEnvelope } from '../../src/core/dsse.js';
import { openEvent, type EventBody } from '../../src/core/event.js';
import type { WritHome } from '../../src/home/writ-home.js';

export function journalEvents(home: WritHome): EventBody[] {
  const db = new Database(home.journal, { readonly: true });
  try {
    return (db.prepare('SELECT envelope FROM events ORDER BY seq').all() as { envelope: string }[]).map((row) => openEvent(parseEnvelope(row.envelope)));
  } finally {
    db.close();
  }
}
