/**
 * The emulated Azure the example pipelines run against, on loopback: Entra ID, Key Vaults
 * with the secrets the examples name, the non-production and production registries behind
 * the ACR front, the staging and production AKS clusters (Kubernetes resources of the
 * environments `staging` and `production`), a Log Analytics workspace for each, fed by its
 * cluster's Container Insights, and the sample app serving staging, whose requests reach
 * staging's workspace as Application Insights would record them. It hands back the runner's resources (the connections under the examples'
 * names) and the pipeline parameters that point the examples at it.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../runner/extension-package';
import { parseResources, type RunnerResources } from '../runner/run/resources';
import type { EmulatedRegistry } from '../test/emulators/acr';
import { createKeyVaultEmulator } from '../test/emulators/keyvault';
import { EmulatedCluster } from '../test/emulators/kubernetes/cluster';
import type { ContainerInsightsFeed } from '../test/emulators/kubernetes/container-insights';
import { kubeconfigYaml } from '../test/emulators/kubernetes/kubeconfig';
import { acrImageExists } from '../test/emulators/kubernetes/registry-images';
import { EmulatedLogAnalytics } from '../test/emulators/log-analytics';
import { loopbackDnsPreload } from '../test/emulators/server';
import { startPromoteWorld, type PromoteWorld } from '../test/oci/fixture';
import { startRequestRecorder } from './request-telemetry';

/** The sample app the example pipelines build, test and deploy. */
export const sampleAppFolder = join(repoRoot, 'sample-app');
/** The namespace the example deploys to, in both clusters. */
export const appNamespace = 'orders';
/** Staging's Log Analytics workspace, as the CD example names it: the acceptance gate queries it. */
export const workspaceId = '7f3c0d52-0c8a-4e1b-9b6f-2b1d3c4e5f60';
/** Production's Log Analytics workspace, as the CD example's parameter suggests: its Verify stage queries it. */
export const productionWorkspaceId = '0d5e2a41-6b7c-4d8e-9f10-a1b2c3d4e5f6';
/** The cloud role the staging app's requests are recorded under. */
export const appRoleName = 'orders-api';

/**
 * How late telemetry reaches the workspaces, shortened from minutes to fractions of a
 * second: how long a row takes to become visible once written (Azure Monitor: minutes), how
 * often each cluster's Container Insights collects (AKS: every minute), and how often the
 * app's requests are sent (the Application Insights SDK batches them, every 15 s by default).
 * The requests the gate's checks make are usually not there yet when it first asks, so its
 * wait for data shows in the run: one round.
 */
export const telemetryTiming = {
  ingestionDelayMs: 150,
  collectionIntervalMs: 200,
  requestBatchMs: 2_000,
} as const;

/** Limits the gate judges the release on staging by: its requests, and its pods. */
export const healthThresholds = [
  'failedRatePercent: pass <= 1, warn <= 3',
  'p95DurationMs <= 1000',
  'restarts <= 0',
  'oomKilled <= 0',
  'errorLogLines: pass <= 0, warn <= 5',
].join('\n');

/**
 * Limits production is verified by. Production has no users here, so no requests reach its
 * Application Insights: its health is what its cluster says about the release's pods.
 */
export const verifyHealthThresholds = [
  'restarts <= 0',
  'oomKilled <= 0',
  'podsNotReady <= 0',
  'errorLogLines: pass <= 0, warn <= 5',
].join('\n');

/** What can be broken on purpose. */
export type WorldBreakage = 'acceptance' | 'staging';

/** The running world. */
export interface EmulatedWorld {
  readonly resources: RunnerResources;
  /** One line saying what runs, for the log. */
  readonly description: string;
  /** `--param` values that point each example at this world (registries, staging URL, Log Analytics). */
  readonly parameters: {
    readonly ci: Readonly<Record<string, string>>;
    readonly cd: Readonly<Record<string, string>>;
  };
  readonly promote: PromoteWorld;
  readonly registries: { readonly nonprod: EmulatedRegistry; readonly prod: EmulatedRegistry };
  readonly clusters: { readonly staging: EmulatedCluster; readonly production: EmulatedCluster };
  /** Log Analytics, with staging's and production's workspaces. */
  readonly logs: EmulatedLogAnalytics;
  /** Each cluster's Container Insights feed: `collect()` sends what it does now, without waiting for the interval. */
  readonly containerInsights: {
    readonly staging: ContainerInsightsFeed;
    readonly production: ContainerInsightsFeed;
  };
  /** The staging app's base URL. */
  readonly stagingUrl: string;
  /**
   * Serves staging from the files of an image in the non-production registry (what the
   * staging pods would run), in place of the sample app's sources, on the same URL.
   */
  serveRelease(repository: string, digest: string): Promise<void>;
  /** Every secret value the world serves: none may reach a log or a file outside exports. */
  readonly secretValues: readonly string[];
  /** The integration tests' database connection string, as Key Vault serves it. */
  readonly integrationSecret: string;
  stop(): Promise<void>;
}

/**
 * Starts the world. `runsRoot` is where the runner keeps runs: the CD example's pipeline
 * resource (`orders-api-ci`) reads CI's runs from there.
 */
export async function startEmulatedWorld(options: {
  readonly runsRoot?: string;
  readonly breakage?: WorldBreakage;
  /** The folder `checkout: self` copies (the sample app, or a changed copy of it). */
  readonly selfRepository?: string;
}): Promise<EmulatedWorld> {
  const stoppers: (() => Promise<void> | void)[] = [];
  const stop = async () => {
    for (const stopper of stoppers.splice(0).reverse())
      await Promise.resolve(stopper()).catch(() => undefined);
  };
  try {
    return await start();
  } catch (error) {
    await stop();
    throw error;
  }

  async function start(): Promise<EmulatedWorld> {
    const folder = mkdtempSync(join(tmpdir(), 'emulated-world-'));
    stoppers.push(() => rmSync(folder, { recursive: true, force: true }));
    const promote = await startPromoteWorld();
    stoppers.push(() => promote.stop());
    const { cloud } = promote;

    // Key Vaults, one per environment, with the secrets the examples name.
    const keyVault = createKeyVaultEmulator({
      tenantId: promote.tenantId,
      authorityUrl: cloud.authorityHost.replace(/\/$/, ''),
      authorize: (token, audience) => cloud.entra.verifyAccessToken(token, audience),
    });
    cloud.azure.register(/\.vault\.azure\.test$/, keyVault.handler);
    const integrationSecret = `Server=orders-db.ci;User Id=orders;Password=${randomBytes(12).toString('base64url')}`;
    const vaults: Record<string, Record<string, string>> = {
      'orders-ci-kv': {
        'orders-db-connection': integrationSecret,
        'payments-api-key': `pk_${randomBytes(16).toString('hex')}`,
      },
      'orders-staging-kv': {
        // Broken on purpose: the key is no GUID, so the release refuses to start on staging.
        'applicationinsights-connection-string':
          options.breakage === 'staging'
            ? `InstrumentationKey=staging-${randomBytes(6).toString('hex')};IngestionEndpoint=https://ingest.azure.test/`
            : `InstrumentationKey=${randomUUID()};IngestionEndpoint=https://ingest.azure.test/`,
      },
      'orders-prod-kv': {
        'applicationinsights-connection-string': `InstrumentationKey=${randomUUID()};IngestionEndpoint=https://ingest.azure.test/`,
      },
    };
    for (const [name, secrets] of Object.entries(vaults)) {
      const vault = keyVault.addVault(name);
      for (const [secret, value] of Object.entries(secrets)) vault.setSecret(secret, value);
    }

    // Log Analytics: one workspace per environment, running the KQL the gates send.
    const logs = new EmulatedLogAnalytics(
      (token, audience) => cloud.entra.verifyAccessToken(token, audience),
      undefined,
      { ingestionDelayMs: telemetryTiming.ingestionDelayMs },
    );
    cloud.azure.register('loganalytics.azure.test', logs.handler);
    stoppers.push(() => logs.stop());
    const workspaces = { staging: workspaceId, production: productionWorkspaceId } as const;

    // The AKS clusters; their kubelets "pull" by asking the registries for the manifest.
    const imageExists = acrImageExists(promote.front, cloud.azure.ca.caPem);
    const clusters = Object.fromEntries(
      (['staging', 'production'] as const).map((environment) => {
        const token = randomBytes(24).toString('base64url');
        const cluster = new EmulatedCluster({
          name: `aks-orders-${environment}`,
          tokens: [token],
          timeScale: 0.01,
          imageExists,
        });
        cloud.azure.register(cluster.host, cluster.handler);
        stoppers.push(() => cluster.stop());
        // Container Insights sends what the cluster does (pods, events, logs, usage) to the workspace.
        const feed = logs.attachCluster(workspaces[environment], cluster, {
          clusterName: cluster.name,
          resourceId: `/subscriptions/${promote.subscriptionId}/resourceGroups/rg-orders-${environment}/providers/Microsoft.ContainerService/managedClusters/${cluster.name}`,
          collectionIntervalMs: telemetryTiming.collectionIntervalMs,
        });
        return [environment, { cluster, token, feed }];
      }),
    ) as Record<
      'staging' | 'production',
      { cluster: EmulatedCluster; token: string; feed: ContainerInsightsFeed }
    >;

    // The docker-login identity CI pushes with: AcrPush on the non-production registry.
    const pusher = {
      clientId: 'orders-ci-push',
      secret: `push-${randomBytes(12).toString('hex')}`,
      objectId: randomUUID(),
    };
    cloud.entra.addApp(promote.tenantId, {
      clientId: pusher.clientId,
      objectId: pusher.objectId,
      secrets: [pusher.secret],
    });
    promote.front.grant('nonprod', pusher.objectId, 'AcrPush');
    // The pipelines' service principal promotes into production and reads non-production.
    promote.front.grant('prod', promote.app.objectId, 'AcrPush');
    promote.front.grant('nonprod', promote.app.objectId, 'AcrPull');

    // Staging's URL is the request recorder, in front of the app process that serves it.
    const failChecks = options.breakage === 'acceptance';
    let stagingApp = await startSampleApp(sampleAppFolder, await freePort(), failChecks);
    stoppers.push(() => stagingApp.stop());
    const recorder = await startRequestRecorder(
      await freePort(),
      () => ({ port: stagingApp.port, roleName: appRoleName, version: stagingApp.version }),
      {
        batchMs: telemetryTiming.requestBatchMs,
        send: (rows) => {
          for (const row of rows) logs.recordRequest(workspaces.staging, row);
        },
      },
    );
    stoppers.push(() => recorder.stop());

    // Every Azure Resource Manager connection of the examples signs in as the one service principal.
    const azurerm = () => ({
      type: 'azurerm',
      ...cloud.servicePrincipalEndpoint(
        { tenantId: promote.tenantId, clientId: promote.app.clientId, secret: promote.app.secret },
        {
          AzureKeyVaultServiceEndpointResourceId: keyVault.resource,
          subscriptionId: promote.subscriptionId,
          containerRegistryAudience: promote.registryAudience,
        },
      ),
    });
    const kubernetes = (environment: 'staging' | 'production') => {
      const { cluster, token } = clusters[environment];
      return {
        type: 'kubernetes',
        url: cloud.azure.url(cluster.host, '/'),
        scheme: 'Kubernetes',
        parameters: {
          kubeconfig: kubeconfigYaml({
            clusterName: cluster.name,
            userName: `clusterUser_rg-orders-${environment}_${cluster.name}`,
            server: cloud.azure.url(cluster.host, '').replace(/\/$/, ''),
            caPem: cloud.azure.ca.caPem,
            user: { token },
          }),
        },
        data: { authorizationType: 'Kubeconfig' },
      };
    };
    const connections = Object.fromEntries(
      ['orders-nonprod', 'orders-staging', 'orders-production'].map((name) => [name, azurerm()]),
    );
    const caFile = join(folder, 'ca.pem');
    writeFileSync(caFile, cloud.azure.ca.caPem);
    const hostOf = (loginServer: string) => loginServer.replace(/:\d+$/, '');
    const azureEnv = cloud.azure.env();
    const loopbackOnly = join(repoRoot, 'demo', 'loopback-only.cjs');
    const resourcesDocument = {
      repositories: {
        self: options.selfRepository ?? sampleAppFolder,
        releaseFlow: repoRoot,
      },
      connections: {
        ...connections,
        'orders-nonprod-acr': {
          type: 'dockerregistry',
          url: promote.nonprod.url,
          scheme: 'UsernamePassword',
          parameters: {
            registry: promote.nonprod.url,
            username: pusher.clientId,
            password: pusher.secret,
            email: '',
          },
          data: { registrytype: 'Others' },
        },
        'staging-kubernetes': kubernetes('staging'),
        'production-kubernetes': kubernetes('production'),
      },
      environments: {
        staging: {
          orders: { type: 'Kubernetes', connection: 'staging-kubernetes', namespace: appNamespace },
        },
        production: {
          orders: { type: 'Kubernetes', connection: 'production-kubernetes', namespace: appNamespace },
        },
      },
      pipelines: options.runsRoot ? { 'orders-api-ci': join(options.runsRoot, 'orders-api-ci') } : {},
      machine: {
        caFile,
        hosts: {
          [hostOf(promote.nonprod.loginServer)]: '127.0.0.1',
          [hostOf(promote.prod.loginServer)]: '127.0.0.1',
        },
        env: {
          ...azureEnv,
          NODE_OPTIONS: `--require "${loopbackDnsPreload}" --require "${loopbackOnly}"`,
          // npm must not look for updates or audit over the network: the demo is loopback only.
          npm_config_update_notifier: 'false',
          npm_config_audit: 'false',
          npm_config_fund: 'false',
        },
      },
    };
    const resources = parseResources(resourcesDocument, join(folder, 'resources.yml'));

    const registries = { nonprod: promote.nonprod, prod: promote.prod };
    const logAnalyticsEndpoint = cloud.azure.url('loganalytics.azure.test', '').replace(/\/$/, '');
    return {
      resources,
      description: `Key Vault, ACR ${registries.nonprod.loginServer} and ${registries.prod.loginServer}, AKS staging and production with Container Insights to Log Analytics, the sample app at ${recorder.url} (its requests recorded to Application Insights)`,
      parameters: {
        ci: { nonProductionRegistry: registries.nonprod.loginServer },
        cd: {
          nonProductionRegistry: registries.nonprod.loginServer,
          productionRegistry: registries.prod.loginServer,
          stagingBaseUrl: recorder.url,
          logAnalyticsEndpoint,
          // The gate judges the release's pods and its requests, Verify production's pods.
          stagingClusterName: clusters.staging.cluster.name,
          appRoleName,
          healthThresholds,
          productionLogAnalyticsWorkspaceId: productionWorkspaceId,
          // Named in Verify's summary; Verify sends it no request, and nothing serves it here.
          productionBaseUrl: 'https://orders-production.azure.test',
          productionClusterName: clusters.production.cluster.name,
          verifyHealthThresholds,
          // Telemetry arrives within seconds here, so a minute's wait is plenty.
          healthWaitMinutes: '1',
          verifyWaitMinutes: '1',
        },
      },
      promote,
      registries,
      clusters: { staging: clusters.staging.cluster, production: clusters.production.cluster },
      logs,
      containerInsights: { staging: clusters.staging.feed, production: clusters.production.feed },
      stagingUrl: recorder.url,
      async serveRelease(repository, digest) {
        const files = join(folder, `release-${digest.slice(7, 19)}`);
        unpackImage(promote.nonprod.backend, repository, digest, files);
        await stagingApp.stop();
        // The Dockerfile's WORKDIR is /app.
        stagingApp = await startSampleApp(join(files, 'app'), await freePort(), failChecks);
      },
      secretValues: [
        ...Object.values(vaults).flatMap((secrets) => Object.values(secrets)),
        promote.app.secret,
        pusher.secret,
        clusters.staging.token,
        clusters.production.token,
      ],
      integrationSecret,
      stop,
    };
  }
}

/**
 * The sample app serving staging: the service run with Node on a loopback port, from
 * `appFolder` (its sources, or the files of the image CI pushed). The emulated clusters
 * schedule pods but run no containers; this process is what the staging URL forwards to.
 */
async function startSampleApp(
  appFolder: string,
  port: number,
  failChecks: boolean,
): Promise<{ port: number; version: string; stop(): Promise<void> }> {
  // `npm start` runs `node <entry>`: the same file, without npm in between.
  const manifest = JSON.parse(readFileSync(join(appFolder, 'package.json'), 'utf8')) as {
    version?: string;
    scripts?: { start?: string };
  };
  const entry = join(
    appFolder,
    /^node\s+(\S+)$/.exec(manifest.scripts?.start ?? '')?.[1] ?? 'src/server.mjs',
  );
  const child: ChildProcess = spawn(process.execPath, [entry], {
    cwd: appFolder,
    env: {
      PATH: process.env.PATH ?? '',
      PORT: String(port),
      ENVIRONMENT: 'staging',
      ...(failChecks ? { ORDERS_FAIL_CHECKS: '1' } : {}),
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const response = await fetch(`${url}/healthz`);
      await response.arrayBuffer();
      break;
    } catch {
      if (child.exitCode !== null || Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`The sample app did not start on ${url}.`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return {
    port,
    version: manifest.version ?? '',
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}

/** Copies an image out of a registry with skopeo and unpacks its layers into `target`, in order. */
function unpackImage(
  registry: { readonly host: string; readonly certDir: string },
  repository: string,
  digest: string,
  target: string,
): void {
  const layout = `${target}.image`;
  execFileSync(
    'skopeo',
    [
      '--insecure-policy',
      'copy',
      '--src-cert-dir',
      registry.certDir,
      `docker://${registry.host}/${repository}@${digest}`,
      `dir:${layout}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const manifest = JSON.parse(readFileSync(join(layout, 'manifest.json'), 'utf8')) as {
    layers: { digest: string }[];
  };
  mkdirSync(target, { recursive: true });
  for (const layer of manifest.layers) {
    execFileSync('tar', ['-xf', join(layout, layer.digest.replace(/^sha256:/, '')), '-C', target]);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
