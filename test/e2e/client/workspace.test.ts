import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { PythonSandbox, RpcBackend, Workspace } from "../../../src/index.js";
import { startFixture, type DevServerFixture } from "../../helpers/dev-server-fixture.js";

let fx: DevServerFixture;
beforeAll(async () => {
  fx = await startFixture();
});
afterAll(async () => {
  await fx?.close();
});

it("a mounted workspace persists across two sandbox sessions and the host sees it", async () => {
  const opts = { serverUrl: fx.url, configPath: fx.configPath, volumes: ["./ws:/workspace"] };
  await writeFile(join(fx.dir, "ws", "from-host.txt"), "host says hi\n");
  {
    await using sb = await PythonSandbox.create({ ...opts, name: "session-one" });
    const exec = await sb.run("print(open('/workspace/from-host.txt').read().strip())\n_ = open('/workspace/x', 'w').write('written in session 1')");
    expect(await exec.output()).toBe("host says hi");
  }
  expect(await readFile(join(fx.dir, "ws", "x"), "utf8")).toBe("written in session 1");

  {
    await using sb = await PythonSandbox.create({ ...opts, name: "session-two" });
    const exec = await sb.run("print(open('/workspace/x').read())");
    expect(await exec.output()).toBe("written in session 1");
    expect(exec.hasError()).toBe(false);
  }
  const ws = await Workspace.open(join(fx.dir, "ws"));
  expect(await ws.readText("x")).toBe("written in session 1");
});

it("await using stops the sandbox on scope exit", async () => {
  const backend = new RpcBackend({ url: fx.url });
  {
    await using sb = await PythonSandbox.create({ serverUrl: fx.url, configPath: fx.configPath, name: "scoped" });
    expect(await sb.metrics.isRunning()).toBe(true);
  }
  const rows = await backend.metrics("scoped");
  expect(rows.find((r) => r.name === "scoped")?.running).toBe(false);
});
