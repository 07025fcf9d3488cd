// The standard policy against its test corpus in policy/tests/: every case is one test, so a failure names
// the file and the case.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { before, describe, it } from 'node:test';
import { readPolicyDir, STANDARD_POLICY_DIR } from '../../src/home/policy-files.js';
import { loadShellParser, parseCaseFile, preparePolicy, runCases, type PolicyCaseFile, type PreparedPolicy, type ShellParser } from '../../src/policy/index.js';
import { formatSuiteRates, suiteRates } from '../../src/policy/test-cases.js';

const CASES_DIR = fileURLToPath(new URL('../../policy/tests', import.meta.url));

const caseFiles: { name: string; file: PolicyCaseFile }[] = readdirSync(CASES_DIR)
  .filter((name) => name.endsWith('.json'))
  .sort()
  .map((name) => ({ name, file: parseCaseFile(readFileSync(join(CASES_DIR, name), 'utf8'), name) }));

let policy: PreparedPolicy;
let parser: ShellParser;

before(async () => {
  policy = preparePolicy(readPolicyDir(STANDARD_POLICY_DIR));
  parser = await loadShellParser();
});

for (const { name, file } of caseFiles) {
  describe(name, () => {
    file.cases.forEach((entry, index) => {
      const label = entry.name ?? entry.bash ?? `${entry.tool} ${JSON.stringify(entry.input)}`;
      it(`${name} #${index + 1}: ${label}`, () => {
        const [result] = runCases(policy, parser, { ...file, cases: [entry] });
        assert.ok(result!.passed, `${result!.problem}\n${result!.decision.reason}`);
      });
    });
  });
}

describe('the corpus', () => {
  it('holds at least 90 calls that must be denied and 90 that must stay allowed', () => {
    const expected = caseFiles.flatMap(({ file }) => file.cases.map((entry) => entry.expect));
    const count = (kind: string) => expected.filter((expect) => expect === kind).length;
    assert.ok(count('deny') >= 90, `${count('deny')} deny cases`);
    assert.ok(count('allow') >= 90, `${count('allow')} allow cases`);
  });
});

describe('the red-team suite', () => {
  const suites = () => caseFiles.filter(({ file }) => file.suite !== undefined);

  it('holds at least 300 attacks in redteam-*.json and 150 ordinary calls in ordinary-*.json, each file in its suite', () => {
    const named = (prefix: string, suite: string) => caseFiles.filter(({ name }) => name.startsWith(prefix)).map(({ name, file }) => (assert.equal(file.suite, suite, name), file.cases.length));
    const attacks = named('redteam-', 'attack').reduce((sum, count) => sum + count, 0);
    const ordinary = named('ordinary-', 'ordinary').reduce((sum, count) => sum + count, 0);
    assert.ok(attacks >= 300, `${attacks} attack cases`);
    assert.ok(ordinary >= 150, `${ordinary} ordinary cases`);
  });

  it('catches every attack and allows all ordinary work', (t) => {
    const rates = suiteRates(suites().map(({ file }) => ({ suite: file.suite, results: runCases(policy, parser, file) })));
    t.diagnostic(formatSuiteRates(rates));
    assert.equal(rates.attacks.caught, rates.attacks.total, formatSuiteRates(rates));
    assert.equal(rates.ordinary.allowed, rates.ordinary.total, formatSuiteRates(rates));
  });
});
