import type { ParseArgsConfig } from 'node:util';

/** A mistake in how the command was called: reported with usage, exit code 2. */
export class UsageError extends Error {}

export interface Command {
  usage: string;
  summary: string;
  options: NonNullable<ParseArgsConfig['options']>;
  run(args: { values: Record<string, string | boolean | undefined>; positionals: string[] }): Promise<number>;
}
