import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { defaultSubscriptionId, startAcrFront, type AcrFront, type EmulatedRegistry } from '../emulators/acr';
import { startEmulatedCloud, type EmulatedCloud } from '../emulators/cloud';
import { startRegistry, type RegistryInstance } from '../emulators/registry';
import type { Manifest } from './content';
import { closeSeedConnections, pushImage, type SeedTarget } from './push';

/**
 * The world promotion tests run in: the emulated cloud (Entra and the rest), an ACR
 * front, and real registries behind it: `nonprod` (with the referrers API, as ACR has)
 * and `prod` (without, so the tag-schema fallback is exercised). One service principal
 * holds AcrPull on nonprod and AcrPush on prod unless a test changes that.
 */
export interface PromoteWorld {
  readonly cloud: EmulatedCloud;
  readonly front: AcrFront;
  readonly nonprod: EmulatedRegistry;
  readonly prod: EmulatedRegistry;
  readonly tenantId: string;
  readonly app: { readonly clientId: string; readonly secret: string; readonly objectId: string };
  /** The Entra audience the registries accept (the emulated cloud's ARM URL). */
  readonly registryAudience: string;
  /** The subscription the registries live in, as ARM lists them. */
  readonly subscriptionId: string;
  /** Adds another registry behind the front. */
  addRegistry(name: string, options?: { referrersApi?: boolean }): Promise<EmulatedRegistry>;
  /** Pushes content (and tags) through the front with an all-scopes token. */
  seed(
    registry: EmulatedRegistry,
    repository: string,
    manifest: Manifest,
    tags?: readonly string[],
  ): Promise<void>;
  /** `skopeo inspect --raw`, straight at the registry behind the front: the stored bytes' digest, or undefined. */
  storedDigest(registry: EmulatedRegistry, repository: string, reference: string): string | undefined;
  stop(): Promise<void>;
}

/** Starts the cloud, the front and two registries. */
export async function startPromoteWorld(
  options: { tokenLifetimeSeconds?: number } = {},
): Promise<PromoteWorld> {
  const cloud = await startEmulatedCloud();
  const tenantId = '6d3c1f0e-5b1a-4c55-9a3e-0b5a1c2d3e4f';
  const app = { clientId: 'promote-spn', secret: 'promote-spn-secret-value', objectId: 'promote-spn-object' };
  cloud.entra.addApp(tenantId, { clientId: app.clientId, objectId: app.objectId, secrets: [app.secret] });
  const registryAudience = cloud.azure.url('management.azure.test', '').replace(/\/$/, '');
  const front = await startAcrFront({
    ca: cloud.azure.ca,
    verifyAadToken: async (token) => {
      const principal = cloud.entra.verifyAccessToken(token, registryAudience);
      return principal ? { principalId: principal.objectId } : undefined;
    },
    tokenLifetimeSeconds: options.tokenLifetimeSeconds,
    verifyServicePrincipal: (clientId, secret) => cloud.entra.verifyClientSecret(clientId, secret),
  });
  const backends: RegistryInstance[] = [];
  const addRegistry = async (name: string, registryOptions: { referrersApi?: boolean } = {}) => {
    const backend = await startRegistry(cloud.azure.ca);
    backends.push(backend);
    return front.addRegistry(name, backend, registryOptions);
  };
  const nonprod = await addRegistry('nonprod', { referrersApi: true });
  const prod = await addRegistry('prod', { referrersApi: false });
  front.grant('nonprod', app.objectId, 'AcrPull');
  front.grant('prod', app.objectId, 'AcrPush');
  // ARM for importImage, on the shared front's management host.
  const armAudience = 'https://management.azure.test';
  cloud.azure.register(
    'management.azure.test',
    front.armHandler((token) => cloud.entra.verifyAccessToken(token, armAudience)?.objectId),
  );

  return {
    cloud,
    front,
    nonprod,
    prod,
    tenantId,
    app,
    registryAudience,
    subscriptionId: defaultSubscriptionId,
    addRegistry,
    async seed(registry, repository, manifest, tags = []) {
      const target: SeedTarget = {
        baseUrl: registry.url,
        caPem: cloud.azure.ca.caPem,
        authorization: front.adminAuthorization(registry.name),
      };
      await pushImage(target, repository, manifest, tags);
    },
    storedDigest(registry, repository, reference) {
      const separator = reference.startsWith('sha256:') ? '@' : ':';
      try {
        const raw = execFileSync(
          'skopeo',
          [
            'inspect',
            '--raw',
            '--cert-dir',
            registry.backend.certDir,
            `docker://${registry.backend.host}/${repository}${separator}${reference}`,
          ],
          { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 16 * 1024 * 1024 },
        );
        return `sha256:${createHash('sha256').update(raw).digest('hex')}`;
      } catch {
        return undefined;
      }
    },
    async stop() {
      closeSeedConnections();
      await front.stop();
      await Promise.all(backends.map((backend) => backend.stop()));
      await cloud.azure.stop();
    },
  };
}
