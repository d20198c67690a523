import { readdir, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRuntimeFixture, stdout, type RuntimeFixture } from "../../helpers/runtime-fixture.js";

// `readonly: true` on a runtime volume (the field the volume validation fills in): bound with
// --ro-bind-fd, and as root through a read-only idmapped mount. The runtime runs in this (root)
// test process, the same code path as a root dev server.

let fixture: RuntimeFixture;
let ro: string;
let rw: string;

beforeAll(async () => {
  fixture = await createRuntimeFixture();
  ro = await fixture.newDir("ro");
  rw = await fixture.newDir("rw");
  await writeFile(path.join(ro, "given.txt"), "READ ME");
  await fixture.runtime.start(
    fixture.spec("ro-vol", {
      volumes: [
        { host: ro, guest: "/ref", readonly: true },
        { host: rw, guest: "/out" },
      ],
    }),
  );
});
afterAll(async () => {
  await fixture?.dispose();
});

describe("read-only volumes", () => {
  it("can be read but not written, while a read-write volume beside it is writable", async () => {
    const lines = await fixture.runtime.runRepl(
      "ro-vol",
      "python",
      [
        "import errno, os",
        "print(open('/ref/given.txt').read())",
        "for p in ['/ref/new.txt', '/ref/given.txt']:",
        "    try:",
        "        _ = open(p, 'a').write('x'); print('WROTE', p)",
        "    except OSError as e: print(errno.errorcode[e.errno], p)",
        "try: os.chmod('/ref/given.txt', 0o777); print('CHMOD')",
        "except OSError as e: print(errno.errorcode[e.errno], 'chmod')",
        "_ = open('/out/ok.txt', 'w').write('ok'); print('OUT OK')",
      ].join("\n"),
    );
    expect(stdout(lines).split("\n")).toEqual(["READ ME", "EROFS /ref/new.txt", "EROFS /ref/given.txt", "EROFS chmod", "OUT OK"]);
    expect(await readdir(ro)).toEqual(["given.txt"]);
    expect(await readdir(rw)).toEqual(["ok.txt"]);
  });
});
