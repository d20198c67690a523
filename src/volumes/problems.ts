import { ErrorCodes, type ErrorCode } from "../errors/codes.js";
import { HostPathError, ValidationError, VolumeSpecError } from "../errors/errors.js";

/** One thing wrong with one volume; several are gathered so the user sees every problem at once. */
export interface VolumeProblem {
  /** Position in the `volumes` list. */
  index: number;
  /** The spec as written, for messages. */
  source: string;
  code: ErrorCode;
  message: string;
  hint: string;
}

/** A short, printable form of whatever the user passed (never throws). */
export function describeSpec(spec: unknown): string {
  if (typeof spec === "string") return spec;
  try {
    return JSON.stringify(spec) ?? String(spec);
  } catch {
    return String(spec);
  }
}

function label(p: VolumeProblem): string {
  return `volumes[${p.index}] ${JSON.stringify(p.source)}`;
}

/**
 * Turns gathered problems into one error. One problem keeps its own code and hint; several are listed
 * each with its own fix, and the error takes the code of the first (callers order spec problems first).
 */
export function problemsToError(problems: readonly VolumeProblem[]): ValidationError {
  const first = problems[0];
  if (!first) throw new RangeError("problemsToError needs at least one problem");
  const details = { problems: problems.map((p) => ({ ...p })) };
  let message: string;
  let hint: string;
  if (problems.length === 1) {
    message = `${label(first)}: ${first.message}`;
    hint = first.hint;
  } else {
    const lines = problems.map((p, i) => `  ${i + 1}. ${label(p)}: ${p.message}\n     Fix: ${p.hint}`);
    message = `${problems.length} problems with volumes:\n${lines.join("\n")}`;
    hint = "fix each volume listed above (every problem is reported, not only the first)";
  }
  if (first.code === ErrorCodes.INVALID_VOLUME) return new VolumeSpecError(message, { hint, details });
  if (first.code === ErrorCodes.READONLY_UNSUPPORTED) {
    return new ValidationError(first.code, message, { hint, details });
  }
  return new HostPathError(first.code, message, { hint, details });
}
