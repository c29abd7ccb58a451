import * as tl from 'azure-pipelines-task-lib/task';
import { endpointAuthorization } from './endpoint';
import { resolveCloud, type CloudEndpoints } from './cloud';
import { requiredString } from './inputs';
import { quoted } from './known-secrets';
import { TaskError } from './task-error';

/** What Azure DevOps needs to mint an OIDC token for a service connection inside this job. */
export interface OidcRequestContext {
  /** System.CollectionUri, e.g. https://dev.azure.com/org/. */
  readonly collectionUri: string;
  /** System.TeamProjectId */
  readonly projectId: string;
  /** System.HostType (build, release, ...), the hub the plan belongs to. */
  readonly hostType: string;
  /** System.PlanId */
  readonly planId: string;
  /** System.JobId */
  readonly jobId: string;
  /** The job's SYSTEMVSSCONNECTION access token (a secret). */
  readonly systemAccessToken: string;
}

/** How the connection signs in; secrets stay in here and are never logged. */
export type AzureRmAuthentication =
  | {
      readonly scheme: 'ServicePrincipal';
      readonly tenantId: string;
      readonly clientId: string;
      readonly secret: string;
    }
  | {
      readonly scheme: 'ServicePrincipal';
      readonly tenantId: string;
      readonly clientId: string;
      /** PEM holding the certificate and its private key. */
      readonly certificatePem: string;
    }
  | {
      readonly scheme: 'WorkloadIdentityFederation';
      readonly tenantId: string;
      readonly clientId: string;
      readonly oidc: OidcRequestContext;
    }
  | {
      readonly scheme: 'ManagedServiceIdentity';
      readonly tenantId?: string;
      /** A user-assigned identity's client id; the VM's system-assigned identity when absent. */
      readonly clientId?: string;
    };

/** An Azure Resource Manager service connection as plain data. */
export interface AzureRmConnection {
  /** The connection's id, as the task input holds it. */
  readonly id: string;
  /** The task input it came from, so errors can name it. */
  readonly inputName: string;
  readonly subscriptionId?: string;
  readonly cloud: CloudEndpoints;
  readonly authentication: AzureRmAuthentication;
}

/** The authentication schemes this extension signs in with. */
export const supportedSchemes = [
  'WorkloadIdentityFederation',
  'ServicePrincipal',
  'ManagedServiceIdentity',
] as const;

/**
 * Reads the AzureRM service connection named by the input `inputName`: its scheme,
 * authorization parameters, endpoint data and, for workload identity federation, the
 * job context Azure DevOps needs to issue an OIDC token. Any gap is one TaskError
 * naming the connection and the missing field.
 */
export function readAzureRmConnection(inputName: string): AzureRmConnection {
  const id = requiredString(inputName, 'Select an Azure Resource Manager service connection.');
  const secretParameter = endpointAuthorization(id, inputName);
  const auth = (key: string) => secretParameter(key)?.trim() || undefined;
  const data = (key: string) => tl.getEndpointDataParameter(id, key, true)?.trim() || undefined;
  const need = (value: string | undefined, field: string): string => {
    if (!value) throw new TaskError('SignInConnectionFieldMissing', [id, field]);
    return value;
  };

  const scheme = tl.getEndpointAuthorizationScheme(id, true)?.trim() || '';
  // The input names no connection the agent passed: whatever it holds is quoted, not echoed.
  if (!scheme) throw new TaskError('SignInConnectionNotFound', [quoted(id), inputName]);
  const cloud = resolveCloud(id, {
    environment: data('environment'),
    url: tl.getEndpointUrl(id, true)?.trim() || undefined,
    resourceManagerUrl: data('resourceManagerUrl'),
    environmentAuthorityUrl: data('environmentAuthorityUrl') ?? data('activeDirectoryAuthority'),
    activeDirectoryServiceEndpointResourceId: data('activeDirectoryServiceEndpointResourceId'),
    azureKeyVaultDnsSuffix: data('AzureKeyVaultDnsSuffix'),
    azureKeyVaultServiceEndpointResourceId: data('AzureKeyVaultServiceEndpointResourceId'),
    containerRegistryAudience: data('containerRegistryAudience'),
  });

  let authentication: AzureRmAuthentication;
  switch (scheme.toLowerCase()) {
    case 'serviceprincipal': {
      const tenantId = need(auth('tenantid'), 'tenant ID (tenantid)');
      const clientId = need(auth('serviceprincipalid'), 'service principal ID (serviceprincipalid)');
      authentication =
        auth('authenticationType')?.toLowerCase() === 'spncertificate'
          ? {
              scheme: 'ServicePrincipal',
              tenantId,
              clientId,
              certificatePem: need(
                secretParameter('servicePrincipalCertificate'),
                'certificate (servicePrincipalCertificate)',
              ),
            }
          : {
              scheme: 'ServicePrincipal',
              tenantId,
              clientId,
              secret: need(secretParameter('serviceprincipalkey'), 'client secret (serviceprincipalkey)'),
            };
      break;
    }
    case 'workloadidentityfederation':
      authentication = {
        scheme: 'WorkloadIdentityFederation',
        tenantId: need(auth('tenantid'), 'tenant ID (tenantid)'),
        clientId: need(auth('serviceprincipalid'), 'service principal ID (serviceprincipalid)'),
        oidc: readOidcRequestContext(id),
      };
      break;
    case 'managedserviceidentity':
      authentication = {
        scheme: 'ManagedServiceIdentity',
        tenantId: auth('tenantid'),
        clientId: data('msiclientId') ?? auth('msiclientId'),
      };
      break;
    default:
      throw new TaskError('SignInSchemeUnsupported', [id, quoted(scheme), supportedSchemes.join(', ')]);
  }

  return { id, inputName, subscriptionId: data('subscriptionId'), cloud, authentication };
}

function readOidcRequestContext(connectionId: string): OidcRequestContext {
  const variable = (name: string): string => {
    const value = tl.getVariable(name)?.trim();
    if (!value) throw new TaskError('SignInJobContextMissing', [connectionId, name]);
    return value;
  };
  const systemAccessToken = endpointAuthorization('SYSTEMVSSCONNECTION')('AccessToken');
  if (!systemAccessToken) {
    throw new TaskError('SignInJobContextMissing', [connectionId, 'SYSTEMVSSCONNECTION AccessToken']);
  }
  return {
    collectionUri: variable('System.CollectionUri'),
    projectId: variable('System.TeamProjectId'),
    hostType: variable('System.HostType'),
    planId: variable('System.PlanId'),
    jobId: variable('System.JobId'),
    systemAccessToken,
  };
}
