import { joinStream, type OutputLine } from "./output-lines.js";

/** The raw `sandbox.repl.run` result an {@link Execution} wraps (upstream accepts the same object). */
export interface ExecutionData {
  output?: OutputLine[];
  status?: string;
  language?: string;
}

/** Result of `sandbox.run(code)`. Same surface as the upstream JS SDK's `Execution`. */
export class Execution {
  readonly #lines: OutputLine[];
  readonly #status: string;
  readonly #language: string;

  constructor(outputData: ExecutionData = {}) {
    this.#lines = Array.isArray(outputData.output) ? [...outputData.output] : [];
    this.#status = outputData.status ?? "unknown";
    this.#language = outputData.language ?? "unknown";
  }

  /** Stdout lines joined with `\n`, trimmed. */
  async output(): Promise<string> {
    return joinStream(this.#lines, "stdout");
  }

  /** Stderr lines joined with `\n`, trimmed. */
  async error(): Promise<string> {
    return joinStream(this.#lines, "stderr");
  }

  /**
   * True if status is `"error"`/`"exception"` or any stderr line is non-empty. The legacy portal
   * always says `"success"` and reports failures on stderr only; Node's REPL prints uncaught
   * exceptions on stdout, so they do not count (upstream behaviour).
   */
  hasError(): boolean {
    if (this.#status === "error" || this.#status === "exception") return true;
    return this.#lines.some((l) => l.stream === "stderr" && l.text.trim() !== "");
  }

  /** Server-reported status, `"unknown"` when absent. */
  get status(): string {
    return this.#status;
  }

  /** Language as echoed by the server, `"unknown"` when absent. */
  get language(): string {
    return this.#language;
  }
}
