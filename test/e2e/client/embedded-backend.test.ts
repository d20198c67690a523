// The public client on the embedded backend, on a machine where no microVM can boot (CI): the
// same resolution and volume checks as every backend run first (bad input → the usual typed
// errors, runtime never touched), then the real runtime's refusal arrives as
// MSBV_EMBEDDED_UNAVAILABLE with nothing left behind.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdir, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { probeKvm } from "../../../src/backend/embedded/kvm.js";
import { ErrorCodes, PythonSandbox } from "../../../src/index.js";
import { caught } from "../../helpers/caught.js";
import { sdkOrSkip } from "../../helpers/embedded-sdk.js";
import { processesMentioning } from "../../helpers/processes.js";
import { tempDir, type TempDir } from "../../helpers/temp-dir.js";

let temp: TempDir | undefined;
let project: string;
let msbHome: string;
let kvmUsable = true;

beforeAll(async () => {
  temp = await tempDir("msbv-emb-client-");
  project = temp.path;
  msbHome = path.join(project, "msb-home");
  process.env.MSB_HOME = msbHome;
  await mkdir(path.join(project, "workspace"));
  await mkdir(path.join(project, "data"));
  await writeFile(
    path.join(project, "microsandbox.toml"),
    '[server]\nbackend = "embedded"\n\n[sandboxes.filebacked]\nimage = "microsandbox/python"\nvolumes = ["./workspace:/workspace"]\n',
  );
  await sdkOrSkip();
  kvmUsable = (await probeKvm()).usable;
});
afterAll(async () => {
  await temp?.remove();
});

describe("PythonSandbox.create with backend embedded", () => {
  it("a missing host folder is refused with the usual typed error before the runtime is touched", async () => {
    const err = await caught(
      PythonSandbox.create({ name: "badvol", backend: "embedded", configPath: path.join(project, "microsandbox.toml"), volumes: ["./nope:/data"] }),
    );
    expect(err.code).toBe(ErrorCodes.HOST_PATH_INVALID);
    expect(existsSync(msbHome)).toBe(false);
  });

  it("a malformed volume is refused as for any backend", async () => {
    const err = await caught(
      PythonSandbox.create({
        name: "badvol2",
        backend: "embedded",
        configPath: path.join(project, "microsandbox.toml"),
        volumes: ["./workspace:relative"],
      }),
    );
    expect(err.code).toBe(ErrorCodes.INVALID_VOLUME);
    expect(existsSync(msbHome)).toBe(false);
  });

  it("an unknown backend name is an invalid option", async () => {
    const err = await caught(PythonSandbox.create({ name: "x", backend: "qemu" as "embedded", configPath: path.join(project, "microsandbox.toml") }));
    expect(err.code).toBe(ErrorCodes.INVALID_OPTION);
    expect(err.message).toMatch(/backend/);
  });

  it("read-only volumes are accepted (the runtime enforces them), then KVM's absence is MSBV_EMBEDDED_UNAVAILABLE, twice, nothing left", async (ctx) => {
    if (kvmUsable) return ctx.skip();
    const name = `emb-client-${randomBytes(4).toString("hex")}`;
    for (let attempt = 0; attempt < 2; attempt++) {
      const err = await caught(
        PythonSandbox.create({
          name,
          backend: "embedded",
          configPath: path.join(project, "microsandbox.toml"),
          volumes: ["./workspace:/workspace", { host: "./data", guest: "/data", readonly: true }],
        }),
      );
      expect(err.code).toBe(ErrorCodes.EMBEDDED_UNAVAILABLE);
      expect(err.message).toMatch(/KVM/);
      expect(err.message).toMatch(/msbv dev-server/);
    }
    expect(await processesMentioning(name)).toEqual([]);
    // No runtime state was created at all: the KVM probe ran before the SDK was asked anything.
    expect(existsSync(path.join(msbHome, "sandboxes", name))).toBe(false);
    // The refusal came before the backend's onRequest: no generated file records a start that never happened.
    expect(existsSync(path.join(project, ".microsandbox", "generated", `${name}.toml`))).toBe(false);
  });

  it("control: the same read-only volume on the RPC backend is asked about and refused by a legacy server", async () => {
    // A legacy server: every method, msbv.capabilities included, is "method not found".
    const methods: string[] = [];
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        const { id, method } = JSON.parse(body) as { id: string; method: string };
        methods.push(method);
        res.setHeader("Content-Type", "application/json");
        res.end(JSON.stringify({ jsonrpc: "2.0", id, error: { code: -32601, message: "Method not found" } }));
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const { port } = server.address() as AddressInfo;
      const err = await caught(
        PythonSandbox.create({
          name: "ro-rpc",
          backend: "rpc",
          serverUrl: `http://127.0.0.1:${port}`,
          configPath: path.join(project, "microsandbox.toml"),
          volumes: [{ host: "./data", guest: "/data", readonly: true }],
        }),
      );
      expect(err.code).toBe(ErrorCodes.READONLY_UNSUPPORTED);
      expect(methods).toEqual(["msbv.capabilities"]);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it("sharedFilesystem (a mapping for a remote server) is refused with the embedded backend", async () => {
    const err = await caught(
      PythonSandbox.create({
        name: "shared",
        backend: "embedded",
        configPath: path.join(project, "microsandbox.toml"),
        sharedFilesystem: [{ hostPrefix: project, serverPrefix: "/mnt/p" }],
        volumes: [{ host: "./data", guest: "/data", readonly: true }],
      }),
    );
    expect(err.code).toBe(ErrorCodes.INVALID_OPTION);
    expect(err.message).toMatch(/sharedFilesystem/);
    expect(existsSync(msbHome)).toBe(false);
  });

  it('[server] backend = "embedded" in microsandbox.toml selects the embedded backend', async (ctx) => {
    if (kvmUsable) return ctx.skip();
    const err = await caught(PythonSandbox.create({ name: "filebacked", configPath: path.join(project, "microsandbox.toml") }));
    expect(err.code).toBe(ErrorCodes.EMBEDDED_UNAVAILABLE);
  });

  it('control: backend "rpc" on the call beats the file and goes to the (absent) server instead', async () => {
    const err = await caught(
      PythonSandbox.create({
        name: "filebacked",
        backend: "rpc",
        serverUrl: "http://127.0.0.1:9",
        configPath: path.join(project, "microsandbox.toml"),
      }),
    );
    expect(err.code).toBe(ErrorCodes.CONNECTION_FAILED);
  });
});
