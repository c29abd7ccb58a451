import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Endpoint } from '../test/harness/agent';
import { createKeyVaultEmulator, type KeyVaultEmulator } from '../test/emulators/keyvault';
import { EmulatedLogAnalytics } from '../test/emulators/log-analytics';
import { startStagingApp, type StagingApp } from '../test/fixtures/staging-app';
import { startPromoteWorld, type PromoteWorld } from '../test/oci/fixture';
import { repoRoot } from '../runner/extension-package';

/** The sample app's name: its vault, repository, namespace and Kubernetes objects. */
export const appName = 'sample-app';
/** The version the CI pipeline built and the gate expects the staging app to report. */
export const appVersion = '1.0.0';
/** The Key Vault holding the sample app's secrets. */
export const vaultName = 'sample-app-kv';
/** The Log Analytics workspace the staging app reports its requests to. */
export const workspaceId = '0d6f3a52-7c1e-4b8a-9e2f-5a4b3c2d1e0f';

/** The demo's service connections, one per environment, as Azure DevOps would hold them. */
export const connections = { nonprod: 'nonprod-connection', prod: 'prod-connection' } as const;

/** What breaks when the user asks for a broken run. */
export type Breakage = 'staging' | 'acceptance';

/** Everything the demo runs its steps against, all on loopback. */
export interface DemoEnvironment {
  /** Entra ID, Azure DevOps, IMDS, the ACR front with nonprod and prod, and ARM. */
  readonly world: PromoteWorld;
  readonly keyVault: KeyVaultEmulator;
  readonly logs: EmulatedLogAnalytics;
  /** The app served for staging, which the acceptance gate checks. */
  readonly staging: StagingApp;
  /** The values the vault serves: the harness's leak check looks for them in every step. */
  readonly secretValues: readonly string[];
  /** The service connections the steps use, by id. */
  readonly endpoints: Readonly<Record<string, Endpoint>>;
  /** Environment for the task processes: the CA, loopback DNS and the loopback-only guard. */
  readonly taskEnv: Readonly<Record<string, string>>;
  /** Stops every server and registry process and deletes their files. */
  stop(): Promise<void>;
}

/** The preload that refuses anything but loopback, for the demo and every task it runs. */
export const loopbackOnlyPreload = join(repoRoot, 'demo', 'loopback-only.cjs');

/**
 * Starts the emulated Azure for the demo. `onStarted` receives a stopper as soon as the
 * first part is up, so an interrupt during start-up still stops what has started.
 */
export async function startDemoEnvironment(options: {
  readonly breakage?: Breakage;
  readonly onStarted: (stop: () => Promise<void>) => void;
}): Promise<DemoEnvironment> {
  const stoppers: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const stopper of stoppers.splice(0).reverse()) await stopper().catch(() => undefined);
  };
  options.onStarted(stop);

  const world = await startPromoteWorld();
  stoppers.push(() => world.stop());
  const { cloud } = world;
  cloud.entra.tokensIssued = 0;

  const keyVault = createKeyVaultEmulator({
    tenantId: world.tenantId,
    authorityUrl: cloud.authorityHost.replace(/\/$/, ''),
    authorize: (token, audience) => cloud.entra.verifyAccessToken(token, audience),
  });
  cloud.azure.register(/\.vault\.azure\.test$/, keyVault.handler);
  const vault = keyVault.addVault(vaultName);
  // Fresh values every run: the leak check proves that none of them reaches a log.
  const secrets = {
    'api-token': `sat_${randomBytes(12).toString('hex')}`,
    'db-password': `Pw-${randomBytes(9).toString('base64url')}!`,
    'appinsights-connection-string': `InstrumentationKey=${randomUUID()};IngestionEndpoint=https://ingest.azure.test/`,
  };
  for (const [name, value] of Object.entries(secrets)) vault.setSecret(name, value);

  const logs = new EmulatedLogAnalytics((token, audience) => cloud.entra.verifyAccessToken(token, audience));
  cloud.azure.register('loganalytics.azure.test', logs.handler);
  const unhealthy = options.breakage === 'acceptance';
  logs.setResult(workspaceId, {
    columns: [
      { name: 'requests', type: 'long' },
      { name: 'failedRatePercent', type: 'real' },
      { name: 'p95DurationMs', type: 'real' },
    ],
    rows: [[1840, unhealthy ? 12.5 : 0.2, unhealthy ? 2350 : 180]],
  });

  const staging = await startStagingApp({
    '/healthz': { body: { status: 'ok', version: appVersion } },
    '/ready': { body: 'ready' },
    '/api/orders': { body: { orders: [{ id: 1, item: 'coffee' }] } },
  });
  stoppers.push(() => staging.stop());
  if (unhealthy) {
    staging.route('/healthz', { status: 503, body: { status: 'degraded', version: appVersion } });
    staging.fail('/api/orders', 500);
  }

  const endpoint = (): Endpoint =>
    cloud.servicePrincipalEndpoint(
      { tenantId: world.tenantId, ...world.app },
      { AzureKeyVaultServiceEndpointResourceId: keyVault.resource, subscriptionId: world.subscriptionId },
    );

  const azureEnv = cloud.azure.env();
  if (!existsSync(loopbackOnlyPreload)) throw new Error(`Missing ${loopbackOnlyPreload}.`);
  return {
    world,
    keyVault,
    logs,
    staging,
    secretValues: [...Object.values(secrets), world.app.secret],
    endpoints: { [connections.nonprod]: endpoint(), [connections.prod]: endpoint() },
    taskEnv: {
      ...azureEnv,
      NODE_OPTIONS: `${azureEnv.NODE_OPTIONS} --require "${loopbackOnlyPreload}"`,
    },
    stop,
  };
}
