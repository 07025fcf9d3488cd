// writ contract check FILE: what a task contract means under the policy in force. writ contract attach
// SESSION FILE: binds it to a running session through the daemon's socket (docs/contracts.md).
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { resolve } from 'node:path';
import { policyDirFor, readPolicyDir } from '../../home/policy-files.js';
import { resolveWritHome, type WritHome } from '../../home/writ-home.js';
import { CONTRACT_ATTACH_PATH, storeContract } from '../../daemon/contracts.js';
import { ContractError, parseContract, WIDER_SERVICE_BOUNDARY, type TaskContract } from '../../policy/contract.js';
import { preparePolicy, type PolicySettings } from '../../policy/index.js';
import { UsageError, type Command } from '../command.js';

export interface CheckedContract {
  text: string;
  contract: TaskContract;
  settings: PolicySettings;
}

/** Reads and validates a contract file against the policy's settings; problems come back as one error with line numbers. */
export function readContractFile(file: string, home: WritHome, policyDir?: string): CheckedContract {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const { settings } = preparePolicy(readPolicyDir(policyDirFor(policyDir, home.policy)));
  try {
    return { text, contract: parseContract(text, settings), settings };
  } catch (error) {
    if (error instanceof ContractError) throw new Error(`${file} is not a valid task contract:\n${error.problems.map((problem) => `  ${file}:${problem.line}: ${problem.message}`).join('\n')}`);
    throw error;
  }
}

/** What the contract means, in words, one line each. */
export function describeContract({ contract, settings }: CheckedContract): string[] {
  const categories = settings.categories ?? {};
  const meaning = (phrase: string) => (phrase === WIDER_SERVICE_BOUNDARY ? 'a write outside allowed.read_edit or outside the project' : (categories[phrase]?.description ?? 'defined in the policy settings'));
  const lines = [`task: ${contract.task}`];
  lines.push(`reads and edits: ${contract.allowed.read_edit ? contract.allowed.read_edit.join(', ') : 'anywhere in the project'}`);
  lines.push(`commands: ${contract.allowed.commands ? `only those starting with ${contract.allowed.commands.map((prefix) => `"${prefix}"`).join(', ')}` : 'any the policy allows'}`);
  for (const phrase of contract.blocked) lines.push(`denied: ${phrase} (${meaning(phrase)})`);
  for (const phrase of contract.stop_if) lines.push(`stops the session: ${phrase} (${meaning(phrase)})`);
  const highRisk = Object.keys(categories).filter((phrase) => categories[phrase]!.high_risk);
  const noted = Boolean(contract.rollback?.undo && contract.rollback.owner);
  if (highRisk.length > 0) lines.push(`high-risk edits (${highRisk.join(', ')}): ${noted ? `allowed where the box allows them; rollback by ${contract.rollback!.owner}: ${contract.rollback!.undo}` : 'denied: the rollback note needs undo and owner'}`);
  return lines;
}

export const contractCommand: Command = {
  usage: 'contract check FILE [--policy DIR] [--json] | contract attach SESSION FILE [--home DIR]',
  summary: 'check what a task contract means under the policy, or attach one to a running session',
  options: { home: { type: 'string' }, policy: { type: 'string' }, json: { type: 'boolean' } },
  async run({ values, positionals }) {
    const [verb, ...rest] = positionals;
    const home = resolveWritHome(values.home as string | undefined);
    if (verb === 'check') {
      if (rest.length !== 1) throw new UsageError('check takes one FILE');
      const checked = readContractFile(rest[0]!, home, values.policy as string | undefined);
      process.stdout.write(values.json ? `${JSON.stringify(checked.contract, null, 2)}\n` : `${describeContract(checked).join('\n')}\n`);
      return 0;
    }
    if (verb === 'attach') {
      if (rest.length !== 2) throw new UsageError('attach takes SESSION and FILE');
      if (values.json || values.policy) throw new UsageError('--json and --policy go with check');
      const [session, file] = rest as [string, string];
      const checked = readContractFile(file, home);
      const hash = storeContract(home.root, checked.text);
      await attach(home, { session_id: session, contract_hash: `sha256:${hash}`, source: resolve(file) });
      process.stdout.write(`attached contract sha256:${hash} to session ${session}: ${checked.contract.task}\n`);
      return 0;
    }
    throw new UsageError(verb ? `unknown contract command "${verb}"` : 'contract needs check or attach');
  },
};

function attach(home: WritHome, body: Record<string, string>): Promise<void> {
  return new Promise((done, fail) => {
    const req = request({ socketPath: home.socket, method: 'POST', path: CONTRACT_ATTACH_PATH, headers: { 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode === 200) return done();
        if (res.statusCode === 404) return fail(new Error('this daemon cannot attach contracts; restart it with this version of Writ'));
        fail(new Error(`the daemon refused the contract: ${text}`));
      });
    });
    req.on('error', (error) => fail(new Error(`cannot reach the Writ daemon at ${home.socket} (${(error as NodeJS.ErrnoException).code ?? error.message}): start it with writ daemon`)));
    req.end(JSON.stringify(body));
  });
}
