import { strict as assert } from 'node:assert';
import { createTestCertificateAuthority } from '../../test/emulators/certificates';
import { proxyFor, sdkClientOptions, trustedSecureContext } from './network';

describe('network settings', () => {
  let caPem: string;
  before(async () => {
    const ca = await createTestCertificateAuthority();
    caPem = ca.caPem;
    ca.dispose();
  });

  it('builds the TLS context for Agent.CAInfo once, and none without it', () => {
    assert.equal(trustedSecureContext({}), undefined);
    const first = trustedSecureContext({ extraCaPem: caPem });
    assert.ok(first);
    assert.equal(trustedSecureContext({ extraCaPem: caPem }), first);
  });

  it('hands the Azure SDK that context, not the certificate list, when there is no proxy', () => {
    const options = sdkClientOptions({ extraCaPem: caPem }, 'https://vault.azure.test/');
    assert.deepEqual('tlsOptions' in options && options.tlsOptions, {
      secureContext: trustedSecureContext({ extraCaPem: caPem }),
    });
    assert.equal('agent' in options, false);
  });

  it('uses the proxy unless the bypass list names the URL', () => {
    const network = { proxy: { url: 'http://proxy.corp:8080', bypass: [/\.internal\.corp/i] } };
    assert.equal(proxyFor(network, 'https://vault.azure.test/')?.url, 'http://proxy.corp:8080');
    assert.equal(proxyFor(network, 'https://api.internal.corp/'), undefined);
    assert.equal('agent' in sdkClientOptions(network, 'https://vault.azure.test/'), true);
  });
});
