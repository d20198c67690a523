import { StringDecoder } from "node:string_decoder";
import { MAX_OUTPUT_CHARS, OVERLONG_LINE } from "./output-limit.js";

export { OVERLONG_LINE };

/**
 * Turns a byte stream into lines: UTF-8 decoded across chunk boundaries, terminators (`\n` or
 * `\r\n`) removed, lines never split. A final line without terminator is only returned by
 * {@link flush}. An unterminated line is buffered up to `maxLineChars` (the output cap: anything
 * longer could never be returned), then dropped until its end and reported as {@link OVERLONG_LINE}.
 */
export class LineSplitter {
  #decoder = new StringDecoder("utf8");
  // Pieces, not one growing string: concatenating then searching a multi-MiB string per chunk is quadratic.
  #pieces: string[] = [];
  #length = 0;
  #overlong = false;
  readonly #maxLineChars: number;

  constructor(maxLineChars = MAX_OUTPUT_CHARS) {
    this.#maxLineChars = maxLineChars;
  }

  /** Feeds a chunk; returns the lines it completed. */
  push(chunk: Buffer): string[] {
    const text = this.#decoder.write(chunk);
    const lines: string[] = [];
    let start = 0;
    for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n", start)) {
      this.#append(text.slice(start, nl));
      lines.push(this.#takeLine());
      start = nl + 1;
    }
    this.#append(text.slice(start));
    return lines;
  }

  /** Returns the unterminated rest (if any) and resets the splitter. */
  flush(): string[] {
    this.#append(this.#decoder.end());
    const rest = this.#overlong || this.#length > 0 ? [this.#takeLine()] : [];
    this.reset();
    return rest;
  }

  /** Drops any unterminated rest, e.g. stray output between two runs. */
  reset(): void {
    this.#pieces = [];
    this.#length = 0;
    this.#overlong = false;
    this.#decoder = new StringDecoder("utf8");
  }

  #append(text: string): void {
    if (this.#overlong || text === "") return;
    if (this.#length + text.length > this.#maxLineChars) {
      this.#overlong = true;
      this.#pieces = [];
      this.#length = 0;
      return;
    }
    this.#pieces.push(text);
    this.#length += text.length;
  }

  #takeLine(): string {
    const line = this.#overlong ? OVERLONG_LINE : stripCr(this.#pieces.join(""));
    this.#pieces = [];
    this.#length = 0;
    this.#overlong = false;
    return line;
  }
}

function stripCr(line: string): string {
  return line.endsWith("\r") ? line.slice(0, -1) : line;
}
