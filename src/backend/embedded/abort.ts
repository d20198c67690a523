import { ErrorCodes, MsbvError } from "../../errors/index.js";
import type { CallSignal } from "../call-signal.js";

/** Create takes no AbortSignal: stop waiting on abort or time limit, and remove the sandbox once it is up. */
export function raceAbort<T>(work: Promise<T>, call: CallSignal, name: string, onAbandon: () => void): Promise<T> {
  const { signal } = call;
  if (!signal) return work;
  if (signal.aborted) {
    onAbandon();
    return Promise.reject(aborted(name, call));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      onAbandon();
      reject(aborted(name, call));
    };
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(err);
      },
    );
  });
}

export function aborted(name: string, call: CallSignal): MsbvError {
  if (call.timedOut()) {
    return new MsbvError(
      ErrorCodes.TIMEOUT,
      `Starting sandbox "${name}" took longer than ${call.timeoutMs} ms; a sandbox still being created is removed once it is up.`,
      {
        hint: "raise the start `timeout` (the first start pulls the image), or pull the image beforehand",
        details: { sandbox: name, timeoutMs: call.timeoutMs },
      },
    );
  }
  return new MsbvError(ErrorCodes.ABORTED, `The call for sandbox "${name}" was aborted; a sandbox still being created is removed once it is up.`, {
    details: { sandbox: name },
  });
}

export function checkAborted(call: CallSignal, name: string): void {
  if (call.signal?.aborted) throw aborted(name, call);
}
