// Splits a command's arguments into options and operands, getopt-style, from a small per-command spec.
import type { Word } from './words.js';

export interface OptionSpec {
  /** Options that take a value: `-n 5`, `-n5`, `--lines 5`, `--lines=5`. */
  withValue?: string[];
}

export interface ParsedArgs {
  /** Each option as spelled (`-f`, `--force`), with its value word when it takes one. */
  options: { name: string; value?: Word }[];
  operands: Word[];
}

export function parseArgs(args: Word[], spec: OptionSpec = {}): ParsedArgs {
  const withValue = new Set(spec.withValue ?? []);
  const options: ParsedArgs['options'] = [];
  const operands: Word[] = [];
  for (let i = 0; i < args.length; i++) {
    const word = args[i]!;
    const text = word.values?.length === 1 ? word.values[0]! : undefined;
    // `--data="$(…)"`: an option whose value is only known at run time is still that option.
    const attached = text === undefined ? /^(--?[A-Za-z][\w-]*)=(.*)$/s.exec(word.raw) : null;
    if (attached) {
      options.push({ name: attached[1]!, value: { values: undefined, raw: attached[2]!, glob: false, network: word.network } });
      continue;
    }
    if (text === undefined || text === '-' || !text.startsWith('-')) {
      operands.push(word);
      continue;
    }
    if (text === '--') {
      operands.push(...args.slice(i + 1));
      break;
    }
    if (text.startsWith('--')) {
      const eq = text.indexOf('=');
      if (eq > 0) options.push({ name: text.slice(0, eq), value: literal(text.slice(eq + 1), word) });
      else if (withValue.has(text)) options.push({ name: text, value: args[++i] });
      else options.push({ name: text });
      continue;
    }
    // Short options may be bundled (`-rf`) and the last may carry its value (`-ofile`, `-n5`).
    for (let j = 1; j < text.length; j++) {
      const name = '-' + text[j];
      if (withValue.has(name)) {
        const rest = text.slice(j + 1);
        options.push({ name, value: rest ? literal(rest, word) : args[++i] });
        break;
      }
      options.push({ name });
    }
  }
  return { options, operands };
}

export function hasOption(parsed: ParsedArgs, ...names: string[]): boolean {
  return parsed.options.some((option) => names.includes(option.name));
}

export function optionValues(parsed: ParsedArgs, ...names: string[]): Word[] {
  return parsed.options.filter((option) => names.includes(option.name) && option.value).map((option) => option.value!);
}

function literal(text: string, from: Word): Word {
  return { values: [text], raw: text, glob: from.glob, network: from.network };
}

export function textOf(word: Word | undefined): string | undefined {
  return word?.values?.length === 1 ? word.values[0] : undefined;
}
