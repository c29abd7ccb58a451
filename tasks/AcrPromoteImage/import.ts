import type { TokenCredential } from '@azure/core-auth';
import { ContainerRegistryManagementClient } from '@azure/arm-containerregistry';
import type { AzureRmConnection } from '../shared/azure-connection';
import { scopeFor } from '../shared/cloud';
import { quotedFirstLine } from '../shared/known-secrets';
import { sdkClientOptions, type NetworkSettings } from '../shared/network';
import type { RegistryClient } from '../shared/registry/client';
import { TaskError } from '../shared/task-error';
import { toTaskError } from './failures';
import { refuseTagConflicts, type PromoteRequest } from './promote';

/** A registry as ARM knows it. */
export interface RegistryResource {
  readonly id: string;
  readonly resourceGroup: string;
  readonly name: string;
}

/** What a server-side import is asked to do. */
export interface ImportRequest {
  readonly source: RegistryResource;
  /** `repo@sha256:…`: by digest, so a tag that moves meanwhile changes nothing. */
  readonly sourceImage: string;
  readonly target: RegistryResource;
  /** `repo:tag` for each target tag. */
  readonly targetTags: readonly string[];
  /** Force replaces target tags; NoForce fails on a tag that points elsewhere. */
  readonly overwrite: boolean;
}

/**
 * ARM's side of promotion through @azure/arm-containerregistry: finding a registry's
 * resource by its login server, and `importImage`, a long-running operation that copies
 * the image inside Azure. Import drops referrers; the caller copies them afterwards.
 */
export class ArmRegistries {
  private readonly client: ContainerRegistryManagementClient;

  constructor(
    private readonly connection: AzureRmConnection,
    credential: TokenCredential,
    network: NetworkSettings,
  ) {
    const cloud = connection.cloud;
    this.client = new ContainerRegistryManagementClient(credential, connection.subscriptionId ?? '', {
      ...sdkClientOptions(network, cloud.resourceManagerUrl),
      endpoint: cloud.resourceManagerUrl,
      credentials: { scopes: [scopeFor(cloud.resourceManagerAudience)] },
    });
  }

  /** The registry whose login server is `loginServer` in the connection's subscription; a TaskError when none is. */
  async find(loginServer: string, inputName: string): Promise<RegistryResource> {
    const subscriptionId = this.connection.subscriptionId ?? '';
    try {
      for await (const registry of this.client.registries.list()) {
        if (registry.loginServer?.toLowerCase() !== loginServer.toLowerCase() || !registry.id) continue;
        const resourceGroup = /\/resourceGroups\/([^/]+)\//i.exec(registry.id)?.[1] ?? '';
        return { id: registry.id, resourceGroup, name: registry.name ?? '' };
      }
    } catch (error) {
      if (isDenial(error)) {
        throw new TaskError(
          'ImportListDenied',
          [subscriptionId, this.connection.id, loginServer, inputName],
          error,
        );
      }
      throw armFailure(error, this.connection, 'list registries');
    }
    throw new TaskError('ImportRegistryNotInSubscription', [
      loginServer,
      inputName,
      this.connection.id,
      subscriptionId,
    ]);
  }

  /** Runs importImage and waits for it to finish. */
  async importImage(request: ImportRequest): Promise<void> {
    try {
      await this.client.registries.importImage(request.target.resourceGroup, request.target.name, {
        source: { resourceId: request.source.id, sourceImage: request.sourceImage },
        targetTags: [...request.targetTags],
        mode: request.overwrite ? 'Force' : 'NoForce',
      });
    } catch (error) {
      throw armFailure(error, this.connection, `import into ${request.target.name}`);
    }
  }
}

function armFailure(error: unknown, connection: AzureRmConnection, operation: string): unknown {
  if (error instanceof TaskError) return error;
  const details = error as { statusCode?: number; code?: string; message?: string };
  const code = details.code ?? String(details.statusCode ?? '');
  if (isDenial(error)) return new TaskError('ImportDenied', [connection.id, operation], error);
  return new TaskError(
    'ImportFailed',
    [operation, code, quotedFirstLine(details.message ?? String(error))],
    error,
  );
}

// ARM's refusals: no token it accepts, or no role that allows the action.
function isDenial(error: unknown): boolean {
  const details = error as { statusCode?: number; code?: string };
  return details.statusCode === 401 || details.statusCode === 403 || details.code === 'AuthorizationFailed';
}

/** The clients a server-side import needs: the registries' wire clients and ARM for each connection. */
export interface ImportDeps {
  readonly source: RegistryClient;
  readonly target: RegistryClient;
  readonly sourceArm: ArmRegistries;
  readonly targetArm: ArmRegistries;
}

/**
 * Resolves the source once, checks the target tags, and has ARM import the image by
 * digest. Returns the request pinned to that digest, for the copy that follows to bring
 * the referrers import leaves behind (everything else is then already there).
 */
export async function importServerSide(request: PromoteRequest, deps: ImportDeps): Promise<PromoteRequest> {
  const { source, target } = request;
  const reference = source.digest ?? source.tag ?? '';
  let digest: string;
  try {
    digest = (await deps.source.getManifest(source.repository, reference)).descriptor.digest;
  } catch (error) {
    throw toTaskError(error, {
      side: 'source',
      registry: source.registry,
      repository: source.repository,
      reference,
    });
  }
  if (!request.overwriteTags) {
    try {
      await refuseTagConflicts(deps.target, target, digest);
    } catch (error) {
      throw toTaskError(error, { side: 'target', registry: target.registry, repository: target.repository });
    }
  }
  const [sourceResource, targetResource] = await Promise.all([
    deps.sourceArm.find(source.registry, 'sourceRegistry'),
    deps.targetArm.find(target.registry, 'targetRegistry'),
  ]);
  await deps.targetArm.importImage({
    source: sourceResource,
    sourceImage: source.repository + '@' + digest,
    target: targetResource,
    targetTags: target.tags.map((tag) => target.repository + ':' + tag),
    overwrite: request.overwriteTags,
  });
  return { ...request, source: { ...source, digest } };
}
