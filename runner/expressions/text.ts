// Where expressions sit in YAML text: `${{ }}` template expressions anywhere in a value or
// key, `$[ ]` runtime expressions as a whole value, and `$( )` macros.
import { ExpressionError } from './errors';

/** A piece of a YAML string: literal text, or the inside of one `${{ }}`. */
export type TemplateSegment =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'expression'; readonly expression: string; readonly offset: number };

const open = '${{';
const close = '}}';

/**
 * Splits a string into literal text and `${{ }}` expressions. A `}}` inside a quoted
 * string of the expression does not close it. An expression left open is an error in the
 * service's words.
 */
export function templateSegments(text: string): TemplateSegment[] {
  const segments: TemplateSegment[] = [];
  let at = 0;
  while (at < text.length) {
    const start = text.indexOf(open, at);
    if (start < 0) {
      segments.push({ kind: 'text', text: text.slice(at) });
      break;
    }
    if (start > at) segments.push({ kind: 'text', text: text.slice(at, start) });
    let cursor = start + open.length;
    let inString = false;
    let end = -1;
    while (cursor < text.length) {
      const char = text[cursor];
      if (char === "'") inString = !inString;
      else if (!inString && text.startsWith(close, cursor)) {
        end = cursor;
        break;
      }
      cursor++;
    }
    if (end < 0) {
      throw new ExpressionError(
        'The expression is not closed. An unescaped ${{ sequence was found, but the closing }} sequence was not found.',
        text.slice(start + open.length),
      );
    }
    segments.push({
      kind: 'expression',
      expression: text.slice(start + open.length, end).trim(),
      offset: start,
    });
    at = end + close.length;
  }
  return segments;
}

/** Whether a string holds any `${{`. */
export function hasTemplateExpression(text: string): boolean {
  return text.includes(open);
}

/**
 * The inside of a string that is exactly one `${{ }}` expression (surrounding spaces
 * aside), or undefined. Such a value keeps its result's type: a mapping or a sequence
 * stays one.
 */
export function wholeTemplateExpression(text: string): string | undefined {
  const trimmed = text.trim();
  if (!trimmed.startsWith(open) || !trimmed.endsWith(close)) return undefined;
  const segments = templateSegments(trimmed);
  return segments.length === 1 && segments[0].kind === 'expression' ? segments[0].expression : undefined;
}

/** Every `${{ }}` expression in a string, without the braces. */
export function templateExpressionsIn(text: string): string[] {
  return templateSegments(text).flatMap((segment) =>
    segment.kind === 'expression' ? [segment.expression] : [],
  );
}

/** The inside of a runtime expression `$[ ... ]` that is a whole value, or undefined. */
export function wholeRuntimeExpression(text: string): string | undefined {
  const trimmed = text.trim();
  return trimmed.startsWith('$[') && trimmed.endsWith(']') ? trimmed.slice(2, -1).trim() : undefined;
}

/** Whether a value is only known when the pipeline runs: it holds a macro `$(x)` or a runtime expression. */
export function isDeferredValue(text: string): boolean {
  return /\$\([^)]+\)/.test(text) || wholeRuntimeExpression(text) !== undefined;
}
