/**
 * A mistake in an expression: it does not parse, names something that does not exist, or
 * cannot be evaluated. The message quotes the expression and says what is wrong, in the
 * service's words where it has them.
 */
export class ExpressionError extends Error {
  override name = 'ExpressionError';

  constructor(
    message: string,
    /** The expression as written, without `${{ }}` or `$[ ]`. */
    readonly expression: string,
  ) {
    super(message);
  }

  /**
   * A parse-time problem at a place, worded as the service words it:
   * `Unrecognized value: 'foo'. Located at position 1 within expression: foo.`
   */
  static at(problem: string, raw: string, position: number, expression: string): ExpressionError {
    return new ExpressionError(
      `${problem}: '${raw}'. Located at position ${position + 1} within expression: ${expression}.`,
      expression,
    );
  }

  /** A problem found while evaluating, followed by the expression it came from. */
  static evaluating(problem: string, expression: string): ExpressionError {
    return new ExpressionError(
      `${problem.replace(/\.?$/, '.')} Evaluating expression: ${expression}`,
      expression,
    );
  }
}
