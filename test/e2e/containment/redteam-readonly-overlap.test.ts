import { readdir } from "node:fs/promises";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorCodes, isMsbvError } from "../../../src/index.js";
import { errorText, rawRpc, rawStart } from "../../helpers/raw-rpc.js";
import { py, startContainmentServer, type ContainmentServer } from "./containment-fixture.js";

// "Read-only" that does not hold: `./ws:/w` read-write plus `./ws/ref:/ref` read-only mounts the same
// host folder twice, and the sandbox writes it through /w/ref. Such a config is refused on every
// route (client, raw JSON-RPC); a read-only folder beside the writable one is the control.

describe("redteam: a read-only volume inside a read-write one (server as root)", () => {
  let s: ContainmentServer;
  let ref: string;

  beforeAll(async () => {
    s = await startContainmentServer("root");
    await s.folder("ws");
    ref = await s.folder("ws/ref");
    await s.folder("ref2");
  }, 60_000);
  afterAll(async () => {
    await s?.close();
  });

  it("is refused by the client and over raw JSON-RPC; nothing is written to the read-only folder", async () => {
    const viaClient = await s.create("ro-over", { volumes: ["./ws:/w", { host: "./ws/ref", guest: "/ref", readonly: true }] }).then(
      async (sb) => {
        await py(sb, "open('/w/ref/pwned', 'w').write('x')").catch(() => undefined);
        return "started";
      },
      (e: unknown) => (e instanceof Error && isMsbvError(e.cause) ? e.cause.code : String(e)),
    );
    expect(viaClient).toBe(ErrorCodes.INVALID_VOLUME);
    const raw = await rawStart(s.url, "ro-over-raw", { volumes: [`${s.project}/ws:/w`, `${ref}:/ref`], readonly_volumes: ["/ref"] });
    expect(raw.status, JSON.stringify(raw.body)).toBe(400);
    expect(errorText(raw)).toContain("MSBV_INVALID_VOLUME");
    expect(await readdir(ref)).toEqual([]);
  });

  it("control: a read-only folder beside the writable one starts and stays read-only", async () => {
    const ok = await rawStart(s.url, "ro-beside", {
      volumes: [`${s.project}/ws:/w`, `${path.join(s.project, "ref2")}:/ref`],
      readonly_volumes: ["/ref"],
    });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    const out = await rawRpc(s.url, "sandbox.command.run", { sandbox: "ro-beside", command: "touch", args: ["/ref/x"] });
    expect((out.body.result as { exit_code: number }).exit_code).not.toBe(0);
    await rawRpc(s.url, "sandbox.stop", { sandbox: "ro-beside" });
  });
});
