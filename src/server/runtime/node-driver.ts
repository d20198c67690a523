// The Node.js REPL driver, run inside the sandbox as `node -e NODE_DRIVER`.
// Requests arrive on fd 3 as JSON lines {code, marker}. Code runs in the driver's global context
// (like upstream's `useGlobal: true` REPL), so declarations persist between runs; a non-undefined
// completion value is echoed with util.inspect (upstream's `ignoreUndefined`). Unlike upstream,
// uncaught exceptions go to stderr ("Uncaught ..."), so callers can see that a run failed.
// Code that uses top-level `await` is wrapped in an async function, so its declarations stay
// local to that run. SIGINT interrupts synchronous code (vm `breakOnSigint`) and abandons a
// pending top-level await; code that loops inside a timer cannot be interrupted, and the host
// then restarts this process. After every run "\n<marker>\n" goes to stdout and stderr.
// Modules: `await import(...)` uses Node's own loader (vm USE_MAIN_CONTEXT_DEFAULT_LOADER; relative
// specifiers resolve against the working directory, as in Node's REPL) and `require` is a
// createRequire rooted there. A top-level static `import` fails with Node's REPL message, which
// names the dynamic import to use instead.

export const NODE_DRIVER = String.raw`
"use strict";
const vm = require("node:vm");
const util = require("node:util");
const net = require("node:net");
const path = require("node:path");
const readline = require("node:readline");
const { createRequire } = require("node:module");
globalThis.require = createRequire(path.join(process.cwd(), "[repl]"));
// The loader constant is flagged experimental on Node 22; its one-time warning is not the user's output.
const emitWarning = process.emitWarning;
process.emitWarning = function (warning, ...rest) {
  if (String(warning && warning.message ? warning.message : warning).includes("USE_MAIN_CONTEXT_DEFAULT_LOADER")) return;
  return emitWarning.call(process, warning, ...rest);
};
const importModuleDynamically = vm.constants && vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER
  ? vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER
  : (specifier) => import(specifier);
function staticImportError(code) {
  const m = /^\s*import\s+(?:(\*\s+as\s+[\w$]+)|([\w$]+)|\{([^}]*)\})\s+from\s+(["'][^"']+["'])/m.exec(code);
  let hint = "";
  if (m) {
    const from = "await import(" + JSON.stringify(m[4].slice(1, -1)) + ");";
    if (m[1]) hint = "const " + m[1].replace(/^\*\s+as\s+/, "") + " = " + from;
    else if (m[2]) hint = "const { default: " + m[2] + " } = " + from;
    else hint = "const { " + m[3].trim().replace(/\s+as\s+/g, ": ") + " } = " + from;
  }
  return new SyntaxError("Cannot use import statement inside the Node.js REPL, alternatively use dynamic import" + (hint ? ": " + hint : ""));
}
let current = null;
const write = (stream, text) => new Promise((resolve) => stream.write(text, () => resolve()));
function describe(error) {
  if (error instanceof Error && typeof error.stack === "string") {
    return error.stack.split("\n").filter((line) => !/\[eval\]|node:internal|node:vm/.test(line)).join("\n");
  }
  return util.inspect(error);
}
process.on("SIGINT", () => { if (current) current(); });
process.on("uncaughtException", (error) => { process.stderr.write("Uncaught " + describe(error) + "\n"); });
process.on("unhandledRejection", (error) => { process.stderr.write("Uncaught (in promise) " + describe(error) + "\n"); });
function interruptible(promise) {
  return new Promise((resolve, reject) => {
    current = () => reject(new Error("Script execution interrupted."));
    Promise.resolve(promise).then(resolve, reject);
  }).finally(() => { current = null; });
}
async function run(code) {
  try {
    let script;
    let wrapped = false;
    try {
      script = new vm.Script(code, { filename: "REPL", importModuleDynamically });
    } catch (error) {
      if (error instanceof SyntaxError && /Cannot use import statement/.test(error.message)) throw staticImportError(code);
      if (!(error instanceof SyntaxError) || !/\bawait\b/.test(code)) throw error;
      script = new vm.Script("(async () => {\n" + code + "\n})()", { filename: "REPL", lineOffset: -1, importModuleDynamically });
      wrapped = true;
    }
    let result = script.runInThisContext({ breakOnSigint: true, displayErrors: false });
    if (wrapped) result = await interruptible(result);
    if (result !== undefined) await write(process.stdout, util.inspect(result) + "\n");
  } catch (error) {
    await write(process.stderr, "Uncaught " + describe(error) + "\n");
  }
}
const control = new net.Socket({ fd: 3, readable: true, writable: false });
const lines = readline.createInterface({ input: control, crlfDelay: Infinity });
let queue = Promise.resolve();
lines.on("line", (line) => {
  let request;
  try { request = JSON.parse(line); } catch { return; }
  queue = queue.then(async () => {
    await run(String(request.code));
    const end = "\n" + String(request.marker) + "\n";
    await write(process.stdout, end);
    await write(process.stderr, end);
  });
});
lines.on("close", () => process.exit(0));
`;
