// Id → row map of the reference index: open addressing (linear probing) over a power-of-two table,
// FNV-1a over the UTF-16 code units. A Map with a million string keys takes seconds to fill at a
// restart (its growth and the engines' string hashing); this fills in a fraction of that. Not
// exported from mod.ts.

const EMPTY = undefined;
/** Marks a deleted slot (probing continues past it). */
const TOMB = Symbol("deleted");

function hashOf(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return (h ^ (h >>> 15)) >>> 0;
}

/** A string → non-negative integer map. */
export class IdTable {
  #keys: (string | typeof TOMB | undefined)[];
  #vals: Int32Array;
  #mask: number;
  #size = 0;
  #used = 0;

  /** @param capacity expected entries */
  constructor(capacity = 16) {
    let cap = 16;
    while (cap < capacity * 2) cap *= 2;
    this.#keys = new Array(cap);
    this.#vals = new Int32Array(cap);
    this.#mask = cap - 1;
  }

  /** Entries. */
  get size(): number {
    return this.#size;
  }

  /** The value of `key`, or undefined. */
  get(key: string): number | undefined {
    const keys = this.#keys, mask = this.#mask;
    for (let h = hashOf(key) & mask;; h = (h + 1) & mask) {
      const k = keys[h];
      if (k === EMPTY) return undefined;
      if (k === key) return this.#vals[h];
    }
  }

  /** Set `key` to `value` (an integer in [0, 2³¹)). */
  set(key: string, value: number): void {
    if ((this.#used + 1) * 2 > this.#keys.length) this.#rehash(this.#size + 1);
    const keys = this.#keys, mask = this.#mask;
    let tomb = -1;
    for (let h = hashOf(key) & mask;; h = (h + 1) & mask) {
      const k = keys[h];
      if (k === EMPTY) {
        const at = tomb >= 0 ? tomb : h;
        if (tomb < 0) this.#used++;
        keys[at] = key;
        this.#vals[at] = value;
        this.#size++;
        return;
      }
      if (k === TOMB) {
        if (tomb < 0) tomb = h;
      } else if (k === key) {
        this.#vals[h] = value;
        return;
      }
    }
  }

  /** Remove `key`; returns whether it was there. */
  delete(key: string): boolean {
    const keys = this.#keys, mask = this.#mask;
    for (let h = hashOf(key) & mask;; h = (h + 1) & mask) {
      const k = keys[h];
      if (k === EMPTY) return false;
      if (k === key) {
        keys[h] = TOMB;
        this.#size--;
        return true;
      }
    }
  }

  #rehash(need: number): void {
    const oldKeys = this.#keys, oldVals = this.#vals;
    let cap = 16;
    while (cap < need * 2 + 2) cap *= 2;
    if (cap < oldKeys.length) cap = oldKeys.length;
    if (need * 4 > cap) cap *= 2;
    this.#keys = new Array(cap);
    this.#vals = new Int32Array(cap);
    this.#mask = cap - 1;
    this.#size = 0;
    this.#used = 0;
    for (let i = 0; i < oldKeys.length; i++) {
      const k = oldKeys[i];
      if (k !== EMPTY && k !== TOMB) this.set(k, oldVals[i]);
    }
  }
}
