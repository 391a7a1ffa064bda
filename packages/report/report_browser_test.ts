/**
 * Opens a rendered report in Debian's headless chromium and checks, over the Chrome DevTools
 * Protocol (our own small client on the global WebSocket), that it renders every section with
 * no console errors, no exceptions and no requests outside the file itself.
 *
 * Skips when /usr/bin/chromium is missing (`apt-get install -y chromium`). Set
 * `LIKENESS_REPORT_SCREENSHOT=path.png` to also save a full-page screenshot.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { pathToFileURL } from "node:url";
import { renderReport } from "@likeness/report";
import { sampleReportData } from "./_test_util.ts";

const CHROMIUM = process.env.LIKENESS_CHROMIUM ?? "/usr/bin/chromium";
const SKIP = existsSync(CHROMIUM)
  ? false
  : `${CHROMIUM} is not installed: run \`apt-get install -y chromium\` (Debian) to enable the headless-browser test`;

if (SKIP) console.warn(`report_browser_test skipped: ${SKIP}`);

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// deno-lint-ignore no-explicit-any
type Json = any;

/** A minimal Chrome DevTools Protocol client over one browser-level WebSocket (flat sessions). */
class Cdp {
  #ws: WebSocket;
  #id = 0;
  #pending = new Map<number, { resolve: (v: Json) => void; reject: (e: Error) => void }>();
  #listeners: ((method: string, params: Json, sessionId?: string) => void)[] = [];

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.onmessage = (ev) => {
      const msg = JSON.parse(String(ev.data));
      if (msg.id !== undefined) {
        const p = this.#pending.get(msg.id);
        if (!p) return;
        this.#pending.delete(msg.id);
        if (msg.error) p.reject(new Error(`CDP error: ${JSON.stringify(msg.error)}`));
        else p.resolve(msg.result);
      } else {
        for (const l of this.#listeners) l(msg.method, msg.params, msg.sessionId);
      }
    };
    ws.onclose = () => {
      for (const p of this.#pending.values()) p.reject(new Error("CDP socket closed"));
      this.#pending.clear();
    };
  }

  static connect(url: string): Promise<Cdp> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.onopen = () => resolve(new Cdp(ws));
      ws.onerror = () => reject(new Error(`Cannot connect to ${url}`));
    });
  }

  send(method: string, params: Json = {}, sessionId?: string, timeoutMs = 20_000): Promise<Json> {
    const id = ++this.#id;
    const msg: Json = { id, method, params };
    if (sessionId) msg.sessionId = sessionId;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`CDP ${method} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.#ws.send(JSON.stringify(msg));
    });
  }

  on(listener: (method: string, params: Json, sessionId?: string) => void): void {
    this.#listeners.push(listener);
  }

  /** Resolve on the first event `method` (optionally of one session), or reject after a timeout. */
  waitFor(method: string, sessionId?: string, timeoutMs = 20_000): Promise<Json> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`No ${method} within ${timeoutMs} ms`)), timeoutMs);
      this.#listeners.push((m, p, s) => {
        if (m === method && (!sessionId || s === sessionId)) {
          clearTimeout(timer);
          resolve(p);
        }
      });
    });
  }

  async close(): Promise<void> {
    if (this.#ws.readyState === WebSocket.CLOSED) return;
    const closed = new Promise<void>((r) => this.#ws.addEventListener("close", () => r()));
    this.#ws.close();
    await Promise.race([closed, sleep(2000)]);
  }
}

/** Wait for chromium to write DevToolsActivePort (port, then browser path) into its profile. */
async function devtoolsUrl(userDataDir: string, child: ChildProcess, stderr: () => string): Promise<string> {
  const file = join(userDataDir, "DevToolsActivePort");
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`chromium exited with ${child.exitCode}: ${stderr()}`);
    if (existsSync(file)) {
      const [port, path] = readFileSync(file, "utf8").trim().split("\n");
      if (port && path) return `ws://127.0.0.1:${port}${path}`;
    }
    await sleep(100);
  }
  throw new Error(`chromium did not open its DevTools port within 30 s: ${stderr()}`);
}

test(
  "report renders in headless chromium with every section and no console errors",
  { skip: SKIP, timeout: 120_000 },
  async () => {
    const data = sampleReportData(300, 10);
    const html = renderReport(data);
    const dir = mkdtempSync(join(tmpdir(), "likeness-report-"));
    const userDataDir = mkdtempSync(join(tmpdir(), "likeness-chromium-"));
    const file = join(dir, "report.html");
    writeFileSync(file, html);
    let err = "";
    const child = spawn(CHROMIUM, [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-dev-shm-usage",
      "--remote-debugging-port=0",
      `--user-data-dir=${userDataDir}`,
      "about:blank",
    ], { stdio: ["ignore", "ignore", "pipe"], detached: true });
    child.stderr?.on("data", (d) => {
      if (err.length < 8000) err += String(d);
    });
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    let cdp: Cdp | undefined;
    try {
      cdp = await Cdp.connect(await devtoolsUrl(userDataDir, child, () => err.slice(-2000)));
      const { targetId } = await cdp.send("Target.createTarget", { url: "about:blank" });
      const { sessionId } = await cdp.send("Target.attachToTarget", { targetId, flatten: true });
      const problems: string[] = [];
      const requests: string[] = [];
      cdp.on((method, p, s) => {
        if (s !== sessionId) return;
        if (method === "Runtime.consoleAPICalled" && (p.type === "error" || p.type === "assert")) {
          problems.push(`console.${p.type}: ${p.args.map((a: Json) => a.value ?? a.description).join(" ")}`);
        } else if (method === "Runtime.exceptionThrown") {
          problems.push(`exception: ${p.exceptionDetails.exception?.description ?? p.exceptionDetails.text}`);
        } else if (method === "Log.entryAdded" && p.entry.level === "error") {
          problems.push(`log: ${p.entry.text} ${p.entry.url ?? ""}`);
        } else if (method === "Network.requestWillBeSent") {
          requests.push(p.request.url);
        }
      });
      for (const m of ["Runtime.enable", "Log.enable", "Page.enable", "Network.enable"]) {
        await cdp.send(m, {}, sessionId);
      }
      await cdp.send("Emulation.setDeviceMetricsOverride", {
        width: 1280,
        height: 900,
        deviceScaleFactor: 1,
        mobile: false,
      }, sessionId);
      const loaded = cdp.waitFor("Page.loadEventFired", sessionId);
      const url = pathToFileURL(file).href;
      const nav = await cdp.send("Page.navigate", { url }, sessionId);
      assert.equal(nav.errorText, undefined, `navigation failed: ${nav.errorText}`);
      await loaded;
      const { result } = await cdp.send("Runtime.evaluate", {
        returnByValue: true,
        expression: `(() => {
        const imgs = [...document.querySelectorAll("img")];
        const scatter = document.querySelector("#map svg.scatter");
        return {
          title: document.title,
          h1: document.querySelector("h1").textContent,
          svgs: document.querySelectorAll("svg").length,
          sections: [...document.querySelectorAll("section")].map((s) => s.id),
          scripts: document.querySelectorAll("script").length,
          metricRows: document.querySelectorAll("table.metrics tbody tr").length,
          curvePaths: document.querySelectorAll("#curves svg path.line").length,
          points: scatter ? scatter.querySelectorAll("circle").length : 0,
          scatterWidth: scatter ? scatter.getBoundingClientRect().width : 0,
          legend: document.querySelectorAll("#map ul.classes li").length,
          firstClass: document.querySelector("#map ul.classes li span:nth-child(2)").textContent,
          images: imgs.length,
          imagesDecoded: imgs.filter((i) => i.complete && i.naturalWidth === 28 && i.naturalHeight === 28).length,
          texts: document.querySelectorAll("#examples .item.text").length,
          queries: document.querySelectorAll("#examples .query").length,
          misses: document.querySelectorAll("#examples .item.miss").length,
          calibrationLines: document.querySelectorAll("#calibration svg path.line").length,
          marker: document.querySelector("#calibration .marker-label")?.textContent ?? "",
          bodyWidth: document.documentElement.scrollWidth,
        };
      })()`,
      }, sessionId);
      const r = result.value;
      assert.deepEqual(problems, [], `console errors or exceptions: ${problems.join("; ")}`);
      assert.deepEqual(requests.filter((u) => !u.startsWith("file:") && !u.startsWith("data:")), []);
      assert.equal(r.title, "Quickstart: synthetic digits <test>");
      assert.equal(r.h1, "Quickstart: synthetic digits <test>");
      assert.deepEqual(r.sections, ["summary", "metrics", "curves", "map", "examples", "calibration"]);
      assert.equal(r.scripts, 0);
      assert.equal(r.svgs, 4); // two curves, the map, the calibration chart
      assert.equal(r.metricRows, 5);
      assert.equal(r.curvePaths, 4);
      assert.equal(r.points, 300);
      assert.ok(r.scatterWidth > 300, `scatter is ${r.scatterWidth}px wide`);
      assert.equal(r.legend, 10);
      assert.equal(r.firstClass, "class 0 <cat>");
      assert.equal(r.images, 18);
      assert.equal(r.imagesDecoded, 18, "every PNG thumbnail decodes to 28×28");
      assert.equal(r.texts, 4);
      assert.equal(r.queries, 4);
      assert.equal(r.misses, 4); // one wrong-class image per image query, one wrong text neighbour
      assert.equal(r.calibrationLines, 2);
      assert.equal(r.marker, "threshold 0.300");
      assert.ok(r.bodyWidth <= 1280, `page overflows horizontally: ${r.bodyWidth}px`);
      // The error collection itself works: a console error raised now is caught.
      await cdp.send("Runtime.evaluate", { expression: `console.error("likeness-probe")` }, sessionId);
      for (let i = 0; i < 50 && problems.length === 0; i++) await sleep(50);
      assert.deepEqual(problems, ["console.error: likeness-probe"]);
      const shot = process.env.LIKENESS_REPORT_SCREENSHOT;
      if (shot) {
        const { data: png } = await cdp.send("Page.captureScreenshot", {
          format: "png",
          captureBeyondViewport: true,
        }, sessionId);
        writeFileSync(shot, Uint8Array.from(atob(png), (c) => c.charCodeAt(0)));
      }
    } finally {
      await cdp?.close();
      if (child.exitCode === null && child.pid !== undefined) {
        try {
          process.kill(-child.pid, "SIGKILL"); // the whole process group we started
        } catch {
          child.kill("SIGKILL");
        }
        await Promise.race([exited, sleep(5000)]);
      }
      child.stderr?.destroy();
      rmSync(userDataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
