import assert from 'node:assert/strict';
import { ExpressionError } from './errors';
import {
  isDeferredValue,
  templateExpressionsIn,
  templateSegments,
  wholeRuntimeExpression,
  wholeTemplateExpression,
} from './text';

describe('expressions: where they sit in YAML text', () => {
  it('splits text and ${{ }} expressions, a }} inside a quoted string included', () => {
    assert.deepEqual(templateSegments("a ${{ format('{{x}}') }} b ${{ parameters.y }}"), [
      { kind: 'text', text: 'a ' },
      { kind: 'expression', expression: "format('{{x}}')", offset: 2 },
      { kind: 'text', text: ' b ' },
      { kind: 'expression', expression: 'parameters.y', offset: 27 },
    ]);
    assert.deepEqual(templateExpressionsIn('${{a}}${{ b }}'), ['a', 'b']);
  });

  const wholes: [string, string | undefined][] = [
    ['${{ parameters.steps }}', 'parameters.steps'],
    ['  ${{ parameters.steps }} ', 'parameters.steps'],
    ['${{ a }}-${{ b }}', undefined],
    ['x ${{ a }}', undefined],
    ['plain', undefined],
  ];
  for (const [text, inside] of wholes) {
    it(`takes ${JSON.stringify(text)} as ${inside === undefined ? 'not ' : ''}one whole expression`, () => {
      assert.equal(wholeTemplateExpression(text), inside);
    });
  }

  it('says an expression left open is not closed, in the service words', () => {
    assert.throws(
      () => templateSegments('echo ${{ parameters.x }'),
      (error: unknown) =>
        error instanceof ExpressionError &&
        error.message ===
          'The expression is not closed. An unescaped ${{ sequence was found, but the closing }} sequence was not found.',
    );
  });

  it('finds runtime expressions and macros', () => {
    assert.equal(wholeRuntimeExpression(" $[ eq(variables.a, 'b') ] "), "eq(variables.a, 'b')");
    assert.equal(wholeRuntimeExpression('echo $[x]!'), undefined);
    assert.equal(isDeferredValue('$(Build.BuildId)'), true);
    assert.equal(isDeferredValue('$[ variables.a ]'), true);
    assert.equal(isDeferredValue('kubeconfig'), false);
  });
});
