// Failure text for the end of the CI log (tools/ci.ts).

/**
 * What each failure printed, gathered from a step's output so that it is repeated at the end (CI keeps
 * only the tail of the log): the lines a Bun `(fail)` line closes, Deno's ERRORS section, Bun's
 * "Unhandled error between tests" blocks. At most `max` characters per step.
 */
export function failureDigest(out: string, max = 4000): string {
  const lines = out.split("\n");
  const blocks: string[] = [];
  const deno = out.indexOf("\n ERRORS ");
  if (deno >= 0) {
    const end = out.indexOf("\n FAILURES ", deno);
    blocks.push(out.slice(deno + 1, end > deno ? end : undefined).trim());
  }
  let start = 0;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (/^\(fail\) /.test(l)) blocks.push(lines.slice(Math.max(start, i - 40), i + 1).join("\n").trim());
    if (/^\((pass|skip|fail|todo)\) |^\S.*_test\.ts:$/.test(l)) start = i + 1;
    if (/Unhandled error/.test(l)) blocks.push(lines.slice(i, i + 30).join("\n").trim());
  }
  const text = blocks.join("\n---\n");
  return text.length > max ? text.slice(0, max) + "\n[... cut]" : text;
}

/**
 * A native abort of `deno test` at process exit after its own summary said every test passed
 * (seen once in five full runs: glibc's "malloc_consolidate(): invalid chunk size" right after
 * "ok | N passed | 0 failed"): the runtime's teardown, not a test. Returns the crash line when
 * that is what happened (the caller reruns once and prints it), else undefined; any failed test,
 * a clean exit or an exit without a crash line gives undefined.
 *
 * @param out the step's output, ANSI codes stripped
 * @param code its exit code
 * @returns the crash line, or undefined
 */
export function crashAfterAllPassed(out: string, code: number): string | undefined {
  const all = [...out.matchAll(/(?:ok|FAILED) \| \d+ passed.*?\| (\d+) failed/g)];
  const m = all[all.length - 1];
  if (code === 0 || !m || +m[1] !== 0) return undefined;
  const after = out.slice((m.index ?? 0) + m[0].length);
  const crash = /^.*(?:malloc|free\(\)|double free|corrupted|Segmentation fault|Aborted|panicked).*$/m.exec(after);
  return crash ? crash[0].trim() : undefined;
}
