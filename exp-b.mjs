import * as m from "microsandbox-embedded";
import * as tar from "tar";
import { mkdtempSync, writeFileSync, mkdirSync, readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import path from "node:path";
m.setDefaultBackend("local");
const dir = mkdtempSync("/tmp/emb-exp/img-");
mkdirSync(path.join(dir, "root/bin"), { recursive: true });
writeFileSync(path.join(dir, "root/bin/hello"), "#!/bin/sh\necho hi\n", { mode: 0o755 });
await tar.c({ file: path.join(dir, "layer.tar"), cwd: path.join(dir, "root"), portable: true }, ["bin"]);
const layer = readFileSync(path.join(dir, "layer.tar"));
const diff = "sha256:" + createHash("sha256").update(layer).digest("hex");
const config = JSON.stringify({ architecture: "amd64", os: "linux", config: { Cmd: ["/bin/hello"] }, rootfs: { type: "layers", diff_ids: [diff] }, history: [] });
const cfgHash = createHash("sha256").update(config).digest("hex");
const out = path.join(dir, "out"); mkdirSync(out);
mkdirSync(path.join(out, "l1")); writeFileSync(path.join(out, "l1/layer.tar"), layer);
writeFileSync(path.join(out, cfgHash + ".json"), config);
writeFileSync(path.join(out, "manifest.json"), JSON.stringify([{ Config: cfgHash + ".json", RepoTags: ["msbv-test/tiny:1"], Layers: ["l1/layer.tar"] }]));
await tar.c({ file: path.join(dir, "image.tar"), cwd: out }, ["manifest.json", cfgHash + ".json", "l1"]);
console.time("load");
console.log(await m.Image.load(path.join(dir, "image.tar")));
console.timeEnd("load");
console.time("create");
try {
  const sb = await m.Sandbox.builder("fail1").image("msbv-test/tiny:1").pullPolicy("never").volume("/data", v=>v.bind("/tmp/emb-exp")).create();
  console.log("created?!", sb.name);
} catch (e) { console.log("ERR", e.constructor.name, e.code, String(e.message).slice(0, 600)); }
console.timeEnd("create");
try { const h = await m.Sandbox.get("fail1"); console.log("record", h.status); } catch (e) { console.log("get", e.constructor.name, e.message); }
console.log((await m.Sandbox.list()).sandboxes.map(s=>[s.name, s.status]));
