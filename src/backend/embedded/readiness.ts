import { probeKvm } from "./kvm.js";
import { loadEmbeddedSdk } from "./sdk.js";

export interface EmbeddedReadiness {
  /** The SDK and its native addon load. */
  addon: { ok: boolean; detail: string };
  /** A microVM can boot (Linux: /dev/kvm usable). */
  kvm: { ok: boolean; reason: string; detail: string };
  ok: boolean;
}

/** For `msbv doctor`: loads the addon (nothing else) and probes KVM. */
export async function embeddedReadiness(): Promise<EmbeddedReadiness> {
  let addon: EmbeddedReadiness["addon"];
  try {
    const sdk = await loadEmbeddedSdk();
    addon = { ok: true, detail: `microsandbox runtime loaded (backend: ${sdk.defaultBackendKind()})` };
  } catch (err) {
    addon = { ok: false, detail: err instanceof Error ? (err.message.split("\n")[0] ?? err.message) : String(err) };
  }
  const verdict = await probeKvm();
  const kvm = { ok: verdict.usable, reason: verdict.reason, detail: verdict.detail };
  return { addon, kvm, ok: addon.ok && kvm.ok };
}
