import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import {
  csvFeatures,
  jsonlGroups,
  jsonlPairs,
  parseCsv,
  parseIdx,
  parseJsonl,
  readCsvFeatures,
  readIdxFile,
  readIdxHeader,
  readJsonlPairs,
} from "@likeness/data";

test("JSONL: values, pairs (Quaterion field names) and groups; bad lines are CORRUPT", () => {
  assert.deepEqual(parseJsonl('{"a":1}\r\n\n[2]\n'), [{ a: 1 }, [2]]);
  const p = jsonlPairs('{"obj_a":"q","obj_b":"a","score":0.5,"subgroup":3}\n{"objA":"x","objB":"y"}');
  assert.deepEqual(p, [{ objA: "q", objB: "a", score: 0.5, subgroup: 3 }, {
    objA: "x",
    objB: "y",
    score: 1,
    subgroup: 0,
  }]);
  assert.deepEqual(jsonlGroups('{"obj":"cat","group":"animal"}'), [{ obj: "cat", group: "animal" }]);
  assert.throws(
    () => parseJsonl('{"a":1}\n{oops'),
    (e: Error & { code?: string }) => e.code === "CORRUPT" && /line 2/.test(e.message),
  );
  assert.throws(() => jsonlPairs('{"obj_a":"q","obj_b":"a","score":"high"}'), { code: "NON_FINITE" });
  assert.throws(() => jsonlGroups('{"obj":"cat"}'), { code: "LABEL_MISMATCH" });
  assert.throws(() => jsonlPairs(""), { code: "EMPTY_INPUT" });
});

test("CSV: quotes, label columns, ragged and non-numeric rows", () => {
  assert.deepEqual(parseCsv('a,"b,c"\r\n1,"say ""hi"""\n\n"multi\nline",2'), [["a", "b,c"], ["1", 'say "hi"'], [
    "multi\nline",
    "2",
  ]]);
  assert.deepEqual(parseCsv("a;b", { delimiter: ";" }), [["a", "b"]]);
  assert.throws(() => parseCsv('a,"b'), { code: "CORRUPT" });
  const d = csvFeatures("x,label,y\n0,cat,1\n2,dog,3\n", { header: true, labelColumn: "label" });
  assert.deepEqual(Array.from(d.features.data), [0, 1, 2, 3]);
  assert.deepEqual(d.labels, ["cat", "dog"]);
  assert.deepEqual(csvFeatures("1,2,0\n3,4,1").labels, [0, 1]);
  assert.throws(
    () => csvFeatures("1,2,0\n3,1"),
    (e: Error & { code?: string }) => e.code === "SHAPE_MISMATCH" && /line 2 has 2 fields/.test(e.message),
  );
  assert.throws(
    () => csvFeatures("1,x,0"),
    (e: Error & { code?: string }) => e.code === "NON_FINITE" && /line 1, column 2/.test(e.message),
  );
  assert.throws(() => csvFeatures("1,,0"), { code: "NON_FINITE" });
  assert.throws(() => csvFeatures("1,2,\n3,4,1"), { code: "LABEL_MISMATCH" });
  assert.throws(() => csvFeatures("a,b\n1,2", { header: true, labelColumn: "c" }), /use one of a, b/);
});

function idxBytes(magicDims: number[], data: number[]): Uint8Array {
  const nd = magicDims.length;
  const out = new Uint8Array(4 + 4 * nd + data.length);
  const v = new DataView(out.buffer);
  out[2] = 0x08;
  out[3] = nd;
  magicDims.forEach((d, i) => v.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * nd);
  return out;
}

test("IDX: big-endian header, magic 2051/2049, limit, truncation and gzip", () => {
  const images = idxBytes([3, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  const h = readIdxHeader(images);
  assert.equal(h.magic, 2051);
  assert.deepEqual(h.dims, [3, 2, 2]);
  const t = parseIdx(images, { limit: 2, expectMagic: 2051 });
  assert.deepEqual(t.dims, [2, 2, 2]);
  assert.equal(t.declaredCount, 3);
  assert.deepEqual(Array.from(t.data), [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.equal(parseIdx(idxBytes([2], [7, 3])).magic, 2049);
  assert.throws(() => parseIdx(images, { expectMagic: 2049 }), { code: "CORRUPT" });
  assert.throws(
    () => parseIdx(images.subarray(0, 20)),
    (e: Error & { code?: string }) => e.code === "CORRUPT" && /truncated/.test(e.message),
  );
  assert.throws(() => parseIdx(gzipSync(images)), /still gzipped/);
  assert.throws(() => parseIdx(new Uint8Array([0, 0])), { code: "CORRUPT" });
});

test("file sources read JSONL, CSV and gzipped IDX; a missing file is NOT_FOUND", async () => {
  const dir = mkdtempSync(join(tmpdir(), "likeness-data-"));
  try {
    writeFileSync(join(dir, "p.jsonl"), '{"obj_a":"a","obj_b":"b"}\n');
    writeFileSync(join(dir, "f.csv.gz"), gzipSync(new TextEncoder().encode("1,2,0\n3,4,1\n")));
    const big = idxBytes([5000, 4, 4], Array.from({ length: 5000 * 16 }, (_, i) => (i * 7) % 251));
    writeFileSync(join(dir, "i.gz"), gzipSync(big));
    assert.equal((await readJsonlPairs(join(dir, "p.jsonl")))[0].objB, "b");
    assert.deepEqual((await readCsvFeatures(join(dir, "f.csv.gz"))).labels, [0, 1]);
    const part = await readIdxFile(join(dir, "i.gz"), { limit: 3, expectMagic: 2051 });
    assert.deepEqual(part.dims, [3, 4, 4]);
    assert.deepEqual(Array.from(part.data.subarray(40, 48)), Array.from(big.subarray(16 + 40, 16 + 48)));
    const all = await readIdxFile(join(dir, "i.gz"));
    assert.equal(all.dims[0], 5000);
    assert.equal(all.data[79999], big[16 + 79999]);
    await assert.rejects(readJsonlPairs(join(dir, "nope.jsonl")), { code: "NOT_FOUND" });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
