import * as assert from 'node:assert/strict';
import { createRedactor, headerSecrets } from './redact';

describe('redaction', () => {
  it('replaces every secret, longest first', () => {
    const redact = createRedactor(['abc', 'abcdef', '']);
    assert.equal(redact('x abcdef y abc z'), 'x *** y *** z');
  });

  it('picks variable values, credential headers of any length and long literals', () => {
    const secrets = headerSecrets(
      {
        authorization: 'Bearer short',
        accept: 'application/json',
        'x-tenant': 'ab',
        'x-trace': 'literal-token-value',
      },
      ['ab'],
    );
    assert.ok(secrets.includes('ab'), 'a variable value is redacted however short');
    assert.ok(secrets.includes('Bearer short'));
    assert.ok(secrets.includes('application/json'));
    assert.ok(secrets.includes('literal-token-value'));
    assert.ok(!secrets.includes('Bearer'), 'short words are not redacted on their own');
  });
});
