import type { ChildHandlers, ChildRef } from "../../server/runtime/supervisor-connection.js";
import type { ReplProcessHost } from "../../server/runtime/repl-session.js";
import type { ExecStream } from "./exec-stream.js";

/**
 * Runs a driver with its request channel on fd 3, as the drivers expect: the piped stdin becomes
 * fd 3 and stdin itself /dev/null, so user code that reads stdin cannot swallow requests.
 */
export const DRIVER_LAUNCHER = 'exec 3<&0 0</dev/null; exec "$@"';

/** `sh -c LAUNCHER msbv-repl <driver argv…>`: the command opened with a piped stdin. */
export function launcherArgv(driverArgv: readonly string[]): { command: string; args: string[] } {
  return { command: "sh", args: ["-c", DRIVER_LAUNCHER, "msbv-repl", ...driverArgv] };
}

/** Opens a process (`command`, `args`) with a piped stdin, in a VM or (in tests) locally. */
export type OpenStream = (command: string, args: string[]) => Promise<ExecStream>;

/**
 * The ReplSession host of the embedded backend: each driver is one exec stream into the VM.
 * Requests go to the stream's stdin, output events come back as the session's fd 1 / fd 2 data,
 * SIGINT is `signal(2)`, SIGKILL is `kill()`.
 */
export class ExecReplHost implements ReplProcessHost {
  readonly #open: OpenStream;
  #alive = true;
  #nextId = 1;

  constructor(open: OpenStream) {
    this.#open = open;
  }

  get alive(): boolean {
    return this.#alive;
  }

  /** Marks the sandbox gone: drivers that end now are reported as "stopped", not "crashed". */
  close(): void {
    this.#alive = false;
  }

  spawn(argv: string[], _ctl: boolean, handlers: ChildHandlers): ChildRef {
    const id = this.#nextId++;
    const { command, args } = launcherArgv(argv);
    const opened = this.#open(command, args);
    // Writes and signals run in call order, after the stream is open.
    let chain: Promise<unknown> = opened;
    const then = (task: (stream: ExecStream) => Promise<void>): void => {
      chain = chain.then(() => opened.then(task)).catch(() => undefined);
    };
    opened.then(
      (stream) => void pump(stream, handlers),
      (err: unknown) => handlers.onSpawnError("EIO", err instanceof Error ? err.message : String(err)),
    );
    return {
      id,
      // The REPL protocol is text (JSON lines); bytes only come from sync's raw channel, not used here.
      write: (data) => then((stream) => stream.write(typeof data === "string" ? data : Buffer.from(data).toString("utf8"))),
      kill: (signal) => then((stream) => (signal === "SIGINT" ? stream.signal(2) : stream.kill())),
    };
  }
}

async function pump(stream: ExecStream, handlers: ChildHandlers): Promise<void> {
  let code: number | null = null;
  try {
    for (;;) {
      const event = await stream.recv();
      if (event === null) break;
      if (event.kind === "stdout") handlers.onData(1, Buffer.from(event.data));
      else if (event.kind === "stderr") handlers.onData(2, Buffer.from(event.data));
      else if (event.kind === "exited") code = event.code;
    }
  } catch {
    // The stream broke (VM stopped): reported as an exit without code.
  }
  handlers.onExit(code, null);
}
