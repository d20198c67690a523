/**
 * Upstream-style example: reading sandbox metrics individually and all at once.
 * Only the import differs from legacy `microsandbox` code.
 */
import { PythonSandbox } from "../../../../src/index.js";

async function main() {
  const sandbox = await PythonSandbox.create({ name: "example-metrics" });

  try {
    await sandbox.command.run("ls", ["-la", "/"]);
    await sandbox.command.run("dd", ["if=/dev/zero", "of=/tmp/testfile", "bs=1M", "count=10"]);

    const cpu = await sandbox.metrics.cpu();
    console.log(`CPU Usage: ${cpu === undefined ? "Not available" : `${cpu}%`}`);

    const memory = await sandbox.metrics.memory();
    console.log(`Memory Usage: ${memory ?? "Not available"} MiB`);

    const disk = await sandbox.metrics.disk();
    console.log(`Disk Usage: ${disk ?? "Not available"} bytes`);

    const running = await sandbox.metrics.isRunning();
    console.log(`Is Running: ${running}`);

    const all = await sandbox.metrics.all();
    console.log(`Sandbox: ${all.name}`);
    console.log(`  Running: ${all.running}`);
  } finally {
    await sandbox.stop();
  }

  // Metrics before start fail with the upstream message
  const idle = new PythonSandbox({ name: "example-metrics-idle" });
  try {
    await idle.metrics.cpu();
  } catch (e) {
    console.log(`Expected error: ${e instanceof Error ? e.message : e}`);
  }
}

await main();
