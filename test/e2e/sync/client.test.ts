import { lstat, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { PythonSandbox } from "../../../src/client/index.js";
import { ErrorCodes, SyncError } from "../../../src/errors/index.js";
import { SyncConflictError } from "../../../src/sync/index.js";
import { startSyncFixture, type SyncFixture } from "../../helpers/sync-fixture.js";

// Sync mode through the public client: no volumes on the wire, folders copied in at start and back
// in stop(). The dev server is on loopback, so sync mode is requested explicitly.

let fx: SyncFixture;
beforeAll(async () => {
  fx = await startSyncFixture();
});
afterAll(async () => {
  await fx?.close();
});

async function project(name: string, toml = "") {
  const dir = await fx.hostDir(name);
  await fx.hostDir(`${name}/ws`);
  await writeFile(join(dir, "microsandbox.toml"), toml);
  await writeFile(join(dir, "ws", "input.txt"), "from host\n");
  return { dir, configPath: join(dir, "microsandbox.toml"), ws: join(dir, "ws") };
}

const running = async (name: string) => (await fx.backend.metrics(name).catch(() => [])).some((r) => r.name === name && r.running);

it("sync: true sends no volumes, copies the folder in at start and the changes back at stop", async () => {
  const p = await project("opt");
  const sb = await PythonSandbox.create({ name: "opt", serverUrl: fx.url, configPath: p.configPath, volumes: ["./ws:/home/ws"], sync: true });
  try {
    expect(await running("opt")).toBe(true);
    const start = fx.received.find((r) => r.sandbox === "opt");
    expect((start!.config as { volumes?: unknown }).volumes).toBeUndefined();
    const exec = await sb.run("print(open('/home/ws/input.txt').read().strip())\n_ = open('/home/ws/result.txt', 'w').write('made in sandbox')");
    expect(await exec.output()).toBe("from host");
    // Not mounted: the host sees nothing until stop() copies it back.
    await expect(lstat(join(p.ws, "result.txt"))).rejects.toThrow();
  } finally {
    await sb.stop();
  }
  expect(await readFile(join(p.ws, "result.txt"), "utf8")).toBe("made in sandbox");
  expect(sb.isStarted).toBe(false);
  expect(await running("opt")).toBe(false);
});

it('[server] mode = "sync" in microsandbox.toml does the same, and a conflict at stop is reported after stopping', async () => {
  const p = await project("toml", '[server]\nmode = "sync"\n');
  const sb = await PythonSandbox.create({ name: "toml", serverUrl: fx.url, configPath: p.configPath, volumes: ["./ws:/home/ws"] });
  await sb.run("_ = open('/home/ws/input.txt', 'w').write('sandbox edit\\n')");
  await writeFile(join(p.ws, "input.txt"), "host edit\n");
  const err = await sb.stop().catch((e: unknown) => e);
  expect(err).toBeInstanceOf(SyncConflictError);
  expect((err as SyncConflictError).code).toBe(ErrorCodes.SYNC_CONFLICT);
  expect(await readFile(join(p.ws, "input.txt"), "utf8")).toBe("host edit\n");
  expect(await readFile(join(p.ws, "input.txt.sandbox-conflict"), "utf8")).toBe("sandbox edit\n");
  expect(sb.isStarted).toBe(false);
  expect(await running("toml")).toBe(false);
});

it("a sync-back failure in stop() is a SyncError, and the sandbox is still stopped", async () => {
  const p = await project("fail");
  const sb = await PythonSandbox.create({ name: "fail", serverUrl: fx.url, configPath: p.configPath, volumes: ["./ws:/home/ws"], sync: true });
  await sb.run("import shutil; shutil.rmtree('/home/ws')");
  const err = await sb.stop().catch((e: unknown) => e);
  expect(err).toBeInstanceOf(SyncError);
  expect((err as SyncError).code).toBe(ErrorCodes.SYNC_FAILED);
  expect(await readFile(join(p.ws, "input.txt"), "utf8")).toBe("from host\n");
  expect(sb.isStarted).toBe(false);
  expect(await running("fail")).toBe(false);
});

it("a failing sync-in fails create() and stops the sandbox it started", async () => {
  const p = await project("badin");
  // A file left at the guest path in the sandbox's (persistent) root is in the way of the folder.
  {
    await using plain = await PythonSandbox.create({ name: "badin", serverUrl: fx.url, configPath: p.configPath });
    await plain.command.run("sh", ["-c", "echo in-the-way > /workspace"]);
  }
  const err = await PythonSandbox.create({
    name: "badin",
    serverUrl: fx.url,
    configPath: p.configPath,
    volumes: ["./ws:/workspace"],
    sync: true,
  }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(SyncError);
  expect((err as SyncError).hint).toContain("in the way");
  expect(await running("badin")).toBe(false);
});

it("a second session on the same name (the dev server keeps /home) picks up host edits made in between", async () => {
  const p = await project("again");
  const opts = { name: "again", serverUrl: fx.url, configPath: p.configPath, volumes: ["./ws:/home/ws"], sync: true };
  {
    await using sb = await PythonSandbox.create(opts);
    await sb.run("_ = open('/home/ws/made.txt', 'w').write('session one')");
  }
  await writeFile(join(p.ws, "input.txt"), "edited between sessions\n");
  await using sb = await PythonSandbox.create(opts);
  const exec = await sb.run("print(open('/home/ws/input.txt').read().strip(), open('/home/ws/made.txt').read())");
  expect(await exec.output()).toBe("edited between sessions session one");
});

it("a second session on a running sandbox resumes the recorded one: the sandbox's files are kept and come back at its stop", async () => {
  const p = await project("attach");
  const opts = { name: "attach", serverUrl: fx.url, configPath: p.configPath, volumes: ["./ws:/home/ws"], sync: true };
  const first = await PythonSandbox.create(opts);
  await first.run("_ = open('/home/ws/work.txt', 'w').write('unsynced work')");
  const second = await PythonSandbox.create(opts);
  const exec = await second.run("print(open('/home/ws/work.txt').read())");
  expect(await exec.output()).toBe("unsynced work");
  await second.stop();
  expect(await readFile(join(p.ws, "work.txt"), "utf8")).toBe("unsynced work");
  // The first session's sandbox is gone now: its stop() cannot sync back, and says so.
  await expect(first.stop()).rejects.toMatchObject({ code: ErrorCodes.SYNC_FAILED });
});
