import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it, vi } from "vitest";
import { loadDotEnvIfNeeded } from "../../../src/client/env.js";
import { PythonSandbox } from "../../../src/client/index.js";
import { type TempDir, tempDir } from "../../helpers/temp-dir.js";

let dir: string;
let temp: TempDir;
beforeEach(async () => {
  temp = await tempDir("msbv-client-env-");
  dir = temp.path;
  await writeFile(join(dir, ".env"), "MSB_API_KEY=msb_from_file\nMSB_SERVER_URL=http://127.0.0.1:7777\n");
  // Stubbed so unstubAllEnvs restores (deletes) whatever the .env load sets.
  vi.stubEnv("MSB_API_KEY", undefined);
  vi.stubEnv("MSB_SERVER_URL", undefined);
});
afterEach(async () => {
  vi.unstubAllEnvs();
  await temp.remove();
});

it("loads ./.env when MSB_API_KEY is unset (it can also supply MSB_SERVER_URL)", () => {
  loadDotEnvIfNeeded(dir);
  expect(process.env.MSB_API_KEY).toBe("msb_from_file");
  expect(process.env.MSB_SERVER_URL).toBe("http://127.0.0.1:7777");
});

it("does not load .env when MSB_API_KEY is already set", () => {
  vi.stubEnv("MSB_API_KEY", "msb_from_env");
  loadDotEnvIfNeeded(dir);
  expect(process.env.MSB_API_KEY).toBe("msb_from_env");
  expect(process.env.MSB_SERVER_URL).toBeUndefined();
});

it("a missing .env is fine", () => {
  expect(() => loadDotEnvIfNeeded(join(dir, "nowhere"))).not.toThrow();
});

it("constructor: option > MSB_* env > default", () => {
  expect(new PythonSandbox().serverUrl).toBe("http://127.0.0.1:5555");
  vi.stubEnv("MSB_SERVER_URL", "http://127.0.0.1:6000");
  vi.stubEnv("MSB_API_KEY", "msb_env");
  const fromEnv = new PythonSandbox();
  expect(fromEnv.serverUrl).toBe("http://127.0.0.1:6000");
  expect(fromEnv.apiKey).toBe("msb_env");
  const fromOption = new PythonSandbox({ serverUrl: "http://127.0.0.1:6001", apiKey: "msb_opt", name: "n1" });
  expect(fromOption.serverUrl).toBe("http://127.0.0.1:6001");
  expect(fromOption.apiKey).toBe("msb_opt");
  expect(fromOption.name).toBe("n1");
  expect(fromOption.isStarted).toBe(false);
});
