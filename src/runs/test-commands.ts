// Which commands run tests, as data: a program and the words that must follow it. Matched against the
// normaliser's exec actions (program stripped of paths and wrappers, args as words), never by re-parsing.

export interface TestRunner {
  /** What the record calls it. */
  framework: string;
  program: string;
  /** Words that must appear, in this order, among the arguments (other words may sit between). */
  args: readonly string[];
}

export const TEST_RUNNERS: readonly TestRunner[] = [
  { framework: 'npm', program: 'npm', args: ['test'] },
  { framework: 'npm', program: 'npm', args: ['t'] },
  { framework: 'npm', program: 'npm', args: ['run', 'test'] },
  { framework: 'pnpm', program: 'pnpm', args: ['test'] },
  { framework: 'pnpm', program: 'pnpm', args: ['run', 'test'] },
  { framework: 'yarn', program: 'yarn', args: ['test'] },
  { framework: 'yarn', program: 'yarn', args: ['run', 'test'] },
  { framework: 'bun', program: 'bun', args: ['test'] },
  { framework: 'node:test', program: 'node', args: ['--test'] },
  { framework: 'vitest', program: 'vitest', args: [] },
  { framework: 'jest', program: 'jest', args: [] },
  { framework: 'mocha', program: 'mocha', args: [] },
  { framework: 'pytest', program: 'pytest', args: [] },
  { framework: 'pytest', program: 'py.test', args: [] },
  { framework: 'pytest', program: 'python', args: ['-m', 'pytest'] },
  { framework: 'pytest', program: 'python3', args: ['-m', 'pytest'] },
  { framework: 'unittest', program: 'python', args: ['-m', 'unittest'] },
  { framework: 'unittest', program: 'python3', args: ['-m', 'unittest'] },
  { framework: 'tox', program: 'tox', args: [] },
  { framework: 'go test', program: 'go', args: ['test'] },
  { framework: 'cargo test', program: 'cargo', args: ['test'] },
  { framework: 'cargo nextest', program: 'cargo', args: ['nextest'] },
  { framework: 'maven', program: 'mvn', args: ['test'] },
  { framework: 'maven', program: 'mvn', args: ['verify'] },
  { framework: 'maven', program: './mvnw', args: ['test'] },
  { framework: 'gradle', program: 'gradle', args: ['test'] },
  { framework: 'gradle', program: './gradlew', args: ['test'] },
  { framework: 'make', program: 'make', args: ['test'] },
  { framework: 'make', program: 'make', args: ['check'] },
  { framework: 'rspec', program: 'rspec', args: [] },
  { framework: 'rspec', program: 'bundle', args: ['exec', 'rspec'] },
  { framework: 'rake', program: 'rake', args: ['test'] },
  { framework: 'dotnet test', program: 'dotnet', args: ['test'] },
  { framework: 'phpunit', program: 'phpunit', args: [] },
  { framework: 'ctest', program: 'ctest', args: [] },
  { framework: 'mix test', program: 'mix', args: ['test'] },
  { framework: 'swift test', program: 'swift', args: ['test'] },
  { framework: 'deno test', program: 'deno', args: ['test'] },
  // npx/pnpm exec/yarn run a runner by name: the normaliser keeps them as the program, the runner as an argument.
  { framework: 'vitest', program: 'npx', args: ['vitest'] },
  { framework: 'jest', program: 'npx', args: ['jest'] },
  { framework: 'mocha', program: 'npx', args: ['mocha'] },
  { framework: 'vitest', program: 'pnpm', args: ['vitest'] },
  { framework: 'jest', program: 'yarn', args: ['jest'] },
];

/** The test framework an exec action runs, or undefined when it runs none. */
export function testFramework(program: string, args: readonly string[]): string | undefined {
  const name = program.includes('/') && !program.startsWith('./') ? program.slice(program.lastIndexOf('/') + 1) : program;
  for (const runner of TEST_RUNNERS) {
    if (runner.program !== name) continue;
    let at = 0;
    for (const word of args) if (at < runner.args.length && word === runner.args[at]) at++;
    // The first expected word must be the first non-option argument, so `npm install test` is not a test run.
    const firstWord = args.find((word) => !word.startsWith('-'));
    if (at === runner.args.length && (runner.args.length === 0 || runner.args[0].startsWith('-') || firstWord === runner.args[0])) return runner.framework;
  }
  return undefined;
}
