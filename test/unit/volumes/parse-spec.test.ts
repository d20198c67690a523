import { describe, expect, it } from "vitest";
import { ErrorCodes, VolumeSpecError } from "../../../src/errors/index.js";
import { parseVolumeSpec, type VolumeSpec } from "../../../src/volumes/index.js";

const ok: [string, unknown, { host: string; guest: string; readonly?: boolean; create?: boolean }][] = [
  ["string host:guest", "./ws:/workspace", { host: "./ws", guest: "/workspace" }],
  ["no colon means same path both sides", "/srv/data", { host: "/srv/data", guest: "/srv/data" }],
  ["guest trailing slash removed", "./ws:/workspace/", { host: "./ws", guest: "/workspace" }],
  ["guest normalised (. and //)", "./ws:/a/./b//c", { host: "./ws", guest: "/a/b/c" }],
  ["spaces allowed", "./my ws:/my ws", { host: "./my ws", guest: "/my ws" }],
  ["tilde host kept as written", "~/proj:/p", { host: "~/proj", guest: "/p" }],
  ["object form", { host: "./ws", guest: "/workspace" }, { host: "./ws", guest: "/workspace", readonly: false, create: false }],
  ["object readonly+create", { host: "d", guest: "/d", readonly: true, create: true }, { host: "d", guest: "/d", readonly: true, create: true }],
  // The shape a widely used fork of the Python SDK sends, and tuples: the same parsed model.
  ["{ host, mount }", { host: "./ws", mount: "/workspace" }, { host: "./ws", guest: "/workspace", readonly: false, create: false }],
  [
    "{ host, mount, readonly, create }",
    { host: "d", mount: "/d/", readonly: true, create: true },
    { host: "d", guest: "/d", readonly: true, create: true },
  ],
  ["[host, guest] tuple", ["./ws", "/workspace"], { host: "./ws", guest: "/workspace", readonly: false, create: false }],
];

describe("parseVolumeSpec accepts", () => {
  it.each(ok)("%s", (_name, spec, want) => {
    const v = parseVolumeSpec(spec as VolumeSpec, 0);
    expect(v).toMatchObject({ readonly: false, create: false, ...want });
    expect(v.source).toBe(typeof spec === "string" ? spec : JSON.stringify(spec));
  });
});

// [name, spec, text the message must contain, text the hint must contain]
const bad: [string, unknown, string, string][] = [
  ["empty string", "", "empty", "host:guest"],
  ["blank string", "   ", "empty", "host:guest"],
  ["empty host side", ":/workspace", "host path is empty", "host folder"],
  ["empty guest side", "./ws:", "guest path is empty", "absolute guest path"],
  ["relative guest", "./ws:workspace", "must be absolute", "start the guest path with '/'"],
  ["relative same-path form", "./ws", "must be absolute", "start the guest path with '/'"],
  ["dotdot in guest", "./ws:/a/../etc", "must not contain '..'", "without '..'"],
  ["dotdot at end", "./ws:/a/..", "must not contain '..'", "without '..'"],
  ["guest root", "./ws:/", "guest root /", "subfolder"],
  ["guest root via dot", "./ws:/.", "guest root /", "subfolder"],
  ["legacy :ro options segment", "./ws:/workspace:ro", "no options segment", "readonly: true"],
  ["legacy :rw,noexec segment", "./ws:/workspace:rw,noexec", "no options segment", 'remove ":rw,noexec"'],
  ["windows drive letter", "C:\\Users\\me:/w", "Windows drive letters", "object form"],
  ["comma in guest", "./ws:/a,b", "must not contain ':', ';', or ','", "remove the ','"],
  ["semicolon in guest", "./ws:/a;b", "must not contain ':', ';', or ','", "remove the ','"],
  ["newline in guest", "./ws:/a\nb", "NUL, newline", "control character"],
  ["NUL in guest", "./ws:/a\0b", "NUL, newline", "control character"],
  ["newline in host", "./w\ns:/a", "NUL, newline", "control character"],
  ["~user host", "~bob/x:/x", 'only a leading "~/"', "absolute path"],
  ["object colon in guest", { host: "./ws", guest: "/a:b" }, "must not contain ':'", "remove the ':'"],
  ["object colon in host", { host: "./w:s", guest: "/a" }, "must not contain ':'", "rename or move"],
  ["object empty host", { host: "", guest: "/a" }, "host path is empty", "host folder"],
  ["object empty guest", { host: "a", guest: "" }, "guest path is empty", "absolute guest path"],
  ["object missing guest", { host: "a" }, '"guest" is missing', "guest:"],
  ["object host not string", { host: 1, guest: "/a" }, '"host" must be a string, got number', "host:"],
  ["object readonly not boolean", { host: "a", guest: "/a", readonly: "yes" }, '"readonly" must be true or false', "readonly: true"],
  ["unknown key readOnly", { host: "a", guest: "/a", readOnly: true }, 'unknown key "readOnly"', 'did you mean "readonly"'],
  ["unknown key hots", { hots: "a", guest: "/a" }, 'unknown key "hots"', 'did you mean "host"'],
  ["unknown key target", { host: "a", target: "/a" }, 'unknown key "target"', 'did you mean "guest"'],
  ["unknown key unrelated", { host: "a", guest: "/a", zzzzzz: 1 }, 'unknown key "zzzzzz"', "allowed keys: host, guest, readonly, create"],
  ["number", 42, "got number", "{ host, mount"],
  ["null", null, "got null", "host:guest"],
  ["tuple of three", ["./a", "/a", "ro"], "must be [host, guest]", "readonly: true"],
  ["tuple with a number", ["./a", 1], "must be [host, guest]", '["./workspace"'],
  ["both guest and mount", { host: "a", guest: "/a", mount: "/b" }, 'both "guest" and "mount"', "keep one"],
  ["mount object with a relative mount", { host: "a", mount: "b" }, "must be absolute", "start the guest path"],
  ["':' in a tuple host", ["./a:b", "/a"], "must not contain ':'", "rename"],
  ["undefined", undefined, "got undefined", "host:guest"],
];

describe("parseVolumeSpec refuses", () => {
  it.each(bad)("%s", (_name, spec, msg, hint) => {
    let err: unknown;
    try {
      parseVolumeSpec(spec as VolumeSpec, 3);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(VolumeSpecError);
    const e = err as VolumeSpecError;
    expect(e.code).toBe(ErrorCodes.INVALID_VOLUME);
    expect(e.message).toContain("volumes[3]");
    expect(e.message).toContain(msg);
    expect(e.hint).toContain(hint);
    expect(e.message).toContain(`Fix: ${e.hint}`);
  });

  // JSON and JS strings may carry a lone UTF-16 surrogate ("\ud800"): not text, no UTF-8 form, so no
  // folder can have that name and bubblewrap could not be given it. Refused by the model, every form.
  it.each<[string, unknown, "host" | "guest"]>([
    ["string, host side", "./w\ud800s:/workspace", "host"],
    ["string, guest side", "./ws:/work\udc80space", "guest"],
    ["string, same path both sides", "/srv/\ud83d", "host"],
    ["object, host", { host: "./ws\udfff", guest: "/workspace" }, "host"],
    ["object, guest", { host: "./ws", guest: "/workspace/\ud800" }, "guest"],
    ["{ host, mount }, guest", { host: "./ws", mount: "/w\udc00" }, "guest"],
    ["tuple, host", ["\ud800", "/workspace"], "host"],
    ["tuple, guest: half of an emoji", ["./ws", `/w/${"😀".slice(0, 1)}`], "guest"],
  ])("a lone surrogate in the path (%s) is MSBV_INVALID_VOLUME naming the side and the fix", (_name, spec, side) => {
    let err: unknown;
    try {
      parseVolumeSpec(spec as VolumeSpec, 1);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(VolumeSpecError);
    const e = err as VolumeSpecError;
    expect(e.code).toBe(ErrorCodes.INVALID_VOLUME);
    expect(e.message).toContain(`volumes[1]`);
    expect(e.message).toContain(`the ${side} path is not valid Unicode text: it holds a lone UTF-16 surrogate`);
    expect(e.hint).toContain(`write the ${side} path as valid Unicode text`);
    expect(e.message).toContain(`Fix: ${e.hint}`);
  });

  it("control: the same paths with a whole surrogate pair (an emoji) are accepted as written", () => {
    expect(parseVolumeSpec("./w\ud83d\ude00s:/work\ud83d\ude00space", 0)).toMatchObject({ host: "./w😀s", guest: "/work😀space" });
    expect(parseVolumeSpec({ host: "./ws", mount: "/w/😀" }, 0)).toMatchObject({ guest: "/w/😀" });
  });

  it("names the offending value in the message", () => {
    expect(() => parseVolumeSpec("./ws:/workspace:ro", 0)).toThrow('"./ws:/workspace:ro"');
  });

  it("suggests the exact object to write for a legacy :ro spec", () => {
    expect(() => parseVolumeSpec("./ws:/workspace:ro", 0)).toThrow('{ host: "./ws", guest: "/workspace", readonly: true }');
  });
});
