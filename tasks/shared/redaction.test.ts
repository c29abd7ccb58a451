import * as assert from 'node:assert/strict';
import { createRedactor, excerpt, firstLineExcerpt } from './redaction';

describe('redaction', () => {
  const token = 'eyJhbGciOiJSUzI1NiJ9.payload-part.signature-part-xyz';

  it('replaces every secret, longest first', () => {
    const redact = createRedactor(['abcd', 'abcdefgh', '']);
    assert.equal(redact('x abcdefgh y abcd z'), 'x *** y *** z');
  });

  it('leaves text without secrets as it is', () => {
    assert.equal(createRedactor([])('plain'), 'plain');
    assert.equal(createRedactor([token])('plain text'), 'plain text');
  });

  it('masks the start of a secret at the end of a text someone else cut', () => {
    const redact = createRedactor([token]);
    assert.equal(redact(`Authorization: Bearer ${token.slice(0, 20)}`), 'Authorization: Bearer ***');
  });

  it('masks the end of a secret at the start of a text', () => {
    const redact = createRedactor([token]);
    assert.equal(redact(`${token.slice(30)} and more`), '*** and more');
  });

  it('keeps pieces shorter than four characters, which would mask ordinary words', () => {
    assert.equal(createRedactor(['secret-value'])('the sec'), 'the sec');
  });

  it('never shows any part of a secret, wherever the cut falls', () => {
    const redact = createRedactor([token]);
    const body = `{"echo":"Bearer ${token}","more":"${'x'.repeat(40)}"}`;
    for (let max = 1; max <= body.length + 5; max++) {
      const shown = excerpt(body, max, redact);
      for (let length = 4; length <= token.length; length++) {
        for (let start = 0; start + length <= token.length; start += 1) {
          const piece = token.slice(start, start + length);
          assert.ok(!shown.includes(piece), `cut at ${max} shows '${piece}': ${shown}`);
        }
      }
    }
  });

  it('says how much it left out, and keeps surrogate pairs whole', () => {
    assert.equal(excerpt('abcdef', 3), 'abc… (3 more characters)');
    assert.equal(excerpt('ab😀cd', 3), 'ab… (4 more characters)');
    assert.equal(excerpt('short', 10), 'short');
  });

  it('takes the first line, redacted, then cut', () => {
    const redact = createRedactor([token]);
    assert.equal(firstLineExcerpt(`failed: ${token}\nsecond line`, 200, redact), 'failed: ***');
    assert.equal(firstLineExcerpt('a'.repeat(300), 200).length, 200 + ' (100 more characters)'.length + 1);
  });
});
