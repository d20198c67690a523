import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { findConfigFile, loadConfigFile } from "../../../src/config/index.js";
import { ConfigError } from "../../../src/errors/index.js";
import { tempProject } from "../../helpers/temp-project.js";

const body = (image: string) => `[sandboxes.s]\nimage = "${image}"\n`;

describe("config discovery: configPath, then MSB_CONFIG, then the nearest microsandbox.toml upwards", () => {
  it("walks up from cwd to the nearest file", async () => {
    const p = await tempProject();
    await p.write("microsandbox.toml", body("outer"));
    await p.write("inner/microsandbox.toml", body("inner"));
    const deep = await p.mkdir("inner/a/b");
    const loaded = await loadConfigFile({ cwd: deep, env: {} });
    expect(loaded?.path).toBe(path.join(p.dir, "inner", "microsandbox.toml"));
    expect(loaded?.dir).toBe(path.join(p.dir, "inner"));
    expect(loaded?.sandboxes.s?.image).toBe("inner");
    const fromOther = await loadConfigFile({ cwd: await p.mkdir("other"), env: {} });
    expect(fromOther?.sandboxes.s?.image).toBe("outer");
  });

  it("MSB_CONFIG beats the walk, configPath beats MSB_CONFIG", async () => {
    const p = await tempProject();
    await p.write("microsandbox.toml", body("walk"));
    const viaEnv = await p.write("conf/env.toml", body("env"));
    await p.write("conf/opt.toml", body("opt"));
    const env = { MSB_CONFIG: viaEnv };
    expect((await loadConfigFile({ cwd: p.dir, env }))?.sandboxes.s?.image).toBe("env");
    // configPath is relative to cwd.
    const loaded = await loadConfigFile({ cwd: p.dir, env, configPath: "conf/opt.toml" });
    expect(loaded?.sandboxes.s?.image).toBe("opt");
    expect(loaded?.dir).toBe(path.join(p.dir, "conf"));
  });

  it("finds nothing without failing when there is no file (returns undefined)", async () => {
    // Precondition of this machine: no microsandbox.toml in os.tmpdir() or above it.
    const p = await tempProject();
    expect(await findConfigFile({ cwd: await p.mkdir("a/b"), env: {} })).toBeUndefined();
    expect(await loadConfigFile({ cwd: p.dir, env: {} })).toBeUndefined();
  });

  it("ignores an empty MSB_CONFIG and a folder named microsandbox.toml", async () => {
    const p = await tempProject();
    await p.mkdir("sub/microsandbox.toml");
    await p.write("microsandbox.toml", body("top"));
    const loaded = await loadConfigFile({ cwd: path.join(p.dir, "sub"), env: { MSB_CONFIG: "" } });
    expect(loaded?.sandboxes.s?.image).toBe("top");
  });

  it("refuses an explicitly named file that does not exist, naming where the name came from", async () => {
    const p = await tempProject();
    const missing = path.join(p.dir, "nope.toml");
    await expect(loadConfigFile({ cwd: p.dir, env: { MSB_CONFIG: missing } })).rejects.toThrow(/named by MSB_CONFIG does not exist/);
    const err = await loadConfigFile({ cwd: p.dir, env: {}, configPath: "nope.toml" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toContain(`${missing}: config file named by the configPath option does not exist`);
  });

  it("reports problems with the absolute file path", async () => {
    const p = await tempProject();
    const file = await p.write("microsandbox.toml", "[defaults]\nmemory = 0\n");
    await expect(loadConfigFile({ cwd: p.dir, env: {} })).rejects.toThrow(`${file}:2:10 defaults.memory:`);
  });

  it("loads the policy with relative entries made absolute against the file's folder", async () => {
    const p = await tempProject();
    await p.write("cfg/microsandbox.toml", '[policy]\nallow = ["../data", "/srv/x", "~/cache"]\n');
    const loaded = await loadConfigFile({ cwd: p.dir, env: {}, configPath: "cfg/microsandbox.toml" });
    expect(loaded?.policy.allow).toEqual([path.join(p.dir, "data"), "/srv/x", "~/cache"]);
  });
});
