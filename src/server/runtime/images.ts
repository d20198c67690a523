import { DevServerError } from "../../errors/index.js";

/** The images the bubblewrap dev server can emulate (the legacy SDK's defaults). */
export const supportedImages: readonly string[] = ["microsandbox/python", "microsandbox/node"];

export type RuntimeLanguage = "python" | "node";

// Accepts an optional registry prefix (`docker.io/`, `index.docker.io/`) and an optional `:tag` or
// `@digest`; the repository part must match exactly so look-alikes such as `evil/python` are refused.
const IMAGE_PATTERN =
  /^(?:(?:docker\.io|index\.docker\.io|registry-1\.docker\.io)\/)?microsandbox\/(python|node)(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;

/**
 * Maps an image reference to the language runtime it stands for, or `undefined` when the dev
 * server cannot emulate it.
 * @example imageToLanguage("docker.io/microsandbox/python:latest") // "python"
 */
export function imageToLanguage(image: string): RuntimeLanguage | undefined {
  const match = IMAGE_PATTERN.exec(image.trim().toLowerCase());
  return match?.[1] === "python" ? "python" : match?.[1] === "node" ? "node" : undefined;
}

/** Like {@link imageToLanguage} but throws a DevServerError that names the supported images. */
export function requireImageLanguage(image: string, sandbox: string): RuntimeLanguage {
  const language = imageToLanguage(image);
  if (language) return language;
  throw new DevServerError(
    `Cannot start sandbox "${sandbox}": the dev server cannot run image "${image}". Supported images: ${supportedImages.join(", ")} (optionally with a docker.io/ prefix and a :tag).`,
    {
      hint: `use image "microsandbox/python" or "microsandbox/node", or run a real microsandbox server for other images`,
      details: { image, supportedImages },
    },
  );
}
