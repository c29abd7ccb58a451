import assert from 'node:assert/strict';
import { TaskError } from '../shared/task-error';
import { resolveVaultAddress } from './vault-url';

describe('KeyVaultSecrets vault address', () => {
  const accepted = [
    { input: 'contoso-ci-kv', suffix: 'vault.azure.net', url: 'https://contoso-ci-kv.vault.azure.net' },
    { input: 'Contoso', suffix: '.vault.azure.test:8443', url: 'https://contoso.vault.azure.test:8443' },
    { input: 'https://kv1.vault.azure.net/', suffix: 'x', url: 'https://kv1.vault.azure.net' },
    { input: 'https://kv1.vault.azure.test:8443', suffix: 'x', url: 'https://kv1.vault.azure.test:8443' },
  ];
  for (const { input, suffix, url } of accepted) {
    it(`accepts ${input}`, () => assert.equal(resolveVaultAddress(input, suffix).url, url));
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
  ];
  for (const { input, key } of rejected) {
    it(`rejects ${input}`, () =>
      assert.throws(
        () => resolveVaultAddress(input, 'vault.azure.net'),
        (error: unknown) => error instanceof TaskError && error.key === key,
      ));
  }
});
