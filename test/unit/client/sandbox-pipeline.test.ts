import { mkdir, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RpcBackend, type RpcBackendOptions } from "../../../src/backend/rpc-backend.js";
import { generatedConfigPath, readGeneratedFile } from "../../../src/config/index.js";
import { BaseSandbox, Execution, NodeSandbox, PythonSandbox, SandboxOptions } from "../../../src/client/index.js";
import { ErrorCodes } from "../../../src/errors/codes.js";
import { MsbvError } from "../../../src/errors/msbv-error.js";
import { fakeFetch, legacyResponder, type RecordedRequest } from "./fake-fetch.js";
import { type TempDir, tempDir } from "../../helpers/temp-dir.js";

// The whole client start path against a recording fetch: what reaches the wire, and that invalid
// input reaches neither the wire nor the generated-config folder.

let dir: string;
let temp: TempDir;
let configPath: string;

beforeEach(async () => {
  temp = await tempDir("msbv-client-unit-");
  dir = temp.path;
  configPath = join(dir, "microsandbox.toml");
  await writeFile(configPath, "# empty project config for the test\n");
  await mkdir(join(dir, "ws"));
});
afterEach(async () => {
  await temp.remove();
});

function withFake(url = "http://127.0.0.1:5555", extra: Partial<RpcBackendOptions> = {}) {
  const fake = fakeFetch(legacyResponder());
  const backend = new RpcBackend({ url, fetch: fake.fetch, ...extra });
  return { backend, requests: fake.requests };
}

const startParams = (reqs: RecordedRequest[]) => reqs.find((r) => r.body.method === "sandbox.start")?.body.params;

async function generatedFiles(): Promise<string[]> {
  return readdir(join(dir, ".microsandbox", "generated")).catch(() => []);
}

describe("start request body", () => {
  it("defaults: image always present, memory 512, cpus 1 integer, no null lists, namespace + id", async () => {
    const { backend, requests } = withFake();
    const sb = await PythonSandbox.create({ name: "plain", configPath, backend });
    const params = startParams(requests);
    expect(params).toEqual({
      sandbox: "plain",
      namespace: "default",
      config: { image: "microsandbox/python", memory: 512, cpus: 1 },
    });
    expect(JSON.stringify(requests)).not.toContain("null");
    expect(sb.isStarted).toBe(true);
    expect(await generatedFiles()).toEqual(["plain.toml"]);
    await sb.stop();
  });

  it("every field arrives: volumes absolute + normalised, depends_on snake case, cpus rounded to an integer", async () => {
    const { backend, requests } = withFake();
    const opts = SandboxOptions.builder()
      .name("full")
      .configPath(configPath)
      .backend(backend)
      .image("microsandbox/node")
      .memory(1024)
      .cpus(1.6)
      .volumes(["./ws/../ws/:/workspace", { host: "./data", guest: "/data", create: true }])
      .ports(["8080:80"])
      .envs(["A=1"])
      .dependsOn(["db"])
      .workdir("/workspace")
      .shell("/bin/bash")
      .scripts({ hello: "echo hi" })
      .build();
    const sb = await NodeSandbox.create(opts);
    const config = startParams(requests)?.config as Record<string, unknown>;
    expect(config).toEqual({
      image: "microsandbox/node",
      memory: 1024,
      cpus: 2,
      volumes: [`${dir}/ws:/workspace`, `${dir}/data:/data`],
      ports: ["8080:80"],
      envs: ["A=1"],
      depends_on: ["db"],
      workdir: "/workspace",
      shell: "/bin/bash",
      scripts: { hello: "echo hi" },
    });
    expect(config).not.toHaveProperty("dependsOn");
    await sb.stop();
  });

  it("run/command/metrics send the upstream params (language nodejs, timeout seconds as integers)", async () => {
    const { backend, requests } = withFake();
    const sb = await NodeSandbox.create({ name: "calls", configPath, backend });
    await sb.run("1+1", { timeout: 2.5 });
    await sb.command.run("ls", ["-la", "/"], 30);
    expect(await sb.metrics.isRunning()).toBe(true);
    expect(await sb.metrics.cpu()).toBe(1.5);
    const byMethod = (m: string) => requests.find((r) => r.body.method === m)?.body.params;
    expect(byMethod("sandbox.repl.run")).toEqual({ sandbox: "calls", namespace: "default", language: "nodejs", code: "1+1", timeout: 3 });
    expect(byMethod("sandbox.command.run")).toEqual({ sandbox: "calls", namespace: "default", command: "ls", args: ["-la", "/"], timeout: 30 });
    expect(byMethod("sandbox.metrics.get")).toEqual({ sandbox: "calls", namespace: "default" });
    await sb.stop();
  });
});

describe("lifecycle", () => {
  it("not started: upstream message, NOT_STARTED code", async () => {
    const sb = new PythonSandbox({ name: "idle", configPath });
    for (const call of [() => sb.run("1"), () => sb.command.run("ls"), () => sb.metrics.all()]) {
      await expect(call()).rejects.toMatchObject({
        code: ErrorCodes.NOT_STARTED,
        message: "Sandbox is not started. Call start() first.",
      });
    }
    await sb.stop(); // no-op, like upstream
  });

  it("await using stops the sandbox; stop is idempotent", async () => {
    const { backend, requests } = withFake();
    {
      await using sb = await PythonSandbox.create({ name: "scoped", configPath, backend });
      expect(sb.isStarted).toBe(true);
    }
    expect(requests.filter((r) => r.body.method === "sandbox.stop")).toHaveLength(1);
    const sb = await PythonSandbox.create({ name: "twice", configPath, backend });
    await Promise.all([sb.stop(), sb.stop()]);
    await sb.stop();
    expect(requests.filter((r) => r.body.method === "sandbox.stop")).toHaveLength(2);
  });

  it("never retries a 500, not even the first call after start (it may have run)", async () => {
    const fake = fakeFetch(
      legacyResponder({
        "sandbox.repl.run": () => new Response('{"error":"Internal server error","code":5002}', { status: 500 }),
      }),
    );
    const backend = new RpcBackend({ url: "http://127.0.0.1:5555", fetch: fake.fetch });
    const sb = await PythonSandbox.create({ name: "retry", configPath, backend });
    await expect(sb.run("print('ok')")).rejects.toMatchObject({ code: ErrorCodes.SERVER_ERROR, status: 500 });
    expect(fake.requests.filter((r) => r.body.method === "sandbox.repl.run")).toHaveLength(1);
  });

  it("typing: upstream-style code compiles against our classes", async () => {
    type CreateOptions = Parameters<typeof PythonSandbox.create>[0];
    const opts: CreateOptions = { name: "typed", configPath, backend: withFake().backend };
    const sb: PythonSandbox = await PythonSandbox.create(opts);
    expect(await sb.getDefaultImage()).toBe("microsandbox/python");
    expect(await new NodeSandbox({ configPath }).getDefaultImage()).toBe("microsandbox/node");
    expect(sb.name).toBe("typed");
    await sb.stop();
  });

  it("a subclass written against the upstream BaseSandbox still compiles and starts", async () => {
    class EchoSandbox extends BaseSandbox {
      async getDefaultImage(): Promise<string> {
        return "microsandbox/python";
      }
      async run(code: string, _options?: { timeout?: number }): Promise<Execution> {
        return new Execution({ output: [{ stream: "stdout", text: code }], status: "success", language: "echo" });
      }
    }
    const { backend, requests } = withFake();
    const sb = new EchoSandbox({ name: "echo", configPath, backend });
    await sb.start();
    expect((startParams(requests)!.config as { image: string }).image).toBe("microsandbox/python");
    expect(await (await sb.run("hi")).output()).toBe("hi");
    await sb.stop();
  });

  it("a subclass's getDefaultImage() is the image when neither options nor the file name one", async () => {
    class PinnedSandbox extends PythonSandbox {
      override async getDefaultImage(): Promise<string> {
        return "microsandbox/python:3.12";
      }
    }
    const { backend, requests } = withFake();
    const sb = new PinnedSandbox({ name: "pinned", configPath, backend });
    await sb.start();
    expect((startParams(requests)!.config as { image: string }).image).toBe("microsandbox/python:3.12");
    await sb.stop();
  });

  it("unnamed sandboxes get sandbox-<8 hex> and keep it through start", async () => {
    const { backend, requests } = withFake();
    const sb = new PythonSandbox({ configPath, backend });
    expect(sb.name).toMatch(/^sandbox-[0-9a-f]{8}$/);
    await sb.start();
    expect(startParams(requests)?.sandbox).toBe(sb.name);
    await sb.stop();
  });
});

describe("validation happens before anything is sent or written", () => {
  const bad: [string, SandboxOptions["volumes"], string][] = [
    ["empty host side", [":/workspace"], ErrorCodes.INVALID_VOLUME],
    ["empty guest side", ["./ws:"], ErrorCodes.INVALID_VOLUME],
    ["relative guest", ["./ws:workspace"], ErrorCodes.INVALID_VOLUME],
    ["duplicate guests", ["./ws:/workspace", "./ws:/workspace"], ErrorCodes.INVALID_VOLUME],
    ["':' in a path", ["./ws:/work:space"], ErrorCodes.INVALID_VOLUME],
    [":ro suffix", ["./ws:/workspace:ro"], ErrorCodes.INVALID_VOLUME],
    ["lone surrogate in the host", ["./ws\ud800:/workspace"], ErrorCodes.INVALID_VOLUME],
    ["lone surrogate in the guest (object form)", [{ host: "./ws", guest: "/workspace\udc80" }], ErrorCodes.INVALID_VOLUME],
    ["missing host dir", ["./nope:/workspace"], ErrorCodes.HOST_PATH_INVALID],
  ];
  for (const [label, volumes, code] of bad) {
    it(`${label} → ${code}, nothing sent, nothing written`, async () => {
      const { backend, requests } = withFake();
      const err = await PythonSandbox.create({ name: "bad", configPath, backend, volumes }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(MsbvError);
      expect((err as MsbvError).code).toBe(code);
      expect((err as MsbvError).hint).toBeTruthy();
      expect(requests).toHaveLength(0);
      expect(await generatedFiles()).toEqual([]);
    });
  }

  it("readonly on a legacy server → READONLY_UNSUPPORTED with a true hint; only the capability question is sent", async () => {
    const { backend, requests } = withFake();
    const err = await PythonSandbox.create({
      name: "bad",
      configPath,
      backend,
      volumes: [{ host: "./ws", guest: "/workspace", readonly: true }],
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCodes.READONLY_UNSUPPORTED });
    expect((err as MsbvError).hint).toBe("use the msbv dev server (msbv dev-server), which enforces it, or drop readonly");
    // The legacy server answered "method not found" to msbv.capabilities; sandbox.start was never sent.
    expect(requests.map((r) => r.body.method)).toEqual(["msbv.capabilities"]);
    expect(await generatedFiles()).toEqual([]);
  });

  it("nested guests are accepted and sent as two volumes (the runtime mounts the parent first)", async () => {
    await mkdir(join(dir, "skills"), { recursive: true });
    const { backend, requests } = withFake();
    const sb = await PythonSandbox.create({ name: "nested", configPath, backend, volumes: ["./skills:/w/skills", "./ws:/w"] });
    expect((startParams(requests)?.config as { volumes: string[] } | undefined)?.volumes).toEqual([
      `${join(dir, "skills")}:/w/skills`,
      `${join(dir, "ws")}:/w`,
    ]);
    await sb.stop();
  });

  it("sharedFilesystem next to a backend of one's own → INVALID_OPTION (the backend carries the mapping)", async () => {
    const { backend, requests } = withFake();
    const err = await PythonSandbox.create({ name: "x", configPath, backend, sharedFilesystem: [{ hostPrefix: dir, serverPrefix: "/m" }] }).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: ErrorCodes.INVALID_OPTION });
    expect(requests).toHaveLength(0);
  });

  it("a file instead of a directory → HOST_PATH_INVALID, nothing sent", async () => {
    await writeFile(join(dir, "file.txt"), "x");
    const { backend, requests } = withFake();
    await expect(PythonSandbox.create({ name: "bad", configPath, backend, volumes: ["./file.txt:/f"] })).rejects.toMatchObject({
      code: ErrorCodes.HOST_PATH_INVALID,
    });
    expect(requests).toHaveLength(0);
  });

  it("remote server + host paths → REMOTE_HOST_PATHS, nothing sent or written", async () => {
    const { backend, requests } = withFake("https://sandbox.example.com");
    const err = await PythonSandbox.create({ name: "far", configPath, backend, volumes: ["./ws:/workspace"] }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCodes.REMOTE_HOST_PATHS });
    expect((err as Error).message).toMatch(/shared_filesystem|sharedFilesystem/);
    expect((err as Error).message).toContain("sync");
    expect(requests).toHaveLength(0);
    expect(await generatedFiles()).toEqual([]);
  });

  it("remote server + sharedFilesystem → host prefix mapped on the wire", async () => {
    // A backend passed in carries its own mapping (the RpcBackend owns the wire conversion).
    const { backend, requests } = withFake("https://sandbox.example.com", { sharedFilesystem: [{ hostPrefix: dir, serverPrefix: "/mnt/shared" }] });
    const sb = await PythonSandbox.create({
      name: "nfs",
      configPath,
      backend,
      volumes: ["./ws:/workspace"],
    });
    expect((startParams(requests)!.config as { volumes: string[] }).volumes).toEqual(["/mnt/shared/ws:/workspace"]);
    // The generated file's [wire] table is the body that was sent (mapped paths), not the unmapped one.
    const generated = await readGeneratedFile(generatedConfigPath(dir, "nfs"));
    expect(generated?.wire).toEqual(startParams(requests)?.config);
    await sb.stop();
  });

  it('[server] mode = "sync": no volumes on the wire, the folders are synced instead (see test/e2e/sync/client.test.ts)', async () => {
    await writeFile(configPath, '[server]\nmode = "sync"\n');
    const { backend, requests } = withFake("http://10.1.2.3:5555");
    // The fake answers every command with empty output, so sync-in sees corrupt data after start and stops the sandbox again.
    await expect(PythonSandbox.create({ name: "sync", configPath, backend, volumes: ["./ws:/workspace"] })).rejects.toMatchObject({
      code: ErrorCodes.SYNC_FAILED,
    });
    expect((startParams(requests)!.config as { volumes?: string[] }).volumes).toBeUndefined();
    expect(requests.map((r) => r.body.method)).toContain("sandbox.stop");
  });

  it("an aborted signal on create → ABORTED, sandbox not started", async () => {
    const { backend } = withFake();
    const ctrl = new AbortController();
    ctrl.abort();
    const sb = new PythonSandbox({ name: "aborted", configPath, backend });
    await expect(sb.start(undefined, undefined, undefined, undefined, { signal: ctrl.signal })).rejects.toMatchObject({
      code: ErrorCodes.ABORTED,
    });
    expect(sb.isStarted).toBe(false);
    await expect(PythonSandbox.create({ name: "aborted2", configPath, backend, signal: ctrl.signal })).rejects.toMatchObject({
      code: ErrorCodes.ABORTED,
    });
  });

  it("volume change while running → VOLUME_CONFLICT; after stop it proceeds", async () => {
    const { backend, requests } = withFake(); // the fake reports started, not stopped, names as running
    const first = await PythonSandbox.create({ name: "vc", configPath, backend, volumes: ["./ws:/workspace"] });
    await mkdir(join(dir, "other"));
    const err = await PythonSandbox.create({ name: "vc", configPath, backend, volumes: ["./other:/workspace"] }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCodes.VOLUME_CONFLICT });
    expect((err as Error).message).toContain("stop it first");
    expect(requests.filter((r) => r.body.method === "sandbox.start")).toHaveLength(1);
    await first.stop();
    const second = await PythonSandbox.create({ name: "vc", configPath, backend, volumes: ["./other:/workspace"] });
    expect((startParams(requests.slice(-1))!.config as { volumes: string[] }).volumes).toEqual([`${dir}/other:/workspace`]);
    await second.stop();
  });
});
