// Run records: what one agent session did, from the signed events behind it (docs/runs.md).
export { buildRunRecord, refOf, runRecordLinks, SELF_TEST_SESSION, type CallOutcome, type EventRef, type RunEvent, type RunRecord, type RunStatus } from './record.js';
export { renderMarkdown } from './markdown.js';
export { testFramework, TEST_RUNNERS } from './test-commands.js';
