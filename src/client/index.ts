export { BaseSandbox, type RunOptions } from "./base-sandbox.js";
export { PythonSandbox } from "./python-sandbox.js";
export { NodeSandbox } from "./node-sandbox.js";
export { Execution, type ExecutionData } from "./execution.js";
export { CommandExecution, type CommandExecutionData } from "./command-execution.js";
export { Command } from "./command.js";
export { Metrics, type MetricsSnapshot } from "./metrics.js";
export { SandboxOptions, SandboxOptionsBuilder, type SharedFilesystemMapping } from "./sandbox-options.js";
export type { OutputLine } from "./output-lines.js";
