// A user who aliases "microsandbox" to this package must still get the REAL embedded runtime when
// the embedded backend loads it: it is reached under its own alias, never as "microsandbox".
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, symlink, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, it } from "vitest";
import { tempDir, type TempDir } from "../../helpers/temp-dir.js";

const run = promisify(execFile);
const repo = path.resolve(import.meta.dirname, "../../..");
let temp: TempDir | undefined;
let consumer: string;

beforeAll(async () => {
  if (!existsSync(path.join(repo, "dist/index.js"))) throw new Error("dist/ is missing: run `npm run build` first");
  temp = await tempDir("msbv-alias-");
  consumer = temp.path;
  await mkdir(path.join(consumer, "node_modules"), { recursive: true });
  // The drop-in set-up: "microsandbox" is this package.
  await symlink(repo, path.join(consumer, "node_modules", "microsandbox"), "dir");
  await writeFile(path.join(consumer, "package.json"), JSON.stringify({ type: "module", private: true }));
});
afterAll(async () => {
  await temp?.remove();
});

it("package.json declares the real runtime as an optional dependency under an alias, in the supported range", () => {
  const pkg = JSON.parse(readFileSync(path.join(repo, "package.json"), "utf8")) as {
    optionalDependencies?: Record<string, string>;
    dependencies?: Record<string, string>;
  };
  expect(pkg.optionalDependencies?.["microsandbox-embedded"]).toBe("npm:microsandbox@>=0.6.16 <0.7");
  expect(pkg.dependencies?.microsandbox).toBeUndefined();
});

it('with "microsandbox" aliased to us, the embedded loader still gets the real SDK', async (ctx) => {
  if (!existsSync(path.join(repo, "node_modules", "microsandbox-embedded"))) return ctx.skip();
  const probe = path.join(consumer, "probe.mjs");
  await writeFile(
    probe,
    [
      'const ours = await import("microsandbox");',
      'const { loadEmbeddedSdk } = await import(new URL("dist/backend/embedded/sdk.js", import.meta.resolve("microsandbox/package.json")).href);',
      "const sdk = await loadEmbeddedSdk().catch((e) => { console.log(JSON.stringify({ error: e.code })); process.exit(0); });",
      "console.log(JSON.stringify({ oursHasPythonSandbox: typeof ours.PythonSandbox, sdkHasBuilder: typeof sdk.Sandbox?.builder, oursHasBuilder: typeof ours.Sandbox?.builder }));",
    ].join("\n"),
  );
  const { stdout } = await run(process.execPath, [probe], { cwd: consumer });
  const result = JSON.parse(stdout) as Record<string, string>;
  // Elsewhere the native addon may be absent; on linux-x64 (this CI) it must load.
  if (result.error === "MSBV_EMBEDDED_UNAVAILABLE" && !(process.platform === "linux" && process.arch === "x64")) return ctx.skip();
  expect(result).toEqual({ oursHasPythonSandbox: "function", sdkHasBuilder: "function", oursHasBuilder: "undefined" });
});
