// What every section of the release plan shares: its error, and how it writes Markdown from
// preview text safely (inline code without backticks, text without HTML or @-mentions, short
// digests).

/** Raised for input the plan cannot be made from; the message says what and where. */
export class ReleasePlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ReleasePlanError";
  }
}

/** Inline code: no backticks, no line breaks, at most `max` characters. */
export function code(s: string, max = 100): string {
  let t = s.replace(/[`\r\n]+/g, " ");
  if (t.length > max) t = `${t.slice(0, max - 1)}…`;
  return `\`${t}\``;
}

/** Text from the preview (messages) as safe Markdown: no HTML, no @-mentions, one line. */
export function text(s: string, max = 300): string {
  let t = s.replace(/\s+/g, " ").trim();
  if (t.length > max) t = `${t.slice(0, max - 1)}…`;
  return t
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll("@", "@\u200b");
}

/** `sha256:0123…` → the first 12 hex digits, as `docker images` shows them. */
export function shortDigest(digest: string): string {
  return digest.replace(/^(sha256:[0-9a-f]{12})[0-9a-f]+$/, "$1");
}
