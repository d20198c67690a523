import { describe, expect, it } from "vitest";
import { volumesForServer } from "../../../src/backend/shared-filesystem.js";
import { ErrorCodes } from "../../../src/errors/codes.js";
import { HostPathError } from "../../../src/errors/errors.js";

const vol = (host: string, guest: string) => ({ host, guest, readonly: false });

describe("volumesForServer (remote guard)", () => {
  it("passes volumes through for a local server", () => {
    expect(volumesForServer([vol("/p/ws", "/workspace")], true, "http://127.0.0.1:5555", undefined)).toEqual([vol("/p/ws", "/workspace")]);
  });

  it("passes an empty volume list for a remote server", () => {
    expect(volumesForServer([], false, "https://remote.example", undefined)).toEqual([]);
  });

  it("refuses host paths against a remote server, naming both ways out", () => {
    let err: unknown;
    try {
      volumesForServer([vol("/p/ws", "/workspace")], false, "https://remote.example", undefined);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HostPathError);
    expect((err as HostPathError).code).toBe(ErrorCodes.REMOTE_HOST_PATHS);
    expect((err as HostPathError).message).toContain("shared_filesystem");
    expect((err as HostPathError).message).toContain("sharedFilesystem");
    expect((err as HostPathError).message).toContain('mode = "sync"');
  });

  it("maps host prefixes to server prefixes, longest prefix first", () => {
    const out = volumesForServer([vol("/home/me/proj/ws", "/workspace"), vol("/home/me/other", "/o")], false, "http://nfs-host:5555", [
      { hostPrefix: "/home/me", serverPrefix: "/mnt/me" },
      { hostPrefix: "/home/me/proj/", serverPrefix: "/srv/proj" },
    ]);
    expect(out).toEqual([vol("/srv/proj/ws", "/workspace"), vol("/mnt/me/other", "/o")]);
  });

  it("refuses a volume outside every shared prefix", () => {
    expect(() =>
      volumesForServer([vol("/home/meow/x", "/x")], false, "http://nfs-host:5555", [{ hostPrefix: "/home/me", serverPrefix: "/mnt" }]),
    ).toThrow(expect.objectContaining({ code: ErrorCodes.REMOTE_HOST_PATHS }));
  });
});
