/**
 * A parser for the subset of KQL the emulated Log Analytics evaluates: `let name = <tabular>;`
 * statements, then a table (or a union of tables, or a let's name) piped through where, extend,
 * project, project-away, project-rename, summarize, distinct, take/limit, top, order/sort,
 * union and count, with scalar expressions; `in` and toscalar() also take a tabular expression.
 *
 * Hand-written (a Pratt parser for expressions): the one maintained KQL parser published
 * to npm, @kusto/language-service-next, is Bridge.NET output of the C# parser, several
 * megabytes that need a global `Bridge` runtime, and it only parses; the evaluator would
 * still have to walk its syntax tree. Operator precedence follows
 * https://learn.microsoft.com/kusto/query/scalar-data-types/ and the operator pages it links.
 */

/** Where a query went wrong, as the service reports it: the offending token and its place. */
export class KqlSyntaxError extends Error {
  constructor(
    readonly token: string,
    readonly offset: number,
  ) {
    super(`Query could not be parsed at '${token}'`);
  }
}

/** A scalar expression. */
export type Expr =
  | { readonly kind: 'literal'; readonly type: LiteralType; readonly value: unknown }
  | { readonly kind: 'column'; readonly name: string; readonly offset: number }
  | { readonly kind: 'call'; readonly name: string; readonly args: readonly Expr[]; readonly offset: number }
  | { readonly kind: 'binary'; readonly op: string; readonly left: Expr; readonly right: Expr }
  | { readonly kind: 'unary'; readonly op: '-' | '+'; readonly operand: Expr }
  | {
      readonly kind: 'in';
      readonly negate: boolean;
      readonly caseInsensitive: boolean;
      readonly left: Expr;
      readonly list: readonly Expr[];
    }
  | { readonly kind: 'hasAny'; readonly left: Expr; readonly list: readonly Expr[] }
  | { readonly kind: 'member'; readonly target: Expr; readonly key: string | number }
  | { readonly kind: 'tabular'; readonly query: Tabular; readonly offset: number }
  | { readonly kind: 'star' };

/** The types a literal may have. */
export type LiteralType = 'string' | 'long' | 'real' | 'bool' | 'datetime' | 'timespan' | 'dynamic' | 'null';

/** `name = expr`, or an expression whose name is derived. */
export interface NamedExpr {
  readonly name?: string;
  readonly expr: Expr;
}

/** A sort key. */
export interface SortKey {
  readonly expr: Expr;
  readonly descending: boolean;
  readonly nullsFirst: boolean;
}

/** A tabular operator after a pipe. */
export type Operator =
  | { readonly kind: 'where'; readonly predicate: Expr }
  | { readonly kind: 'extend' | 'project'; readonly items: readonly NamedExpr[] }
  | { readonly kind: 'project-away'; readonly patterns: readonly string[] }
  | { readonly kind: 'project-rename'; readonly renames: readonly { to: string; from: string }[] }
  | {
      readonly kind: 'summarize';
      readonly aggregates: readonly NamedExpr[];
      readonly by: readonly NamedExpr[];
    }
  | { readonly kind: 'distinct'; readonly items: readonly NamedExpr[] }
  | { readonly kind: 'take'; readonly count: number }
  | { readonly kind: 'top'; readonly count: number; readonly key: SortKey }
  | { readonly kind: 'order'; readonly keys: readonly SortKey[] }
  | { readonly kind: 'union'; readonly tables: readonly TableRef[] }
  | { readonly kind: 'count' };

/** A table named in a query. */
export interface TableRef {
  readonly name: string;
  readonly offset: number;
}

/** A tabular expression: its tables (or a let's name), then its operators, each with the name it was written with. */
export interface Tabular {
  readonly tables: readonly TableRef[];
  readonly operators: readonly { readonly name: string; readonly operator: Operator }[];
}

/** `let name = <tabular expression>;` */
export interface LetStatement {
  readonly name: string;
  readonly offset: number;
  readonly value: Tabular;
}

/** A parsed query: its let statements, in order, then the tabular expression it answers. */
export interface Query extends Tabular {
  readonly lets: readonly LetStatement[];
}

interface Token {
  readonly kind: 'ident' | 'string' | 'number' | 'timespan' | 'raw' | 'punct' | 'eof';
  readonly text: string;
  readonly value?: unknown;
  readonly offset: number;
  /** Whitespace or a comment came before it. */
  readonly spaced: boolean;
  /** An empty line came before it. */
  readonly afterBlankLine: boolean;
}

// Units of timespan literals, in milliseconds (https://learn.microsoft.com/kusto/query/scalar-data-types/timespan).
const timespanUnits: Readonly<Record<string, number>> = {
  d: 86_400_000,
  day: 86_400_000,
  days: 86_400_000,
  h: 3_600_000,
  hr: 3_600_000,
  hrs: 3_600_000,
  hour: 3_600_000,
  hours: 3_600_000,
  m: 60_000,
  min: 60_000,
  minute: 60_000,
  minutes: 60_000,
  s: 1000,
  sec: 1000,
  second: 1000,
  seconds: 1000,
  ms: 1,
  milli: 1,
  millis: 1,
  millisecond: 1,
  milliseconds: 1,
  microsecond: 0.001,
  microseconds: 0.001,
  tick: 0.0001,
  ticks: 0.0001,
};

const punctuation = [
  '==',
  '!=',
  '=~',
  '!~',
  '<=',
  '>=',
  '<>',
  '..',
  '|',
  '(',
  ')',
  '[',
  ']',
  ',',
  '.',
  '=',
  '<',
  '>',
  '+',
  '-',
  '*',
  '/',
  '%',
  ';',
  ':',
];

/** Splits a query into tokens; a character KQL has no use for is a syntax error. */
export function tokenize(query: string): Token[] {
  const tokens: Token[] = [];
  let index = 0;
  let spaced = true;
  // Line breaks since the last token or comment, and whether two of them made an empty line.
  let newlines = 0;
  let blankLine = false;
  const push = (token: Omit<Token, 'spaced' | 'afterBlankLine'>) => {
    tokens.push({ ...token, spaced, afterBlankLine: blankLine });
    spaced = false;
    newlines = 0;
    blankLine = false;
  };
  while (index < query.length) {
    const char = query[index]!;
    if (/\s/.test(char)) {
      if (char === '\n') blankLine ||= ++newlines > 1;
      index += 1;
      spaced = true;
      continue;
    }
    if (query.startsWith('//', index)) {
      while (index < query.length && query[index] !== '\n') index += 1;
      spaced = true;
      // A comment line is not an empty line.
      newlines = 0;
      continue;
    }
    const start = index;
    if (
      char === "'" ||
      char === '"' ||
      ((char === '@' || char === 'h' || char === 'H') && /['"]/.test(query[index + 1] ?? ''))
    ) {
      const verbatim = char === '@';
      if (char !== "'" && char !== '"') index += 1;
      const quote = query[index]!;
      index += 1;
      let value = '';
      for (;;) {
        const next = query[index];
        if (next === undefined || next === '\n') throw new KqlSyntaxError(query.slice(start, index), start);
        if (next === quote) {
          if (verbatim && query[index + 1] === quote) {
            value += quote;
            index += 2;
            continue;
          }
          index += 1;
          break;
        }
        if (next === '\\' && !verbatim) {
          const escaped = query[index + 1] ?? '';
          value += escaped === 'n' ? '\n' : escaped === 't' ? '\t' : escaped === 'r' ? '\r' : escaped;
          index += 2;
          continue;
        }
        value += next;
        index += 1;
      }
      push({ kind: 'string', text: query.slice(start, index), value, offset: start });
      continue;
    }
    if (/[0-9]/.test(char)) {
      const number = /^(?:0x[0-9a-fA-F]+|\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(query.slice(index))![0];
      index += number.length;
      const unit = /^[A-Za-z]+/.exec(query.slice(index))?.[0];
      if (unit !== undefined) {
        const ms = timespanUnits[unit.toLowerCase()];
        if (ms === undefined) throw new KqlSyntaxError(number + unit, start);
        index += unit.length;
        push({
          kind: 'timespan',
          text: query.slice(start, index),
          value: Number(number) * ms,
          offset: start,
        });
      } else {
        push({ kind: 'number', text: number, value: Number(number), offset: start });
      }
      continue;
    }
    if (/[A-Za-z_$]/.test(char) || (char === '!' && /[A-Za-z]/.test(query[index + 1] ?? ''))) {
      index += 1;
      while (index < query.length && /[A-Za-z0-9_]/.test(query[index]!)) index += 1;
      if (query[index] === '~' && /^!?in$/.test(query.slice(start, index))) index += 1;
      const text = query.slice(start, index);
      push({ kind: 'ident', text, offset: start });
      // datetime(...), timespan(...) and dynamic(...) hold literal text, not expressions.
      if (/^(datetime|dynamic|timespan)$/.test(text) && query[index] === '(') {
        let depth = 0;
        const open = index;
        do {
          if (query[index] === '(') depth += 1;
          else if (query[index] === ')') depth -= 1;
          index += 1;
        } while (depth > 0 && index < query.length);
        if (depth > 0) throw new KqlSyntaxError('<end of query>', query.length);
        push({ kind: 'raw', text: query.slice(open + 1, index - 1), offset: open });
      }
      continue;
    }
    const symbol = punctuation.find((each) => query.startsWith(each, index));
    if (!symbol) throw new KqlSyntaxError(char, start);
    index += symbol.length;
    push({ kind: 'punct', text: symbol, offset: start });
  }
  tokens.push({
    kind: 'eof',
    text: '<end of query>',
    offset: query.length,
    spaced: true,
    afterBlankLine: false,
  });
  return tokens;
}

// Binding powers of infix operators, loosest first (https://learn.microsoft.com/kusto/query/logical-operators).
const stringOperators = new Set([
  'has',
  '!has',
  'has_cs',
  '!has_cs',
  'hasprefix',
  'hassuffix',
  'contains',
  '!contains',
  'contains_cs',
  '!contains_cs',
  'startswith',
  '!startswith',
  'startswith_cs',
  '!startswith_cs',
  'endswith',
  '!endswith',
  'endswith_cs',
  '!endswith_cs',
  'matches',
  'in',
  '!in',
  'in~',
  '!in~',
  'has_any',
  'has_all',
  'between',
  '!between',
]);

function bindingPower(token: Token): number {
  if (token.kind === 'ident') {
    if (token.text === 'or') return 1;
    if (token.text === 'and') return 2;
    if (stringOperators.has(token.text)) return 3;
    return 0;
  }
  if (token.kind !== 'punct') return 0;
  switch (token.text) {
    case '==':
    case '!=':
    case '<>':
    case '=~':
    case '!~':
    case '<':
    case '<=':
    case '>':
    case '>=':
      return 3;
    case '+':
    case '-':
      return 4;
    case '*':
    case '/':
    case '%':
      return 5;
    default:
      return 0;
  }
}

/** Parses a query; throws KqlSyntaxError at the first token that does not fit. */
export function parseQuery(text: string): Query {
  return new Parser(tokenize(text)).query();
}

class Parser {
  private position = 0;
  /** The names let statements bound so far: each names a tabular expression. */
  private readonly letNames = new Set<string>();

  constructor(private readonly tokens: readonly Token[]) {}

  // Statements are separated by semicolons, with no empty line between a let and what follows
  // (https://learn.microsoft.com/kusto/query/let-statement).
  query(): Query {
    const lets: LetStatement[] = [];
    while (this.peek().kind === 'ident' && this.peek().text === 'let') {
      this.next();
      const name = this.next();
      if (name.kind !== 'ident' || name.text.startsWith('!')) throw this.unexpected(name);
      const equals = this.next();
      if (equals.text !== '=') throw this.unexpected(equals);
      const start = this.peek();
      // Only a tabular let is evaluated here: a table or let name, or a union, then operators.
      const tabular =
        start.kind === 'ident' && (start.text === 'union' || /^[|;]$/.test(this.peekAt(1).text));
      if (!tabular) throw new UnsupportedOperator('let (of a scalar or a function)', start.offset);
      lets.push({ name: name.text, offset: name.offset, value: this.tabular() });
      const semicolon = this.next();
      if (semicolon.text !== ';') throw this.unexpected(semicolon);
      if (this.peek().afterBlankLine) throw this.unexpected(this.peek());
      this.letNames.add(name.text);
    }
    const body = this.tabular();
    if (this.peek().text === ';') this.next();
    this.expectEnd();
    return { lets, ...body };
  }

  private tabular(): Tabular {
    const tables = this.source();
    const operators: { name: string; operator: Operator }[] = [];
    while (this.peek().text === '|') {
      this.next();
      const offset = this.peek().offset;
      const name = this.operatorName();
      operators.push({ name, operator: this.operator(name, offset) });
    }
    return { tables, operators };
  }

  private source(): TableRef[] {
    const first = this.peek();
    if (first.kind === 'ident' && first.text === 'union') {
      this.next();
      return this.tableList();
    }
    return [this.table()];
  }

  private table(): TableRef {
    const token = this.next();
    if (token.kind !== 'ident' || token.text.startsWith('!')) throw this.unexpected(token);
    return { name: token.text, offset: token.offset };
  }

  private tableList(): TableRef[] {
    const tables = [this.table()];
    while (this.peek().text === ',') {
      this.next();
      tables.push(this.table());
    }
    return tables;
  }

  // `project-away` and its kin are one name written with a dash and no spaces.
  private operatorName(): string {
    const token = this.next();
    if (token.kind !== 'ident') throw this.unexpected(token);
    let name = token.text;
    while (
      this.peek().text === '-' &&
      !this.peek().spaced &&
      this.peekAt(1).kind === 'ident' &&
      !this.peekAt(1).spaced
    ) {
      this.next();
      name += `-${this.next().text}`;
    }
    return name;
  }

  private operator(name: string, offset: number): Operator {
    switch (name) {
      case 'where':
      case 'filter':
        return { kind: 'where', predicate: this.expression() };
      case 'extend':
      case 'project':
        return { kind: name, items: this.namedList() };
      case 'project-away':
        return { kind: 'project-away', patterns: this.columnPatterns() };
      case 'project-rename':
        return { kind: 'project-rename', renames: this.renames() };
      case 'summarize': {
        const aggregates = this.peek().text === 'by' ? [] : this.namedList();
        let by: NamedExpr[] = [];
        if (this.peek().kind === 'ident' && this.peek().text === 'by') {
          this.next();
          by = this.namedList();
        }
        return { kind: 'summarize', aggregates, by };
      }
      case 'distinct':
        return { kind: 'distinct', items: this.namedList() };
      case 'take':
      case 'limit':
        return { kind: 'take', count: this.count() };
      case 'top': {
        const count = this.count();
        this.keyword('by');
        return { kind: 'top', count, key: this.sortKey() };
      }
      case 'order':
      case 'sort': {
        this.keyword('by');
        const keys = [this.sortKey()];
        while (this.peek().text === ',') {
          this.next();
          keys.push(this.sortKey());
        }
        return { kind: 'order', keys };
      }
      case 'union':
        return { kind: 'union', tables: this.tableList() };
      case 'count':
        return { kind: 'count' };
      default:
        if (otherOperators.has(name)) throw new UnsupportedOperator(name, offset);
        throw new KqlSyntaxError(name, offset);
    }
  }

  private count(): number {
    const token = this.next();
    if (token.kind !== 'number') throw this.unexpected(token);
    return token.value as number;
  }

  private keyword(word: string): void {
    const token = this.next();
    if (token.kind !== 'ident' || token.text !== word) throw this.unexpected(token);
  }

  private sortKey(): SortKey {
    const expr = this.expression();
    let descending = true;
    const direction = this.peek();
    if (direction.kind === 'ident' && (direction.text === 'asc' || direction.text === 'desc')) {
      this.next();
      descending = direction.text === 'desc';
    }
    // Nulls come first in ascending order and last in descending order unless said otherwise.
    let nullsFirst = !descending;
    if (this.peek().kind === 'ident' && this.peek().text === 'nulls') {
      this.next();
      const which = this.next();
      if (which.text !== 'first' && which.text !== 'last') throw this.unexpected(which);
      nullsFirst = which.text === 'first';
    }
    return { expr, descending, nullsFirst };
  }

  private columnPatterns(): string[] {
    const patterns: string[] = [];
    do {
      if (patterns.length > 0) this.next();
      let pattern = '';
      while (this.peek().kind === 'ident' || this.peek().text === '*') {
        pattern += this.next().text;
        if (this.peek().spaced) break;
      }
      if (!pattern) throw this.unexpected(this.peek());
      patterns.push(pattern);
    } while (this.peek().text === ',');
    return patterns;
  }

  private renames(): { to: string; from: string }[] {
    const renames: { to: string; from: string }[] = [];
    do {
      if (renames.length > 0) this.next();
      const to = this.table().name;
      const equals = this.next();
      if (equals.text !== '=') throw this.unexpected(equals);
      renames.push({ to, from: this.table().name });
    } while (this.peek().text === ',');
    return renames;
  }

  private namedList(): NamedExpr[] {
    const items: NamedExpr[] = [];
    do {
      if (items.length > 0) this.next();
      const first = this.peek();
      if (first.kind === 'ident' && this.peekAt(1).text === '=' && !first.text.startsWith('!')) {
        this.next();
        this.next();
        items.push({ name: first.text, expr: this.expression() });
      } else {
        items.push({ expr: this.expression() });
      }
    } while (this.peek().text === ',');
    return items;
  }

  private expression(minimum = 0): Expr {
    let left = this.prefix();
    for (;;) {
      const token = this.peek();
      const power = bindingPower(token);
      if (power === 0 || power <= minimum) return left;
      this.next();
      left = this.infix(token, left, power);
    }
  }

  private infix(token: Token, left: Expr, power: number): Expr {
    const op = token.text;
    if (op === 'in' || op === '!in' || op === 'in~' || op === '!in~') {
      return {
        kind: 'in',
        negate: op.startsWith('!'),
        caseInsensitive: op.endsWith('~'),
        left,
        list: this.parenthesizedList(),
      };
    }
    if (op === 'has_any') return { kind: 'hasAny', left, list: this.parenthesizedList() };
    if (op === 'matches') {
      this.keyword('regex');
      return { kind: 'binary', op: 'matches regex', left, right: this.expression(power) };
    }
    if (op === 'has_all' || op === 'between' || op === '!between')
      throw new UnsupportedOperator(op, token.offset);
    return { kind: 'binary', op, left, right: this.expression(power) };
  }

  private parenthesizedList(): Expr[] {
    const open = this.next();
    if (open.text !== '(') throw this.unexpected(open);
    const list: Expr[] = [];
    if (this.peek().text !== ')') {
      list.push(this.listItem());
      while (this.peek().text === ',') {
        this.next();
        list.push(this.listItem());
      }
    }
    const close = this.next();
    if (close.text !== ')') throw this.unexpected(close);
    return list;
  }

  /**
   * An item of `in (…)`: a scalar, a let's name (a tabular expression), or an inline tabular
   * expression, which must be enclosed in double parentheses
   * (https://learn.microsoft.com/kusto/query/in-cs-operator#tabular-expression).
   */
  private listItem(): Expr {
    const first = this.peek();
    const second = this.peekAt(1);
    if (first.kind === 'ident' && this.letNames.has(first.text) && /^[,)]$/.test(second.text)) {
      this.next();
      return { kind: 'tabular', query: { tables: [tableOf(first)], operators: [] }, offset: first.offset };
    }
    if (first.kind === 'ident' && second.text === '|') throw this.unexpected(second);
    if (first.text === '(' && second.kind === 'ident' && this.startsTabular(1)) {
      this.next();
      const query = this.tabular();
      const close = this.next();
      if (close.text !== ')') throw this.unexpected(close);
      return { kind: 'tabular', query, offset: second.offset };
    }
    return this.expression();
  }

  // A tabular expression starts `ahead` tokens on: a name piped on, a union, or a let's name alone.
  private startsTabular(ahead: number): boolean {
    const name = this.peekAt(ahead);
    const after = this.peekAt(ahead + 1).text;
    return (
      name.kind === 'ident' &&
      (name.text === 'union' || after === '|' || (this.letNames.has(name.text) && after === ')'))
    );
  }

  private prefix(): Expr {
    const token = this.next();
    let expr: Expr;
    switch (token.kind) {
      case 'string':
        expr = { kind: 'literal', type: 'string', value: token.value };
        break;
      case 'number':
        expr = {
          kind: 'literal',
          type: /[.eE]/.test(token.text) && !token.text.startsWith('0x') ? 'real' : 'long',
          value: token.value,
        };
        break;
      case 'timespan':
        expr = { kind: 'literal', type: 'timespan', value: token.value };
        break;
      case 'punct':
        if (token.text === '(') {
          expr = this.expression();
          const close = this.next();
          if (close.text !== ')') throw this.unexpected(close);
        } else if (token.text === '-' || token.text === '+') {
          return { kind: 'unary', op: token.text, operand: this.expression(5) };
        } else if (token.text === '*') {
          return { kind: 'star' };
        } else {
          throw this.unexpected(token);
        }
        break;
      case 'ident':
        expr = this.identifier(token);
        break;
      default:
        throw this.unexpected(token);
    }
    return this.postfix(expr);
  }

  private identifier(token: Token): Expr {
    if (token.text === 'true' || token.text === 'false')
      return { kind: 'literal', type: 'bool', value: token.text === 'true' };
    if (/^(datetime|dynamic|timespan)$/.test(token.text) && this.peek().kind === 'raw') {
      return literalOf(token.text as 'datetime' | 'dynamic' | 'timespan', this.next());
    }
    if (this.peek().text === '(' && !token.text.startsWith('!')) {
      this.next();
      // toscalar() takes a tabular expression (https://learn.microsoft.com/kusto/query/toscalar-function).
      if (token.text === 'toscalar' && this.startsTabular(0)) {
        const start = this.peek();
        const query = this.tabular();
        const close = this.next();
        if (close.text !== ')') throw this.unexpected(close);
        return {
          kind: 'call',
          name: token.text,
          args: [{ kind: 'tabular', query, offset: start.offset }],
          offset: token.offset,
        };
      }
      const args: Expr[] = [];
      if (this.peek().text !== ')') {
        args.push(this.expression());
        while (this.peek().text === ',') {
          this.next();
          args.push(this.expression());
        }
      }
      const close = this.next();
      if (close.text !== ')') throw this.unexpected(close);
      return { kind: 'call', name: token.text, args, offset: token.offset };
    }
    if (
      token.text.startsWith('!') ||
      stringOperators.has(token.text) ||
      token.text === 'and' ||
      token.text === 'or' ||
      token.text === 'by'
    ) {
      throw this.unexpected(token);
    }
    return { kind: 'column', name: token.text, offset: token.offset };
  }

  // Property access on dynamic values: x.reason, x['reason'], x[0], and from the end x[-1] or x[(-1)].
  private postfix(target: Expr): Expr {
    let expr = target;
    for (;;) {
      const token = this.peek();
      if (token.text === '.' && this.peekAt(1).kind === 'ident') {
        this.next();
        expr = { kind: 'member', target: expr, key: this.next().text };
      } else if (token.text === '[') {
        this.next();
        const key = this.constantKey();
        const close = this.next();
        if (close.text !== ']') throw this.unexpected(close);
        expr = { kind: 'member', target: expr, key };
      } else {
        return expr;
      }
    }
  }

  // A constant subscript; a negative index may be parenthesized, as the dynamic type's page writes it
  // (https://learn.microsoft.com/kusto/query/scalar-data-types/dynamic#dynamic-object-accessors).
  private constantKey(): string | number {
    const token = this.next();
    if (token.kind === 'string' || token.kind === 'number') return token.value as string | number;
    if (token.text === '-') {
      const number = this.next();
      if (number.kind !== 'number') throw this.unexpected(number);
      return -(number.value as number);
    }
    if (token.text === '(') {
      const key = this.constantKey();
      const close = this.next();
      if (close.text !== ')') throw this.unexpected(close);
      return key;
    }
    throw this.unexpected(token);
  }

  private peek(): Token {
    return this.tokens[this.position]!;
  }

  private peekAt(ahead: number): Token {
    return this.tokens[Math.min(this.position + ahead, this.tokens.length - 1)]!;
  }

  private next(): Token {
    const token = this.tokens[this.position]!;
    if (token.kind !== 'eof') this.position += 1;
    return token;
  }

  private expectEnd(): void {
    const token = this.peek();
    if (token.kind !== 'eof') throw this.unexpected(token);
  }

  private unexpected(token: Token): KqlSyntaxError {
    return new KqlSyntaxError(token.text, token.offset);
  }
}

// Tabular operators KQL has and this emulator does not evaluate (https://learn.microsoft.com/kusto/query/tabular-expression-statements).
const otherOperators = new Set([
  'as',
  'consume',
  'evaluate',
  'externaldata',
  'facet',
  'find',
  'fork',
  'getschema',
  'invoke',
  'join',
  'lookup',
  'make-series',
  'mv-apply',
  'mv-expand',
  'parse',
  'parse-kv',
  'parse-where',
  'partition',
  'project-keep',
  'project-reorder',
  'reduce',
  'render',
  'sample',
  'sample-distinct',
  'scan',
  'search',
  'serialize',
  'top-hitters',
  'top-nested',
]);

/** A tabular operator or scalar operator KQL has but this emulator does not evaluate. */
export class UnsupportedOperator extends Error {
  constructor(
    readonly operator: string,
    readonly offset: number,
  ) {
    super(`The emulated Log Analytics does not evaluate '${operator}'.`);
  }
}

function tableOf(token: Token): TableRef {
  return { name: token.text, offset: token.offset };
}

function literalOf(kind: 'datetime' | 'dynamic' | 'timespan', raw: Token): Expr {
  const text = raw.text.trim();
  if (kind === 'datetime') {
    if (text === 'null') return { kind: 'literal', type: 'datetime', value: null };
    const unquoted = text.replace(/^["']|["']$/g, '');
    const iso = /[zZ]|[+-]\d\d:?\d\d$/.test(unquoted) ? unquoted : `${unquoted.replace(' ', 'T')}Z`;
    const ms = Date.parse(iso);
    if (Number.isNaN(ms)) throw new KqlSyntaxError(raw.text, raw.offset);
    return { kind: 'literal', type: 'datetime', value: ms };
  }
  if (kind === 'timespan') {
    const match = /^(\d+(?:\.\d+)?)([A-Za-z]+)$/.exec(text);
    const unit = match ? timespanUnits[match[2]!.toLowerCase()] : undefined;
    if (!match || unit === undefined) throw new KqlSyntaxError(raw.text, raw.offset);
    return { kind: 'literal', type: 'timespan', value: Number(match[1]) * unit };
  }
  try {
    // dynamic literals are JSON, but KQL also takes single-quoted strings in them.
    return {
      kind: 'literal',
      type: 'dynamic',
      value: JSON.parse(text.replace(/'([^'\\]*)'/g, '"$1"')) as unknown,
    };
  } catch {
    throw new KqlSyntaxError(raw.text, raw.offset);
  }
}
