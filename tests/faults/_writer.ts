// Child process of the SIGKILL fault test: opens the SQLite store and writes mixed batches (puts of
// new ids, deletes of ids that are already stored) as fast as it can, printing one line per write
// once the write has resolved (acknowledged). The parent kills it at a random moment.
import process from "node:process";
import { SqliteStore } from "@likeness/server";

const [path, round] = process.argv.slice(2);
const store = await SqliteStore.open(path, { dim: 8 });
const live = (await store.load()).map((i) => i.id);
console.log("ready");
for (let i = 0;; i++) {
  const put = Array.from({ length: 1 + (i % 4) }, (_, j) => ({
    id: `r${round}-${i}-${j}`,
    label: `c${j % 3}`,
    vector: Float32Array.from({ length: 8 }, (_, k) => Math.sin(i + j + k)),
    payload: { round: Number(round), i },
  }));
  const del = i % 3 === 2 && live.length ? [live.splice((i * 7919) % live.length, 1)[0]] : [];
  // The intent first (a delete may commit without its acknowledgement being printed), then the ack.
  process.stdout.write(`try ${del.join(",")}\n`);
  await store.write({ put, delete: del });
  for (const p of put) live.push(p.id);
  process.stdout.write(`ack ${put.map((p) => p.id).join(",")} del ${del.join(",")}\n`);
  if (i % 8 === 7) await new Promise((r) => setTimeout(r, 0));
}
