import { describe, expect, it } from "vitest";
import { parseConfigText } from "../../../src/config/index.js";
import { ConfigError, ErrorCodes } from "../../../src/errors/index.js";

const FILE = "/proj/microsandbox.toml";

function problemsOf(toml: string): ConfigError {
  try {
    parseConfigText(toml, FILE);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error("expected a ConfigError, the file was accepted");
}

interface Case {
  what: string;
  toml: string;
  /** `line:col key.path` of the (only) issue. */
  at: string;
  /** A fragment the message must contain. */
  says: string;
}

// Each file has exactly one problem; the position is where a human would look: the value for a bad
// value, the key for an unknown key, the header for a table, the element for an array element.
const cases: Case[] = [
  {
    what: "unknown root key with suggestion",
    toml: `[sandbox.agent]\nimage = "x"\n`,
    at: "1:1 sandbox",
    says: 'unknown key "sandbox"; did you mean "sandboxes"?',
  },
  {
    what: "unknown sandbox key with suggestion",
    toml: `[sandboxes.agent]\nmemroy = 512\n`,
    at: "2:1 sandboxes.agent.memroy",
    says: 'did you mean "memory"?',
  },
  {
    what: "unknown server key with suggestion",
    toml: `[server]\nurl = "http://h:1"\n  apikey_env = "K"\n`,
    at: "3:3 server.apikey_env",
    says: 'did you mean "api_key_env"?',
  },
  {
    what: "unknown key without a close match lists the allowed keys",
    toml: `[defaults]\nflavour = "x"\n`,
    at: "2:1 defaults.flavour",
    says: "allowed keys here: image, memory",
  },
  {
    what: "inline api_key",
    toml: `[server]\napi_key = "msb_abc"\n`,
    at: "2:11 server.api_key",
    says: 'inline api_key is not allowed: keep the key in an environment variable and name it with api_key_env = "MSB_API_KEY"',
  },
  {
    what: "memory of the wrong type",
    toml: `[sandboxes.a]\nmemory = "512"\n`,
    at: "2:10 sandboxes.a.memory",
    says: 'memory must be a whole number of MiB greater than 0, got "512"',
  },
  { what: "memory 0", toml: `[defaults]\nmemory = 0\n`, at: "2:10 defaults.memory", says: "got 0" },
  { what: "negative memory", toml: `[sandboxes.a]\nimage = "x"\nmemory = -5\n`, at: "3:10 sandboxes.a.memory", says: "got -5" },
  { what: "cpus 0.5", toml: `[sandboxes.a]\ncpus = 0.5\n`, at: "2:8 sandboxes.a.cpus", says: "cpus must be a whole number from 1 to 255, got 0.5" },
  { what: "cpus 0", toml: `[sandboxes.a]\ncpus = 0\n`, at: "2:8 sandboxes.a.cpus", says: "got 0" },
  { what: "cpus 300", toml: `[sandboxes.a]\ncpus = 300\n`, at: "2:8 sandboxes.a.cpus", says: "got 300" },
  {
    what: "name starting with a dash",
    toml: `[sandboxes."-bad"]\nimage = "x"\n`,
    at: "1:1 sandboxes.-bad",
    says: "must start with a letter or digit",
  },
  {
    what: "name with a dot",
    toml: `[sandboxes."a.b"]\nimage = "x"\n`,
    at: '1:1 sandboxes."a.b"',
    says: 'may only contain letters, digits, "-" and "_"',
  },
  { what: "name longer than 63", toml: `[sandboxes.${"n".repeat(64)}]\n`, at: `1:1 sandboxes.${"n".repeat(64)}`, says: "longer than 63 characters" },
  {
    what: "port out of range",
    toml: `[sandboxes.a]\nports = ["8080:80", "70000"]\n`,
    at: "2:21 sandboxes.a.ports[1]",
    says: 'port "70000" must be "host:guest" or a single port',
  },
  { what: "port not numeric", toml: `[sandboxes.a]\nports = ["http"]\n`, at: "2:10 sandboxes.a.ports[0]", says: 'port "http"' },
  { what: "port with three parts", toml: `[sandboxes.a]\nports = [\n  "1:2:3",\n]\n`, at: "3:3 sandboxes.a.ports[0]", says: 'port "1:2:3"' },
  { what: "ports not a list", toml: `[sandboxes.a]\nports = "8080"\n`, at: "2:9 sandboxes.a.ports", says: 'must be an array, got "8080"' },
  { what: "env without a value", toml: `[sandboxes.a.env]\nFOO =\n`, at: "2:6", says: "TOML syntax error" },
  {
    what: "env value not a string",
    toml: `[sandboxes.a.env]\nFOO = 1\n`,
    at: "2:7 sandboxes.a.env.FOO",
    says: "value of FOO must be a string, got 1",
  },
  {
    what: "env name not valid",
    toml: `[sandboxes.a]\nenv = { "MY-VAR" = "1" }\n`,
    at: "2:9 sandboxes.a.env.MY-VAR",
    says: 'environment variable name "MY-VAR"',
  },
  { what: "env value with a newline", toml: `[sandboxes.a.env]\nX = "a\\nb"\n`, at: "2:5 sandboxes.a.env.X", says: "NUL or newline" },
  {
    what: "relative guest path (string form)",
    toml: `[sandboxes.a]\nvolumes = ["./w:work"]\n`,
    at: "2:12 sandboxes.a.volumes[0]",
    says: "guest mount path must be absolute: work",
  },
  {
    what: "relative guest path (table form)",
    toml: `[sandboxes.a]\n\n[[sandboxes.a.volumes]]\nhost = "./w"\nguest = "work"\n`,
    at: "3:1 sandboxes.a.volumes[0]",
    says: "must be absolute",
  },
  {
    what: "duplicate guest in the same sandbox",
    toml: `[sandboxes.a]\nvolumes = [\n  "./w:/workspace",\n  "./v:/workspace/",\n]\n`,
    at: "4:3 sandboxes.a.volumes[1]",
    says: "duplicate guest path /workspace",
  },
  {
    what: "second colon (:ro) in a volume string",
    toml: `[sandboxes.a]\nvolumes = ["./w:/w:ro"]\n`,
    at: "2:12 sandboxes.a.volumes[0]",
    says: "readonly: true",
  },
  {
    what: "volume table without host",
    toml: `[[sandboxes.a.volumes]]\nguest = "/w"\n`,
    at: "1:1 sandboxes.a.volumes[0].host",
    says: "host is required",
  },
  {
    what: "volume table with a typo",
    toml: `[[sandboxes.a.volumes]]\nhost = "./w"\nguest = "/w"\nreaonly = true\n`,
    at: "4:1 sandboxes.a.volumes[0].reaonly",
    says: 'did you mean "readonly"?',
  },
  {
    what: "volume of the wrong type",
    toml: `[sandboxes.a]\nvolumes = [42]\n`,
    at: "2:12 sandboxes.a.volumes[0]",
    says: 'a volume is "host:guest", { host, guest, readonly?, create? }, { host, mount, readonly?, create? } or [host, guest]',
  },
  {
    what: "script named start (default image)",
    toml: `[sandboxes.a.scripts]\nstart = "python app.py"\n`,
    at: "2:1 sandboxes.a.scripts.start",
    says: 'script named "start" would replace the portal',
  },
  {
    what: "script named start (image from [defaults])",
    toml: `[defaults]\nimage = "microsandbox/node"\n[sandboxes.a]\nscripts = { start = "x" }\n`,
    at: "4:13 sandboxes.a.scripts.start",
    says: "microsandbox/node",
  },
  {
    what: "script start inherited from [defaults] with a microsandbox image",
    toml: `[defaults]\nimage = "me/custom"\nscripts = { start = "x" }\n[sandboxes.a]\nimage = "microsandbox/python"\n`,
    at: "5:9 sandboxes.a.image",
    says: "scripts.start comes from [defaults]",
  },
  {
    what: "dotted key inside a sandbox table",
    toml: `[sandboxes.a]\nenv.BAD-NAME = "1"\n`,
    at: "2:1 sandboxes.a.env.BAD-NAME",
    says: 'environment variable name "BAD-NAME"',
  },
  {
    what: "inline volume table on its own line",
    toml: `[sandboxes.a]\nvolumes = [\n  "./a:/a",\n  { host = "./b", guest = "b" },\n]\n`,
    at: "4:3 sandboxes.a.volumes[1]",
    says: "must be absolute",
  },
  {
    what: "volume host of the wrong type",
    toml: `[[sandboxes.a.volumes]]\nhost = 3\nguest = "/g"\n`,
    at: "2:8 sandboxes.a.volumes[0].host",
    says: "host must be a non-empty string, got 3",
  },
  {
    what: "script name with a slash",
    toml: `[sandboxes.a.scripts]\n"../x" = "echo"\n`,
    at: '2:1 sandboxes.a.scripts."../x"',
    says: 'script name "../x"',
  },
  {
    what: "unknown depends_on",
    toml: `[sandboxes.a]\ndepends_on = ["db"]\n`,
    at: "2:15 sandboxes.a.depends_on[0]",
    says: 'depends_on names "db", which is not a [sandboxes.db] table',
  },
  { what: "depends_on itself", toml: `[sandboxes.a]\ndepends_on = ["a"]\n`, at: "2:15 sandboxes.a.depends_on[0]", says: "cannot depend on itself" },
  { what: "TOML syntax error", toml: `[sandboxes.a]\nimage = "x\n`, at: "2:", says: "TOML syntax error" },
  { what: "redefined table", toml: `[sandboxes.a]\n[sandboxes.a]\n`, at: "2:", says: "TOML syntax error" },
  { what: "relative workdir", toml: `[sandboxes.a]\nworkdir = "work"\n`, at: "2:11 sandboxes.a.workdir", says: "must be an absolute path" },
  { what: "workdir with ..", toml: `[sandboxes.a]\nworkdir = "/a/../etc"\n`, at: "2:11 sandboxes.a.workdir", says: 'must not contain ".."' },
  {
    what: "image with whitespace",
    toml: `[sandboxes.a]\nimage = "microsandbox/python latest"\n`,
    at: "2:9 sandboxes.a.image",
    says: "must not contain whitespace",
  },
  { what: "empty image", toml: `[defaults]\nimage = ''\n`, at: "2:9 defaults.image", says: "image cannot be empty" },
  { what: "sandboxes not a table", toml: `sandboxes = 3\n`, at: "1:13 sandboxes", says: "must be a table, got 3" },
  { what: "mode not mount or sync", toml: `[server]\nmode = "copy"\n`, at: "2:8 server.mode", says: 'mode must be "mount" or "sync"' },
  {
    what: "relative shared_filesystem prefix",
    toml: `[server]\nshared_filesystem = [{ host_prefix = "home", server_prefix = "/srv" }]\n`,
    at: "2:38 server.shared_filesystem[0].host_prefix",
    says: "host_prefix must be an absolute path",
  },
  { what: "server url not http", toml: `[server]\nurl = "ftp://h"\n`, at: "2:7 server.url", says: "must start with http:// or https://" },
  {
    what: "api_key_env not a variable name",
    toml: `[server]\napi_key_env = "MY KEY"\n`,
    at: "2:15 server.api_key_env",
    says: 'environment variable name "MY KEY"',
  },
  { what: "policy typo", toml: `[policy]\nalow = ["/data"]\n`, at: "2:1 policy.alow", says: 'did you mean "allow"?' },
  {
    what: "depends_on with a bad name",
    toml: `[sandboxes.a]\ndepends_on = ["b c"]\n`,
    at: "2:15 sandboxes.a.depends_on[0]",
    says: 'sandbox name "b c"',
  },
];

describe("microsandbox.toml validation: one located issue per malformed file", () => {
  it("has at least 25 cases", () => {
    expect(cases.length).toBeGreaterThanOrEqual(25);
  });

  it.each(cases)("$what", ({ toml, at, says }) => {
    const err = problemsOf(toml);
    expect(err.code).toBe(ErrorCodes.CONFIG_INVALID);
    expect(err.issues).toHaveLength(1);
    expect(err.message).toContain(`${FILE}:${at}`);
    expect(err.message).toContain(says);
    const [issue] = err.issues;
    const [lineCol] = at.split(" ");
    const [line, column] = (lineCol ?? "").split(":");
    expect(issue?.file).toBe(FILE);
    expect(issue?.line).toBe(Number(line));
    if (column) expect(issue?.column).toBe(Number(column));
    expect(err.hint).toContain(FILE);
  });
});

describe("several problems at once", () => {
  it("reports every problem of the file in one error, in file order", () => {
    const toml = [
      "[server]", //                          1
      'api_key = "msb_secret_value"', //      2
      "[sandboxes.agent]", //                 3
      "memory = 0", //                        4
      "cpus = 0.5", //                        5
      'volumes = ["./w:rel"]', //             6
      'depends_on = ["ghost"]', //            7
      "imgae = 'x'", //                       8
      '[sandboxes."no good"]', //             9
    ].join("\n");
    const err = problemsOf(toml);
    const lines = err.message
      .split("\n")
      .filter((l) => l.startsWith(`  ${FILE}:`))
      .map((l) => l.trim());
    expect(lines).toEqual([
      `${FILE}:2:11 server.api_key: ${err.issues[0]?.message}`,
      `${FILE}:4:10 sandboxes.agent.memory: ${err.issues[1]?.message}`,
      `${FILE}:5:8 sandboxes.agent.cpus: ${err.issues[2]?.message}`,
      `${FILE}:6:12 sandboxes.agent.volumes[0]: ${err.issues[3]?.message}`,
      `${FILE}:7:15 sandboxes.agent.depends_on[0]: ${err.issues[4]?.message}`,
      `${FILE}:8:1 sandboxes.agent.imgae: ${err.issues[5]?.message}`,
      `${FILE}:9:1 sandboxes."no good": ${err.issues[6]?.message}`,
    ]);
    expect(err.message).toContain("has 7 problems");
    expect(err.issues[5]?.message).toContain('did you mean "image"?');
  });

  it("never echoes an inline API key", () => {
    const err = problemsOf('[server]\napi_key = "msb_supersecret"\n');
    expect(err.message).not.toContain("supersecret");
    expect(JSON.stringify(err.issues)).not.toContain("supersecret");
    expect(JSON.stringify(err.details)).not.toContain("supersecret");
  });
});
