// Compile-time template expressions (`${{ ... }}`) as Azure Pipelines evaluates them when
// it expands a template: literals, `parameters.x` and loop variables, indexing, and the
// functions templates commonly use. Runtime expressions (`$[ ... ]`) and macros (`$(x)`)
// are not compile-time, so they are left to the caller as text.

/** A value an expression can produce: YAML's scalars, sequences and mappings. */
export type TemplateValue =
  string | number | boolean | null | TemplateValue[] | { [key: string]: TemplateValue };

/** The names an expression can read, such as `parameters` or an `each` loop's variable. */
export type ExpressionScope = Readonly<Record<string, TemplateValue>>;

/** A template mistake found while expanding, with the file and what to fix. */
export class TemplateError extends Error {
  override name = 'TemplateError';
}

type Token =
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: number }
  | { kind: 'name'; value: string }
  | { kind: 'punct'; value: string };

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let at = 0;
  while (at < source.length) {
    const char = source[at];
    if (/\s/.test(char)) {
      at++;
    } else if (char === "'") {
      // A quote inside a string literal is written twice.
      let value = '';
      at++;
      for (;;) {
        if (at >= source.length) throw new TemplateError(`unterminated string in expression: ${source}`);
        if (source[at] === "'") {
          if (source[at + 1] === "'") {
            value += "'";
            at += 2;
            continue;
          }
          at++;
          break;
        }
        value += source[at++];
      }
      tokens.push({ kind: 'string', value });
    } else if (/[0-9]/.test(char) || (char === '-' && /[0-9]/.test(source[at + 1] ?? ''))) {
      const match = /^-?[0-9]+(\.[0-9]+)?/.exec(source.slice(at))!;
      tokens.push({ kind: 'number', value: Number(match[0]) });
      at += match[0].length;
    } else if (/[A-Za-z_]/.test(char)) {
      const match = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(source.slice(at))!;
      tokens.push({ kind: 'name', value: match[0] });
      at += match[0].length;
    } else if ('()[],.'.includes(char)) {
      tokens.push({ kind: 'punct', value: char });
      at++;
    } else {
      throw new TemplateError(`unexpected '${char}' in expression: ${source}`);
    }
  }
  return tokens;
}

/** Whether a value counts as true in a condition: false, 0, '' and null do not. */
export function isTruthy(value: TemplateValue): boolean {
  return !(value === false || value === 0 || value === '' || value === null);
}

function asText(value: TemplateValue): string {
  if (value === null) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

// Comparison converts the right side to the left side's type; strings compare without case.
function equals(left: TemplateValue, right: TemplateValue): boolean {
  if (typeof left === 'string') return left.toLowerCase() === asText(right).toLowerCase();
  if (typeof left === 'number') return left === Number(right);
  if (typeof left === 'boolean')
    return left === (typeof right === 'string' ? right.toLowerCase() === 'true' : isTruthy(right));
  return JSON.stringify(left) === JSON.stringify(right);
}

function lengthOf(value: TemplateValue): number {
  if (typeof value === 'string') return value.length;
  if (Array.isArray(value)) return value.length;
  if (value !== null && typeof value === 'object') return Object.keys(value).length;
  throw new TemplateError(`length() needs a string, sequence or mapping, not ${asText(value)}`);
}

const functions: Record<string, (args: TemplateValue[]) => TemplateValue> = {
  eq: ([a, b]) => equals(a, b),
  ne: ([a, b]) => !equals(a, b),
  gt: ([a, b]) => Number(a) > Number(b),
  ge: ([a, b]) => Number(a) >= Number(b),
  lt: ([a, b]) => Number(a) < Number(b),
  le: ([a, b]) => Number(a) <= Number(b),
  and: (args) => args.every(isTruthy),
  or: (args) => args.some(isTruthy),
  not: ([a]) => !isTruthy(a),
  in: ([needle, ...haystack]) => haystack.some((item) => equals(needle, item)),
  notIn: ([needle, ...haystack]) => !haystack.some((item) => equals(needle, item)),
  contains: ([text, part]) => asText(text).toLowerCase().includes(asText(part).toLowerCase()),
  containsValue: ([collection, needle]) =>
    (Array.isArray(collection) ? collection : Object.values(collection ?? {})).some((item) =>
      equals(item, needle),
    ),
  startsWith: ([text, part]) => asText(text).toLowerCase().startsWith(asText(part).toLowerCase()),
  endsWith: ([text, part]) => asText(text).toLowerCase().endsWith(asText(part).toLowerCase()),
  length: ([a]) => lengthOf(a),
  lower: ([a]) => asText(a).toLowerCase(),
  upper: ([a]) => asText(a).toUpperCase(),
  coalesce: (args) => args.find((arg) => arg !== null && arg !== '') ?? null,
  format: ([pattern, ...args]) =>
    asText(pattern).replace(/\{(\d+)\}/g, (_, index: string) => asText(args[Number(index)] ?? '')),
  replace: ([text, from, to]) => asText(text).split(asText(from)).join(asText(to)),
  join: ([separator, items]) =>
    Array.isArray(items) ? items.map(asText).join(asText(separator)) : asText(items),
  convertToJson: ([a]) => JSON.stringify(a, null, 2),
};

class Parser {
  private at = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly scope: ExpressionScope,
    private readonly source: string,
  ) {}

  parse(): TemplateValue {
    const value = this.expression();
    if (this.at < this.tokens.length) this.fail(`unexpected '${this.tokens[this.at].value}'`);
    return value;
  }

  private fail(problem: string): never {
    throw new TemplateError(`${problem} in expression: ${this.source}`);
  }

  private peek(value: string): boolean {
    const token = this.tokens[this.at];
    return token?.kind === 'punct' && token.value === value;
  }

  private expect(value: string): void {
    if (!this.peek(value)) this.fail(`expected '${value}'`);
    this.at++;
  }

  private expression(): TemplateValue {
    let value = this.primary();
    for (;;) {
      if (this.peek('.')) {
        this.at++;
        const name = this.tokens[this.at++];
        if (name?.kind !== 'name') this.fail('expected a property name after "."');
        value = this.property(value, name.value);
      } else if (this.peek('[')) {
        this.at++;
        const key = this.expression();
        this.expect(']');
        value = this.property(value, asText(key));
      } else {
        return value;
      }
    }
  }

  // A missing property is null, as in Azure Pipelines, so `coalesce` and `if` can test it.
  private property(value: TemplateValue, key: string): TemplateValue {
    if (Array.isArray(value)) return value[Number(key)] ?? null;
    if (value !== null && typeof value === 'object') {
      const match = Object.keys(value).find((name) => name.toLowerCase() === key.toLowerCase());
      return match === undefined ? null : value[match];
    }
    return null;
  }

  private primary(): TemplateValue {
    const token = this.tokens[this.at++];
    if (token === undefined) this.fail('unexpected end');
    if (token.kind === 'string' || token.kind === 'number') return token.value;
    if (token.kind === 'punct') {
      if (token.value !== '(') this.fail(`unexpected '${token.value}'`);
      const value = this.expression();
      this.expect(')');
      return value;
    }
    const name = token.value;
    if (this.peek('(')) {
      this.at++;
      const args: TemplateValue[] = [];
      while (!this.peek(')')) {
        args.push(this.expression());
        if (!this.peek(')')) this.expect(',');
      }
      this.at++;
      const fn = Object.entries(functions).find(([known]) => known.toLowerCase() === name.toLowerCase());
      if (!fn) this.fail(`unknown function ${name}()`);
      return fn[1](args);
    }
    if (name === 'true' || name === 'True') return true;
    if (name === 'false' || name === 'False') return false;
    if (name === 'null') return null;
    if (!(name in this.scope)) {
      this.fail(`'${name}' is not available at compile time (known: ${Object.keys(this.scope).join(', ')})`);
    }
    return this.scope[name];
  }
}

/** Evaluates the text inside `${{ }}` with the given names in scope. */
export function evaluate(source: string, scope: ExpressionScope): TemplateValue {
  return new Parser(tokenize(source), scope, source).parse();
}

const wholeExpression = /^\$\{\{([\s\S]*)\}\}$/;
const embeddedExpression = /\$\{\{([\s\S]*?)\}\}/g;

/** The inside of a string that is exactly one `${{ }}` expression, or undefined. */
export function wholeExpressionOf(text: string): string | undefined {
  const match = wholeExpression.exec(text.trim());
  return match && !match[1].includes('}}') ? match[1].trim() : undefined;
}

/** Expands a string: one whole expression keeps its value's type; embedded ones become text. */
export function interpolate(text: string, scope: ExpressionScope): TemplateValue {
  const whole = wholeExpressionOf(text);
  if (whole !== undefined) return evaluate(whole, scope);
  return text.replace(embeddedExpression, (_, inner: string) => asText(evaluate(inner.trim(), scope)));
}

/** Every `${{ }}` expression in a string, without the braces. */
export function expressionsIn(text: string): string[] {
  return [...text.matchAll(embeddedExpression)].map((match) => match[1].trim());
}
