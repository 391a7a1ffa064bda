import { test } from "node:test";
import assert from "node:assert/strict";
import { escapeHtml, renderReport } from "@likeness/report";

test("escapeHtml replaces every markup character", () => {
  assert.equal(
    escapeHtml(`<a href="x" onclick='y'>&\`</a>`),
    "&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&#96;&lt;/a&gt;",
  );
  assert.equal(escapeHtml("plain text 123"), "plain text 123");
  assert.equal(escapeHtml(42), "42");
  assert.equal(escapeHtml("&amp;"), "&amp;amp;");
});

test("renderReport escapes hostile class names, texts and titles everywhere", () => {
  const evil = `"><script>alert(1)</script><img src=x onerror=alert(2)>`;
  const html = renderReport({
    title: evil,
    summary: { dataset: evil, model: evil, loss: evil, backend: evil, extra: { [evil]: evil } },
    metrics: { trained: { [evil]: 1 }, baseline: { [evil]: 0 } },
    curves: [{ title: evil, xLabel: evil, yLabel: evil, series: [{ name: evil, x: [1, 2], y: [1, 2] }] }],
    embeddingMap: { embeddings: [[0, 0], [1, 1], [2, 0]], labels: [evil, "b", evil], title: evil },
    examples: [{
      query: { label: evil, text: evil },
      neighbours: [{
        item: { label: evil, text: evil, image: { pixels: [0, 1], height: 1, width: 2 } },
        distance: 0.5,
      }],
    }],
    calibration: { points: [{ threshold: 0.5, precision: 1, recall: 1 }], distanceName: evil, note: evil },
    footer: evil,
  });
  assert.ok(!html.includes("<script"), "no script tag");
  assert.ok(!html.includes(evil), "the raw string never appears");
  assert.ok(!html.includes("onerror=alert(2)>"), "no unescaped tag end after the handler");
  // Outside quoted attribute values, no tag carries an event handler, and every tag is one we write.
  const allowed = new Set(
    "html head meta title style body header div h1 h2 h3 p nav a main section dl dt dd table thead tbody tr th td figure figcaption svg line text rect path circle g ul li span img footer"
      .split(" "),
  );
  for (const tag of html.match(/<[a-zA-Z][^>]*>/g) ?? []) {
    const bare = tag.replace(/"[^"]*"/g, '""');
    assert.ok(!/\son[a-z]+\s*=/i.test(bare), `event handler in ${tag}`);
    assert.ok(allowed.has(bare.slice(1).split(/[\s>/]/)[0].toLowerCase()), `unexpected tag ${tag.slice(0, 40)}`);
  }
  assert.ok(html.includes("&lt;script&gt;alert(1)&lt;/script&gt;"));
  // The only <img> tags are our thumbnails, with data: URLs.
  const imgs = html.match(/<img [^>]*>/g) ?? [];
  assert.equal(imgs.length, 1);
  assert.match(imgs[0], /src="data:image\/png;base64,[A-Za-z0-9+/=]+"/);
});
