import { describe, expect, it } from "vitest";
import { provablyNotSent, retryFirstCall } from "../../../src/client/first-call-retry.js";
import { ErrorCodes } from "../../../src/errors/codes.js";
import { ServerError } from "../../../src/errors/errors.js";

const http500 = () => new ServerError(ErrorCodes.SERVER_ERROR, "Failed to execute code: HTTP 500", 500);
const errno = (code: string) => Object.assign(new Error(code), { code });
/** The shape undici gives: TypeError("fetch failed") caused by the socket error. */
const connectionFailed = (cause: unknown) =>
  new ServerError(ErrorCodes.CONNECTION_FAILED, "could not reach", undefined, {
    cause: new TypeError("fetch failed", { cause }),
  });

describe("provablyNotSent", () => {
  it("is true only for a refused connection", () => {
    expect(provablyNotSent(connectionFailed(errno("ECONNREFUSED")))).toBe(true);
    expect(provablyNotSent(connectionFailed(new AggregateError([errno("ECONNREFUSED"), errno("ECONNREFUSED")])))).toBe(true);
  });

  it("is false when the request may have been sent", () => {
    expect(provablyNotSent(http500())).toBe(false);
    expect(provablyNotSent(connectionFailed(errno("ECONNRESET")))).toBe(false);
    expect(provablyNotSent(connectionFailed(errno("UND_ERR_SOCKET")))).toBe(false);
    expect(provablyNotSent(connectionFailed(new AggregateError([errno("ECONNREFUSED"), errno("ETIMEDOUT")])))).toBe(false);
    expect(provablyNotSent(new ServerError(ErrorCodes.TIMEOUT, "slow", undefined))).toBe(false);
  });
});

describe("retryFirstCall", () => {
  it("retries a refused connection until the call succeeds", async () => {
    let calls = 0;
    const result = await retryFirstCall(
      async () => {
        calls++;
        if (calls < 3) throw connectionFailed(errno("ECONNREFUSED"));
        return "ok";
      },
      { initialDelayMs: 1 },
    );
    expect(result).toBe("ok");
    expect(calls).toBe(2 + 1);
  });

  it("never repeats a call that may have reached the sandbox (HTTP 500, reset)", async () => {
    for (const err of [http500(), connectionFailed(errno("ECONNRESET"))]) {
      let calls = 0;
      await expect(
        retryFirstCall(
          async () => {
            calls++;
            throw err;
          },
          { initialDelayMs: 1 },
        ),
      ).rejects.toBe(err);
      expect(calls).toBe(1);
    }
  });

  it("gives up after the budget with the last error", async () => {
    let calls = 0;
    await expect(
      retryFirstCall(
        async () => {
          calls++;
          throw connectionFailed(errno("ECONNREFUSED"));
        },
        { initialDelayMs: 5, budgetMs: 30 },
      ),
    ).rejects.toMatchObject({ code: ErrorCodes.CONNECTION_FAILED });
    expect(calls).toBeGreaterThan(1);
  });

  it("stops retrying once the signal is aborted", async () => {
    const ctrl = new AbortController();
    let calls = 0;
    await expect(
      retryFirstCall(
        async () => {
          calls++;
          ctrl.abort();
          throw connectionFailed(errno("ECONNREFUSED"));
        },
        { initialDelayMs: 1, signal: ctrl.signal },
      ),
    ).rejects.toMatchObject({ code: ErrorCodes.CONNECTION_FAILED });
    expect(calls).toBe(1);
  });
});
