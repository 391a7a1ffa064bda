import { test } from "node:test";
import assert from "node:assert/strict";
import { encodePng, pngDataUrl } from "@likeness/report";

function u32(b: Uint8Array, o: number): number {
  return new DataView(b.buffer, b.byteOffset).getUint32(o);
}

async function inflate(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes.slice()]).stream().pipeThrough(new DecompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Split a PNG into chunks: type, data. */
function chunks(png: Uint8Array): { type: string; data: Uint8Array }[] {
  const out = [];
  let o = 8;
  while (o < png.length) {
    const len = u32(png, o);
    const type = String.fromCharCode(...png.subarray(o + 4, o + 8));
    out.push({ type, data: png.subarray(o + 8, o + 8 + len) });
    o += 12 + len;
  }
  return out;
}

test("encodePng writes a valid greyscale PNG whose pixels inflate back", async () => {
  const pixels = [0, 0.5, 1, 0.25, 0.75, 1];
  const png = encodePng({ pixels, height: 2, width: 3 });
  assert.deepEqual([...png.subarray(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10]);
  const cs = chunks(png);
  assert.deepEqual(cs.map((c) => c.type), ["IHDR", "IDAT", "IEND"]);
  assert.equal(u32(cs[0].data, 0), 3); // width
  assert.equal(u32(cs[0].data, 4), 2); // height
  assert.equal(cs[0].data[8], 8); // bit depth
  assert.equal(cs[0].data[9], 0); // greyscale
  // IEND's CRC is the well-known constant AE 42 60 82.
  assert.deepEqual([...png.subarray(png.length - 4)], [0xae, 0x42, 0x60, 0x82]);
  const raw = await inflate(cs[1].data); // also checks the zlib header and Adler-32
  assert.deepEqual([...raw], [0, 0, 128, 255, 0, 64, 191, 255]);
});

test("encodePng handles RGB, 0..255 data, inversion and multi-block images", async () => {
  const rgb = encodePng({ pixels: [255, 0, 0, 0, 0, 255], height: 1, width: 2, channels: 3 });
  assert.equal(chunks(rgb)[0].data[9], 2);
  assert.deepEqual([...await inflate(chunks(rgb)[1].data)], [0, 255, 0, 0, 0, 0, 255]);
  const inv = encodePng({ pixels: [0, 1], height: 1, width: 2, invert: true });
  assert.deepEqual([...await inflate(chunks(inv)[1].data)], [0, 255, 0]);
  // 300×300 greyscale = 90,300 raw bytes: two stored blocks.
  const big = encodePng({ pixels: new Float32Array(300 * 300).fill(0.5), height: 300, width: 300 });
  const raw = await inflate(chunks(big)[1].data);
  assert.equal(raw.length, 300 * 301);
  assert.equal(raw[1], 128);
  assert.equal(raw[raw.length - 1], 128);
});

test("pngDataUrl is deterministic base64 of the PNG", () => {
  const img = { pixels: [0, 1, 1, 0], height: 2, width: 2 };
  const url = pngDataUrl(img);
  assert.ok(url.startsWith("data:image/png;base64,iVBORw0KGgo"));
  assert.equal(url, pngDataUrl(img));
  const bytes = Uint8Array.from(atob(url.slice(22)), (c) => c.charCodeAt(0));
  assert.deepEqual(bytes, encodePng(img));
});

test("encodePng rejects bad images with typed errors", () => {
  assert.throws(() => encodePng({ pixels: [1, 2, 3], height: 2, width: 2 }), { code: "SHAPE_MISMATCH" });
  assert.throws(() => encodePng({ pixels: [], height: 0, width: 2 }), { code: "INVALID_ARGUMENT" });
  assert.throws(() => encodePng({ pixels: [1], height: 1, width: 1, channels: 2 as 1 }), { code: "INVALID_ARGUMENT" });
  assert.throws(() => encodePng({ pixels: [NaN], height: 1, width: 1 }), { code: "NON_FINITE" });
  assert.throws(() => encodePng({ pixels: [1], height: 1, width: 1, range: [1, 1] }), {
    code: "INVALID_ARGUMENT",
    message: /max > min/,
  });
});
