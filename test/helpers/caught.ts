import { isMsbvError, type MsbvError } from "../../src/errors/index.js";

/** The MsbvError a promise rejects with; fails the test if it resolves or rejects with anything else. */
export async function caught(p: Promise<unknown>): Promise<MsbvError> {
  let rejected = false;
  const e = await p.then(
    () => undefined,
    (x: unknown) => {
      rejected = true;
      return x;
    },
  );
  if (!rejected) throw new Error("expected the promise to reject");
  if (!isMsbvError(e)) throw new Error(`expected an MsbvError, got ${e instanceof Error ? e.stack : String(e)}`);
  return e;
}
