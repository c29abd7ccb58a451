import assert from 'node:assert/strict';
import {
  ConversionError,
  Version,
  formatNumber,
  isTruthy,
  toText,
  tryNumber,
  type ExpressionValue,
} from './values';

describe('expressions: type casting', () => {
  const texts: [ExpressionValue, string][] = [
    [true, 'True'],
    [false, 'False'],
    [null, ''],
    [3, '3'],
    [1.5, '1.5'],
    [1 / 3, '0.3333333'],
    [1e21, '1000000000000000000000'],
    [new Version([1, 2, 3]), '1.2.3'],
    [new Date(Date.UTC(2024, 0, 2, 3, 4, 5)), '2024-01-02 03:04:05+00:00'],
  ];
  for (const [value, text] of texts) {
    it(`writes ${String(value)} as ${JSON.stringify(text)}`, () => assert.equal(toText(value), text));
  }
  it('has no text for a sequence or a mapping', () => {
    assert.throws(() => toText([1]), ConversionError);
    assert.throws(() => toText({ a: 1 }), /Unable to convert from Object to String/);
  });

  const numbers: [string, number | undefined][] = [
    ['', 0],
    [' 12 ', 12],
    ['-1.5', -1.5],
    ['1,000', 1000],
    ['0x10', undefined],
    ['1e3', undefined],
    ['abc', undefined],
    ['.', undefined],
  ];
  for (const [text, number] of numbers) {
    it(`reads ${JSON.stringify(text)} as the number ${String(number)}`, () =>
      assert.equal(tryNumber(text), number));
  }

  const truths: [ExpressionValue, boolean][] = [
    ['false', true],
    ['', false],
    [0, false],
    [-1, true],
    [null, false],
    [[], true],
    [{}, true],
    [new Version([0, 0]), true],
  ];
  for (const [value, truthy] of truths) {
    it(`takes ${JSON.stringify(value)} as ${truthy}`, () => assert.equal(isTruthy(value), truthy));
  }

  it('parses versions of two to four segments only', () => {
    assert.equal(Version.parse('1')?.toString(), undefined);
    assert.equal(Version.parse('1.2.3.4')?.toString(), '1.2.3.4');
    assert.equal(Version.parse('1.2.3.4.5'), undefined);
    assert.equal(formatNumber(-0.00000001), '0');
  });
});
