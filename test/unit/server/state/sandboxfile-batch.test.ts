import { readFile, stat } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { Sandboxfile, type SandboxfileEntry } from "../../../../src/server/state/sandboxfile.js";
import { tempDir } from "../../../helpers/temp-dir.js";

// Concurrent upserts are committed together (one load + write for a burst), and none is lost.

const entry = (image: string): SandboxfileEntry =>
  ({
    image,
    volumes: [],
    ports: [],
    envs: [],
    depends_on: [],
    workdir: undefined,
    shell: undefined,
    scripts: {},
    exec: undefined,
  }) as unknown as SandboxfileEntry;

describe("Sandboxfile group commit", () => {
  it("keeps every entry of 50 concurrent upserts, resolving each only once its entry is on disk", async () => {
    await using dir = await tempDir("msbv-sandboxfile-");
    const file = new Sandboxfile(dir.path);
    await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        await file.upsert(`s${i}`, entry(`img-${i}`));
        const onDisk = parse(await readFile(file.path, "utf8")) as { sandboxes: Record<string, { image: string }> };
        expect(onDisk.sandboxes[`s${i}`]?.image).toBe(`img-${i}`);
      }),
    );
    const entries = await file.readEntries();
    expect(entries?.size).toBe(50);
  });

  it("lets the last upsert of a name win, as separate writes would", async () => {
    await using dir = await tempDir("msbv-sandboxfile-");
    const file = new Sandboxfile(dir.path);
    await Promise.all(["a", "b", "c"].map((image) => file.upsert("same", entry(image))));
    expect((await file.readEntries())?.get("same")).toMatchObject({ image: "c" });
    expect((await stat(file.path)).isFile()).toBe(true);
  });
});
