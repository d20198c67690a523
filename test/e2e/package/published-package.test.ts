import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { symlink, writeFile, mkdir } from "node:fs/promises";
import * as path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TempDir, tempDir } from "../../helpers/temp-dir.js";

// Test what we publish: the built dist/, the exports map and the .d.ts files, imported by name from a
// separate Node process the way a user's project would (`npm run build` runs before vitest in `npm test`).
const run = promisify(execFile);
const repo = path.resolve(import.meta.dirname, "../../..");
const pkg = JSON.parse(readFileSync(path.join(repo, "package.json"), "utf8")) as {
  name: string;
  exports: Record<string, unknown>;
  bin: Record<string, string>;
  engines: { node: string };
  type: string;
};

let consumer: string;
let consumerDir: TempDir | undefined;

beforeAll(async () => {
  if (!existsSync(path.join(repo, "dist/index.js"))) {
    throw new Error("dist/ is missing: run `npm run build` (the `npm test` script does it first)");
  }
  // A throwaway consumer project with the package linked into node_modules under both names a user
  // may use: its own, and "microsandbox" through an npm alias.
  consumerDir = await tempDir("msbv-consumer-");
  consumer = consumerDir.path;
  await mkdir(path.join(consumer, "node_modules"), { recursive: true });
  await symlink(repo, path.join(consumer, "node_modules", "microsandbox-volumes"), "dir");
  await symlink(repo, path.join(consumer, "node_modules", "microsandbox"), "dir");
  await writeFile(path.join(consumer, "package.json"), JSON.stringify({ type: "module", private: true }));
});

afterAll(async () => {
  await consumerDir?.remove();
});

async function node(script: string): Promise<string> {
  const file = path.join(consumer, `probe-${Math.random().toString(36).slice(2)}.mjs`);
  await writeFile(file, script);
  const { stdout } = await run(process.execPath, [file], { cwd: consumer });
  return stdout.trim();
}

describe("published package", () => {
  it("declares an ESM-only exports map with types for every entry", () => {
    expect(pkg.name).toBe("microsandbox-volumes");
    expect(pkg.type).toBe("module");
    expect(pkg.engines.node).toBe(">=22");
    expect(Object.keys(pkg.exports).sort()).toEqual([".", "./package.json", "./server"]);
    for (const entry of [".", "./server"]) {
      const target = pkg.exports[entry] as { types: string; default: string };
      expect(existsSync(path.join(repo, target.types)), target.types).toBe(true);
      expect(existsSync(path.join(repo, target.default)), target.default).toBe(true);
    }
    expect(existsSync(path.join(repo, pkg.bin.msbv!))).toBe(true);
  });

  it("imports by name from a child process with the legacy SDK's runtime exports", async () => {
    const out = await node(`
      import * as m from "microsandbox-volumes";
      import * as alias from "microsandbox";
      const names = ["BaseSandbox","PythonSandbox","NodeSandbox","Execution","CommandExecution","Command","Metrics","SandboxOptions","Workspace","MsbvError","ErrorCodes","RpcBackend"];
      console.log(JSON.stringify({
        missing: names.filter((n) => !(n in m)),
        aliasSame: alias.PythonSandbox === m.PythonSandbox,
        builder: typeof m.SandboxOptions.builder,
        hasDefault: "default" in m,
        dispose: typeof m.PythonSandbox.prototype[Symbol.asyncDispose],
      }));
    `);
    expect(JSON.parse(out)).toEqual({ missing: [], aliasSame: true, builder: "function", hasDefault: false, dispose: "function" });
  });

  it("resolves ./server and ./package.json, and hides internals", async () => {
    const out = await node(`
      const server = await import("microsandbox-volumes/server");
      const pj = (await import("microsandbox-volumes/package.json", { with: { type: "json" } })).default;
      let internal = "exposed";
      try { await import("microsandbox-volumes/dist/client/base-sandbox.js"); } catch (e) { internal = e.code; }
      console.log(JSON.stringify({ start: typeof server.startDevServer, mint: typeof server.mintApiKey, version: pj.version, internal }));
    `);
    const parsed = JSON.parse(out) as Record<string, string>;
    expect(parsed).toMatchObject({ start: "function", mint: "function", internal: "ERR_PACKAGE_PATH_NOT_EXPORTED" });
    expect(parsed.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("type-checks upstream-style consumer code against the published .d.ts files", async () => {
    // Code written for the legacy SDK (as its known consumers use it), plus our additions.
    await writeFile(
      path.join(consumer, "consumer.ts"),
      `import { PythonSandbox, NodeSandbox, Execution, CommandExecution, SandboxOptions, Workspace, MsbvError, ErrorCodes } from "microsandbox";
import type { VolumeSpec } from "microsandbox-volumes";
import { startDevServer } from "microsandbox-volumes/server";
type CreateOptions = Parameters<typeof PythonSandbox.create>[0];
const volumes: VolumeSpec[] = ["./workspace:/workspace", { host: "./data", guest: "/data", create: true }];
const opts: CreateOptions = { name: "typed", volumes, envs: ["A=1"], dependsOn: ["db"], timeout: 60 };
export async function main(): Promise<void> {
  const server = await startDevServer({ port: 0, dev: true });
  const sb: PythonSandbox = await PythonSandbox.create({ ...opts, serverUrl: server.url });
  const exec: Execution = await sb.run("print(1)", { timeout: 5 });
  const out: string = await exec.output();
  const failed: boolean = exec.hasError();
  const cmd: CommandExecution = await sb.command.run("ls", ["-la"], 30);
  const code: number = cmd.exitCode;
  const ok: boolean = cmd.success;
  const cpu: number | undefined = await sb.metrics.cpu();
  const built = SandboxOptions.builder().name("b").memory(256).build();
  const ws = await Workspace.open("./workspace");
  const text: string = await ws.readText("x.txt");
  const node = await NodeSandbox.create(built);
  await node.stop();
  await sb.stop();
  await server.close();
  try { await sb.run("x"); } catch (e) { if (e instanceof MsbvError && e.code === ErrorCodes.NOT_STARTED) console.log(out, failed, code, ok, cpu, text); }
}
// @ts-expect-error volumes must be strings or volume objects
const bad: CreateOptions = { volumes: [42] };
void bad;
`,
    );
    await writeFile(
      path.join(consumer, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          module: "NodeNext",
          moduleResolution: "NodeNext",
          target: "ES2022",
          lib: ["ES2023", "ESNext.Disposable"],
          noEmit: true,
          skipLibCheck: false,
          types: [],
          typeRoots: [path.join(repo, "node_modules/@types")],
        },
        files: ["consumer.ts"],
      }),
    );
    const tsc = path.join(repo, "node_modules/typescript/bin/tsc");
    const result = await run(process.execPath, [tsc, "-p", consumer, "--types", "node"], { cwd: consumer }).then(
      (r) => ({ code: 0, out: r.stdout }),
      (e: { code: number; stdout: string }) => ({ code: e.code, out: e.stdout }),
    );
    expect(result.out).toBe("");
    expect(result.code).toBe(0);
  }, 120_000);
});
