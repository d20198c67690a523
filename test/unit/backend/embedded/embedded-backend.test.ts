// EmbeddedBackend's lifecycle logic without a VM: the REAL SDK builds each config (real mapping),
// while the VM lifecycle (create, records, exec streams) is a fake whose processes run locally.
// Covers reconnect, refusal of a changed volume set, stale records, depends_on order, stop,
// command output/timeout and run() state through the in-VM driver protocol.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { EmbeddedBackend } from "../../../../src/backend/embedded/embedded-backend.js";
import type { StreamEvent } from "../../../../src/backend/embedded/exec-stream.js";
import type { EmbeddedSdk } from "../../../../src/backend/embedded/sdk.js";
import type { SandboxSpec } from "../../../../src/backend/sandbox-spec.js";
import { ErrorCodes, SandboxStateError } from "../../../../src/errors/index.js";
import { caught } from "../../../helpers/caught.js";
import { sdkOrSkip } from "../../../helpers/embedded-sdk.js";
import { tempDir, type TempDir } from "../../../helpers/temp-dir.js";

let real: EmbeddedSdk | undefined;
let home: TempDir | undefined;
beforeAll(async () => {
  home = await tempDir("msbv-emb-fake-");
  process.env.MSB_HOME = home.path;
  real = await sdkOrSkip();
});
afterAll(async () => {
  await home?.remove();
});

const children: Array<ReturnType<typeof spawn>> = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill("SIGKILL");
});

/** An SDK ExecHandle over a local process (`sh` stands in for the VM's shell). */
function localHandle(command: string, args: string[], stdin: boolean) {
  const child = spawn(command, args, { stdio: [stdin ? "pipe" : "ignore", "pipe", "pipe"] });
  children.push(child);
  const queue: Array<StreamEvent | null> = [];
  const waiters: Array<(e: StreamEvent | null) => void> = [];
  const push = (e: StreamEvent | null) => {
    const w = waiters.shift();
    if (w) w(e);
    else queue.push(e);
  };
  let open = 2;
  const closed = () => {
    if (--open === 0) {
      child.once("exit", (code) => {
        push({ kind: "exited", code: code ?? 137 });
        push(null);
      });
    }
  };
  const { stdout, stderr } = child;
  if (!stdout || !stderr) throw new Error("stdout/stderr must be pipes");
  stdout.on("data", (data: Buffer) => push({ kind: "stdout", data }));
  stderr.on("data", (data: Buffer) => push({ kind: "stderr", data }));
  stdout.on("end", closed);
  stderr.on("end", closed);
  return {
    recv: () => (queue.length ? Promise.resolve(queue.shift() ?? null) : new Promise<StreamEvent | null>((r) => waiters.push(r))),
    takeStdin: async () => (child.stdin ? { write: (t: string) => new Promise<void>((r) => child.stdin!.write(t, () => r())) } : null),
    signal: async (s: number) => void child.kill(s),
    kill: async () => void child.kill("SIGKILL"),
  };
}

interface Record_ {
  status: string;
  config: Record<string, unknown>;
}

/** Records and lifecycle are fake; builders are the real SDK's (create() → build()). */
function fakeSdk(sdk: EmbeddedSdk, gate: Promise<void> = Promise.resolve()) {
  const records = new Map<string, Record_>();
  const events: string[] = [];
  const sandboxOf = (name: string) => ({
    name,
    execStreamWith: async (cmd: string, configure: (b: { args(a: string[]): unknown; stdinPipe(): unknown; stdinNull(): unknown }) => unknown) => {
      let args: string[] = [];
      let pipe = false;
      const b = {
        args: (a: string[]) => {
          args = a;
          return b;
        },
        stdinPipe: () => {
          pipe = true;
          return b;
        },
        stdinNull: () => b,
      };
      configure(b);
      return localHandle(cmd === "python3" || cmd === "node" ? cmd : cmd, args, pipe);
    },
    destroy: async () => {
      events.push(`destroy:${name}`);
      records.delete(name);
    },
  });
  const handleOf = (name: string) => {
    const r = records.get(name)!;
    return {
      name,
      status: r.status,
      config: () => r.config,
      connect: async () => {
        events.push(`connect:${name}`);
        return sandboxOf(name);
      },
      destroy: async () => {
        events.push(`destroy:${name}`);
        records.delete(name);
      },
      kill: async () => void events.push(`kill:${name}`),
      metrics: async () => ({ cpuPercent: 12.5, memoryBytes: 300 * 1024 * 1024 + 1, upperUsedBytes: 4096 }),
    };
  };
  const fake = {
    ...sdk,
    Sandbox: {
      get: async (name: string) => {
        if (!records.has(name)) throw Object.assign(new Error(`sandbox not found: ${name}`), { code: "sandboxNotFound" });
        return handleOf(name);
      },
      remove: async (name: string) => {
        events.push(`remove:${name}`);
        records.delete(name);
      },
      listWith: async () => ({ sandboxes: [...records.keys()].map(handleOf) }),
      builder: (name: string) => {
        const builder = sdk.Sandbox.builder(name);
        const proxy: object = new Proxy(builder, {
          get(target, prop) {
            if (prop === "create") {
              return async () => {
                const config = (await target.build()) as Record<string, unknown>;
                events.push(`creating:${name}`);
                await gate;
                events.push(`create:${name}`);
                records.set(name, { status: "running", config });
                return sandboxOf(name);
              };
            }
            // build() is the dry run whose result start() hands to onRequest.
            if (prop === "build") return () => target.build();
            const value = Reflect.get(target, prop, target) as unknown;
            if (typeof value !== "function") return value;
            // Setters return the proxy, so create() and build() stay intercepted down the chain.
            return (...a: unknown[]) => {
              value.apply(target, a);
              return proxy;
            };
          },
        });
        return proxy;
      },
    },
  };
  return { sdk: fake as unknown as EmbeddedSdk, records, events };
}

const usable = async () => ({ usable: true, reason: "ok" as const, detail: "test" });
const cfg = (name: string, volumes: SandboxSpec["volumes"] = [], dependsOn: string[] = []): SandboxSpec => ({
  name,
  image: "microsandbox/python",
  memory: 512,
  cpus: 1,
  volumes,
  ports: [],
  envs: [],
  dependsOn,
});
const ws = { host: "/srv/p/ws", guest: "/workspace", readonly: false };

describe("EmbeddedBackend lifecycle (fake VMs, real builder)", () => {
  it("start of a running name reconnects; a changed volume set is refused", async (ctx) => {
    if (!real) return ctx.skip();
    const fake = fakeSdk(real);
    await new EmbeddedBackend({ probeKvm: usable, loadSdk: async () => fake.sdk }).start(cfg("a", [ws]));
    // A second process (new backend instance) starting the same name attaches to it.
    const other = new EmbeddedBackend({ probeKvm: usable, loadSdk: async () => fake.sdk });
    await other.start(cfg("a", [ws]));
    expect(fake.events.filter((e) => !e.startsWith("creating:"))).toEqual(["create:a", "connect:a"]);
    const err = await caught(other.start(cfg("a", [{ ...ws, readonly: true }])));
    expect(err.code).toBe(ErrorCodes.VOLUME_CONFLICT);
  });

  it("a stopped record is removed and the name created afresh; stop() leaves no record", async (ctx) => {
    if (!real) return ctx.skip();
    const fake = fakeSdk(real);
    fake.records.set("b", { status: "stopped", config: {} });
    const backend = new EmbeddedBackend({ probeKvm: usable, loadSdk: async () => fake.sdk });
    await backend.start(cfg("b"));
    await backend.stop("b");
    expect(fake.records.has("b")).toBe(false);
    await backend.start(cfg("b"));
    expect(fake.events.filter((e) => e.startsWith("create:"))).toEqual(["create:b", "create:b"]);
    expect(fake.events[0]).toBe("remove:b");
  });

  it("a name another process is starting is refused, never killed", async (ctx) => {
    if (!real) return ctx.skip();
    const fake = fakeSdk(real);
    fake.records.set("busy", { status: "starting", config: {} });
    const err = await caught(new EmbeddedBackend({ probeKvm: usable, loadSdk: async () => fake.sdk }).start(cfg("busy")));
    expect(err.code).toBe(ErrorCodes.NOT_STARTED);
    expect(err.message).toMatch(/starting/);
    expect(fake.events).toEqual([]);
    expect(fake.records.get("busy")?.status).toBe("starting");
  });

  it("depends_on sandboxes start first, in order; a cycle is refused", async (ctx) => {
    if (!real) return ctx.skip();
    const fake = fakeSdk(real);
    const configs: Record<string, SandboxSpec> = {
      db: cfg("db"),
      cache: cfg("cache", [], ["db"]),
      loop1: cfg("loop1", [], ["loop2"]),
      loop2: cfg("loop2", [], ["loop1"]),
    };
    const backend = new EmbeddedBackend({ probeKvm: usable, loadSdk: async () => fake.sdk, resolveDependency: async (n) => configs[n]! });
    await backend.start(cfg("app", [], ["db", "cache"]));
    expect(fake.events.filter((e) => e.startsWith("create:"))).toEqual(["create:db", "create:cache", "create:app"]);
    expect((await caught(backend.start(configs.loop1!))).code).toBe(ErrorCodes.INVALID_OPTION);
  });

  it("without a resolver, a dependency that is not running is NOT_STARTED before anything is created", async (ctx) => {
    if (!real) return ctx.skip();
    const fake = fakeSdk(real);
    const err = await caught(new EmbeddedBackend({ probeKvm: usable, loadSdk: async () => fake.sdk }).start(cfg("app", [], ["db"])));
    expect(err.code).toBe(ErrorCodes.NOT_STARTED);
    expect(fake.events).toEqual([]); // nothing created, not even begun
  });

  it("capabilities: read-only mounts enforced, host paths local (asked without touching the runtime)", async () => {
    let loaded = false;
    const loadSdk = async () => {
      loaded = true;
      return {} as EmbeddedSdk;
    };
    const backend = new EmbeddedBackend({ probeKvm: usable, loadSdk });
    expect(await backend.capabilities()).toEqual({ readonlyVolumes: true, localHostPaths: true });
    expect(loaded).toBe(false);
  });

  it("onRequest gets the runtime's SandboxConfig once, before anything is created; a rejection creates nothing", async (ctx) => {
    if (!real) return ctx.skip();
    const fake = fakeSdk(real);
    const backend = new EmbeddedBackend({ probeKvm: usable, loadSdk: async () => fake.sdk });
    const requests: Array<Readonly<Record<string, unknown>>> = [];
    const ro = { host: "/srv/p/servers", guest: "/workspace/servers", readonly: true };
    await backend.start(cfg("r", [ro, ws]), {
      onRequest: async (request) => {
        requests.push(request);
        fake.events.push("request");
      },
    });
    expect(fake.events.filter((e) => !e.startsWith("creating:"))).toEqual(["request", "create:r"]);
    expect(requests).toHaveLength(1);
    // Exactly what create() received (the fake records the config create() was built from).
    expect(requests[0]).toEqual(fake.records.get("r")?.config);
    const mounts = (requests[0]?.mounts ?? []) as Array<{ guest: string; options: { readonly: boolean } }>;
    expect(mounts.map((m) => [m.guest, m.options.readonly])).toEqual([
      ["/workspace", false],
      ["/workspace/servers", true],
    ]);

    const refused = new SandboxStateError(ErrorCodes.VOLUME_CONFLICT, "volume set changed");
    const err = await caught(backend.start(cfg("r2"), { onRequest: () => Promise.reject(refused) }));
    expect(err).toBe(refused);
    expect(fake.records.has("r2")).toBe(false);
    expect(fake.events.some((e) => e.endsWith(":r2"))).toBe(false);
  });

  it("an unusable KVM verdict stops before the SDK is even loaded (and before onRequest)", async () => {
    let requested = false;
    let loaded = false;
    const backend = new EmbeddedBackend({
      probeKvm: async () => ({ usable: false, reason: "kvm-missing", detail: "KVM device /dev/kvm is missing" }),
      loadSdk: async () => {
        loaded = true;
        return {} as EmbeddedSdk;
      },
    });
    expect(
      (
        await caught(
          backend.start(cfg("x"), {
            onRequest: async () => {
              requested = true;
            },
          }),
        )
      ).code,
    ).toBe(ErrorCodes.EMBEDDED_UNAVAILABLE);
    expect(loaded).toBe(false);
    expect(requested).toBe(false);
  });

  it("command.run keeps ordered stdout/stderr lines; a timeout keeps partial output with exit code -1", async (ctx) => {
    if (!real) return ctx.skip();
    const fake = fakeSdk(real);
    const backend = new EmbeddedBackend({ probeKvm: usable, loadSdk: async () => fake.sdk });
    await backend.start(cfg("c"));
    const ok = await backend.runCommand("c", "sh", ["-c", "echo one; sleep 0.2; echo two >&2; sleep 0.2; echo three; exit 3"], undefined);
    expect(ok).toEqual({
      command: "sh",
      args: ["-c", "echo one; sleep 0.2; echo two >&2; sleep 0.2; echo three; exit 3"],
      exit_code: 3,
      success: false,
      output: [
        { stream: "stdout", text: "one" },
        { stream: "stderr", text: "two" },
        { stream: "stdout", text: "three" },
      ],
    });
    const slow = await backend.runCommand("c", "sh", ["-c", "echo started; exec sleep 30"], 1);
    expect(slow.exit_code).toBe(-1);
    expect(slow.output[0]).toEqual({ stream: "stdout", text: "started" });
    expect(slow.output.at(-1)?.text).toMatch(/timed out after 1 seconds/);
  });

  it.skipIf(!existsSync("/usr/bin/python3"))("run() keeps state through the in-VM driver; metrics map to legacy units", async (ctx) => {
    if (!real) return ctx.skip();
    const fake = fakeSdk(real);
    const backend = new EmbeddedBackend({ probeKvm: usable, loadSdk: async () => fake.sdk });
    await backend.start(cfg("d"));
    await backend.runCode("d", "python", "x = 6 * 7", undefined);
    expect(await backend.runCode("d", "Python", "x", undefined)).toEqual({
      language: "Python",
      status: "success",
      output: [{ stream: "stdout", text: "42" }],
    });
    expect(await backend.metrics("d")).toEqual([{ name: "d", running: true, cpu_usage: 12.5, memory_usage: 300, disk_usage: 4096 }]);
    expect((await caught(backend.runCode("d", "ruby", "1", undefined))).code).toBe(ErrorCodes.INVALID_OPTION);
  });

  it("an aborted start rejects with MSBV_ABORTED and removes the sandbox once its create finishes", async (ctx) => {
    if (!real) return ctx.skip();
    let release!: () => void;
    const fake = fakeSdk(real, new Promise<void>((r) => (release = r)));
    const backend = new EmbeddedBackend({ probeKvm: usable, loadSdk: async () => fake.sdk });
    const controller = new AbortController();
    const starting = backend.start(cfg("e"), { signal: controller.signal });
    // Abort while the runtime is inside create() (which takes no signal).
    await vi.waitFor(() => expect(fake.events).toContain("creating:e"));
    controller.abort();
    expect((await caught(starting)).code).toBe(ErrorCodes.ABORTED);
    release();
    await vi.waitFor(() => expect(fake.events).toContain("destroy:e"));
    expect(fake.records.has("e")).toBe(false);
  });
});
