import { quoted } from '../shared/known-secrets';
import { TaskError } from '../shared/task-error';

/** A vault's URL and the name messages call it by. */
export interface VaultAddress {
  readonly url: string;
  readonly name: string;
}

/** The connection's cloud, as far as vault addresses go. */
export interface VaultCloud {
  /** The connection's `environment`, e.g. AzureCloud. */
  readonly environment: string;
  /** The cloud's Key Vault DNS suffix, e.g. vault.azure.net (may carry a port). */
  readonly keyVaultDnsSuffix: string;
}

// Vault names: 3 to 24 letters, digits and dashes, starting with a letter, ending with a
// letter or digit, no two dashes in a row.
// https://learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules#microsoftkeyvault
const vaultName = /^[A-Za-z](?!.*--)[A-Za-z0-9-]{1,22}[A-Za-z0-9]$/;

/**
 * Turns the `keyVaultName` input into a vault URL: a bare name gets the connection's Key
 * Vault DNS suffix (`vault.azure.net` in the public cloud). A full https URL must name a
 * vault under that same suffix: the task sends the connection's token there, so a host of
 * another cloud, or no vault at all, is refused before any request.
 */
export function resolveVaultAddress(input: string, cloud: VaultCloud): VaultAddress {
  const suffix = cloud.keyVaultDnsSuffix.replace(/^\.+/, '').replace(/\/+$/, '').toLowerCase();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(input)) {
    let url: URL;
    try {
      url = new URL(input);
    } catch {
      throw new TaskError('VaultUrlInvalid', [quoted(input)]);
    }
    const extra =
      url.pathname.replace(/\/+$/, '') !== '' || url.search || url.hash || url.username || url.password;
    if (url.protocol !== 'https:' || extra) {
      throw new TaskError('VaultUrlInvalid', [quoted(input)]);
    }
    const [suffixHost = '', suffixPort = ''] = suffix.split(':');
    const name = url.hostname.endsWith(`.${suffixHost}`)
      ? url.hostname.slice(0, -suffixHost.length - 1)
      : undefined;
    if (name === undefined || url.port !== suffixPort) {
      throw new TaskError('VaultUrlNotInCloud', [quoted(input), cloud.environment, suffix, suffix]);
    }
    if (!vaultName.test(name)) throw new TaskError('VaultNameInvalid', [quoted(name)]);
    return { url: `https://${url.host}`, name };
  }
  if (!vaultName.test(input)) throw new TaskError('VaultNameInvalid', [quoted(input)]);
  return { url: `https://${input.toLowerCase()}.${suffix}`, name: input.toLowerCase() };
}
