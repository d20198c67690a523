import type { ErrorCode } from "./codes.js";

export interface MsbvErrorOptions {
  /** The underlying error, kept for debugging (`err.cause`). */
  cause?: unknown;
  /** One sentence telling the user what to change. Appended to the message. */
  hint?: string;
  /** Structured details (file, line, key path, offending value…). Never holds secrets. */
  details?: Record<string, unknown>;
}

/**
 * The one base class of every error this package throws. `code` is stable (see ErrorCodes);
 * `message` says what was tried, what was seen and, via `hint`, what to change.
 */
export class MsbvError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: MsbvErrorOptions = {}) {
    super(options.hint ? `${message}\n  Fix: ${options.hint}` : message, { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
    this.details = options.details ?? {};
  }
}

export function isMsbvError(value: unknown): value is MsbvError {
  return value instanceof MsbvError;
}
