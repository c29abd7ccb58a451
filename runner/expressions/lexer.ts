// The tokens of an expression, read as the service's lexical analyzer reads them: a `.`
// is a number's decimal point where a value may start and a dereference elsewhere, and a
// word after a dereference is a property name whatever it spells.
import { ExpressionError } from './errors';
import { Version } from './values';

/** One token, with its 0-based position in the expression. */
export type Token =
  | {
      readonly kind: 'punctuation';
      readonly text: '[' | ']' | '(' | ')' | ',' | '.' | '*';
      readonly position: number;
    }
  | { readonly kind: 'string'; readonly text: string; readonly value: string; readonly position: number }
  | { readonly kind: 'number'; readonly text: string; readonly value: number; readonly position: number }
  | { readonly kind: 'version'; readonly text: string; readonly value: Version; readonly position: number }
  | { readonly kind: 'boolean'; readonly text: string; readonly value: boolean; readonly position: number }
  | { readonly kind: 'keyword'; readonly text: string; readonly position: number }
  | { readonly kind: 'property'; readonly text: string; readonly position: number };

const punctuation = new Set(['[', ']', '(', ')', ',', '.', '*']);

function isBoundary(char: string): boolean {
  return punctuation.has(char) || /\s/.test(char);
}

// A name: a letter or `_`, then letters, digits, `_` or `-` (variable names may hold a hyphen).
const keyword = /^[A-Za-z_][A-Za-z0-9_-]*$/;
// Numbers as .NET's Decimal.TryParse with AllowDecimalPoint and AllowLeadingSign: no hex,
// no exponent (the docs: a number "starts with '-', '.', or '0' through '9'").
const number = /^-?(\d+\.?\d*|\.\d+)$/;

/** Splits an expression into tokens; text that is no token is an "Unrecognized value" error. */
export function tokenize(expression: string): Token[] {
  const tokens: Token[] = [];
  let at = 0;
  const last = () => tokens[tokens.length - 1];
  const valueMayStart = () => {
    const previous = last();
    return previous === undefined || (previous.kind === 'punctuation' && '[(,'.includes(previous.text));
  };
  while (at < expression.length) {
    const char = expression[at];
    if (/\s/.test(char)) {
      at++;
      continue;
    }
    const start = at;
    if (char === "'") {
      let value = '';
      let closed = false;
      at++;
      while (at < expression.length) {
        const next = expression[at++];
        if (next === "'") {
          // A quote inside a string literal is written twice.
          if (expression[at] !== "'") {
            closed = true;
            break;
          }
          at++;
        }
        value += next;
      }
      const text = expression.slice(start, at);
      if (!closed) throw ExpressionError.at('Unrecognized value', text, start, expression);
      tokens.push({ kind: 'string', text, value, position: start });
    } else if ((char === '.' && valueMayStart()) || char === '-' || /\d/.test(char)) {
      at++;
      while (at < expression.length && (!isBoundary(expression[at]) || expression[at] === '.')) at++;
      const text = expression.slice(start, at);
      const periods = text.split('.').length - 1;
      const version = periods >= 2 ? Version.parse(text) : undefined;
      if (version) tokens.push({ kind: 'version', text, value: version, position: start });
      else if (periods < 2 && number.test(text))
        tokens.push({ kind: 'number', text, value: Number(text), position: start });
      else throw ExpressionError.at('Unrecognized value', text, start, expression);
    } else if (punctuation.has(char)) {
      tokens.push({ kind: 'punctuation', text: char as '[', position: start });
      at++;
    } else {
      at++;
      while (at < expression.length && !isBoundary(expression[at])) at++;
      const text = expression.slice(start, at);
      if (!keyword.test(text)) throw ExpressionError.at('Unrecognized value', text, start, expression);
      const previous = last();
      if (previous?.kind === 'punctuation' && previous.text === '.') {
        tokens.push({ kind: 'property', text, position: start });
      } else if (/^(true|false)$/i.test(text)) {
        tokens.push({ kind: 'boolean', text, value: text.toLowerCase() === 'true', position: start });
      } else {
        tokens.push({ kind: 'keyword', text, position: start });
      }
    }
  }
  return tokens;
}
