import { createBackend } from "@likeness/backend";
import { openReferenceIndex, SqliteStore } from "@likeness/server";
const { backend } = await createBackend({ tf: false });
const c = () => { const u = Deno.cpuUsage ? 0 : 0; return u; };
let t0 = performance.now();
const store = await SqliteStore.open("/tmp/srvidx/d1m/likeness.db", { dim: 128 });
console.log("open", Math.round(performance.now() - t0));
const r = await openReferenceIndex({ store, dim: 128, backend, snapshotPath: "/tmp/srvidx/d1m/likeness.index" });
console.log(r.source, Math.round(r.ms), JSON.stringify(r.phases), r.fallback ?? "");
