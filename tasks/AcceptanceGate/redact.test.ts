import * as assert from 'node:assert/strict';
import { credentialHeaderValues } from './redact';

describe('credential header values', () => {
  it('picks credential headers of any length, and their long words', () => {
    const values = credentialHeaderValues({
      authorization: 'Bearer literal-token-value',
      'x-session-id': 'ab',
      'x-request-token': 'tok',
    });
    assert.deepEqual(values.sort(), ['Bearer literal-token-value', 'ab', 'literal-token-value', 'tok']);
  });

  it('leaves other literal values alone, however long', () => {
    assert.deepEqual(
      credentialHeaderValues({
        accept: 'application/json',
        'content-type': 'application/json; charset=utf-8',
        'x-tenant': 'contoso-production',
      }),
      [],
    );
  });
});
