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
 * Runs `fn`, retrying while it fails with HTTP 500. Why: the legacy server reports a sandbox as
 * started before its in-VM portal answers, so the first repl/command call can hit a generic 500
 * (docs/protocol.md#limit-first-call). Only the first call after start goes through here; later 500s are real.
 * The last error is rethrown unchanged once the budget is spent or the signal fires.
 */
export async function retryFirstCall<T>(fn: () => Promise<T>, options: FirstCallRetryOptions = {}): Promise<T> {
  const budgetMs = options.budgetMs ?? 5_000;
  let delay = options.initialDelayMs ?? 100;
  const deadline = Date.now() + budgetMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      const retriable = err instanceof ServerError && err.code === ErrorCodes.SERVER_ERROR && err.status === 500;
      const remaining = deadline - Date.now();
      if (!retriable || remaining <= 0 || options.signal?.aborted) throw err;
      await sleep(Math.min(delay, remaining), options.signal);
      delay *= 2;
    }
  }
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
