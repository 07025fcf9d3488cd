import { UsageError } from './command.js';

export function integerOption(value: string | boolean | undefined, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (typeof value !== 'string' || !/^\d+$/.test(value) || number < min || number > max) throw new UsageError(`${name} takes a whole number from ${min} to ${max}, not "${value}"`);
  return number;
}

export function oneOf<T extends string>(value: string | boolean | undefined, name: string, allowed: readonly T[], fallback?: T): T {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'string' || !allowed.includes(value as T)) throw new UsageError(`${name} must be one of ${allowed.join(', ')}${value === undefined ? '' : `, not "${value}"`}`);
  return value as T;
}
