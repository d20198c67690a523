import { expect, it } from "vitest";
import { causesOf } from "../../../src/errors/causes.js";

it("yields an error and its causes outermost first, stops at a non-Error and at the depth", () => {
  const inner = new Error("inner", { cause: "not an error" });
  const outer = new Error("outer", { cause: new Error("middle", { cause: inner }) });
  expect([...causesOf(outer)].map((e) => e.message)).toEqual(["outer", "middle", "inner"]);
  expect([...causesOf(outer, 2)].map((e) => e.message)).toEqual(["outer", "middle"]);
  expect([...causesOf("text")]).toEqual([]);
  // A cycle ends at the depth.
  const a = new Error("a");
  a.cause = a;
  expect([...causesOf(a)]).toHaveLength(6);
});
