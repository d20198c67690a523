import { describe, expect, it } from "vitest";
import { ErrorCodes, WorkspaceError } from "../../../src/errors/index.js";
import { splitRelPath } from "../../../src/workspace/index.js";

describe("splitRelPath", () => {
  it.each([
    ["", []],
    [".", []],
    ["./", []],
    ["a", ["a"]],
    ["a/b/c.txt", ["a", "b", "c.txt"]],
    ["a//b/./c/", ["a", "b", "c"]],
    ["a/../b", ["b"]],
    ["a/b/../../c", ["c"]],
    ["..foo", ["..foo"]],
    ["a\\b", ["a\\b"]],
  ])("%j → %j", (rel, want) => {
    expect(splitRelPath(rel)).toEqual(want);
  });

  it.each([
    ["..", "leaves the workspace root"],
    ["../x", "leaves the workspace root"],
    ["a/../../x", "leaves the workspace root"],
    ["/etc/passwd", "is absolute"],
    ["a\0b", "NUL"],
  ])("refuses %j", (rel, text) => {
    let err: unknown;
    try {
      splitRelPath(rel);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WorkspaceError);
    expect((err as WorkspaceError).code).toBe(ErrorCodes.WORKSPACE_ESCAPE);
    expect((err as WorkspaceError).message).toContain(text);
    expect((err as WorkspaceError).hint).toBeTruthy();
  });
});
