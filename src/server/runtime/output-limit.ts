import type { RuntimeOutputLine } from "./types.js";

/** Output kept per run or command; beyond it lines are dropped so a chatty sandbox cannot exhaust the server's memory. */
export const MAX_OUTPUT_CHARS = 16 * 1024 * 1024;

/** Collects lines up to {@link MAX_OUTPUT_CHARS}, then one notice line and nothing more. */
export class OutputLimit {
  #chars = 0;
  #truncated = false;

  /** Whether `text` may still be added; the first refusal pushes the notice into `lines`. */
  admit(lines: Array<RuntimeOutputLine | null>, text: string): boolean {
    if (this.#truncated) return false;
    this.#chars += text.length + 1;
    if (this.#chars <= MAX_OUTPUT_CHARS) return true;
    this.#truncated = true;
    lines.push({ stream: "stderr", text: `Error: output truncated after ${MAX_OUTPUT_CHARS / 1024 / 1024} MiB; later lines were dropped` });
    return false;
  }
}
