// Workspace round trip: sandbox code writes 1,000 small files / one 64 MiB file, the host reads
// them back. Three ways: the host writing the bytes itself (floor), a mounted volume, and the
// copy-out workaround users fall back to without volumes (tar | base64 through command.run).
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import * as tar from "tar";
import { createSandbox, newProject, runChecked, stopAll } from "./lib/sandbox.mjs";
import { startServerProcess } from "./lib/server.mjs";
import { summarize, timeRepeated } from "./lib/stats.mjs";
import { hostReadBack, hostWrite, prepareHostBuffers, PY_SETUP, pyClean, pyWrite } from "./lib/workload.mjs";

// The dev server keeps at most 16 MiB of output per command (the legacy server has no cap), so the
// archive is staged as base64 in the sandbox and fetched in slices below that, as a user would.
const SLICE_CHARS = 12 * 1024 * 1024; // multiple of 4: every slice decodes on its own

/**
 * The workaround: tar the folder inside the sandbox, ship it out base64-encoded through
 * command.run output (JSON lines), decode on the host.
 * @returns {Promise<Buffer>} the tar archive
 */
async function copyOut(sb, guestDir) {
  const sh = async (script) => {
    const res = await sb.command.run("sh", ["-c", script], 300);
    if (!res.success) throw new Error(`sh -c ${JSON.stringify(script)} exited ${res.exitCode}: ${(await res.error()).slice(0, 300)}`);
    return res.output();
  };
  const staged = "/tmp/copy-out.b64";
  const size = Number(await sh(`tar -C ${guestDir} -cf - . | base64 -w0 > ${staged} && wc -c < ${staged}`));
  const parts = [];
  for (let off = 0; off < size; off += SLICE_CHARS) {
    // Long lines arrive split at 1 MiB; base64 ignores the joining newlines only if we drop them.
    const text = await sh(`tail -c +${off + 1} ${staged} | head -c ${SLICE_CHARS}`);
    parts.push(Buffer.from(text.replace(/\s+/g, ""), "base64"));
  }
  await sh(`rm -f ${staged}`);
  return Buffer.concat(parts);
}

export const SCENARIOS = /** @type {const} */ (["small", "large"]);

/**
 * @param {{ log: (m: string) => void, lib: any, reps: { warmup: number, reps: number } }} ctx
 */
export async function benchRoundTrip(ctx) {
  const { log, lib, reps } = ctx;
  const project = await newProject("roundtrip");
  prepareHostBuffers();
  const out = { floor: {}, mounted: {}, copyOut: {}, notes: [] };

  for (const s of SCENARIOS) {
    const dir = join(project, "floor", s);
    log(`round trip: floor (host write + read back), ${s}`);
    const samples = await timeRepeated({
      ...reps,
      before: () => rm(dir, { recursive: true, force: true }),
      fn: async () => {
        hostWrite(s, dir);
        hostReadBack(s, dir);
      },
    });
    out.floor[s] = summarize(samples);
  }

  if (!lib.ok) {
    out.notes.push(`mounted and copy-out not measured: ${lib.reason}`);
    return out;
  }

  const server = await startServerProcess(project);
  const sandboxes = [];
  try {
    const mounted = await createSandbox(lib.PythonSandbox, { project, serverUrl: server.url, name: "rt-mounted", workspaces: ["ws"] });
    sandboxes.push(mounted);
    await runChecked(mounted, PY_SETUP);
    for (const s of SCENARIOS) {
      const hostDir = join(project, "ws", s);
      log(`round trip: mounted volume, ${s}`);
      const samples = await timeRepeated({
        ...reps,
        before: () => rm(hostDir, { recursive: true, force: true }),
        fn: async () => {
          await runChecked(mounted, pyWrite(s, `/workspace/${s}`));
          hostReadBack(s, hostDir);
        },
      });
      out.mounted[s] = summarize(samples);
    }
    await rm(join(project, "ws"), { recursive: true, force: true });

    // Copy-out: no volume; the files live in the sandbox's private /tmp until shipped out.
    const copy = await createSandbox(lib.PythonSandbox, { project, serverUrl: server.url, name: "rt-copyout" });
    sandboxes.push(copy);
    await runChecked(copy, PY_SETUP);
    for (const s of SCENARIOS) {
      const guestDir = `/tmp/rt-${s}`;
      const hostDir = join(project, "copied", s);
      log(`round trip: copy-out (tar | base64 via command.run), ${s}`);
      try {
        const samples = await timeRepeated({
          ...reps,
          before: async () => {
            await runChecked(copy, pyClean(guestDir));
            await rm(hostDir, { recursive: true, force: true });
          },
          fn: async () => {
            await runChecked(copy, pyWrite(s, guestDir));
            const archive = await copyOut(copy, guestDir);
            await mkdir(hostDir, { recursive: true });
            await pipeline(Readable.from([archive]), tar.x({ cwd: hostDir }));
            hostReadBack(s, hostDir);
          },
        });
        out.copyOut[s] = summarize(samples);
      } catch (e) {
        out.copyOut[s] = { failed: String(e instanceof Error ? e.message : e).slice(0, 300) };
        log(`round trip: copy-out ${s} failed: ${out.copyOut[s].failed}`);
      }
      await runChecked(copy, pyClean(guestDir)).catch(() => undefined);
      await rm(hostDir, { recursive: true, force: true });
    }
  } finally {
    await stopAll(sandboxes);
    await server.close();
  }
  return out;
}
