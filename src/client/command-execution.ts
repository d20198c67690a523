import { joinStream, type OutputLine } from "./output-lines.js";

/** The raw `sandbox.command.run` result a {@link CommandExecution} wraps. */
export interface CommandExecutionData {
  output?: OutputLine[];
  command?: string;
  args?: string[];
  exit_code?: number;
  success?: boolean;
}

/** Result of `sandbox.command.run(...)`. Same surface as the upstream JS SDK. */
export class CommandExecution {
  readonly #lines: OutputLine[];
  readonly #command: string;
  readonly #args: string[];
  readonly #exitCode: number;
  readonly #success: boolean;

  constructor(outputData: CommandExecutionData = {}) {
    this.#lines = Array.isArray(outputData.output) ? [...outputData.output] : [];
    this.#command = outputData.command ?? "";
    this.#args = outputData.args ? [...outputData.args] : [];
    this.#exitCode = outputData.exit_code ?? -1;
    this.#success = outputData.success ?? false;
  }

  /** Stdout lines joined with `\n`, trimmed. */
  async output(): Promise<string> {
    return joinStream(this.#lines, "stdout");
  }

  /** Stderr lines joined with `\n`, trimmed. */
  async error(): Promise<string> {
    return joinStream(this.#lines, "stderr");
  }

  /** Process exit code; -1 when the server did not report one. */
  get exitCode(): number {
    return this.#exitCode;
  }

  /** `exitCode === 0` as reported by the server; false when unknown. */
  get success(): boolean {
    return this.#success;
  }

  get command(): string {
    return this.#command;
  }

  get args(): string[] {
    return [...this.#args];
  }
}
