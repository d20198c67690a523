/**
 * Upstream-style example: a Python sandbox keeps REPL state between runs.
 * Only the import differs from code written for the legacy `microsandbox` SDK
 * (there: `import { PythonSandbox } from "microsandbox";`).
 */
import { PythonSandbox } from "../../../../src/index.js";

async function main() {
  const sb = await PythonSandbox.create({ name: "example-python" });

  try {
    let exec = await sb.run("name = 'Python'");
    exec = await sb.run("print(f'Hello {name}!')");

    console.log(await exec.output()); // Hello Python!
  } finally {
    await sb.stop();
  }

  // Explicit lifecycle with memory and cpus; an error is output, not an exception
  const explicit = new PythonSandbox({ name: "example-python-explicit" });
  try {
    await explicit.start(undefined, 1024, 2.0);
    await explicit.run("x = 42");
    await explicit.run("y = [i**2 for i in range(5)]");
    console.log(await (await explicit.run("print(f'x = {x}')\nprint(f'y = {y}')")).output());
    const failed = await explicit.run("1/0");
    console.log("Error has ZeroDivisionError:", (await failed.error()).includes("ZeroDivisionError"), failed.hasError());
    await explicit.run("import sys");
    console.log("Version chained:", (await (await explicit.run("print(sys.version.split()[0])")).output()).startsWith("3."));
  } finally {
    await explicit.stop();
  }
}

await main();
