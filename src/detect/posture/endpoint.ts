// Endpoint protection on Linux and macOS, seen as a known EDR or antivirus process running. A running
// process is presence, not health (a CrowdStrike sensor in reduced-functionality mode still runs): health
// needs the vendor's root-only tools. Windows asks Security Center instead (windows.ts).
import { excerpt, fail, pass, unknown, unreadable, type CheckAnswer } from './answer.js';

/** Process names per product. Linux truncates a process's name to 15 characters, so both spellings are listed. */
const KNOWN_PROCESSES: Record<string, string[]> = {
  'CrowdStrike Falcon': ['falcon-sensor', 'falcon-sensor-bpf', 'falcon-sensor-b', 'falcond', 'com.crowdstrike.falcon.Agent'],
  'Microsoft Defender for Endpoint': ['wdavdaemon'],
  SentinelOne: ['s1-agent', 'sentinelone', 'SentinelAgent', 'sentineld'],
  'Carbon Black': ['cbagentd', 'CbOsxSensorService', 'cbdaemon'],
  'Elastic Defend': ['elastic-endpoint', 'elastic-endpoin'],
  'Sophos': ['sophos_threat_detector', 'sophos_threat_d', 'SophosScanD'],
  'Trend Micro Deep Security': ['ds_agent'],
  'Cylance': ['cylancesvc', 'CylanceSvc'],
  'Jamf Protect': ['JamfProtect'],
  'Wazuh': ['wazuh-agentd'],
  ClamAV: ['clamd'],
};

const PRODUCT_BY_PROCESS = new Map(Object.entries(KNOWN_PROCESSES).flatMap(([product, names]) => names.map((name) => [name, product] as const)));

/** `ps -A -o comm=`: one process name (Linux) or executable path (macOS) per line. */
export function parseProcessList(output: string): CheckAnswer {
  const problem = unreadable(output, 'process list');
  if (problem) return problem;
  const names = output.split(/\r?\n/).map((line) => line.trim()).filter(Boolean);
  // A real process list always holds more than a line or two; anything else is not one.
  if (names.length < 2) return unknown(`not a process list: ${excerpt(output)}`);
  const found = new Set<string>();
  for (const name of names) {
    const product = PRODUCT_BY_PROCESS.get(name.slice(name.lastIndexOf('/') + 1));
    if (product) found.add(product);
  }
  if (found.size === 0) return fail(false, `none of the known EDR or antivirus processes runs (${names.length} processes seen)`);
  const products = [...found].sort().join(', ');
  return pass(products, `running: ${products}`);
}
