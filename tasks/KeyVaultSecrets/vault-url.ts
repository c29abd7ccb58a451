import { TaskError } from '../shared/task-error';

/** A vault's URL and the name messages call it by. */
export interface VaultAddress {
  readonly url: string;
  readonly name: string;
}

// Vault names: 3 to 24 letters, digits and dashes, starting with a letter, ending with a
// letter or digit, no two dashes in a row.
// https://learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules#microsoftkeyvault
const vaultName = /^[A-Za-z](?!.*--)[A-Za-z0-9-]{1,22}[A-Za-z0-9]$/;

/**
 * Turns the `keyVaultName` input into a vault URL: a bare name gets the connection's Key
 * Vault DNS suffix (`vault.azure.net` in the public cloud), a full https URL is taken as is.
 */
export function resolveVaultAddress(input: string, dnsSuffix: string): VaultAddress {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(input)) {
    let url: URL;
    try {
      url = new URL(input);
    } catch {
      throw new TaskError('VaultUrlInvalid', [input]);
    }
    if (url.protocol !== 'https:' || url.pathname.replace(/\/+$/, '') !== '' || url.search || url.hash) {
      throw new TaskError('VaultUrlInvalid', [input]);
    }
    return { url: `https://${url.host}`, name: url.hostname.split('.')[0] ?? url.hostname };
  }
  if (!vaultName.test(input)) throw new TaskError('VaultNameInvalid', [input]);
  const suffix = dnsSuffix.replace(/^\.+/, '').replace(/\/+$/, '');
  return { url: `https://${input.toLowerCase()}.${suffix}`, name: input.toLowerCase() };
}
