import { TaskError } from './task-error';

/** Where one Azure cloud's services live, as the tasks need them. URLs end without a slash. */
export interface CloudEndpoints {
  /** The connection's `environment` (AzureCloud, AzureUSGovernment, AzureChinaCloud, AzureStack, ...). */
  readonly environment: string;
  /** Microsoft Entra authority host, e.g. https://login.microsoftonline.com. */
  readonly authorityHost: string;
  /** Azure Resource Manager, e.g. https://management.azure.com. */
  readonly resourceManagerUrl: string;
  /** The audience ARM tokens are requested for. */
  readonly resourceManagerAudience: string;
  /** Appended to a vault name to build its host, e.g. vault.azure.net (may carry a port). */
  readonly keyVaultDnsSuffix: string;
  /** The audience Key Vault tokens are requested for. */
  readonly keyVaultAudience: string;
  /** The audience container registry data-plane tokens are requested for. */
  readonly containerRegistryAudience: string;
  /**
   * Whether MSAL's instance discovery knows the authority. It does not know Azure
   * Stack's or a custom cloud's, so sign-in must skip discovery there.
   */
  readonly isPublicCloudAuthority: boolean;
}

/**
 * What an AzureRM service connection says about its cloud: the endpoint URL and the
 * ENDPOINT_DATA keys the agent provides (the same keys azure-pipelines-tasks'
 * AzureRMEndpoint reads). Any field may be missing.
 */
export interface CloudEndpointData {
  /** `environment` */
  readonly environment?: string;
  /** The connection's URL (`tl.getEndpointUrl`), ARM for AzureRM connections. */
  readonly url?: string;
  /** `resourceManagerUrl`, which some connections carry besides the URL. */
  readonly resourceManagerUrl?: string;
  /** `environmentAuthorityUrl` (or `activeDirectoryAuthority`). */
  readonly environmentAuthorityUrl?: string;
  /** `activeDirectoryServiceEndpointResourceId` */
  readonly activeDirectoryServiceEndpointResourceId?: string;
  /** `AzureKeyVaultDnsSuffix` */
  readonly azureKeyVaultDnsSuffix?: string;
  /** `AzureKeyVaultServiceEndpointResourceId` */
  readonly azureKeyVaultServiceEndpointResourceId?: string;
  /** `containerRegistryAudience`: not set by the agent today; lets a custom cloud's connection override the default. */
  readonly containerRegistryAudience?: string;
}

type KnownCloud = Omit<CloudEndpoints, 'environment' | 'isPublicCloudAuthority'>;

// The registry audience defaults to the cloud's ARM endpoint, which ACR accepts for
// Entra tokens (these are @azure/container-registry's KnownContainerRegistryAudience values).
const knownClouds: Readonly<Record<string, KnownCloud>> = {
  azurecloud: {
    authorityHost: 'https://login.microsoftonline.com',
    resourceManagerUrl: 'https://management.azure.com',
    resourceManagerAudience: 'https://management.core.windows.net/',
    keyVaultDnsSuffix: 'vault.azure.net',
    keyVaultAudience: 'https://vault.azure.net',
    containerRegistryAudience: 'https://management.azure.com',
  },
  azureusgovernment: {
    authorityHost: 'https://login.microsoftonline.us',
    resourceManagerUrl: 'https://management.usgovcloudapi.net',
    resourceManagerAudience: 'https://management.core.usgovcloudapi.net/',
    keyVaultDnsSuffix: 'vault.usgovcloudapi.net',
    keyVaultAudience: 'https://vault.usgovcloudapi.net',
    containerRegistryAudience: 'https://management.usgovcloudapi.net',
  },
  azurechinacloud: {
    authorityHost: 'https://login.chinacloudapi.cn',
    resourceManagerUrl: 'https://management.chinacloudapi.cn',
    resourceManagerAudience: 'https://management.core.chinacloudapi.cn/',
    keyVaultDnsSuffix: 'vault.azure.cn',
    keyVaultAudience: 'https://vault.azure.cn',
    containerRegistryAudience: 'https://management.chinacloudapi.cn',
  },
};

// Authorities MSAL's instance discovery (and its built-in metadata) knows.
const publicAuthorityHosts = new Set([
  'login.microsoftonline.com',
  'login.windows.net',
  'login.microsoft.com',
  'sts.windows.net',
  'login.microsoftonline.us',
  'login.usgovcloudapi.net',
  'login.chinacloudapi.cn',
  'login.partner.microsoftonline.cn',
]);

/**
 * Resolves a connection's cloud: the endpoint data wins where present, the
 * well-known cloud's defaults fill the gaps, and Azure Stack or a custom cloud must
 * provide its own URLs (a TaskError names the missing key).
 */
export function resolveCloud(connectionName: string, data: CloudEndpointData): CloudEndpoints {
  const environment = data.environment?.trim() || 'AzureCloud';
  const known = knownClouds[environment.toLowerCase()];
  const required = (value: string | undefined, fallback: string | undefined, key: string): string => {
    const chosen = value?.trim() || fallback;
    if (!chosen) throw new TaskError('SignInCloudEndpointMissing', [connectionName, environment, key]);
    return chosen;
  };

  const resourceManagerUrl = trimSlash(
    required(data.resourceManagerUrl ?? data.url, known?.resourceManagerUrl, 'url (resourceManagerUrl)'),
  );
  const authorityHost = trimSlash(
    required(data.environmentAuthorityUrl, known?.authorityHost, 'environmentAuthorityUrl'),
  );
  // Azure Stack's AzureRMEndpoint derives Key Vault from ARM's domain: management.<domain> -> vault.<domain>.
  const armDomain = new URL(resourceManagerUrl).host.split('.').slice(1).join('.');
  const keyVaultDnsSuffix = required(
    data.azureKeyVaultDnsSuffix,
    known?.keyVaultDnsSuffix ?? (armDomain ? `vault.${armDomain}` : undefined),
    'AzureKeyVaultDnsSuffix',
  ).replace(/^\.+/, '');
  return {
    environment,
    authorityHost,
    resourceManagerUrl,
    resourceManagerAudience:
      data.activeDirectoryServiceEndpointResourceId?.trim() ||
      known?.resourceManagerAudience ||
      `${resourceManagerUrl}/`,
    keyVaultDnsSuffix,
    keyVaultAudience: trimSlash(
      data.azureKeyVaultServiceEndpointResourceId?.trim() ||
        known?.keyVaultAudience ||
        `https://${keyVaultDnsSuffix.replace(/:\d+$/, '')}`,
    ),
    containerRegistryAudience: trimSlash(
      data.containerRegistryAudience?.trim() || known?.containerRegistryAudience || resourceManagerUrl,
    ),
    isPublicCloudAuthority: publicAuthorityHosts.has(new URL(authorityHost).hostname.toLowerCase()),
  };
}

/** The `.default` scope for an audience, the form @azure/identity asks Entra for. */
export function scopeFor(audience: string): string {
  return `${trimSlash(audience)}/.default`;
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
