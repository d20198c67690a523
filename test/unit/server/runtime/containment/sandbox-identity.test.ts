import { describe, expect, it } from "vitest";
import { allocateIdentity, DEDICATED_UID_BASE, DEDICATED_UID_SPAN } from "../../../../../src/server/runtime/containment/sandbox-identity.js";

describe("allocateIdentity", () => {
  it.runIf(process.getuid?.() === 0)("as root: a dedicated uid in the high range, never handed out twice while in use", () => {
    // A random source that always returns the same value forces a collision on the second call.
    let calls = 0;
    const random = () => (calls++ < 2 ? 0.5 : 0.25);
    const first = allocateIdentity(random);
    const second = allocateIdentity(random);
    expect(first.kind).toBe("dedicated");
    expect(first.uid).toBe(first.gid);
    expect(first.uid).toBeGreaterThanOrEqual(DEDICATED_UID_BASE);
    expect(first.uid).toBeLessThan(DEDICATED_UID_BASE + DEDICATED_UID_SPAN);
    expect(second.uid).not.toBe(first.uid);
    first.release();
    second.release();
    expect(allocateIdentity(() => 0.5).uid).toBe(first.uid);
  });
});
