export { EmbeddedBackend, type EmbeddedBackendOptions } from "./embedded-backend.js";
export { embeddedImage, LEGACY_IMAGE_MAP } from "./images.js";
export { probeKvm } from "./kvm.js";
export { loadEmbeddedSdk, SDK_PACKAGE } from "./sdk.js";
export { embeddedReadiness, type EmbeddedReadiness } from "./readiness.js";
