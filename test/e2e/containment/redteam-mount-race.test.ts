import { execFile } from "node:child_process";
import { mkdir, realpath, symlink, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PythonSandbox } from "../../../src/index.js";
import { errorText, rawRpc, rawStart } from "../../helpers/raw-rpc.js";
import { MODES, py, startContainmentServer, startRenameSwapper, type ContainmentServer } from "./containment-fixture.js";

// Issue 11 finding 2, end to end: sandbox A shares the tree `ws` with the host folder sandbox B is
// about to mount. A swaps a real sub-folder with a symlink to a folder of its choice
// (renameat2 RENAME_EXCHANGE in a tight loop, from inside A) while B starts, many times, over raw
// JSON-RPC `sandbox.start` and through the client. B must mount its own folder or be refused; it must
// never get the folder A chose. Two shapes: a middle component swapped (`ws/sub` <-> `ws/evil`, B
// mounts `ws/sub/data`) and the last one (`ws/leaf` <-> `ws/leaflink`, B mounts `ws/leaf`).

// Swapped from inside A: a middle component and the last one.
const SWAP_PAIRS = [
  ["sub", "evil"],
  ["leaf", "leaflink"],
] as const;

const RAW_ROUNDS = 30;
const CLIENT_ROUNDS = 10;

interface Seen {
  good: number;
  refused: number;
  other: string[];
  reasons: string[];
}

describe.each(MODES)("mount redirection race end to end (server as %s)", (mode) => {
  let s: ContainmentServer;
  let a: PythonSandbox;
  let ws: string;

  beforeAll(async () => {
    s = await startContainmentServer(mode);
    ws = await s.folder("ws");
    const secret = await s.folder("secret");
    for (const dir of [path.join(ws, "sub", "data"), path.join(ws, "leaf"), path.join(secret, "data")]) await mkdir(dir, { recursive: true });
    await writeFile(path.join(ws, "sub", "data", "marker"), "GOOD");
    await writeFile(path.join(ws, "leaf", "marker"), "GOOD");
    await writeFile(path.join(secret, "data", "marker"), "SECRET");
    await writeFile(path.join(secret, "marker"), "SECRET");
    // Relative links: inside A they dangle, on the host they name project/secret (inside the allowed root).
    await symlink("../secret", path.join(ws, "evil"));
    await symlink("../secret/data", path.join(ws, "leaflink"));
    await promisify(execFile)("chown", ["-R", "-h", `${s.uid}:${s.gid}`, s.project]);
    a = await s.create("race-a", { volumes: ["./ws:/workspace"] });
    await startRenameSwapper(a, "/workspace", ws, SWAP_PAIRS);
  }, 120_000);
  afterAll(async () => {
    await a?.run("swapper.kill(); _ = swapper.wait()").catch(() => undefined);
    await s?.close();
  });

  const record = (seen: Seen, text: string) => {
    if (text === "GOOD") seen.good++;
    else seen.other.push(text);
  };
  const refused = (seen: Seen, why: string) => {
    seen.refused++;
    // Every refusal names a host-path code, including those raised after the policy check passed
    // (runtime re-check, descriptor walk, bubblewrap's own race check): once a bare "Internal server
    // error". INVALID is a swap seen mid-walk as "not a folder" after it was swapped back.
    if (!/MSBV_HOST_PATH_(DENIED|INVALID)/.test(why)) seen.other.push(`untyped refusal: ${why.slice(0, 300)}`);
    if (seen.reasons.length < 8) seen.reasons.push(why.slice(0, 200));
  };

  it("control: resolving B's path by name while A swaps does land in the folder A chose", async () => {
    const hits = new Set<string>();
    for (let i = 0; i < 20_000 && hits.size < 2; i++) {
      const real = await realpath(path.join(ws, i % 2 === 0 ? "sub/data" : "leaf")).catch(() => "");
      if (real.includes(`${path.sep}secret`)) hits.add(i % 2 === 0 ? "middle" : "last");
    }
    expect([...hits].sort()).toEqual(["last", "middle"]);
  });

  it(`raw JSON-RPC: ${RAW_ROUNDS} starts of B never mount the folder A chose`, async () => {
    const seen: Seen = { good: 0, refused: 0, other: [], reasons: [] };
    // At least RAW_ROUNDS, and on until both outcomes were met (bounded): the race must really be on.
    let round = 0;
    for (; round < RAW_ROUNDS * 3 && (round < RAW_ROUNDS || seen.good === 0 || seen.refused === 0); round++) {
      const name = `race-b-raw-${round}`;
      const host = path.join(ws, round % 2 === 0 ? "sub/data" : "leaf");
      const started = await rawStart(s.url, name, { volumes: [`${host}:/data`] });
      if (started.status !== 200 || started.body.error !== undefined) {
        refused(seen, errorText(started) || JSON.stringify(started.body.error));
        continue;
      }
      const out = await rawRpc(s.url, "sandbox.command.run", { sandbox: name, command: "cat", args: ["/data/marker"] });
      const result = out.body.result as { output?: Array<{ stream: string; text: string }> } | undefined;
      record(
        seen,
        (result?.output ?? [])
          .filter((l) => l.stream === "stdout")
          .map((l) => l.text)
          .join("")
          .trim() || JSON.stringify(out.body),
      );
      await rawRpc(s.url, "sandbox.stop", { sandbox: name });
    }
    expect(seen.other, JSON.stringify(seen)).toEqual([]);
    expect(seen.good + seen.refused).toBe(round);
    // The race was really on: some starts met a symlink (refused), some the real folder.
    expect(seen.refused, JSON.stringify(seen)).toBeGreaterThan(0);
    expect(seen.good, JSON.stringify(seen)).toBeGreaterThan(0);
  }, 300_000);

  it(`client: ${CLIENT_ROUNDS} create() calls of B never mount the folder A chose`, async () => {
    const seen: Seen = { good: 0, refused: 0, other: [], reasons: [] };
    for (let round = 0; round < CLIENT_ROUNDS; round++) {
      const name = `race-b-client-${round}`;
      const host = round % 2 === 0 ? "./ws/sub/data" : "./ws/leaf";
      let b: PythonSandbox;
      try {
        b = await s.create(name, { volumes: [`${host}:/data`] });
      } catch (error) {
        // s.create wraps the client's error: its own check's code is on the cause; a server refusal quotes it in the text.
        refused(seen, `${String(error)} ${((error as Error).cause as { code?: string } | undefined)?.code ?? ""}`);
        continue;
      }
      record(seen, (await py(b, "print(open('/data/marker').read())")).trim());
      await b.stop();
    }
    expect(seen.other, JSON.stringify(seen)).toEqual([]);
    expect(seen.good + seen.refused).toBe(CLIENT_ROUNDS);
  }, 300_000);
});
