import { causesOf } from "../errors/causes.js";
import { ServerError } from "../errors/errors.js";
import { ErrorCodes } from "../errors/codes.js";

/** Bounds of the retry of the first repl/command call after start. */
export interface FirstCallRetryOptions {
  /** Total time budget for retries. Default 5000 ms. */
  budgetMs?: number;
  /** First pause; doubles each attempt. Default 100 ms. */
  initialDelayMs?: number;
  signal?: AbortSignal;
}

/**
 * True only when the request provably never reached the server: the TCP connection was refused,
 * so no byte of the call was sent. Anything else (HTTP 500, a reset, a timeout) may mean the code
 * already ran in the sandbox, and running it twice is worse than failing once (issue: a timed-out
 * first `command.run` ran again).
 */
export function provablyNotSent(err: unknown): boolean {
  if (!(err instanceof ServerError) || err.code !== ErrorCodes.CONNECTION_FAILED) return false;
  return errnoCodes(err.cause).includes("ECONNREFUSED");
}

/**
 * Runs `fn`, retrying only while it fails before anything was sent ({@link provablyNotSent}). Why
 * retry at all: a server that has just reported a sandbox as started may briefly refuse
 * connections (a restarting proxy). The legacy server's "portal not ready yet" HTTP 500 is NOT
 * retried (docs/protocol.md#limit-first-call): it cannot be told apart from a 500 of a call that
 * ran. The last error is rethrown
 * unchanged once the budget is spent or the signal fires.
 */
export async function retryFirstCall<T>(fn: () => Promise<T>, options: FirstCallRetryOptions = {}): Promise<T> {
  const budgetMs = options.budgetMs ?? 5_000;
  let delay = options.initialDelayMs ?? 100;
  const deadline = Date.now() + budgetMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      const remaining = deadline - Date.now();
      if (!provablyNotSent(err) || remaining <= 0 || options.signal?.aborted) throw err;
      await sleep(Math.min(delay, remaining), options.signal);
      delay *= 2;
    }
  }
}

/** errno codes along an error's cause chain (undici nests the socket error one or two levels down). */
function errnoCodes(err: unknown): string[] {
  const codes: string[] = [];
  for (const e of causesOf(err, 5)) {
    // AggregateError (happy-eyeballs tried several addresses): refused only if every attempt was.
    if (e instanceof AggregateError) {
      if (e.errors.length > 0 && e.errors.every((inner) => errnoCodes(inner).includes("ECONNREFUSED"))) {
        codes.push("ECONNREFUSED");
      }
      continue;
    }
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === "string") codes.push(code);
  }
  return codes;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    // On abort we wake early; the next attempt then fails with ABORTED through the backend.
    signal?.addEventListener("abort", done, { once: true });
  });
}
