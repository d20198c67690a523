import { rename, writeFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { Sandboxfile, type SandboxfileEntry } from "../../../../src/server/state/sandboxfile.js";
import { tempDir } from "../../../helpers/temp-dir.js";

// The last parse is reused only while the file on disk is the file parsed (src/server/state/sandboxfile.ts).

const entry = (image: string) => ({ image }) as unknown as SandboxfileEntry;
const imageOf = (entries: Map<string, unknown> | undefined, name: string) => (entries?.get(name) as { image?: string } | undefined)?.image;

describe("Sandboxfile parse reuse", () => {
  it("sees a hand edit made in place and one made by rename, after reads were answered from the kept parse", async () => {
    await using dir = await tempDir("msbv-sandboxfile-");
    const file = new Sandboxfile(dir.path);
    await file.upsert("a", entry("img-1"));
    expect(imageOf(await file.readEntries(), "a")).toBe("img-1");
    expect(imageOf(await file.readEntries(), "a")).toBe("img-1");
    // In place (same inode), a different size.
    await writeFile(file.path, "sandboxes:\n  a:\n    image: edited-in-place\n");
    expect(imageOf(await file.readEntries(), "a")).toBe("edited-in-place");
    // Replaced by rename (new inode), same size as before.
    await writeFile(`${file.path}.new`, "sandboxes:\n  a:\n    image: edited-by-rename\n");
    await rename(`${file.path}.new`, file.path);
    expect(imageOf(await file.readEntries(), "a")).toBe("edited-by-rename");
    // An upsert after the edit keeps the edit's other content.
    await file.upsert("b", entry("img-2"));
    const both = await file.readEntries();
    expect([imageOf(both, "a"), imageOf(both, "b")]).toEqual(["edited-by-rename", "img-2"]);
  });

  it("hands out entries that no reader can change for the next reader", async () => {
    await using dir = await tempDir("msbv-sandboxfile-");
    const file = new Sandboxfile(dir.path);
    await file.upsert("a", entry("img-1"));
    // The map is the reader's own; the entry values are frozen.
    (await file.readEntries())?.delete("a");
    const value = (await file.readEntries())?.get("a") as { image: string };
    expect(() => {
      value.image = "changed";
    }).toThrow(TypeError);
    expect(imageOf(await file.readEntries(), "a")).toBe("img-1");
  });
});
