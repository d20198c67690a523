import { describe, expect, it } from "vitest";
import { IDMAP_ATTACH_DIR } from "../../../../src/server/runtime/containment/launch.js";
import { volumeMovedWhileMounted } from "../../../../src/server/runtime/supervisor-connection.js";

// Which bubblewrap failures sandbox.start reports as "your volume's folder moved" (a 400 blaming the
// caller's path) rather than a server fault (src/server/runtime/supervisor-connection.ts).
describe("volumeMovedWhileMounted", () => {
  const argv = ["--ro-bind", "/usr", "/usr", "--bind-fd", "5", "/workspace"];

  it("is bwrap's re-check of a descriptor, or a source path it got from a descriptor (in none of its arguments)", () => {
    expect(volumeMovedWhileMounted("bwrap: Race condition binding dirfd", argv)).toBe(true);
    expect(volumeMovedWhileMounted("bwrap: Can't get type of source /project/renamed: No such file or directory", argv)).toBe(true);
    expect(volumeMovedWhileMounted("bwrap: Can't bind mount /oldroot/project/renamed on /newroot/workspace: No such file or directory", argv)).toBe(
      true,
    );
  });

  it("is not a failure on a path of its arguments, nor on the root launcher's private attach folder (nothing can move it)", () => {
    expect(volumeMovedWhileMounted("bwrap: Can't bind mount /oldroot/usr on /newroot/usr: Permission denied", argv)).toBe(false);
    expect(volumeMovedWhileMounted(`bwrap: Can't bind mount /oldroot${IDMAP_ATTACH_DIR}/0 on /newroot/workspace: Cannot allocate memory`, argv)).toBe(
      false,
    );
    expect(volumeMovedWhileMounted(`bwrap: Can't get type of source ${IDMAP_ATTACH_DIR}/1: Input/output error`, argv)).toBe(false);
    expect(volumeMovedWhileMounted("bwrap: Creating new namespace failed: No space left on device", argv)).toBe(false);
  });
});
