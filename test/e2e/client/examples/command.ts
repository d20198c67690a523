/**
 * Upstream-style example: running shell commands in a sandbox, with exit codes and a timeout
 * as third positional argument. Only the import differs from legacy `microsandbox` code.
 */
import { PythonSandbox } from "../../../../src/index.js";

async function main() {
  const sandbox = await PythonSandbox.create({ name: "example-command" });

  try {
    // List the root directory
    const listing = await sandbox.command.run("ls", ["-la", "/"]);
    console.log("Command:", listing.command, listing.args.join(" "));
    console.log("Exit code:", listing.exitCode);
    console.log("Success:", listing.success);
    console.log("Output:");
    console.log(await listing.output());

    // A command that fails: its exit code is reported, not thrown
    const failing = await sandbox.command.run("sh", ["-c", "echo to-stderr >&2; exit 3"], 30);
    console.log("Failing exit code:", failing.exitCode);
    console.log("Failing success:", failing.success);
    console.log("Failing stderr:", await failing.error());

    // Commands run without a shell unless you ask for one
    const piped = await sandbox.command.run("sh", ["-c", "echo hello | tr a-z A-Z"]);
    console.log("Piped:", await piped.output());

    // Arguments are passed as separate strings; system info
    const echo = await sandbox.command.run("echo", ["Hello from", "a command!"]);
    console.log("Echo:", await echo.output());
    const uname = await sandbox.command.run("uname", ["-a"]);
    console.log("Uname:", await uname.output());

    // A failing command reports its exit code and stderr
    const missingFile = await sandbox.command.run("ls", ["/nonexistent"]);
    console.log("ls exit code:", missingFile.exitCode, "success:", missingFile.success);
    console.log("ls stderr:", await missingFile.error());

    // A command that does not exist throws
    try {
      await sandbox.command.run("nonexistentcommand", []);
    } catch (e) {
      console.log("Missing command:", e instanceof Error ? e.message : e);
    }

    // A command past its timeout (seconds) throws; the sandbox stays usable
    try {
      await sandbox.command.run("sleep", ["10"], 2);
    } catch (e) {
      console.log("Timed out:", e instanceof Error ? e.message.split("\n")[0] : e);
    }
    const still = await sandbox.command.run("echo", ["Still working!"]);
    console.log("After timeout:", await still.output());

    // Files, a pipeline, and a Python script run with `python`
    await sandbox.command.run("bash", ["-c", "echo 'file content' > /tmp/test.txt"]);
    console.log("File:", await (await sandbox.command.run("cat", ["/tmp/test.txt"])).output());
    const count = await sandbox.command.run("bash", [
      "-c",
      "mkdir -p /tmp/d && echo 'Line 1' > /tmp/d/a.txt && echo 'Line 2' >> /tmp/d/a.txt && cat /tmp/d/a.txt | grep Line | wc -l",
    ]);
    console.log("Pipeline:", await count.output());
    const script = await sandbox.command.run("bash", ["-c", "printf 'import sys\\nprint(\"args:\", sys.argv[1:])\\n' > /tmp/test.py"]);
    if (script.success) {
      const ran = await sandbox.command.run("python", ["/tmp/test.py", "arg1", "arg2"]);
      console.log("Script:", await ran.output());
    }
  } finally {
    await sandbox.stop();
  }

  // Explicit lifecycle: construct, start, stop
  const explicit = new PythonSandbox({ name: "example-command-explicit" });
  try {
    await explicit.start();
    console.log("Hostname:", await (await explicit.command.run("hostname")).output());
    console.log("Date ok:", (await explicit.command.run("date")).success);
  } finally {
    await explicit.stop();
  }
}

await main();
