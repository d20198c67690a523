import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { DevServerError } from "../../../errors/index.js";
import { ATTACH_SERVER_SCRIPT } from "./attach-script.js";

const PYTHON = "/usr/bin/python3";

/** What one attach request gives the helper (pool/attach-script.ts); descriptors travel as /proc paths. */
export interface AttachRequest {
  pid: number;
  bwrapPid: number;
  uid: number;
  gid: number;
  hostname: string;
  renice: number[];
  /** The priority `renice` get: the server's own, which a cold start's processes inherit. */
  nice: number;
  mounts: Array<{ fdPath: string; dev: number; ino: number; guest: string; readonly: boolean; ownerUid: number; ownerGid: number }>;
}

/**
 * The long-lived root attach helper: started when the pool starts filling (or on a request), one per pool, answering the
 * requests one at a time in its own process (pool/attach-script.ts says why). If it dies, the
 * requests in flight fail (their claims go cold) and the next request starts a new one.
 */
export class AttachServer {
  #child: ChildProcess | undefined;
  readonly #pending = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  #nextId = 1;

  request(name: string, spec: AttachRequest): Promise<void> {
    const child = this.#ensure();
    const id = this.#nextId++;
    return new Promise<void>((resolve, reject) => {
      this.#pending.set(id, {
        resolve,
        reject: (error) =>
          reject(
            new DevServerError(`Cannot attach volumes to the pooled sandbox for "${name}": ${error.message}`, {
              hint: "start the dev server with --pool-size 0 to start every sandbox cold",
              details: { sandbox: name },
            }),
          ),
      });
      child.stdin?.write(`${JSON.stringify({ id, spec })}\n`);
    });
  }

  /**
   * Starts the helper now if it is not running, so the first claim does not wait for a Python start
   * (about 140 ms on a 2-core VM); called when the pool starts filling.
   */
  prepare(): void {
    this.#ensure();
  }

  /** The helper's pid while it runs (tests look at its namespaces and descriptors). */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Ends the helper; requests in flight fail. */
  close(): void {
    this.#child?.kill("SIGKILL");
    this.#child = undefined;
  }

  #ensure(): ChildProcess {
    if (this.#child) return this.#child;
    // -I: ignore PYTHON* variables and the user site; -S: no site. Empty environment, as the launcher.
    const child = spawn(PYTHON, ["-I", "-S", "-c", ATTACH_SERVER_SCRIPT, "{}", String(process.pid)], { stdio: ["pipe", "pipe", "pipe"], env: {} });
    this.#child = child;
    let stderr = "";
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (text: string) => {
      stderr = (stderr + text).slice(-4096);
    });
    child.stdin?.on("error", () => {});
    createInterface({ input: child.stdout! }).on("line", (line) => {
      let answer: { id?: unknown; ok?: unknown; error?: unknown };
      try {
        answer = JSON.parse(line) as typeof answer;
      } catch {
        return;
      }
      const waiting = typeof answer.id === "number" ? this.#pending.get(answer.id) : undefined;
      if (!waiting) return;
      this.#pending.delete(answer.id as number);
      if (answer.ok === true) waiting.resolve();
      else waiting.reject(new Error(typeof answer.error === "string" ? answer.error : "no answer"));
    });
    const gone = (why: string) => {
      if (this.#child === child) this.#child = undefined;
      for (const waiting of this.#pending.values())
        waiting.reject(new Error(`the attach helper ended (${why})${stderr ? `: ${stderr.trim()}` : ""}`));
      this.#pending.clear();
    };
    child.once("error", (error) => gone(error.message));
    child.once("exit", (code, signal) => gone(signal ?? `exit code ${code}`));
    return child;
  }
}
