import { rename, writeFile } from "node:fs/promises";
import { describe, expect, it, vi } from "vitest";
import { Sandboxfile, type SandboxfileEntry } from "../../../../src/server/state/sandboxfile.js";
import { tempDir } from "../../../helpers/temp-dir.js";

// Attack on the kept parse (src/server/state/sandboxfile.ts): a second writer on the host replaces
// the Sandboxfile right after the server's own write lands. Whatever the server then reads must be
// what is on disk, never the entries it wrote itself. The mock only decides WHEN the other writer
// runs (right after the server's rename); both writes are real renames on a real folder.

const race = vi.hoisted(() => ({ after: undefined as (() => Promise<void>) | undefined }));
vi.mock("../../../../src/fs/atomic-write.js", async (importOriginal) => {
  const real = await importOriginal<typeof import("../../../../src/fs/atomic-write.js")>();
  return {
    ...real,
    writeFileAtomic: async (...args: Parameters<typeof real.writeFileAtomic>) => {
      await real.writeFileAtomic(...args);
      const other = race.after;
      race.after = undefined;
      await other?.();
    },
  };
});

const entry = (image: string) => ({ image }) as unknown as SandboxfileEntry;
const imageOf = (entries: Map<string, unknown> | undefined, name: string) => (entries?.get(name) as { image?: string } | undefined)?.image;

describe("Sandboxfile kept parse against a racing writer", () => {
  it("reads the other writer's file when it replaced ours right after our rename", async () => {
    await using dir = await tempDir("msbv-sandboxfile-race-");
    const file = new Sandboxfile(dir.path);
    race.after = async () => {
      await writeFile(`${file.path}.other`, "sandboxes:\n  a:\n    image: from-the-other-writer\n");
      await rename(`${file.path}.other`, file.path);
    };
    await file.upsert("a", entry("written-by-the-server"));
    expect(imageOf(await file.readEntries(), "a")).toBe("from-the-other-writer");
  });
});
