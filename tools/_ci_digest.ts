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
