/**
 * Errors thrown by synapse-g. Every misuse of the API surfaces as an {@link InvalidArgumentError}
 * naming the argument (or file, row, column, flag) that was wrong.
 */

/** Base class of every error synapse-g throws on purpose. */
export class SynapseError extends Error {
  /** A stable machine-readable code. */
  readonly code: string;
  constructor(message: string, code = 'SYNAPSE_ERROR', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SynapseError';
    this.code = code;
  }
}

/** A function argument, file, row, column or flag is malformed. */
export class InvalidArgumentError extends SynapseError {
  /** The name of the offending argument, e.g. `queries` or `--tau`. */
  readonly argument: string;
  constructor(argument: string, message: string, options?: { cause?: unknown }) {
    super(`${argument}: ${message}`, 'INVALID_ARGUMENT', options);
    this.name = 'InvalidArgumentError';
    this.argument = argument;
  }
}

interface NativeErrorShape {
  code?: unknown;
  message?: unknown;
}

/**
 * Convert an error from the native addon into a typed error. The addon reports bad arguments
 * with `code === 'InvalidArg'` and a message `"<argument>: <what is wrong>"`.
 */
export function fromNative(e: unknown): Error {
  const err = e as NativeErrorShape;
  if (err && err.code === 'InvalidArg' && typeof err.message === 'string') {
    const m = /^([\w.\-[\]]+): ([\s\S]*)$/.exec(err.message);
    if (m) return new InvalidArgumentError(m[1], m[2], { cause: e });
    return new InvalidArgumentError('argument', err.message, { cause: e });
  }
  if (e instanceof Error) return new SynapseError(e.message, 'NATIVE_ERROR', { cause: e });
  return new SynapseError(String(e), 'NATIVE_ERROR');
}
