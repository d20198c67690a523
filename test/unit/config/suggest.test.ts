import { describe, expect, it } from "vitest";
import { suggestKey } from "../../../src/config/suggest.js";

describe("suggestKey", () => {
  it("suggests the closest key within distance 2, ignoring case and -/_", () => {
    expect(suggestKey("memroy", ["image", "memory"])).toBe("memory");
    expect(suggestKey("depends-on", ["depends_on", "ports"])).toBe("depends_on");
    expect(suggestKey("VOLUME", ["volumes"])).toBe("volumes");
    expect(suggestKey("flavour", ["image", "memory"])).toBeUndefined();
  });
});
