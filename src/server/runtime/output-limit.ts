import type { RuntimeOutputLine } from "./types.js";

/** Output kept per run or command; beyond it lines are dropped so a chatty sandbox cannot exhaust the server's memory. */
export const MAX_OUTPUT_CHARS = 16 * 1024 * 1024;

/**
 * Stands for a line longer than the output cap, which is dropped whole: output is byte-exact up to
 * the cap and never a cut line (a cut JSON document would parse as garbage). It contains "\n", so
 * no real line can equal it; OutputLimit turns it into the truncation notice.
 */
export const OVERLONG_LINE = "\n<line over the output cap>\n";

/**
 * Collects whole lines up to {@link MAX_OUTPUT_CHARS}, then one notice line and nothing more. The
 * line that would pass the cap is dropped whole, never cut, so what is returned is byte-exact.
 */
export class OutputLimit {
  #chars = 0;
  #truncated = false;

  /** Whether `text` may still be added; the first refusal pushes the notice into `lines`. */
  admit(lines: Array<RuntimeOutputLine | null>, text: string): boolean {
    if (this.#truncated) return false;
    this.#chars += text === OVERLONG_LINE ? Infinity : text.length + 1;
    if (this.#chars <= MAX_OUTPUT_CHARS) return true;
    this.#truncated = true;
    lines.push({ stream: "stderr", text: `Error: output truncated after ${MAX_OUTPUT_CHARS / 1024 / 1024} MiB; later lines were dropped` });
    return false;
  }
}
