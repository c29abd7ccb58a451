import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createOrderBook, validateOrderInput } from '../../src/orders.mjs';

describe('validateOrderInput', () => {
  it('accepts an order and keeps only its fields', () => {
    const result = validateOrderInput({
      customer: ' contoso ',
      items: [{ sku: 'A1', quantity: 2, note: 'x' }],
    });
    assert.deepEqual(result, {
      ok: true,
      value: { customer: 'contoso', items: [{ sku: 'A1', quantity: 2 }] },
    });
  });

  for (const [name, input, problems] of [
    ['a body that is not an object', [], [/^the body must be a JSON object/]],
    ['a missing customer', { items: [{ sku: 'A1', quantity: 1 }] }, [/^customer must be a non-empty string/]],
    ['no items', { customer: 'c', items: [] }, [/^items must be a list of 1 to 50 items/]],
    [
      'a bad sku and quantity',
      { customer: 'c', items: [{ sku: 'a 1', quantity: 1.5 }] },
      [/^items\[0\]\.sku must be/, /^items\[0\]\.quantity must be an integer from 1 to 1000/],
    ],
    ['an item that is not an object', { customer: 'c', items: ['A1'] }, [/^items\[0\] must be an object/]],
    [
      'an unknown field',
      { customer: 'c', items: [{ sku: 'A1', quantity: 1 }], price: 3 },
      [/^price is not an order field/],
    ],
  ]) {
    it(`reports ${name}`, () => {
      const result = validateOrderInput(input);
      assert.equal(result.ok, false);
      assert.equal(result.problems.length, problems.length, result.problems.join('; '));
      problems.forEach((pattern, index) => assert.match(result.problems[index], pattern));
    });
  }
});

describe('createOrderBook', () => {
  const now = () => new Date('2025-01-02T03:04:05Z');

  it('starts with the sample orders and numbers new ones after them', () => {
    const book = createOrderBook({ now });
    assert.deepEqual(
      book.list().map((order) => order.id),
      ['ord-0001', 'ord-0002'],
    );
    const added = book.add({ customer: 'c', items: [{ sku: 'A1', quantity: 1 }] });
    assert.deepEqual(added, {
      id: 'ord-0003',
      customer: 'c',
      items: [{ sku: 'A1', quantity: 1 }],
      status: 'open',
      createdAt: '2025-01-02T03:04:05.000Z',
    });
    assert.deepEqual(book.get('ord-0003'), added);
    assert.equal(book.get('ord-9999'), undefined);
  });

  it('hands out copies, so a caller cannot change what it holds', () => {
    const book = createOrderBook({ initial: [], now });
    book.add({ customer: 'c', items: [{ sku: 'A1', quantity: 1 }] }).items[0].quantity = 99;
    book.list()[0].customer = 'changed';
    assert.deepEqual(book.get('ord-0001'), {
      id: 'ord-0001',
      customer: 'c',
      items: [{ sku: 'A1', quantity: 1 }],
      status: 'open',
      createdAt: '2025-01-02T03:04:05.000Z',
    });
  });
});
