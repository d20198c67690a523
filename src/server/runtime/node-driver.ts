// The Node.js REPL driver, run inside the sandbox as `node -e NODE_DRIVER`.
// Requests arrive on fd 3 as JSON lines {code, marker}. Code runs in the driver's global context
// (like upstream's `useGlobal: true` REPL), so declarations persist between runs; a non-undefined
// completion value is echoed with util.inspect (upstream's `ignoreUndefined`). Unlike upstream,
// uncaught exceptions go to stderr ("Uncaught ..."), so callers can see that a run failed.
// Code that uses top-level `await` is wrapped in an async function, so its declarations stay
// local to that run. SIGINT interrupts synchronous code (vm `breakOnSigint`) and abandons a
// pending top-level await; code that loops inside a timer cannot be interrupted, and the host
// then restarts this process. After every run "\n<marker>\n" goes to stdout and stderr.

export const NODE_DRIVER = String.raw`
"use strict";
const vm = require("node:vm");
const util = require("node:util");
const net = require("node:net");
const path = require("node:path");
const readline = require("node:readline");
const { createRequire } = require("node:module");
globalThis.require = createRequire(path.join(process.cwd(), "[repl]"));
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
      script = new vm.Script(code, { filename: "REPL" });
    } catch (error) {
      if (!(error instanceof SyntaxError) || !/\bawait\b/.test(code)) throw error;
      script = new vm.Script("(async () => {\n" + code + "\n})()", { filename: "REPL", lineOffset: -1 });
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
