import * as assert from 'node:assert/strict';
import { JSONPath } from 'jsonpath-plus';
import { jsonPathProblem } from './json-path';

describe('JSONPath check', () => {
  const valid = [
    '$',
    '$.status',
    '$.headers.x-api-key',
    '$.items[*].id',
    '$..id',
    '$.items[0]',
    '$.items[-1:]',
    '$.items[0,1]',
    "$['a.b']",
    '$.items[(@.length-1)]',
    "$.items[?(@.sku == 'A1')].quantity",
    '$.items[?(@.price < 10 && @.stock > 0)]',
    '$.items[?(!@.deleted)]',
    "$.items[?(@.tags.includes('a'))]",
    '$.items[?(@.name.match(/^a\\/(b)/))]',
    "$.items[?(@ == 'a/b)')]",
    '$.items[?(@.a / 2 > 1)]',
    '$.items[?(@root.limit > @.n)]',
    "$.items[?(@property === 'x')]",
    '$.items[?(@.a ? @.b : @.c)]',
    '$.items[?(@.children[?(@.ok)])]',
  ];
  for (const path of valid) {
    it(`accepts ${path}`, () => {
      assert.equal(jsonPathProblem(path), undefined);
      // And jsonpath-plus agrees: it evaluates the path against a document without throwing.
      JSONPath({
        path,
        json: { items: [{ sku: 'A1', name: 'a/b', price: 1, stock: 1, tags: ['a'], children: [{ ok: 1 }] }] },
        wrap: true,
        eval: 'safe',
      });
    });
  }

  const invalid: [string, RegExp][] = [
    ['$.version[?(@ =~ /^1/', /^the "\(" at character 12 is not closed; close it with "\)"$/],
    [
      '$.version[?(@ =~ /^1/)]',
      /uses =~, which JSONPath here does not have; match with @\.match\(\/pattern\/\)/,
    ],
    [
      '$.items[?(@.sku == )]',
      /the filter "\?\(@\.sku == \)" is not a valid expression \(Expected expression after ==\)/,
    ],
    ['$.items[?(@.a ==== 1)]', /is not a valid expression \(Expected expression after ===\)/],
    ['$.items[?(foo(@))]', /uses "foo", which a filter cannot see; use @ \(the item\)/],
    ['$.items[?(@.a = 1)]', /assigns with "=" instead of comparing; compare with == or ===/],
    ['$.items[?(@.a++)]', /changes a value with \+\+/],
    ['$.items[?(@.a ?? 1)]', /uses the operator \?\?/],
    ['$.items[0', /^the "\[" at character 8 is not closed; close it with "\]"$/],
    ['$.items]', /^the "\]" at character 8 closes nothing/],
    ['$.items[?(@.a]', /^the "\(" at character 10 is not closed with "\)" before the "\]" at character 14$/],
    ["$['a]", /^the quote at character 3 is not closed/],
    ['$.items[?(@.a.match(/x)]', /the regular expression at character 21 is not closed/],
    ['$.items.', /ends with "\."/],
    ['$.items[]', /empty "\[\]"/],
  ];
  for (const [path, problem] of invalid) {
    it(`refuses ${path}`, () => {
      assert.match(jsonPathProblem(path) ?? 'accepted', problem);
    });
  }

  it('catches what evaluating against an empty object misses', () => {
    const broken = '$.items[?(@.sku == )]';
    assert.deepEqual(JSONPath({ path: broken, json: {}, wrap: true, eval: 'safe' }), []);
    assert.throws(() => JSONPath({ path: broken, json: { items: [{}] }, wrap: true, eval: 'safe' }));
    assert.ok(jsonPathProblem(broken));
  });
});
