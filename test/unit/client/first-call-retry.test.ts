import { describe, expect, it } from "vitest";
import { retryFirstCall } from "../../../src/client/first-call-retry.js";
import { ErrorCodes } from "../../../src/errors/codes.js";
import { ServerError } from "../../../src/errors/errors.js";

const http500 = () => new ServerError(ErrorCodes.SERVER_ERROR, "Failed to execute code: HTTP 500", 500);

describe("retryFirstCall", () => {
  it("retries HTTP 500 until the call succeeds", async () => {
    let calls = 0;
    const result = await retryFirstCall(
      async () => {
        calls++;
        if (calls < 3) throw http500();
        return "ok";
      },
      { initialDelayMs: 1 },
    );
    expect(result).toBe("ok");
    expect(calls).toBe(3);
  });

  it("does not retry other errors", async () => {
    let calls = 0;
    const err = new ServerError(ErrorCodes.AUTH_FAILED, "no", 401);
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
  });

  it("gives up after the budget with the last error", async () => {
    let calls = 0;
    await expect(
      retryFirstCall(
        async () => {
          calls++;
          throw http500();
        },
        { initialDelayMs: 5, budgetMs: 30 },
      ),
    ).rejects.toMatchObject({ code: ErrorCodes.SERVER_ERROR, status: 500 });
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
          throw http500();
        },
        { initialDelayMs: 1, signal: ctrl.signal },
      ),
    ).rejects.toMatchObject({ status: 500 });
    expect(calls).toBe(1);
  });
});
