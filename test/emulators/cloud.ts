import { EmulatedDevOps } from './devops';
import { EmulatedEntra } from './entra';
import { EmulatedImds } from './imds';
import { imdsHostName, startEmulatedAzure, type EmulatedAzure } from './server';

/** The front with the identity services every task needs already registered. */
export interface EmulatedCloud {
  readonly azure: EmulatedAzure;
  readonly entra: EmulatedEntra;
  readonly devops: EmulatedDevOps;
  readonly imds: EmulatedImds;
  /** `https://login.azure.test:PORT/`, the authority host for this cloud. */
  readonly authorityHost: string;
  /** `https://dev.azure.test:PORT/<org>/`, the System.CollectionUri of jobs in this cloud. */
  readonly collectionUri: string;
  /** An AzureRM service connection (service principal with a secret) in this cloud, as the agent passes it. */
  servicePrincipalEndpoint(
    principal: ServicePrincipal,
    data?: Readonly<Record<string, string>>,
  ): AzureRmEndpoint;
}

/** A service principal registered with the emulated Entra ID. */
export interface ServicePrincipal {
  readonly tenantId: string;
  readonly clientId: string;
  readonly secret: string;
}

/** A service connection's URL, scheme, authorization parameters and endpoint data. */
export interface AzureRmEndpoint {
  readonly url: string;
  readonly scheme: string;
  readonly parameters: Readonly<Record<string, string>>;
  readonly data: Readonly<Record<string, string>>;
}

/**
 * Starts the front and registers Entra ID (login.azure.test), Azure DevOps
 * (dev.azure.test) and IMDS, with Entra trusting the DevOps OIDC issuer.
 */
export async function startEmulatedCloud(): Promise<EmulatedCloud> {
  const azure = await startEmulatedAzure();
  const entra = new EmulatedEntra();
  const devops = new EmulatedDevOps();
  const imds = new EmulatedImds(entra);
  entra.trustIssuer(devops.issuer, devops.publicKey);
  azure.register('login.azure.test', entra.handler);
  azure.register('dev.azure.test', devops.handler);
  azure.register(imdsHostName, imds.handler);
  return {
    azure,
    entra,
    devops,
    imds,
    authorityHost: azure.url('login.azure.test', '/'),
    collectionUri: azure.url('dev.azure.test', `/${devops.organization}/`),
    // A custom (Azure Stack-style) cloud: its endpoints come from the connection's data.
    servicePrincipalEndpoint: (principal, data = {}) => ({
      url: azure.url('management.azure.test', '/'),
      scheme: 'ServicePrincipal',
      parameters: {
        tenantid: principal.tenantId,
        serviceprincipalid: principal.clientId,
        serviceprincipalkey: principal.secret,
        authenticationType: 'spnKey',
      },
      data: {
        environment: 'AzureStack',
        environmentAuthorityUrl: azure.url('login.azure.test', '/'),
        activeDirectoryServiceEndpointResourceId: 'https://management.azure.test/',
        AzureKeyVaultDnsSuffix: azure.authority('vault.azure.test'),
        ...data,
      },
    }),
  };
}
