import { ContainerServiceClient } from '@azure/arm-containerservice';
import { ClientSecretCredential } from '@azure/identity';
import * as k8s from '@kubernetes/client-node';
import { strict as assert } from 'node:assert';
import { parse } from 'yaml';
import { aksServerAppId, startEmulatedAks, type EmulatedAks } from '../aks';

// The ARM side of AKS through the real SDK: cluster properties, user and admin
// credentials for a local-account and an Entra-enabled cluster, and ARM's errors.
describe('emulated AKS (ARM managedClusters)', () => {
  let aks: EmulatedAks;
  let client: ContainerServiceClient;

  before(async () => {
    aks = await startEmulatedAks();
    client = armClient(aks.app.clientId, aks.app.secret);
  });
  after(async () => aks.stop());

  function armClient(clientId: string, secret: string): ContainerServiceClient {
    const tlsOptions = { ca: [aks.cloud.azure.ca.caPem] };
    const credential = new ClientSecretCredential(aks.tenantId, clientId, secret, {
      authorityHost: aks.cloud.authorityHost,
      disableInstanceDiscovery: true,
      tlsOptions,
    });
    return new ContainerServiceClient(credential, aks.subscriptionId, {
      endpoint: aks.cloud.azure.url('management.azure.test', '').replace(/\/$/, ''),
      credentials: { scopes: [`${aks.armAudience}/.default`] },
      tlsOptions,
    });
  }

  const decode = (value: Uint8Array | undefined) =>
    parse(Buffer.from(value ?? []).toString('utf8')) as {
      clusters: { cluster: { server: string; 'certificate-authority-data': string } }[];
      users: {
        name: string;
        user: { token?: string; exec?: { command: string; args: string[]; apiVersion: string } };
      }[];
    };

  it('describes the Entra-enabled and the local-account cluster', async () => {
    const production = await client.managedClusters.get(aks.resourceGroup, 'production');
    assert.equal(production.aadProfile?.managed, true);
    assert.equal(production.aadProfile?.tenantID, aks.tenantId);
    assert.equal(production.disableLocalAccounts, true);
    assert.equal(production.fqdn, 'production.hcp.azure.test');
    const staging = await client.managedClusters.get(aks.resourceGroup, 'staging');
    assert.equal(staging.aadProfile, undefined);
    assert.equal(staging.disableLocalAccounts, false);
  });

  it('gives a local-account cluster a token kubeconfig that works with client-node', async () => {
    const result = await client.managedClusters.listClusterUserCredentials(aks.resourceGroup, 'staging');
    assert.equal(result.kubeconfigs?.[0]?.name, 'clusterUser');
    const text = Buffer.from(result.kubeconfigs![0]!.value!).toString('utf8');
    const kubeconfig = decode(result.kubeconfigs![0]!.value);
    assert.equal(
      kubeconfig.clusters[0]!.cluster.server,
      aks.cloud.azure.url('staging.hcp.azure.test', '').replace(/\/$/, ''),
    );
    assert.equal(kubeconfig.users[0]!.name, `clusterUser_${aks.resourceGroup}_staging`);
    assert.ok(kubeconfig.users[0]!.user.token);
    const config = new k8s.KubeConfig();
    config.loadFromString(text);
    const namespaces = await config.makeApiClient(k8s.CoreV1Api).listNamespace();
    assert.ok(namespaces.items.some((namespace) => namespace.metadata?.name === 'default'));
    const admin = await client.managedClusters.listClusterAdminCredentials(aks.resourceGroup, 'staging');
    assert.equal(admin.kubeconfigs?.[0]?.name, 'clusterAdmin');
  });

  it('gives an Entra-enabled cluster a kubelogin kubeconfig, refuses static credentials, and takes Entra tokens', async () => {
    const result = await client.managedClusters.listClusterUserCredentials(aks.resourceGroup, 'production');
    const exec = decode(result.kubeconfigs![0]!.value).users[0]!.user.exec!;
    assert.equal(exec.command, 'kubelogin');
    assert.equal(exec.apiVersion, 'client.authentication.k8s.io/v1beta1');
    assert.equal(exec.args[exec.args.indexOf('--server-id') + 1], aksServerAppId);
    await assert.rejects(
      client.managedClusters.listClusterAdminCredentials(aks.resourceGroup, 'production'),
      (error: { statusCode: number; code: string; message: string }) => {
        assert.equal(error.statusCode, 400);
        assert.equal(error.code, 'BadRequest');
        assert.match(
          error.message,
          /Getting static credential is not allowed because this cluster is set to disable local accounts/,
        );
        return true;
      },
    );
    const entra = new k8s.KubeConfig();
    entra.loadFromString(aks.kubeconfig(aks.production));
    await entra.makeApiClient(k8s.CoreV1Api).listNamespace();
    const local = new k8s.KubeConfig();
    local.loadFromString(aks.kubeconfig(aks.production, aks.arm.staticToken('production', 'admin')));
    await assert.rejects(
      local.makeApiClient(k8s.CoreV1Api).listNamespace(),
      (error: k8s.ApiException<unknown>) => error.code === 401,
    );
  });

  it('answers ResourceNotFound for an unknown cluster and AuthorizationFailed without a role', async () => {
    await assert.rejects(
      client.managedClusters.listClusterUserCredentials(aks.resourceGroup, 'nope'),
      (error: { statusCode: number; code: string }) =>
        error.statusCode === 404 && error.code === 'ResourceNotFound',
    );
    aks.cloud.entra.addApp(aks.tenantId, { clientId: 'no-role', secrets: ['no-role-secret'] });
    await assert.rejects(
      armClient('no-role', 'no-role-secret').managedClusters.listClusterUserCredentials(
        aks.resourceGroup,
        'staging',
      ),
      (error: { statusCode: number; code: string; message: string }) => {
        assert.equal(error.statusCode, 403);
        assert.equal(error.code, 'AuthorizationFailed');
        assert.match(
          error.message,
          /Microsoft\.ContainerService\/managedClusters\/listClusterUserCredential\/action/,
        );
        return true;
      },
    );
  });

  it('lets the shared front inject 429 with Retry-After and 5xx into the API server', async () => {
    const config = new k8s.KubeConfig();
    config.loadFromString(aks.kubeconfig(aks.staging));
    const core = config.makeApiClient(k8s.CoreV1Api);
    aks.cloud.azure.injectFault({
      match: (request) => request.url.hostname === 'staging.hcp.azure.test',
      fault: { kind: 'throttle', retryAfterSeconds: 2 },
      times: 1,
    });
    await assert.rejects(
      core.listNamespace(),
      (error: k8s.ApiException<unknown>) => error.code === 429 && error.headers['retry-after'] === '2',
    );
    aks.cloud.azure.injectFault({
      match: (request) => request.url.hostname === 'staging.hcp.azure.test',
      fault: { kind: 'status', status: 503 },
      times: 1,
    });
    await assert.rejects(core.listNamespace(), (error: k8s.ApiException<unknown>) => error.code === 503);
    await core.listNamespace();
  });

  it('answers 403 Forbidden, worded as Azure RBAC, when the authorizer refuses the Entra user', async () => {
    aks.production.authorize = (access) => !(access.verb === 'patch' && access.resource === 'deployments');
    try {
      const config = new k8s.KubeConfig();
      config.loadFromString(aks.kubeconfig(aks.production));
      const objects = k8s.KubernetesObjectApi.makeApiClient(config);
      const error = await objects
        .patch(
          { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' } },
          undefined,
          undefined,
          'tests',
          true,
          k8s.PatchStrategy.ServerSideApply,
        )
        .then(
          () => assert.fail('expected 403'),
          (failure: k8s.ApiException<string>) => failure,
        );
      assert.equal(error.code, 403);
      const status = JSON.parse(error.body) as k8s.V1Status;
      assert.equal(status.reason, 'Forbidden');
      assert.equal(
        status.message,
        `deployments.apps "web" is forbidden: User "${aks.app.objectId}" cannot patch resource "deployments" in API group "apps" in the namespace "default": User does not have access to the resource in Azure. Update role assignment to allow access.`,
      );
    } finally {
      aks.production.authorize = () => true;
    }
  });

  it('lets kubectl read both clusters', async () => {
    for (const cluster of [aks.staging, aks.production]) {
      const result = await aks.kubectl(cluster, ['get', 'namespaces', '-o', 'json']);
      assert.equal(result.code, 0, result.stderr);
      assert.ok((JSON.parse(result.stdout) as { items: unknown[] }).items.length >= 4);
    }
  });
});
