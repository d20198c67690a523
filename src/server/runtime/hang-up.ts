import { DevServerError } from "../../errors/index.js";

// A client that stopped waiting (its own timeout or AbortSignal) closes its HTTP connection; the
// HTTP layer turns that into the `hungUp` signal. These helpers let a run race against it.

/** Resolves "hung-up" when `hungUp` fires; never when it is absent. `stop` detaches the listener. */
export function abortedPromise(hungUp: AbortSignal | undefined, stop: AbortSignal): Promise<"hung-up"> {
  return new Promise((resolve) => {
    if (!hungUp) return;
    if (hungUp.aborted) return resolve("hung-up");
    const onAbort = () => resolve("hung-up");
    hungUp.addEventListener("abort", onAbort, { once: true });
    stop.addEventListener("abort", () => hungUp.removeEventListener("abort", onAbort), { once: true });
  });
}

/** The caller closed its connection; nobody reads this error but the server log. */
export function hungUpError(sandbox: string, when: string): DevServerError {
  return new DevServerError(`The client of sandbox "${sandbox}" hung up ${when}.`, { details: { sandbox, reason: "hung-up" } });
}
