import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TokenCredential } from '@azure/core-auth';
import {
  createDefaultHttpClient,
  createPipelineFromOptions,
  createPipelineRequest,
} from '@azure/core-rest-pipeline';
import {
  ClientAssertionCredential,
  ClientCertificateCredential,
  ClientSecretCredential,
  ManagedIdentityCredential,
} from '@azure/identity';
// TaskApi and the bearer handler on their own: the package's WebApi entry pulls in every
// Azure DevOps REST client (about 1 MB of bundle) for this one call.
import { BearerCredentialHandler } from 'azure-devops-node-api/handlers/bearertoken';
import { TaskApi } from 'azure-devops-node-api/TaskApi';
import type { IRequestOptions } from 'azure-devops-node-api/interfaces/common/VsoBaseInterfaces';
import type { AzureRmAuthentication, AzureRmConnection, OidcRequestContext } from './azure-connection';
import { quotedFirstLine } from './known-secrets';
import {
  defaultRetryPolicy,
  proxyFor,
  sdkClientOptions,
  trustedCas,
  type NetworkSettings,
  type RetryPolicy,
} from './network';
import { isTaskError, TaskError } from './task-error';

/**
 * Builds the @azure/identity credential for a service connection, with the agent's
 * proxy, CA and retry policy. Authority and instance discovery follow the
 * connection's cloud: MSAL cannot discover Azure Stack's or a custom cloud's authority,
 * so discovery is skipped there and the authority is trusted as configured.
 */
export function createCredential(
  connection: AzureRmConnection,
  network: NetworkSettings,
  retry: RetryPolicy = defaultRetryPolicy,
): TokenCredential {
  const cloud = connection.cloud;
  const options = {
    ...sdkClientOptions(network, cloud.authorityHost, retry),
    authorityHost: cloud.authorityHost,
    disableInstanceDiscovery: !cloud.isPublicCloudAuthority,
  };
  const auth = connection.authentication;
  switch (auth.scheme) {
    case 'ServicePrincipal':
      return 'secret' in auth
        ? new ClientSecretCredential(auth.tenantId, auth.clientId, auth.secret, options)
        : new ClientCertificateCredential(
            auth.tenantId,
            auth.clientId,
            { certificate: auth.certificatePem },
            options,
          );
    case 'WorkloadIdentityFederation':
      // Azure DevOps OIDC tokens live about ten minutes; a cached one could be stale by
      // the time MSAL needs to refresh, so every assertion asks for a fresh token.
      return new ClientAssertionCredential(
        auth.tenantId,
        auth.clientId,
        () => requestOidcToken(auth.oidc, connection.id, network, retry),
        options,
      );
    case 'ManagedServiceIdentity': {
      // IMDS is link-local on the agent's own VM: never through the agent's proxy.
      const direct = sdkClientOptions({ extraCaPem: network.extraCaPem }, '', retry);
      return auth.clientId
        ? new ManagedIdentityCredential({ ...direct, clientId: auth.clientId })
        : new ManagedIdentityCredential(direct);
    }
  }
}

/**
 * Asks Azure DevOps for an OIDC token for `connectionId` in this job (TaskApi
 * createOidcToken, authorised by the job's SYSTEMVSSCONNECTION token).
 */
export async function requestOidcToken(
  oidc: OidcRequestContext,
  connectionId: string,
  network: NetworkSettings,
  retry: RetryPolicy = defaultRetryPolicy,
): Promise<string> {
  const proxy = proxyFor(network, oidc.collectionUri);
  const options: IRequestOptions = {
    allowRetries: true,
    maxRetries: retry.maxRetries,
    ...(proxy
      ? {
          proxy: {
            proxyUrl: proxy.url,
            proxyUsername: proxy.username,
            proxyPassword: proxy.password,
            proxyBypassHosts: [],
          },
        }
      : {}),
  };
  // typed-rest-client takes extra CAs only as a file, read when each client is built;
  // the file (Node's roots plus the agent's CA, public certificates only) lives just that long.
  const cas = trustedCas(network);
  const caDir = cas ? mkdtempSync(join(tmpdir(), 'aks-release-flow-ca-')) : undefined;
  try {
    if (caDir && cas) {
      const caFile = join(caDir, 'ca.pem');
      writeFileSync(caFile, cas.join('\n'), { mode: 0o600 });
      options.cert = { caFile };
    }
    // What WebApi.getTaskApi() builds: the task hub lives at the collection URL itself.
    const taskApi = new TaskApi(
      oidc.collectionUri,
      [new BearerCredentialHandler(oidc.systemAccessToken)],
      options,
    );
    const response = await taskApi.createOidcToken(
      {},
      oidc.projectId,
      oidc.hostType,
      oidc.planId,
      oidc.jobId,
      connectionId,
    );
    if (!response?.oidcToken) throw new Error('the response carried no oidcToken');
    return response.oidcToken;
  } catch (error) {
    throw new TaskError(
      'SignInOidcTokenFailed',
      [connectionId, 'WorkloadIdentityFederation', firstLine(error, [oidc.systemAccessToken])],
      error,
    );
  } finally {
    if (caDir) rmSync(caDir, { recursive: true, force: true });
  }
}

// AADSTS codes with a specific fix; anything else gets the generic message with its code.
const fixes: Readonly<Record<string, string>> = {
  '7000215': 'SignInSecretInvalid',
  '7000222': 'SignInSecretExpired',
  '90002': 'SignInTenantNotFound',
  '700016': 'SignInAppNotFound',
  '700024': 'SignInAssertionExpired',
  '70021': 'SignInFederatedCredentialMismatch',
  '700211': 'SignInFederatedCredentialMismatch',
  '700027': 'SignInCertificateRejected',
  '7000274': 'SignInCertificateRejected',
};

/**
 * Turns a failed `getToken` into one TaskError naming the connection, its scheme,
 * the AADSTS code when Entra sent one, and the fix. Only the first line of an error's
 * text is kept, redacted of the connection's secrets, then cut to 300 characters.
 */
export function signInError(error: unknown, connection: AzureRmConnection): TaskError {
  const inner = findTaskError(error);
  if (inner) return inner;
  const auth = connection.authentication;
  const code = aadstsCode(error);
  if (code) {
    const key = fixes[code] ?? 'SignInFailed';
    if (key === 'SignInFailed')
      return new TaskError(key, [connection.id, auth.scheme, `AADSTS${code}`], error);
    const tenantId = auth.tenantId ?? '';
    const extra: Record<string, (string | number)[]> = {
      SignInTenantNotFound: [tenantId, connection.cloud.authorityHost],
      SignInAppNotFound: [auth.clientId ?? '', tenantId],
    };
    return new TaskError(key, [connection.id, auth.scheme, `AADSTS${code}`, ...(extra[key] ?? [])], error);
  }
  if (auth.scheme === 'ManagedServiceIdentity') {
    return new TaskError(
      'SignInManagedIdentityUnavailable',
      [connection.id, auth.scheme, firstLine(error, secretsOf(auth))],
      error,
    );
  }
  return new TaskError(
    'SignInFailed',
    [connection.id, auth.scheme, firstLine(error, secretsOf(auth))],
    error,
  );
}

/**
 * Like `signInError`, but when MSAL could not read the tenant's OpenID metadata (it
 * then reports only "endpoints_resolution_error"), it fetches that document itself
 * to recover Entra's AADSTS code, e.g. AADSTS90002 for an unknown tenant.
 */
export async function diagnoseSignInFailure(
  error: unknown,
  connection: AzureRmConnection,
  network: NetworkSettings,
): Promise<TaskError> {
  const auth = connection.authentication;
  if (
    aadstsCode(error) ||
    !auth.tenantId ||
    !/endpoints_resolution_error|openid/i.test(messageChain(error))
  ) {
    return signInError(error, connection);
  }
  const metadataUrl = `${connection.cloud.authorityHost}/${encodeURIComponent(auth.tenantId)}/v2.0/.well-known/openid-configuration`;
  try {
    const pipeline = createPipelineFromOptions(sdkClientOptions(network, metadataUrl));
    const response = await pipeline.sendRequest(
      createDefaultHttpClient(),
      createPipelineRequest({ url: metadataUrl, method: 'GET' }),
    );
    const code = /AADSTS(\d+)/.exec(response.bodyAsText ?? '')?.[1];
    if (code) return signInError(new Error(`AADSTS${code}`, { cause: error }), connection);
  } catch {
    // The authority itself is unreachable: the original error says so best.
  }
  return signInError(error, connection);
}

function aadstsCode(error: unknown): string | undefined {
  return /AADSTS(\d+)/.exec(messageChain(error))?.[1];
}

function findTaskError(error: unknown): TaskError | undefined {
  for (let current: unknown = error, depth = 0; current && depth < 5; depth += 1) {
    if (isTaskError(current)) return current;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function messageChain(error: unknown): string {
  const parts: string[] = [];
  for (let current: unknown = error, depth = 0; current && depth < 5; depth += 1) {
    if (current instanceof Error) parts.push(current.message);
    const response = (current as { errorResponse?: { errorDescription?: string } }).errorResponse;
    if (response?.errorDescription) parts.push(response.errorDescription);
    current = (current as { cause?: unknown }).cause;
  }
  return parts.join('\n');
}

// Identity-library errors should carry no secret, but a server's answer quoted in one might.
function firstLine(error: unknown, secrets: readonly string[]): string {
  return quotedFirstLine(error instanceof Error ? error.message : String(error), 300, secrets);
}

function secretsOf(auth: AzureRmAuthentication): string[] {
  switch (auth.scheme) {
    case 'ServicePrincipal':
      return 'secret' in auth ? [auth.secret] : [auth.certificatePem];
    case 'WorkloadIdentityFederation':
      return [auth.oidc.systemAccessToken];
    case 'ManagedServiceIdentity':
      return [];
  }
}
