import type { TokenCredential } from '@azure/core-auth';
import { ContainerRegistryClient } from '@azure/container-registry';
import { quotedFirstLine } from '../shared/known-secrets';
import { sdkClientOptions, type NetworkSettings } from '../shared/network';
import { TaskError } from '../shared/task-error';

/** What to lock after a promotion. */
export interface LockRequest {
  /** Login server, `host` or `host:port`. */
  readonly registry: string;
  readonly repository: string;
  readonly digest: string;
  readonly tags: readonly string[];
}

/**
 * Locks the promoted manifest and its tags against writes and deletes with ACR's
 * properties API (`PATCH /acr/v1/<repo>/_manifests/<digest>` and `/_tags/<tag>`), through
 * @azure/container-registry, which covers these calls. Needs metadata write on the
 * repository (AcrPush).
 */
export async function lockPromoted(
  request: LockRequest,
  credential: TokenCredential,
  audience: string,
  network: NetworkSettings,
): Promise<void> {
  const endpoint = `https://${request.registry}`;
  const client = new ContainerRegistryClient(endpoint, credential, {
    audience,
    ...sdkClientOptions(network, endpoint),
  });
  const artifact = client.getArtifact(request.repository, request.digest);
  const locked = { canWrite: false, canDelete: false };
  try {
    await artifact.updateManifestProperties(locked);
    for (const tag of request.tags) await artifact.updateTagProperties(tag, locked);
  } catch (error) {
    const status = (error as { statusCode?: number }).statusCode;
    throw new TaskError(
      status === 401 || status === 403 ? 'LockDenied' : 'LockFailed',
      [request.repository + '@' + request.digest, request.registry, status ?? firstLine(error)],
      error,
    );
  }
}

function firstLine(error: unknown): string {
  return quotedFirstLine(error instanceof Error ? error.message : String(error));
}
