import { type ChildProcess, spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import * as path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** A bwrap runtime run by a Node process of its own (to be killed), and what it printed. */
export interface RuntimeChild {
  child: ChildProcess;
  /** Everything printed on stdout so far. */
  output(): string;
}

const runtimeIndex = pathToFileURL(path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../src/server/runtime/index.ts")).href;

/**
 * Runs `body` (ES module code with `createBwrapRuntime` in scope) in a new Node process, from the
 * sources, and resolves once it prints `ready`. `wrapper` is an argv prefix that execs the rest
 * (e.g. a Python one-liner that plants an inherited fd first).
 */
export async function startRuntimeChild(scratch: string, body: string, wrapper: string[] = []): Promise<RuntimeChild> {
  // Node 22 strips types itself; this hook only maps the sources' `.js` specifiers to `.ts`.
  await writeFile(
    path.join(scratch, "hook.mjs"),
    `export async function resolve(s, c, next) {
  try { return await next(s, c); } catch (e) { if (s.startsWith(".") && s.endsWith(".js")) return next(s.slice(0, -3) + ".ts", c); throw e; }
}\n`,
  );
  const script = path.join(scratch, `child-${Date.now()}-${Math.random().toString(36).slice(2)}.mjs`);
  await writeFile(
    script,
    `import { register } from "node:module";
register(${JSON.stringify(pathToFileURL(path.join(scratch, "hook.mjs")).href)});
const { createBwrapRuntime } = await import(${JSON.stringify(runtimeIndex)});
${body}
setInterval(() => {}, 1000);
`,
  );
  const argv = [...wrapper, process.execPath, script];
  const child = spawn(argv[0] as string, argv.slice(1), { stdio: ["ignore", "pipe", "inherit"] });
  const childOut = child.stdout;
  if (!childOut) throw new Error("no stdout pipe");
  let seen = "";
  childOut.setEncoding("utf8");
  await new Promise<void>((resolve, reject) => {
    childOut.on("data", (text: string) => {
      seen += text;
      if (seen.includes("ready")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`child exited early (${code}): ${seen}`)));
  });
  return { child, output: () => seen };
}
