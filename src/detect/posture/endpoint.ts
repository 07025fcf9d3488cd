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

/** `ps -A -o pid=,comm=`: a process id and name (Linux) or executable path (macOS) per line. */
export function parseProcessList(output: string): CheckAnswer {
  const problem = unreadable(output, 'process list');
  if (problem) return problem;
  const lines = output.split(/\r?\n/).filter((line) => line.trim() !== '');
  const names: string[] = [];
  for (const line of lines) {
    const match = /^\s*\d+ (.*\S)\s*$/.exec(line);
    // Every line of a real list is "PID name"; one that is not means this is not a process list.
    if (!match || /[\x00-\x1f\x7f]/.test(match[1]!)) return unknown(`not a process list: ${excerpt(line)}`);
    names.push(match[1]!);
  }
  const found = new Set<string>();
  for (const name of names) {
    const product = PRODUCT_BY_PROCESS.get(name.slice(name.lastIndexOf('/') + 1));
    if (product) found.add(product);
  }
  if (found.size === 0) return fail(false, `none of the known EDR or antivirus processes runs (${names.length} processes seen)`);
  const products = [...found].sort().join(', ');
  return pass(products, `running: ${products}`);
}
