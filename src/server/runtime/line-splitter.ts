import { StringDecoder } from "node:string_decoder";

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
    return parts.map(stripCr);
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
