import assert from 'node:assert/strict';
import { ExpressionError } from './errors';
import { parseExpression } from './parser';

describe('expressions: parse', () => {
  it('builds calls, names, indexers and filters', () => {
    assert.deepEqual(parseExpression("eq(a.b[0], 'x')").root, {
      kind: 'call',
      name: 'eq',
      position: 0,
      args: [
        {
          kind: 'index',
          position: 6,
          key: { kind: 'literal', value: 0, position: 7 },
          object: {
            kind: 'index',
            position: 5,
            key: { kind: 'literal', value: 'b', position: 5 },
            object: { kind: 'name', name: 'a', position: 3 },
          },
        },
        { kind: 'literal', value: 'x', position: 11 },
      ],
    });
    assert.equal(parseExpression('a.*.b').root.kind, 'index');
    assert.equal(parseExpression('a[*]').root.kind, 'filter');
  });

  it('reads a property name that looks like a keyword or has a hyphen', () => {
    const root = parseExpression('variables.true.my-var').root;
    assert.equal(root.kind === 'index' && root.key.kind === 'literal' && root.key.value, 'my-var');
  });

  const mistakes: [string, string][] = [
    ['', 'An expression was expected'],
    ["'open", "Unrecognized value: ''open'. Located at position 1 within expression: 'open."],
    ['0x1F', "Unrecognized value: '0x1F'. Located at position 1 within expression: 0x1F."],
    ['1e3', "Unrecognized value: '1e3'."],
    ['null', ''],
    ['eq(1, 2', "Unclosed function: 'eq'. Located at position 1 within expression: eq(1, 2."],
    ['a[0', "Unclosed indexer: '['. Located at position 2 within expression: a[0."],
    ['eq(1,)', "Unexpected symbol: ')'. Located at position 6 within expression: eq(1,)."],
    ['a.', "Expected a property name to follow the dereference operator '.': '.'. Located at position 2"],
    ['a b', "Unexpected symbol: 'b'. Located at position 3 within expression: a b."],
    ["'x'.y", "Unexpected symbol: '.'. Located at position 4"],
    ['(1)', "Unexpected symbol: '('. Located at position 1"],
    ['a $ b', "Unrecognized value: '$'."],
    [`${'not('.repeat(60)}true${')'.repeat(60)}`, 'Exceeded max expression depth 50'],
    ['x'.repeat(21001), 'Exceeded max expression length 21000'],
  ];
  for (const [expression, message] of mistakes) {
    it(`refuses ${expression.slice(0, 40) || 'an empty expression'}`, () => {
      if (expression === 'null') {
        // The docs: null "can't be called directly within an expression"; it is a name
        // like any other, unknown unless the context defines it.
        assert.deepEqual(parseExpression('null').root, { kind: 'name', name: 'null', position: 0 });
        return;
      }
      assert.throws(
        () => parseExpression(expression),
        (error: unknown) => error instanceof ExpressionError && error.message.startsWith(message),
      );
    });
  }
});
