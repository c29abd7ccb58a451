/**
 * Splits a one-line list of command-line arguments into words, without running anything:
 * whitespace separates arguments, single quotes keep everything up to the next one, and
 * double quotes keep everything but `\"` and `\\`. A backslash outside quotes is kept as it
 * is, so that Windows paths need no doubling. Returns undefined for an unclosed quote.
 */
export function splitArguments(text: string): string[] | undefined {
  const args: string[] = [];
  let current = '';
  let inWord = false;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (quote === "'") {
      if (char === "'") quote = undefined;
      else current += char;
    } else if (quote === '"') {
      if (char === '"') quote = undefined;
      else if (char === '\\' && (text[i + 1] === '"' || text[i + 1] === '\\')) current += text[++i];
      else current += char;
    } else if (/\s/.test(char)) {
      if (inWord) args.push(current);
      current = '';
      inWord = false;
    } else {
      inWord = true;
      if (char === "'" || char === '"') quote = char;
      else current += char;
    }
  }
  if (quote) return undefined;
  if (inWord) args.push(current);
  return args;
}
