import { imageToLanguage, type RuntimeLanguage } from "../../server/runtime/images.js";

/**
 * What the legacy image names become on real microVMs. The legacy images are gone from every
 * registry; these official images carry the same interpreters (python3 / node on PATH), which is
 * all the in-VM REPL drivers need. Slim variants keep the first pull small. See README
 * "Real microVMs: the embedded backend".
 */
export const LEGACY_IMAGE_MAP: Readonly<Record<RuntimeLanguage, string>> = {
  python: "python:3.12-slim",
  node: "node:22-slim",
};

/**
 * Maps a legacy name (`microsandbox/python`, `docker.io/microsandbox/node:latest`, …) to its OCI
 * replacement; any other reference is used as is, so users can name any OCI image.
 * @example embeddedImage("microsandbox/python") // "python:3.12-slim"
 */
export function embeddedImage(image: string): string {
  const language = imageToLanguage(image);
  return language ? LEGACY_IMAGE_MAP[language] : image.trim();
}
