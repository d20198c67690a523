import { describe, expect, it } from "vitest";
import { DevServerError } from "../../../../src/errors/index.js";
import { requireImageLanguage } from "../../../../src/server/runtime/images.js";
import { imageToLanguage, supportedImages } from "../../../../src/server/runtime/index.js";

describe("imageToLanguage", () => {
  it.each([
    ["microsandbox/python", "python"],
    ["microsandbox/node", "node"],
    ["docker.io/microsandbox/python:latest", "python"],
    ["microsandbox/node:22.1-slim", "node"],
    ["MicroSandbox/Python", "python"],
  ])("maps %s to %s", (image, language) => {
    expect(imageToLanguage(image)).toBe(language);
  });

  it.each(["python", "ubuntu:22.04", "evil/microsandbox/python", "microsandbox/python3", "ghcr.io/microsandbox/python", "microsandbox/node:"])(
    "refuses %s",
    (image) => {
      expect(imageToLanguage(image)).toBeUndefined();
    },
  );

  it("names the supported images when refusing", () => {
    expect(supportedImages).toEqual(["microsandbox/python", "microsandbox/node"]);
    expect(() => requireImageLanguage("alpine", "sb")).toThrow(DevServerError);
    expect(() => requireImageLanguage("alpine", "sb")).toThrow(/microsandbox\/python, microsandbox\/node/);
  });
});
