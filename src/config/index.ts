// src/config: microsandbox.toml schema, discovery, merge (call > env > file > defaults) and the
// generated resolved TOML. Contract: docs/architecture.md.
export type {
  ResolvedSandboxConfig,
  ResolvedServerConfig,
  SandboxCallOptions,
  FileSandboxConfig,
  FileServerConfig,
  LoadedConfig,
} from "./types.js";
export { loadConfigFile, findConfigFile, parseConfigText, CONFIG_FILE_NAME, type LoadConfigOptions } from "./load-file.js";
export {
  resolveSandbox,
  DEFAULT_IMAGES,
  randomSandboxName,
  DEFAULT_MEMORY_MIB,
  DEFAULT_CPUS,
  type ResolveSandboxInput,
  type ResolveSandboxResult,
} from "./resolve-sandbox.js";
export { resolveServer, DEFAULT_SERVER_URL } from "./resolve-server.js";
export { resolveBackend } from "./resolve-backend.js";
export { BACKEND_KINDS, type BackendKind } from "./option-rules.js";
export { checkCallOptions, type CheckedCallOptions } from "./call-options.js";
export {
  writeGeneratedConfig,
  readGeneratedConfig,
  readGeneratedFile,
  renderGeneratedConfig,
  generatedConfigPath,
  type GeneratedConfig,
} from "./generated-config.js";
export { fallbackGeneratedDir, readRecordedStart, recordStart } from "./generated-record.js";
export { initConfigFile, INIT_CONFIG_TEMPLATE, type InitConfigResult } from "./init-config.js";
export { formatIssue } from "./config-issues.js";
