/**
 * Secret-safe text for everything a task writes (log lines, error lines, summaries, result
 * files). The rule is: redact first, cut second. A cut made before redaction can shorten
 * a secret so that neither this module nor the agent's masker recognises what is left,
 * and the rest of it reaches the log.
 */

/** Replaces secrets in a text with `***`. */
export type Redact = (text: string) => string;

/** Shortest piece of a secret masked where a text starts or ends inside it. */
const shortestEdgePiece = 4;

/**
 * Replaces every occurrence of each secret with `***`, longest first so that a secret that
 * holds another leaves no tail. A text that ends with the start of a secret, or starts with
 * the end of one (someone else cut it: a server, a stream, a byte limit), has that piece
 * masked too, when it is at least 4 characters long.
 */
export function createRedactor(secrets: readonly string[]): Redact {
  const ordered = [...new Set(secrets.filter((secret) => secret.length > 0))].sort(
    (a, b) => b.length - a.length,
  );
  if (ordered.length === 0) return (text) => text;
  return (text) => {
    let result = ordered.reduce((current, secret) => current.split(secret).join('***'), text);
    for (const secret of ordered) result = maskEdges(result, secret);
    return result;
  };
}

function maskEdges(text: string, secret: string): string {
  let result = text;
  for (let length = Math.min(secret.length - 1, result.length); length >= shortestEdgePiece; length--) {
    if (result.endsWith(secret.slice(0, length))) {
      result = `${result.slice(0, result.length - length)}***`;
      break;
    }
  }
  for (let length = Math.min(secret.length - 1, result.length); length >= shortestEdgePiece; length--) {
    if (result.startsWith(secret.slice(secret.length - length))) {
      result = `***${result.slice(length)}`;
      break;
    }
  }
  return result;
}

const noRedaction: Redact = (text) => text;

/**
 * At most `maxChars` characters of `text` for a message, redacted before it is cut. A cut
 * text says how much was left out, and never splits a surrogate pair.
 */
export function excerpt(text: string, maxChars: number, redact: Redact = noRedaction): string {
  const safe = redact(text);
  if (safe.length <= maxChars) return safe;
  let end = maxChars;
  const code = safe.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1;
  return `${safe.slice(0, end)}… (${safe.length - end} more characters)`;
}

/** One line of at most `maxChars` characters: the first line of `text`, redacted, then cut. */
export function firstLineExcerpt(text: string, maxChars: number, redact: Redact = noRedaction): string {
  return excerpt(redact(text).split(/\r?\n/, 1)[0] ?? '', maxChars);
}
