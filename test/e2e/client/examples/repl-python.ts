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
}

await main();
