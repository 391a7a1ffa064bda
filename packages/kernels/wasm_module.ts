/**
 * Instantiating a kernel module and laying out its linear memory from JS.
 *
 * Kernel modules are built with `--runtime stub` and never allocate: JS owns the memory.
 * A call plans its buffers with {@link KernelModule.layout} (16-byte aligned, above the
 * module's `__heap_base`), copies inputs in, calls the export with byte offsets, reads outputs.
 *
 * @module
 */

/** A region of linear memory. */
export interface Region {
  /** Byte offset (16-byte aligned). */
  offset: number;
  /** Size in bytes. */
  bytes: number;
}

/** An instantiated kernel module with a JS-managed heap. */
export class KernelModule {
  /** The instance; kernel functions are on `exports`. */
  readonly instance: WebAssembly.Instance;
  /** Its memory (own or imported). */
  readonly memory: WebAssembly.Memory;
  /** First free byte above static data. */
  readonly heapBase: number;

  /**
   * @param instance instantiated module
   * @param memory its memory (exported as `memory` or imported)
   */
  constructor(instance: WebAssembly.Instance, memory: WebAssembly.Memory) {
    this.instance = instance;
    this.memory = memory;
    const hb = instance.exports.__heap_base as WebAssembly.Global | undefined;
    const base = hb ? Number(hb.value) : 1024;
    this.heapBase = (base + 15) & ~15;
  }

  /**
   * Instantiate from bytes. If `memory` is given it is imported as `env.memory`.
   *
   * @param bytes module bytes
   * @param memory optional (shared) memory to import
   * @returns the module
   */
  static async create(bytes: Uint8Array, memory?: WebAssembly.Memory): Promise<KernelModule> {
    const imports: WebAssembly.Imports = {
      env: {
        abort: (_msg: number, _file: number, line: number, col: number) => {
          throw new Error(`kernel abort at ${line}:${col}`);
        },
        ...(memory ? { memory } : {}),
      },
    };
    const { instance } = await WebAssembly.instantiate(bytes as BufferSource, imports);
    const mem = memory ?? (instance.exports.memory as WebAssembly.Memory);
    return new KernelModule(instance, mem);
  }

  /**
   * Plan consecutive regions of the given byte sizes (each 16-byte aligned) starting at the
   * heap base, growing memory if needed.
   *
   * @param sizes byte sizes
   * @returns one region per size
   */
  layout(...sizes: number[]): Region[] {
    let at = this.heapBase;
    const out: Region[] = [];
    for (const bytes of sizes) {
      out.push({ offset: at, bytes });
      at = (at + bytes + 15) & ~15;
    }
    this.ensure(at);
    return out;
  }

  /** Grow memory so that `end` bytes are addressable. */
  ensure(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end > have) this.memory.grow(Math.ceil((end - have) / 65536));
  }

  /** Float32 view of a region (recreate after any growth). */
  f32(r: Region): Float32Array {
    return new Float32Array(this.memory.buffer, r.offset, r.bytes >> 2);
  }

  /** Int32 view of a region. */
  i32(r: Region): Int32Array {
    return new Int32Array(this.memory.buffer, r.offset, r.bytes >> 2);
  }

  /** Uint8 view of a region. */
  u8(r: Region): Uint8Array {
    return new Uint8Array(this.memory.buffer, r.offset, r.bytes);
  }

  /** A kernel export by name. */
  fn<T extends (...args: never[]) => unknown>(name: string): T {
    const f = this.instance.exports[name];
    if (typeof f !== "function") throw new Error(`kernel module has no export ${name}`);
    return f as T;
  }
}

/**
 * Does a module validate? Used by the feature probes.
 *
 * @param bytes module bytes
 * @returns whether `WebAssembly.validate` accepts it
 */
export function validates(bytes: Uint8Array): boolean {
  try {
    return typeof WebAssembly === "object" && WebAssembly.validate(bytes as BufferSource);
  } catch {
    return false;
  }
}
