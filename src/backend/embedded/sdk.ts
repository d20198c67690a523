import type * as Sdk from "microsandbox-embedded";
import { EmbeddedUnavailableError } from "../../errors/index.js";
import { DEV_SERVER_WAY_OUT } from "./unavailable.js";

/** The real `microsandbox` 0.6 SDK, installed under the alias `microsandbox-embedded` (see package.json). */
export type EmbeddedSdk = typeof Sdk;

/**
 * The alias, not "microsandbox": users point "microsandbox" at this package (drop-in), which
 * would make `import("microsandbox")` load ourselves.
 */
export const SDK_PACKAGE = "microsandbox-embedded";

let loading: Promise<EmbeddedSdk> | undefined;

/**
 * Loads the SDK and its native addon on first use only, so RPC-backend users never load native
 * code. Pins the local backend process-wide: the SDK would otherwise switch to its hosted cloud
 * backend when MSB_BACKEND=cloud and MSB_API_KEY (also the legacy server key) are set.
 */
export function loadEmbeddedSdk(): Promise<EmbeddedSdk> {
  loading ??= importSdk().catch((err: unknown) => {
    loading = undefined;
    throw err;
  });
  return loading;
}

async function importSdk(): Promise<EmbeddedSdk> {
  let sdk: EmbeddedSdk;
  try {
    sdk = (await import(SDK_PACKAGE)) as EmbeddedSdk;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new EmbeddedUnavailableError(
      `The embedded backend cannot load the microsandbox runtime (npm "microsandbox" >=0.6.16 <0.7 under the alias "${SDK_PACKAGE}") or its native addon for ${process.platform}-${process.arch}: ${firstLine(message)}`,
      {
        cause: err,
        hint: `reinstall without --omit=optional (npm install microsandbox-volumes), on Linux x64/arm64 with KVM or macOS arm64; ${DEV_SERVER_WAY_OUT}`,
        details: { reason: "addon-missing", platform: `${process.platform}-${process.arch}` },
      },
    );
  }
  sdk.setDefaultBackend("local");
  return sdk;
}

function firstLine(text: string): string {
  return text.split("\n")[0] ?? text;
}
