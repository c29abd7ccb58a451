import assert from 'node:assert/strict';
import { ExpressionError } from './errors';
import { evaluate, type EvaluationContext } from './evaluate';
import { Version, type ExpressionValue } from './values';

const compile = (namedValues: Record<string, ExpressionValue> = {}): EvaluationContext => ({
  mode: 'compile',
  namedValues,
});

const values: Record<string, ExpressionValue> = {
  parameters: {
    Stack: 'node',
    count: 3,
    enabled: false,
    steps: [{ script: 'a' }, { script: 'b' }],
    empty: '',
    pool: { vmImage: 'ubuntu-latest' },
  },
  variables: { 'Build.Reason': 'PullRequest', major: '1' },
  dependencies: {
    A: { result: 'Succeeded', outputs: { 'setvar.x': 'yes' } },
    B: { result: 'Failed', outputs: {} },
  },
  pipeline: { startTime: new Date(Date.UTC(2024, 2, 5, 7, 8, 9, 123)) },
};

describe('expressions: evaluate', () => {
  const cases: [string, ExpressionValue][] = [
    // Literals
    ['true', true],
    ['TRUE', true],
    ['False', false],
    ['-1.5', -1.5],
    ['.5', 0.5],
    ["'It''s'", "It's"],
    ['1.2.3', new Version([1, 2, 3])],
    // Property dereference, indexing, case-insensitive keys, misses are null
    ['parameters.stack', 'node'],
    ["parameters['STACK']", 'node'],
    ['parameters.steps[1].script', 'b'],
    ["parameters.pool['vmimage']", 'ubuntu-latest'],
    ['parameters.noSuch', null],
    ['parameters.steps[7]', null],
    ["variables['Build.Reason']", 'PullRequest'],
    ["dependencies.A.outputs['setvar.x']", 'yes'],
    // Filtered arrays
    ['dependencies.*.result', ['Succeeded', 'Failed']],
    ['parameters.steps.*.script', ['a', 'b']],
    ["containsValue(dependencies.*.result, 'failed')", true],
    // Comparison casts the right operand to the left's type; strings ignore case
    ["eq(parameters.stack, 'NODE')", true],
    ["eq(parameters.count, '3')", true],
    ["eq('3', 3)", true],
    ["eq(3, 'three')", false],
    ["eq(true, 'false')", true],
    ["eq(false, '')", true],
    ["ne(1, 'x')", true],
    ["eq(parameters.noSuch, '')", true],
    ['eq(1.2.3, 1.2.3)', true],
    ["gt('b', 'A')", true],
    ['ge(5, 5)', true],
    ["lt(2, '10')", true],
    ["le('1,000', 999)", true], // the left is a string: compared as text
    ["le(999, '1,000')", true],
    ['gt(1.10.0, 1.9.0)', true],
    // Truthiness and short-circuits
    ["and(true, 'false')", true],
    ["and(parameters.enabled, eq(1, 'not a number'))", false],
    ['or(false, 0, parameters.empty)', false],
    ["or(true, gt(1, 'x'))", true],
    ['not(parameters.empty)', true],
    ['xor(true, false)', true],
    ["iif(eq(parameters.stack, 'node'), 'npm', 'dotnet')", 'npm'],
    ["iif(false, gt(1, 'x'), 'safe')", 'safe'],
    // Strings
    ["contains('ABCDE', 'bcd')", true],
    ["startsWith('ABCDE', 'ab')", true],
    ["endsWith('ABCDE', 'de')", true],
    ["lower('ABC')", 'abc'],
    ["upper('abc')", 'ABC'],
    ["trim('  a b  ')", 'a b'],
    ["replace('a-b-c', '-', '+')", 'a+b+c'],
    ["split('a,b;;c', ',;')", ['a', 'b', '', 'c']],
    ["join(';', split('a,b', ','))", 'a;b'],
    ["join(',', parameters.steps)", ','],
    ["join(',', 'solo')", 'solo'],
    ["coalesce(parameters.noSuch, parameters.empty, 'fallback')", 'fallback'],
    // Collections
    ['length(parameters.steps)', 2],
    ["length('abc')", 3],
    ['length(parameters.pool)', 1],
    ["in('B', 'A', 'B', 'C')", true],
    ["notIn('D', 'A', 'B', 'C')", true],
    ["containsValue(parameters.pool, 'UBUNTU-LATEST')", true],
    ['convertToJson(parameters.pool)', '{\n  "vmImage": "ubuntu-latest"\n}'],
    // format, with {{ }} escapes and date specifiers
    ["format('{0}-{1}', 'a', 2)", 'a-2'],
    ["format('{{literal}} {0}', true)", '{literal} True'],
    ["format('{0:yyyyMMdd}', pipeline.startTime)", '20240305'],
    ["format('{0:yyyy\\-MM\\-dd HH\\:mm\\:ss\\.fff}', pipeline.startTime)", '2024-03-05 07:08:09.123'],
    ["format('{0:M\\/d H\\:m\\:s}', pipeline.startTime)", '3/5 7:8:9'],
    ["format('{0}', pipeline.startTime)", '2024-03-05 07:08:09+00:00'],
    ["format('{0}', 1.50)", '1.5'],
  ];
  for (const [expression, expected] of cases) {
    it(`${expression} → ${JSON.stringify(expected)}`, () => {
      assert.deepEqual(evaluate(expression, compile(values)), expected);
    });
  }

  const failures: [string, string][] = [
    ['noSuch', "Unrecognized value: 'noSuch'. Located at position 1 within expression: noSuch."],
    [
      'and(succeeded(), true)',
      "Unrecognized value: 'succeeded'. Located at position 5 within expression: and(succeeded(), true).",
    ],
    [
      "counter('x', 1)",
      "Unrecognized value: 'counter'. Located at position 1 within expression: counter('x', 1).",
    ],
    // A name in a branch that short-circuit skips is still checked.
    [
      'or(true, typo)',
      "Unrecognized value: 'typo'. Located at position 10 within expression: or(true, typo).",
    ],
    [
      'substring(1)',
      "Unrecognized function: 'substring'. Located at position 1 within expression: substring(1). Functions: and, ",
    ],
    [
      'eq(1, 2, 3)',
      "Wrong number of arguments: 'eq' takes exactly 2 arguments, not 3. Located at position 1 within expression: eq(1, 2, 3).",
    ],
    ['and(true)', "Wrong number of arguments: 'and' takes at least 2 arguments, not 1."],
    ["gt(1, 'x')", "Unable to convert from String to Number. Value: 'x'. Evaluating expression: gt(1, 'x')"],
    [
      'length(parameters.noSuch)',
      "Kind 'Null' not supported. Only arrays, strings, dictionaries, or collections are supported for the length function.",
    ],
    ["format('{1}', 'a')", 'The following format string references more arguments than were supplied: {1}'],
    ["format('{0:yyyy}', 'a')", "The format specifiers 'yyyy' are not valid for objects of type 'String'"],
    // Only letters the service knows, spaces and escaped characters: `-` must be `\\-`.
    [
      "format('{0:yyyy-MM}', pipeline.startTime)",
      "The format specifiers 'yyyy-MM' are not valid for objects of type 'DateTime'",
    ],
    ["format('a } b')", 'The following format string is invalid: a } b'],
    ['lower(parameters.steps)', 'Unable to convert from Array to String. Value: Array.'],
  ];
  for (const [expression, message] of failures) {
    it(`refuses ${expression}`, () => {
      assert.throws(
        () => evaluate(expression, compile(values)),
        (error: unknown) =>
          error instanceof ExpressionError &&
          error.message.includes(message) &&
          error.expression === expression,
      );
    });
  }

  describe('at run time', () => {
    const calls: unknown[][] = [];
    const runtime: EvaluationContext = {
      mode: 'runtime',
      namedValues: values,
      functions: {
        succeeded: {
          minArgs: 0,
          maxArgs: Number.POSITIVE_INFINITY,
          call: (args) => {
            calls.push([...args]);
            return args.length === 0 || args.includes('A');
          },
        },
        counter: { minArgs: 2, maxArgs: 2, call: ([prefix, seed]) => `${String(prefix)}:${String(seed)}` },
      },
    };
    it('calls the status functions and counter the caller supplies, with evaluated arguments', () => {
      assert.equal(evaluate("and(succeeded('A'), eq(variables.major, 1))", runtime), true);
      assert.deepEqual(calls, [['A']]);
      assert.equal(evaluate("counter(variables['major'], 100)", runtime), '1:100');
    });
    it('names a status function the caller did not supply', () => {
      assert.throws(() => evaluate('failed()', runtime), /Unrecognized value: 'failed'/);
    });
    it('checks the arity of a supplied function', () => {
      assert.throws(() => evaluate("counter('a')", runtime), /'counter' takes exactly 2 arguments, not 1/);
    });
    it('still refuses them at compile time when they are supplied', () => {
      assert.throws(
        () => evaluate("succeeded('A')", { ...runtime, mode: 'compile' }),
        /Unrecognized value: 'succeeded'/,
      );
    });
  });
});
