/**
 * Shared by the synchronous-at-heart backends (`js`, `wasm`): every method returns a promise,
 * and a validation error thrown before any work starts comes back as a rejection, like the
 * truly async `webgpu` backend.
 *
 * @module
 */

/**
 * Run `f` and settle its result (value or promise) as a promise; a synchronous throw becomes a
 * rejected promise instead of escaping the call.
 *
 * @param f the work, synchronous or returning a promise
 * @returns `f`'s result as a promise (the same promise when `f` returns one)
 * @example
 * ```ts
 * const p = _settle(() => { throw new Error("bad input"); });
 * await p.catch((e) => console.log(e.message)); // bad input
 * ```
 */
export function _settle<T>(f: () => T | Promise<T>): Promise<T> {
  try {
    return Promise.resolve(f());
  } catch (e) {
    return Promise.reject(e);
  }
}
