export { createBwrapRuntime, type BwrapRuntimeOptions } from "./bwrap-runtime.js";
export { findBwrap } from "./find-bwrap.js";
export { imageToLanguage, supportedImages, type RuntimeLanguage } from "./images.js";
export type {
  RuntimeMetrics,
  RuntimeOutputLine,
  RuntimeSandboxSpec,
  RuntimeVolume,
  SandboxRuntime,
} from "./types.js";
