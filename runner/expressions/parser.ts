// Parses an expression into a tree, with the service's limits and error wording. The tree
// does not depend on what names exist: `evaluate` checks the names and functions against
// its context before it evaluates anything, as the service does when it parses.
import { ExpressionError } from './errors';
import { tokenize, type Token } from './lexer';
import type { ExpressionValue } from './values';

/** A node of a parsed expression; `position` is 0-based in the expression's text. */
export type ExpressionNode =
  | { readonly kind: 'literal'; readonly value: ExpressionValue; readonly position: number }
  /** A named value: `parameters`, `variables`, `dependencies`, a loop variable... */
  | { readonly kind: 'name'; readonly name: string; readonly position: number }
  /** `object.key` or `object[key]`. */
  | {
      readonly kind: 'index';
      readonly object: ExpressionNode;
      readonly key: ExpressionNode;
      readonly position: number;
    }
  /** `object.*` or `object[*]`: every element of a sequence, or every value of a mapping. */
  | { readonly kind: 'filter'; readonly object: ExpressionNode; readonly position: number }
  | {
      readonly kind: 'call';
      readonly name: string;
      readonly args: readonly ExpressionNode[];
      readonly position: number;
    };

/** A parsed expression with the text it came from, for error messages. */
export interface ParsedExpression {
  readonly text: string;
  readonly root: ExpressionNode;
}

// The service's limits (ExpressionConstants in its expression library).
const maxLength = 21000;
const maxDepth = 50;

class Parser {
  private at = 0;
  private depth = 0;

  constructor(
    private readonly tokens: readonly Token[],
    private readonly text: string,
  ) {}

  parse(): ExpressionNode {
    if (this.tokens.length === 0) throw new ExpressionError('An expression was expected', this.text);
    const root = this.value();
    const extra = this.tokens[this.at];
    if (extra) throw this.unexpected(extra);
    return root;
  }

  private unexpected(token: Token): ExpressionError {
    return ExpressionError.at('Unexpected symbol', token.text, token.position, this.text);
  }

  private isPunctuation(token: Token | undefined, text: string): boolean {
    return token?.kind === 'punctuation' && token.text === text;
  }

  private value(): ExpressionNode {
    const token = this.tokens[this.at++];
    if (token === undefined) {
      // Only reached after `(`, `,` or `[`: the caller reports what was left open.
      return { kind: 'literal', value: null, position: this.text.length };
    }
    switch (token.kind) {
      case 'string':
      case 'number':
      case 'version':
      case 'boolean':
        return { kind: 'literal', value: token.value, position: token.position };
      case 'keyword':
        return this.postfix(
          this.isPunctuation(this.tokens[this.at], '(')
            ? this.call(token)
            : { kind: 'name', name: token.text, position: token.position },
        );
      default:
        throw this.unexpected(token);
    }
  }

  private nest(): void {
    if (++this.depth >= maxDepth)
      throw new ExpressionError(`Exceeded max expression depth ${maxDepth}`, this.text);
  }

  private call(name: Token): ExpressionNode {
    this.at++; // (
    this.nest();
    const args: ExpressionNode[] = [];
    for (;;) {
      const next = this.tokens[this.at];
      if (next === undefined)
        throw ExpressionError.at('Unclosed function', name.text, name.position, this.text);
      if (this.isPunctuation(next, ')') && args.length === 0) {
        this.at++;
        break;
      }
      args.push(this.value());
      const separator = this.tokens[this.at++];
      if (separator === undefined)
        throw ExpressionError.at('Unclosed function', name.text, name.position, this.text);
      if (this.isPunctuation(separator, ')')) break;
      if (!this.isPunctuation(separator, ',')) throw this.unexpected(separator);
      if (this.isPunctuation(this.tokens[this.at], ')')) throw this.unexpected(this.tokens[this.at]);
    }
    this.depth--;
    return { kind: 'call', name: name.text, args, position: name.position };
  }

  private postfix(node: ExpressionNode): ExpressionNode {
    for (;;) {
      const next = this.tokens[this.at];
      if (this.isPunctuation(next, '.')) {
        this.at++;
        const property = this.tokens[this.at++];
        if (property === undefined) {
          throw ExpressionError.at(
            "Expected a property name to follow the dereference operator '.'",
            '.',
            next!.position,
            this.text,
          );
        }
        if (this.isPunctuation(property, '*')) {
          node = { kind: 'filter', object: node, position: property.position };
        } else if (property.kind === 'property') {
          const key = { kind: 'literal' as const, value: property.text, position: property.position };
          node = { kind: 'index', object: node, key, position: property.position };
        } else {
          throw this.unexpected(property);
        }
      } else if (this.isPunctuation(next, '[')) {
        this.at++;
        this.nest();
        if (this.isPunctuation(this.tokens[this.at], '*')) {
          this.at++;
          node = { kind: 'filter', object: node, position: next!.position };
        } else {
          const key = this.value();
          node = { kind: 'index', object: node, key, position: next!.position };
        }
        const close = this.tokens[this.at++];
        if (close === undefined) throw ExpressionError.at('Unclosed indexer', '[', next!.position, this.text);
        if (!this.isPunctuation(close, ']')) throw this.unexpected(close);
        this.depth--;
      } else {
        return node;
      }
    }
  }
}

/**
 * Parses the text of an expression (without `${{ }}` or `$[ ]`). Throws an
 * ExpressionError that quotes the expression and the position of what is wrong.
 */
export function parseExpression(text: string): ParsedExpression {
  if (text.length > maxLength) throw new ExpressionError(`Exceeded max expression length ${maxLength}`, text);
  return { text, root: new Parser(tokenize(text), text).parse() };
}
