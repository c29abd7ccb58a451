import type { TokenCredential } from '@azure/core-auth';
import * as tl from 'azure-pipelines-task-lib/task';
import { readEndpointAuthorization } from '../shared/endpoint';
import type { AzureRmConnection } from '../shared/azure-connection';
import { scopeFor } from '../shared/cloud';
import type { ClusterAccess } from '../shared/kubernetes/client';
import { KubeconfigError, parseKubeconfig, type KubeconfigContext } from '../shared/kubernetes/kubeconfig';
import { sdkClientOptions, type NetworkSettings } from '../shared/network';
import { TaskError } from '../shared/task-error';

/** The AKS AAD server application every Entra-enabled cluster accepts tokens for. */
export const aksServerScope = '6dae42f8-4368-4678-94ff-3960e28e3630/.default';

/** Turns a kubeconfig context into access; Entra users get a token from `credential` instead of kubelogin. */
export function accessFromKubeconfig(
  context: KubeconfigContext,
  credential: TokenCredential | undefined,
  where: string,
): ClusterAccess {
  let token: ClusterAccess['token'];
  if (context.entra) {
    if (!credential) throw new TaskError('KubeconfigNeedsEntra', [where]);
    token = entraToken(credential);
  } else if (context.token) {
    const fixed = context.token;
    token = async () => fixed;
  }
  return {
    server: context.server,
    ...(context.caPem ? { caPem: context.caPem } : {}),
    ...(context.tlsServerName ? { tlsServerName: context.tlsServerName } : {}),
    ...(context.clientCertificatePem
      ? { clientCertificatePem: context.clientCertificatePem, clientKeyPem: context.clientKeyPem }
      : {}),
    ...(context.namespace ? { namespace: context.namespace } : {}),
    ...(token ? { token } : {}),
  };
}

/** A token for the AKS server application, cached until five minutes before it expires or the server refuses it. */
export function entraToken(credential: TokenCredential): (refresh: boolean) => Promise<string> {
  let cached: { token: string; expiresOnTimestamp: number } | undefined;
  return async (refresh) => {
    if (refresh || !cached || cached.expiresOnTimestamp - Date.now() < 5 * 60_000) {
      const token = await credential.getToken(aksServerScope);
      if (!token) throw new TaskError('AksTokenFailed', ['no token returned']);
      cached = token;
    }
    return cached.token;
  };
}

/** Reads the cluster's credentials through ARM (listClusterUserCredential or listClusterAdminCredential). */
export async function accessThroughArm(
  connection: AzureRmConnection,
  credential: TokenCredential,
  network: NetworkSettings,
  resourceGroup: string,
  clusterName: string,
  admin: boolean,
): Promise<ClusterAccess> {
  const { ContainerServiceClient } = await import('@azure/arm-containerservice');
  const cloud = connection.cloud;
  const client = new ContainerServiceClient(credential, connection.subscriptionId ?? '', {
    ...sdkClientOptions(network, cloud.resourceManagerUrl),
    endpoint: cloud.resourceManagerUrl,
    credentials: { scopes: [scopeFor(cloud.resourceManagerAudience)] },
  });
  let result;
  try {
    result = admin
      ? await client.managedClusters.listClusterAdminCredentials(resourceGroup, clusterName)
      : await client.managedClusters.listClusterUserCredentials(resourceGroup, clusterName);
  } catch (error) {
    const status = (error as { statusCode?: number }).statusCode;
    const code = (error as { code?: string }).code ?? String(status ?? '');
    throw new TaskError(
      admin ? 'ClusterAdminCredentialsFailed' : 'ClusterCredentialsFailed',
      [clusterName, resourceGroup, code],
      error,
    );
  }
  const value = result.kubeconfigs?.[0]?.value;
  if (!value)
    throw new TaskError('ClusterCredentialsFailed', [clusterName, resourceGroup, 'no kubeconfig returned']);
  const where = `the cluster ${clusterName}`;
  return accessFromKubeconfig(parseOrFail(Buffer.from(value).toString('utf8'), where), credential, where);
}

/**
 * Reads a Kubernetes service connection as the agent provides it (the keys
 * azure-pipelines-tasks' kubernetes-common reads): `authorizationType` in its data is
 * Kubeconfig (authorization `kubeconfig`, optional `clusterContext`), ServiceAccount or
 * AzureSubscription (both: the endpoint URL, authorization `apiToken` and
 * `serviceAccountCertificate`, base64). Its `namespace` data, set for environment
 * resources, comes back as the access's namespace. A connection the agent did not pass
 * (missing, or not authorised for this pipeline) and one of another type are errors
 * that say so.
 */
export function accessThroughKubernetesConnection(
  id: string,
  credential: TokenCredential | undefined,
): ClusterAccess {
  const authorization = readEndpointAuthorization(id, 'kubernetesServiceConnection');
  if (!authorization && !tl.getEndpointUrl(id, true))
    throw new TaskError('KubernetesConnectionNotFound', [id]);
  const data = (key: string) => tl.getEndpointDataParameter(id, key, true)?.trim() || undefined;
  const auth = (key: string) => authorization?.parameter(key)?.trim() || undefined;
  const kind = connectionKind(data('authorizationType'), auth);
  if (!kind) {
    const scheme = data('authorizationType') ?? authorization?.scheme ?? 'none';
    throw new TaskError('KubernetesConnectionUnsupported', [id, scheme]);
  }
  const namespace = data('namespace');
  const where = `the service connection '${id}'`;
  if (kind === 'kubeconfig') {
    const kubeconfig = auth('kubeconfig');
    if (!kubeconfig) throw new TaskError('SignInConnectionFieldMissing', [id, 'kubeconfig']);
    const context = parseOrFail(kubeconfig, where, auth('clusterContext'));
    if (context.token) tl.setSecret(context.token);
    const access = accessFromKubeconfig(context, credential, where);
    return namespace ? { ...access, namespace } : access;
  }
  const server = tl.getEndpointUrl(id, true);
  const apiToken = auth('apiToken');
  if (!server) throw new TaskError('SignInConnectionFieldMissing', [id, 'server URL']);
  if (!apiToken) throw new TaskError('SignInConnectionFieldMissing', [id, 'apiToken']);
  const token = Buffer.from(apiToken, 'base64').toString('utf8');
  tl.setSecret(token);
  const certificate = auth('serviceAccountCertificate');
  const caPem = certificate ? decodeMaybeBase64(certificate) : undefined;
  return {
    server,
    token: async () => token,
    ...(caPem ? { caPem } : {}),
    ...(namespace ? { namespace } : {}),
  };
}

/**
 * How a Kubernetes connection signs in: by its `authorizationType` when it has one (as
 * kubernetes-common reads it), else by what it holds; undefined for any other connection
 * (an Azure Resource Manager or a registry connection chosen by mistake).
 */
function connectionKind(
  authorizationType: string | undefined,
  auth: (key: string) => string | undefined,
): 'kubeconfig' | 'token' | undefined {
  if (authorizationType !== undefined) {
    if (/^kubeconfig$/i.test(authorizationType)) return 'kubeconfig';
    if (/^(?:serviceaccount|azuresubscription)$/i.test(authorizationType)) return 'token';
    return undefined;
  }
  if (auth('kubeconfig')) return 'kubeconfig';
  if (auth('apiToken')) return 'token';
  return undefined;
}

function decodeMaybeBase64(text: string): string {
  return text.includes('-----BEGIN') ? text : Buffer.from(text, 'base64').toString('utf8');
}

function parseOrFail(text: string, where: string, context?: string): KubeconfigContext {
  try {
    return parseKubeconfig(text, context);
  } catch (error) {
    if (error instanceof KubeconfigError)
      throw new TaskError('KubeconfigInvalid', [where, error.message], error);
    throw error;
  }
}
