import * as assert from 'node:assert/strict';
import { quoted, quotedFirstLine, redactKnownSecrets, rememberAgentSecrets } from './known-secrets';

describe('known secrets', () => {
  it("remembers the agent's secret variables and masked connection parameters, not harmless ones", () => {
    rememberAgentSecrets({
      SECRET_DB_PASSWORD: 'known-secret-variable-value',
      ENDPOINT_AUTH_PARAMETER_conn_SERVICEPRINCIPALKEY: 'known-client-secret-value',
      ENDPOINT_AUTH_PARAMETER_conn_TENANTID: 'tenant-0000-harmless',
      INPUT_KEYVAULTNAME: 'not-a-secret-input',
    });
    assert.equal(
      redactKnownSecrets('a known-secret-variable-value b known-client-secret-value c'),
      'a *** b *** c',
    );
    assert.equal(
      redactKnownSecrets('tenant-0000-harmless not-a-secret-input'),
      'tenant-0000-harmless not-a-secret-input',
    );
  });

  it('quotes a value redacted first, then cut, so no piece of a secret shows', () => {
    const secret = 'remembered-token-abcdefghijklmnop';
    rememberAgentSecrets({ SECRET_TOKEN: secret });
    const text = `${'x'.repeat(190)}${secret}${'y'.repeat(120_000)}`;
    const shown = quoted(text);
    assert.ok(shown.startsWith(`${'x'.repeat(190)}***`), shown.slice(0, 220));
    assert.ok(!shown.includes('remembered'), 'a piece of the secret shows');
    assert.match(shown, /… \(\d+ more characters\)$/);
    assert.ok(shown.length < 260);
  });

  it('redacts the extra secrets it is given, and keeps a quote on one line', () => {
    assert.equal(
      quoted('key=extra-secret-1234\nnext\u0000', 200, ['extra-secret-1234']),
      'key=***\\nnext\\u0000',
    );
    assert.equal(quotedFirstLine('first extra-secret-5678\nsecond', 200, ['extra-secret-5678']), 'first ***');
    assert.equal(quotedFirstLine('\u0001'.repeat(300), 12), `${'\\u0001'.repeat(2)}… (1788 more characters)`);
  });
});
