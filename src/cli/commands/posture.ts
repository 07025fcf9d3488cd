// writ posture: one posture pass now, each check with its status, value, reason and source. It does not
// write posture.json: the daemon keeps that file and records changes to it.
import { collectPosture } from '../../daemon/posture-collector.js';
import { UsageError, type Command } from '../command.js';

export const postureCommand: Command = {
  usage: 'posture [--json]',
  summary: "check this device's posture now (disk encryption, firewall, endpoint protection, screen lock, OS version, patch age)",
  options: { json: { type: 'boolean' } },
  async run({ values, positionals }) {
    if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
    const report = await collectPosture();
    if (values.json) {
      process.stdout.write(JSON.stringify(report, null, 2) + '\n');
      return 0;
    }
    process.stdout.write(`${report.os ?? process.platform} posture at ${report.collected_at}\n`);
    for (const check of report.checks) {
      const value = check.value === undefined ? '-' : String(check.value);
      process.stdout.write(`  ${check.name.padEnd(20)} ${check.status.padEnd(8)} ${value.padEnd(16)} ${check.reason ?? ''}\n`);
      if (check.source) process.stdout.write(`  ${''.padEnd(20)} from ${check.source}\n`);
    }
    return 0;
  },
};
