import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import process from "node:process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { main, parseFlags } from "./main.ts";
import { listeningPort, tempDir } from "./_test_util.ts";

test("serve entry: flags parse, --help, and a vector-only server answers over HTTP", async () => {
  assert.deepEqual(parseFlags(["--port", "0", "--protect-reads", "--dim=3"]), {
    port: "0",
    "protect-reads": true,
    dim: "3",
  });
  assert.throws(() => parseFlags(["oops"]), /flags look like/);
  await assert.rejects(() => main([]), /--model DIR/);
  const running = await main(["--dim", "3", "--data", join(tempDir(), "d"), "--port", "0", "--backend", "js"]);
  assert.ok(running);
  try {
    const res = await fetch(`http://127.0.0.1:${running.port}/v1/health`);
    const body = await res.json();
    assert.equal(body.status, "ok");
    assert.equal(body.dim, 3);
    assert.equal(body.backend, "js");
  } finally {
    await running.stop();
  }
});

// A fresh process, so nothing else has started tfjs: `serve --model` must do it itself.
test("serve entry: a saved model is served by a fresh process", async () => {
  const dir = tempDir();
  const isBun = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";
  const script = join(dir, "save.ts");
  const { writeFileSync } = await import("node:fs");
  writeFileSync(
    script,
    `import { useTfBackend } from "@likeness/tf";
import { MlpEncoder, SimilarityModel } from "@likeness/models";
await useTfBackend("wasm");
const m = new SimilarityModel(new MlpEncoder({ inputDim: 2, hidden: [4], outputDim: 3, seed: 1 }));
await m.save(${JSON.stringify(join(dir, "model"))}, { metadata: { name: "fresh" } });
`,
  );
  const cwd = fileURLToPath(new URL("../..", import.meta.url));
  const run = (args: string[]) =>
    spawn(process.execPath, [...(isBun ? ["run"] : ["run", "-A"]), ...args], {
      cwd,
      stdio: ["ignore", "pipe", "pipe"],
    });
  // The save script must resolve @likeness/* from the repo: copy it under the repo's tree.
  const local = join(cwd, "runs", `save-${process.pid}-${Date.now()}.ts`);
  const { mkdirSync, copyFileSync, rmSync } = await import("node:fs");
  mkdirSync(join(cwd, "runs"), { recursive: true });
  copyFileSync(script, local);
  const saved = run([local]);
  const code = await new Promise((r) => saved.on("exit", r));
  rmSync(local);
  assert.equal(code, 0);
  const server = run([
    fileURLToPath(new URL("./main.ts", import.meta.url)),
    "--model",
    join(dir, "model"),
    "--data",
    join(dir, "data"),
    "--port",
    "0",
  ]);
  try {
    const port = await listeningPort(server, { log: "" });
    const res = await fetch(`http://127.0.0.1:${port}/v1/embed`, {
      method: "POST",
      body: JSON.stringify({ inputs: [[1, 2]] }),
    });
    const body = await res.json();
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.equal(body.model, "fresh");
    assert.equal(body.embeddings[0].length, 3);
  } finally {
    server.kill("SIGTERM");
  }
});
