import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NodeSandbox, PythonSandbox } from "../../../src/index.js";
import { startFixture, type DevServerFixture } from "../../helpers/dev-server-fixture.js";

// Issue 12 item 4: a printed line over 1 MiB used to come back with "\n" inserted every 1 MiB.
// Output is byte-exact up to the 16 MiB cap; past it a notice line says so, and no line is cut.

let fx: DevServerFixture;
let py: PythonSandbox;
let node: NodeSandbox;
beforeAll(async () => {
  fx = await startFixture();
  py = await PythonSandbox.create({ name: "output-py", serverUrl: fx.url, configPath: fx.configPath });
  node = await NodeSandbox.create({ name: "output-node", serverUrl: fx.url, configPath: fx.configPath });
});
afterAll(async () => {
  await py?.stop();
  await node?.stop();
  await fx?.close();
});

const NOTICE = "Error: output truncated after 16 MiB; later lines were dropped";

describe("large output is byte-exact up to the cap", () => {
  it("python: a 3 MiB JSON line parses", async () => {
    const exec = await py.run("import json\nprint(json.dumps({'rows': ['é' + str(i) * 40 for i in range(70000)]}))");
    const text = await exec.output();
    const parsed = JSON.parse(text) as { rows: string[] };
    expect(text.length).toBeGreaterThan(3 * 1024 * 1024);
    expect(parsed.rows).toHaveLength(70000);
    expect(parsed.rows[69999]).toBe(`é${"69999".repeat(40)}`);
  });

  it("node: a 2 MiB line comes back whole", async () => {
    const exec = await node.run("console.log('z'.repeat(2 * 1024 * 1024))");
    const text = await exec.output();
    expect(text.length).toBe(2 * 1024 * 1024);
    expect(/^z+$/.test(text)).toBe(true);
  });

  it("command: a 3 MiB line from a command comes back whole", async () => {
    const exec = await py.command.run("python3", ["-c", "print('q' * (3 * 1024 * 1024))"]);
    const text = await exec.output();
    expect(text.length).toBe(3 * 1024 * 1024);
  });

  it("a line over the cap is dropped whole and the cap is announced", async () => {
    const exec = await py.command.run("python3", ["-c", "print('small'); print('w' * (17 * 1024 * 1024)); print('after')"]);
    expect(await exec.output()).toBe("small");
    expect(await exec.error()).toBe(NOTICE);
  });
});
