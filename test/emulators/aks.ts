import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulatedCloud, type EmulatedCloud } from './cloud';
import { EmulatedCluster } from './kubernetes/cluster';
import type { ImageExists } from './kubernetes/controllers/kubelet';
import { kubeconfigYaml } from './kubernetes/kubeconfig';
import { runKubectl } from './kubernetes/testing';
import { azureError, type EmulatedAzure } from './server';
import type { EmulatedRequest, EmulatedResponse, Handler } from './types';

/** The AKS AAD server application: Entra-enabled clusters accept access tokens for it. */
export const aksServerAppId = '6dae42f8-4368-4678-94ff-3960e28e3630';
/** The Azure CLI's client id, which AKS puts in kubelogin's arguments. */
export const azureCliClientId = '04b07795-8ddb-461a-bbee-02f9e1bf7b46';

/** Which role a principal holds on a cluster (the built-in AKS cluster roles). */
export type AksRole = 'user' | 'admin';

/** How one managed cluster looks in ARM. */
export interface ManagedClusterSpec {
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  /** Entra ID integration (aadProfile): the user kubeconfig then uses kubelogin. */
  readonly entra: boolean;
  /** No static credentials: listClusterAdminCredential is refused. */
  readonly disableLocalAccounts?: boolean;
  readonly location?: string;
}

interface ClusterRecord {
  readonly cluster: EmulatedCluster;
  readonly spec: ManagedClusterSpec;
  readonly userToken: string;
  readonly adminToken: string;
  readonly roles: Map<string, AksRole>;
}

/**
 * The ARM side of AKS on the shared front's `management.*` host: GET of a managed cluster
 * (aadProfile, disableLocalAccounts), and listClusterUserCredential /
 * listClusterAdminCredential returning `{ kubeconfigs: [{ name, value }] }` with a
 * base64 kubeconfig, as ARM does. Entra-enabled clusters hand users a kubelogin exec
 * kubeconfig; local-account clusters a token. Errors use ARM's codes.
 * https://learn.microsoft.com/rest/api/aks/managed-clusters
 */
export class EmulatedAksArm {
  /** The transport-free handler for the `management.*` host. */
  readonly handler: Handler = (request) => this.answer(request);
  private readonly clusters = new Map<string, ClusterRecord>();

  constructor(
    private readonly azure: EmulatedAzure,
    private readonly tenantId: string,
    /** Returns the principal (object id) of a valid ARM access token, or undefined. */
    private readonly verifyArmToken: (token: string) => string | undefined,
  ) {}

  /** Puts a cluster in ARM; its static tokens are registered on the cluster unless local accounts are off. */
  addCluster(cluster: EmulatedCluster, spec: ManagedClusterSpec): void {
    const record: ClusterRecord = {
      cluster,
      spec,
      userToken: randomBytes(32).toString('hex'),
      adminToken: randomBytes(32).toString('hex'),
      roles: new Map(),
    };
    if (!spec.disableLocalAccounts) {
      cluster.addToken(record.adminToken, 'clusterAdmin');
      if (!spec.entra) cluster.addToken(record.userToken, 'clusterUser');
    }
    this.clusters.set(key(spec.subscriptionId, spec.resourceGroup, cluster.name), record);
  }

  /** Gives a principal the AKS Cluster User or Cluster Admin role on a cluster. */
  grant(clusterName: string, principalId: string, role: AksRole): void {
    this.record(clusterName).roles.set(principalId, role);
  }

  /** Takes every AKS role away from a principal on a cluster. */
  revoke(clusterName: string, principalId: string): void {
    this.record(clusterName).roles.delete(principalId);
  }

  /** The static token of a cluster's user (local accounts) or admin credential. */
  staticToken(clusterName: string, which: AksRole): string {
    const record = this.record(clusterName);
    return which === 'admin' ? record.adminToken : record.userToken;
  }

  /** The ARM resource id of a cluster. */
  resourceId(clusterName: string): string {
    const { spec, cluster } = this.record(clusterName);
    return `/subscriptions/${spec.subscriptionId}/resourceGroups/${spec.resourceGroup}/providers/Microsoft.ContainerService/managedClusters/${cluster.name}`;
  }

  private record(clusterName: string): ClusterRecord {
    const found = [...this.clusters.values()].find((each) => each.cluster.name === clusterName);
    if (!found) throw new Error(`no cluster ${clusterName}`);
    return found;
  }

  private answer(request: EmulatedRequest): EmulatedResponse | undefined {
    const match =
      /^\/subscriptions\/([^/]+)\/resourcegroups\/([^/]+)\/providers\/microsoft\.containerservice\/managedclusters\/([^/]+)(?:\/(listclusterusercredential|listclusteradmincredential))?$/i.exec(
        request.url.pathname.replace(/\/+$/, ''),
      );
    if (!match) return undefined;
    const [, subscriptionId, resourceGroup, name, action] = match;
    const authorization = request.headers.authorization;
    if (!authorization) {
      return azureError(
        401,
        'AuthenticationFailed',
        "Authentication failed. The 'Authorization' header is missing.",
      );
    }
    const principal = this.verifyArmToken(/^Bearer\s+(\S+)$/i.exec(authorization)?.[1] ?? '');
    if (!principal) return azureError(401, 'InvalidAuthenticationToken', 'The access token is invalid.');
    const record = this.clusters.get(key(subscriptionId!, resourceGroup!, name!));
    const scope = `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.ContainerService/managedClusters/${name}`;
    const forbidden = (operation: string) =>
      azureError(
        403,
        'AuthorizationFailed',
        `The client '${principal}' with object id '${principal}' does not have authorization to perform action 'Microsoft.ContainerService/managedClusters/${operation}' over scope '${scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
      );
    if (!record) {
      if (
        ![...this.clusters.values()].some(
          (each) => each.spec.resourceGroup.toLowerCase() === resourceGroup!.toLowerCase(),
        )
      ) {
        return azureError(
          404,
          'ResourceGroupNotFound',
          `Resource group '${resourceGroup}' could not be found.`,
        );
      }
      return azureError(
        404,
        'ResourceNotFound',
        `The Resource 'Microsoft.ContainerService/managedClusters/${name}' under resource group '${resourceGroup}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
      );
    }
    const role = record.roles.get(principal);
    if (!action) {
      if (request.method !== 'GET') return undefined;
      if (!role) return forbidden('read');
      return { status: 200, body: this.managedCluster(record) };
    }
    if (request.method !== 'POST') return undefined;
    const admin = action.toLowerCase() === 'listclusteradmincredential';
    if (!role || (admin && role !== 'admin')) {
      return forbidden(admin ? 'listClusterAdminCredential/action' : 'listClusterUserCredential/action');
    }
    if (admin && record.spec.disableLocalAccounts) {
      return azureError(
        400,
        'BadRequest',
        'Getting static credential is not allowed because this cluster is set to disable local accounts.',
      );
    }
    const format = request.url.searchParams.get('format')?.toLowerCase();
    return {
      status: 200,
      body: {
        kubeconfigs: [
          {
            name: admin ? 'clusterAdmin' : 'clusterUser',
            value: Buffer.from(this.kubeconfig(record, admin, format === 'azure')).toString('base64'),
          },
        ],
      },
    };
  }

  private kubeconfig(record: ClusterRecord, admin: boolean, legacyAzureFormat: boolean): string {
    const { cluster, spec } = record;
    const userName = `${admin ? 'clusterAdmin' : 'clusterUser'}_${spec.resourceGroup}_${cluster.name}`;
    const base = {
      clusterName: cluster.name,
      userName,
      server: this.azure.url(cluster.host, '').replace(/\/$/, ''),
      caPem: this.azure.ca.caPem,
    };
    if (admin || !spec.entra) {
      return kubeconfigYaml({ ...base, user: { token: admin ? record.adminToken : record.userToken } });
    }
    if (legacyAzureFormat) {
      return kubeconfigYaml({
        ...base,
        user: {
          authProvider: {
            name: 'azure',
            config: {
              'apiserver-id': aksServerAppId,
              'client-id': azureCliClientId,
              'config-mode': '1',
              environment: 'AzurePublicCloud',
              'tenant-id': this.tenantId,
            },
          },
        },
      });
    }
    return kubeconfigYaml({
      ...base,
      user: {
        exec: {
          apiVersion: 'client.authentication.k8s.io/v1beta1',
          args: [
            'get-token',
            '--environment',
            'AzurePublicCloud',
            '--server-id',
            aksServerAppId,
            '--client-id',
            azureCliClientId,
            '--tenant-id',
            this.tenantId,
            '--login',
            'devicecode',
          ],
          command: 'kubelogin',
          env: null,
          installHint:
            '\nkubelogin is not installed which is required to connect to AAD enabled cluster.\n\nTo learn more, please go to https://aka.ms/aks/kubelogin\n',
          provideClusterInfo: false,
          interactiveMode: 'IfAvailable',
        },
      },
    });
  }

  private managedCluster(record: ClusterRecord): Record<string, unknown> {
    const { cluster, spec } = record;
    const location = spec.location ?? 'westeurope';
    return {
      id: `/subscriptions/${spec.subscriptionId}/resourcegroups/${spec.resourceGroup}/providers/Microsoft.ContainerService/managedClusters/${cluster.name}`,
      location,
      name: cluster.name,
      type: 'Microsoft.ContainerService/ManagedClusters',
      sku: { name: 'Base', tier: 'Free' },
      properties: {
        provisioningState: 'Succeeded',
        powerState: { code: 'Running' },
        kubernetesVersion: '1.31.3',
        currentKubernetesVersion: '1.31.3',
        dnsPrefix: cluster.name,
        fqdn: cluster.host,
        azurePortalFQDN: cluster.host.replace('.hcp.', '.portal.hcp.'),
        agentPoolProfiles: [
          {
            name: 'nodepool1',
            count: 3,
            vmSize: 'Standard_D4ds_v5',
            osType: 'Linux',
            mode: 'System',
            provisioningState: 'Succeeded',
          },
        ],
        nodeResourceGroup: `MC_${spec.resourceGroup}_${cluster.name}_${location}`,
        enableRBAC: true,
        ...(spec.entra
          ? {
              aadProfile: {
                managed: true,
                enableAzureRBAC: true,
                adminGroupObjectIDs: [],
                tenantID: this.tenantId,
              },
            }
          : {}),
        disableLocalAccounts: !!spec.disableLocalAccounts,
        networkProfile: { networkPlugin: 'azure', serviceCidr: '10.0.0.0/16', dnsServiceIP: '10.0.0.10' },
      },
    };
  }
}

function key(subscriptionId: string, resourceGroup: string, name: string): string {
  return `${subscriptionId}/${resourceGroup}/${name}`.toLowerCase();
}

/** The world AksDeploy tests run in. */
export interface EmulatedAks {
  readonly cloud: EmulatedCloud;
  readonly arm: EmulatedAksArm;
  /** Local accounts: token kubeconfigs for user and admin. */
  readonly staging: EmulatedCluster;
  /** Entra-enabled, local accounts disabled: users sign in with an Entra token for the AKS server app. */
  readonly production: EmulatedCluster;
  readonly tenantId: string;
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  /** A service principal holding the Cluster Admin role on both clusters. */
  readonly app: { readonly clientId: string; readonly secret: string; readonly objectId: string };
  /** The audience ARM accepts (`https://management.azure.test`). */
  readonly armAudience: string;
  /** An Entra access token for the AKS server app, as the app would get it. */
  entraToken(): string;
  /** A kubeconfig with a bearer token (the static admin one for local accounts, an Entra one otherwise). */
  kubeconfig(cluster: EmulatedCluster, token?: string): string;
  /** Runs kubectl against a cluster (over 127.0.0.1 with tls-server-name). */
  kubectl(
    cluster: EmulatedCluster,
    args: readonly string[],
    input?: string,
  ): Promise<{ code: number; stdout: string; stderr: string }>;
  stop(): Promise<void>;
}

/** Options for `startEmulatedAks`. */
export interface EmulatedAksOptions {
  /** An existing cloud to add AKS to (it is not stopped by `stop()`); a fresh one otherwise. */
  readonly cloud?: EmulatedCloud;
  /** The controllers' time scale (default 0.01: a 600 s progress deadline takes 6 s). */
  readonly timeScale?: number;
  /** Whether an image exists in a registry; see `registryImageExists`. */
  readonly imageExists?: ImageExists;
}

/**
 * Starts (or extends) the emulated cloud with two AKS clusters, `staging` (local accounts)
 * and `production` (Entra-enabled, local accounts disabled), their ARM endpoints, and a
 * service principal that may read both clusters' credentials.
 */
export async function startEmulatedAks(options: EmulatedAksOptions = {}): Promise<EmulatedAks> {
  const cloud = options.cloud ?? (await startEmulatedCloud());
  const azure = cloud.azure;
  const tenantId = '2d5f3c4b-1a2b-4c3d-8e9f-a0b1c2d3e4f5';
  const subscriptionId = '7c1e5d2a-0000-4000-8000-0000000000a1';
  const resourceGroup = 'rg-release-flow';
  const app = { clientId: 'aks-deploy-spn', secret: 'aks-deploy-spn-secret-value', objectId: randomUUID() };
  cloud.entra.addApp(tenantId, { clientId: app.clientId, objectId: app.objectId, secrets: [app.secret] });
  const armAudience = 'https://management.azure.test';
  const armAudiences = [armAudience, azure.url('management.azure.test', '')];
  // The Entra user is the token's object id, as AKS's Entra integration names it.
  const verifyAks = (token: string) =>
    cloud.entra.verifyAccessToken(token, aksServerAppId)?.objectId ?? false;
  const clusterOptions = {
    timeScale: options.timeScale ?? 0.01,
    imageExists: options.imageExists,
    verifyToken: verifyAks,
  };
  const staging = new EmulatedCluster({ name: 'staging', ...clusterOptions });
  const production = new EmulatedCluster({ name: 'production', ...clusterOptions });
  const arm = new EmulatedAksArm(azure, tenantId, (token) =>
    armAudiences.map((audience) => cloud.entra.verifyAccessToken(token, audience)?.objectId).find(Boolean),
  );
  arm.addCluster(staging, { subscriptionId, resourceGroup, entra: false });
  arm.addCluster(production, { subscriptionId, resourceGroup, entra: true, disableLocalAccounts: true });
  arm.grant('staging', app.objectId, 'admin');
  arm.grant('production', app.objectId, 'admin');
  const unregister = [
    azure.register(staging.host, staging.handler),
    azure.register(production.host, production.handler),
    azure.register('127.0.0.1', staging.loopbackHandler),
    azure.register('127.0.0.1', production.loopbackHandler),
    azure.register('management.azure.test', arm.handler),
  ];
  const dir = mkdtempSync(join(tmpdir(), 'aks-kubectl-'));
  const entraToken = () =>
    cloud.entra.issueAccessToken({
      tenantId,
      resource: aksServerAppId,
      objectId: app.objectId,
      appId: app.clientId,
    }).accessToken;
  const tokenFor = (cluster: EmulatedCluster) =>
    cluster === staging ? arm.staticToken('staging', 'admin') : entraToken();

  return {
    cloud,
    arm,
    staging,
    production,
    tenantId,
    subscriptionId,
    resourceGroup,
    app,
    armAudience,
    entraToken,
    kubeconfig: (cluster, token = tokenFor(cluster)) =>
      kubeconfigYaml({
        clusterName: cluster.name,
        userName: `clusterUser_${resourceGroup}_${cluster.name}`,
        server: azure.url(cluster.host, '').replace(/\/$/, ''),
        caPem: azure.ca.caPem,
        user: { token },
      }),
    kubectl(cluster, args, input) {
      const path = join(dir, `${cluster.name}-${randomBytes(4).toString('hex')}`);
      writeFileSync(
        path,
        kubeconfigYaml({
          clusterName: cluster.name,
          userName: 'tests',
          server: `https://127.0.0.1:${azure.port}${cluster.loopbackPath}`,
          tlsServerName: cluster.host,
          caPem: azure.ca.caPem,
          user: { token: tokenFor(cluster) },
        }),
        { mode: 0o600 },
      );
      return runKubectl(path, args, input).finally(() => rmSync(path, { force: true }));
    },
    async stop() {
      staging.stop();
      production.stop();
      for (const remove of unregister) remove();
      rmSync(dir, { recursive: true, force: true });
      if (!options.cloud) await azure.stop();
    },
  };
}
