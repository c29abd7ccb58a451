import assert from 'node:assert/strict';
import { TaskError } from '../shared/task-error';
import { resolveVaultAddress } from './vault-url';

describe('KeyVaultSecrets vault address', () => {
  const publicCloud = { environment: 'AzureCloud', keyVaultDnsSuffix: 'vault.azure.net' };
  const testCloud = { environment: 'AzureStack', keyVaultDnsSuffix: '.vault.azure.test:8443' };
  const chinaCloud = { environment: 'AzureChinaCloud', keyVaultDnsSuffix: 'vault.azure.cn' };

  const accepted = [
    { input: 'contoso-ci-kv', cloud: publicCloud, url: 'https://contoso-ci-kv.vault.azure.net' },
    { input: 'Contoso', cloud: testCloud, url: 'https://contoso.vault.azure.test:8443' },
    { input: 'https://kv1.vault.azure.net/', cloud: publicCloud, url: 'https://kv1.vault.azure.net' },
    { input: 'https://KV1.Vault.Azure.Net:443', cloud: publicCloud, url: 'https://kv1.vault.azure.net' },
    {
      input: 'https://kv1.vault.azure.test:8443',
      cloud: testCloud,
      url: 'https://kv1.vault.azure.test:8443',
    },
    { input: 'https://kv1.vault.azure.cn/', cloud: chinaCloud, url: 'https://kv1.vault.azure.cn' },
  ];
  for (const { input, cloud, url } of accepted) {
    it(`accepts ${input} in ${cloud.environment}`, () =>
      assert.equal(resolveVaultAddress(input, cloud).url, url));
  }

  const rejected = [
    { input: 'kv', key: 'VaultNameInvalid' },
    { input: '1vault', key: 'VaultNameInvalid' },
    { input: 'my--vault', key: 'VaultNameInvalid' },
    { input: 'vault-', key: 'VaultNameInvalid' },
    { input: 'a'.repeat(25), key: 'VaultNameInvalid' },
    { input: 'my vault', key: 'VaultNameInvalid' },
    { input: 'http://kv1.vault.azure.net', key: 'VaultUrlInvalid' },
    { input: 'https://kv1.vault.azure.net/secrets/x', key: 'VaultUrlInvalid' },
    { input: 'https://user:pw@kv1.vault.azure.net/', key: 'VaultUrlInvalid' },
    { input: 'https://evil.example.com/', key: 'VaultUrlNotInCloud' },
    { input: 'https://kv1.vault.azure.cn/', key: 'VaultUrlNotInCloud' },
    { input: 'https://kv1.vault.azure.net.evil.example/', key: 'VaultUrlNotInCloud' },
    { input: 'https://kv1vault.azure.net/', key: 'VaultUrlNotInCloud' },
    { input: 'https://kv1.vault.azure.net:8443/', key: 'VaultUrlNotInCloud' },
    { input: 'https://a.b.vault.azure.net/', key: 'VaultNameInvalid' },
  ];
  for (const { input, key } of rejected) {
    it(`rejects ${input} in AzureCloud`, () =>
      assert.throws(
        () => resolveVaultAddress(input, publicCloud),
        (error: unknown) => error instanceof TaskError && error.key === key,
      ));
  }

  it('names the cloud and the host suffix it expects', () => {
    assert.throws(
      () => resolveVaultAddress('https://evil.example.com/', publicCloud),
      (error: unknown) =>
        error instanceof TaskError &&
        error.args[0] === 'https://evil.example.com/' &&
        error.args[1] === 'AzureCloud' &&
        error.args[2] === 'vault.azure.net',
    );
  });

  it('quotes at most 200 characters of a long input', () => {
    assert.throws(
      () => resolveVaultAddress(`https://${'a'.repeat(120_000)}.example.com/`, publicCloud),
      (error: unknown) => error instanceof TaskError && String(error.args[0]).length < 240,
    );
  });
});
