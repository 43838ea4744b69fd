/** Parsers for numeric command-line flags: a bad value names the flag (commander prints it, exit 2). */
import { InvalidArgumentError as CommanderArgumentError } from 'commander';

/** A positive integer flag. */
export function positiveIntFlag(flag: string): (value: string) => number {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < 1) {
      throw new CommanderArgumentError(`${flag} must be a positive integer, got ${JSON.stringify(value)}`);
    }
    return n;
  };
}

/** An integer flag (e.g. `--seed`). */
export function intFlag(flag: string): (value: string) => number {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\s*-?\d+\s*$/.test(value) || !Number.isSafeInteger(n)) {
      throw new CommanderArgumentError(`${flag} must be an integer, got ${JSON.stringify(value)}`);
    }
    return n;
  };
}

/** A finite number flag within `[min, max]` (`openMin`: strictly above `min`). */
export function numberFlag(flag: string, min: number, max: number, openMin = false): (value: string) => number {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n > max || (openMin ? n <= min : n < min)) {
      throw new CommanderArgumentError(
        `${flag} must be a number in ${openMin ? '(' : '['}${min}, ${max}], got ${JSON.stringify(value)}`,
      );
    }
    return n;
  };
}
