import { StringDecoder } from "node:string_decoder";

/** An unterminated line longer than this is cut, so output without newlines cannot grow without bound. */
export const MAX_LINE_CHARS = 1024 * 1024;

/**
 * Turns a byte stream into lines: UTF-8 decoded across chunk boundaries, terminators (`\n` or
 * `\r\n`) removed. A final line without terminator is only returned by {@link flush}.
 */
export class LineSplitter {
  #decoder = new StringDecoder("utf8");
  #partial = "";

  /** Feeds a chunk; returns the lines it completed. */
  push(chunk: Buffer): string[] {
    const text = this.#partial + this.#decoder.write(chunk);
    const parts = text.split("\n");
    this.#partial = parts.pop() ?? "";
    const lines = parts.map(stripCr);
    while (this.#partial.length > MAX_LINE_CHARS) {
      lines.push(this.#partial.slice(0, MAX_LINE_CHARS));
      this.#partial = this.#partial.slice(MAX_LINE_CHARS);
    }
    return lines;
  }

  /** Returns the unterminated rest (if any) and resets the splitter. */
  flush(): string[] {
    const rest = this.#partial + this.#decoder.end();
    this.#partial = "";
    this.#decoder = new StringDecoder("utf8");
    return rest === "" ? [] : [stripCr(rest)];
  }

  /** Drops any unterminated rest, e.g. stray output between two runs. */
  reset(): void {
    this.#partial = "";
    this.#decoder = new StringDecoder("utf8");
  }
}

function stripCr(line: string): string {
  return line.endsWith("\r") ? line.slice(0, -1) : line;
}
