import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ErrorCodes, PythonSandbox, ServerError } from "../../../src/index.js";
import { mintApiKey, startDevServer } from "../../../src/server/index.js";
import { type TempDir, tempDir } from "../../helpers/temp-dir.js";

// A dev server with authentication (not dev mode): a valid msb_ key works, a bad one fails with
// AUTH_FAILED naming the fix, and the key never shows up in the error.

const SECRET = "client-e2e-secret-0123456789abcdef";
let dir: string;
let temp: TempDir;
let server: Awaited<ReturnType<typeof startDevServer>>;

beforeAll(async () => {
  temp = await tempDir("msbv-client-auth-");
  dir = temp.path;
  await writeFile(join(dir, "microsandbox.toml"), "");
  server = await startDevServer({
    port: 0,
    key: SECRET,
    projectDir: join(dir, "server"),
    home: join(dir, "home"),
    allowRoots: [dir],
    logger: () => {},
  });
});
afterAll(async () => {
  await server?.close();
  await temp.remove();
});

it("a valid key is sent as Bearer and accepted", async () => {
  const apiKey = await mintApiKey(SECRET);
  await using sb = await PythonSandbox.create({ name: "authed", serverUrl: server.url, apiKey, configPath: join(dir, "microsandbox.toml") });
  const exec = await sb.run("print(6 * 7)");
  expect(await exec.output()).toBe("42");
});

it("a key signed with another secret → AUTH_FAILED, key not in the message", async () => {
  const apiKey = await mintApiKey("some-other-secret-0123456789abcdef");
  const err = await PythonSandbox.create({ name: "denied", serverUrl: server.url, apiKey, configPath: join(dir, "microsandbox.toml") }).catch(
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ServerError);
  expect((err as ServerError).code).toBe(ErrorCodes.AUTH_FAILED);
  expect((err as ServerError).status).toBe(401);
  expect((err as ServerError).hint).toContain("MSB_API_KEY");
  expect((err as Error).message).not.toContain(apiKey.slice(4));
  expect(String((err as Error).stack)).not.toContain(apiKey.slice(4));
});
