/**
 * HTML escaping for text that comes from data sets (class names, sentences, titles).
 *
 * @module
 */

const ENTITIES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
  "`": "&#96;",
};

/**
 * Escape text for HTML and SVG content and for quoted attribute values.
 *
 * Replaces `& < > " ' \`` with entities, so the result is safe both between tags and inside a
 * double- or single-quoted attribute. Other values are converted with `String()` first.
 *
 * @param value any value (strings from data sets, numbers)
 * @returns the escaped text
 * @example
 * ```ts
 * import { escapeHtml } from "@likeness/report";
 * import assert from "node:assert/strict";
 * assert.equal(escapeHtml('<b class="x">Tom & Jerry</b>'), "&lt;b class=&quot;x&quot;&gt;Tom &amp; Jerry&lt;/b&gt;");
 * ```
 */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"'`]/g, (c) => ENTITIES[c]);
}
