import { strict as assert } from 'node:assert';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startEmulatedAks, type EmulatedAks } from './emulators/aks';
import type { EmulatedCluster } from './emulators/kubernetes/cluster';
import { runTask, type Endpoint, type TaskRunResult } from './harness/agent';

/**
 * AksDeploy@1 with `connectionType: azureResourceManager`: the bundled task signs in with
 * a service principal connection through the emulated Entra ID, reads the cluster's
 * kubeconfig from the emulated ARM AKS endpoints, and deploys. `staging` has local
 * accounts (a token kubeconfig); `production` is Entra-enabled with local accounts
 * disabled, so its user kubeconfig runs kubelogin, which the task replaces with an Entra
 * token for the AKS server application.
 */
describe('AksDeploy through Azure Resource Manager', function () {
  this.timeout(120_000);
  let aks: EmulatedAks;

  before(async () => {
    aks = await startEmulatedAks();
  });
  after(async () => {
    await aks?.stop();
  });

  function connection(): Endpoint {
    return aks.cloud.servicePrincipalEndpoint(
      { tenantId: aks.tenantId, ...aks.app },
      { subscriptionId: aks.subscriptionId },
    );
  }

  const manifest = (ns: string) =>
    [
      `apiVersion: v1\nkind: Namespace\nmetadata: { name: ${ns} }`,
      `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: settings }\ndata: { cluster: "${ns}" }`,
      [
        'apiVersion: apps/v1',
        'kind: Deployment',
        'metadata: { name: api }',
        'spec:',
        '  replicas: 2',
        '  selector: { matchLabels: { app: api } }',
        '  template:',
        '    metadata: { labels: { app: api } }',
        '    spec: { containers: [{ name: api, image: "contoso.azurecr.azure.test/orders/api:1.0" }] }',
      ].join('\n'),
    ].join('\n---\n');

  function deploy(
    cluster: EmulatedCluster,
    ns: string,
    inputs: Record<string, string> = {},
    node: 'node20' | 'node24' = 'node20',
  ): Promise<TaskRunResult> {
    return runTask({
      task: 'AksDeploy',
      node,
      inputs: {
        connectionType: 'azureResourceManager',
        azureSubscription: 'arm',
        resourceGroup: aks.resourceGroup,
        clusterName: cluster.name,
        manifests: 'k8s/*.yaml',
        namespace: ns,
        rolloutTimeout: '30',
        ...inputs,
      },
      endpoints: { arm: connection() },
      env: aks.cloud.azure.env(),
      secrets: [aks.app.secret],
      prepare: (dirs) => {
        mkdirSync(join(dirs.sources, 'k8s'), { recursive: true });
        writeFileSync(join(dirs.sources, 'k8s', 'app.yaml'), manifest(ns));
      },
    });
  }

  const clusterRequests = (cluster: EmulatedCluster) =>
    aks.cloud.azure.requests.filter((r) => r.host === cluster.host);

  for (const node of ['node20', 'node24'] as const) {
    it(`deploys to a local-account cluster with the user credentials from ARM (${node})`, async () => {
      const ns = `arm-local-${node}`;
      const run = await deploy(aks.staging, ns, {}, node);
      assert.equal(run.result?.status, 'Succeeded', run.log);
      assert.equal(run.outputVariables.get('rolloutStatus')?.value, 'Succeeded');
      assert.ok(
        aks.cloud.azure.requests.some((r) => /listClusterUserCredential/i.test(r.path) && r.status === 200),
      );
      const read = await aks.kubectl(aks.staging, ['get', 'configmap', 'settings', '-n', ns, '-o', 'json']);
      assert.equal(read.code, 0, read.stderr);
      assert.equal((JSON.parse(read.stdout) as { data: { cluster: string } }).data.cluster, ns);
    });

    it(`deploys to an Entra-enabled cluster with an Entra token, no kubelogin (${node})`, async () => {
      const ns = `arm-entra-${node}`;
      aks.cloud.azure.clearRequestLog();
      const run = await deploy(aks.production, ns, {}, node);
      assert.equal(run.result?.status, 'Succeeded', run.log);
      assert.doesNotMatch(run.log, /kubelogin/i);
      assert.match(run.log, new RegExp(`Deployment/${ns}/api: 2/2 ready, successfully rolled out`));
      assert.ok(aks.production.getObject('Deployment', ns, 'api'));
      assert.equal(aks.staging.getObject('ConfigMap', ns, 'settings'), undefined);
      assert.ok(clusterRequests(aks.production).length > 0);
      assert.ok(
        clusterRequests(aks.production).every((r) => r.status !== 401),
        'a request was refused',
      );
    });
  }

  it('useClusterAdmin on a cluster with local accounts disabled fails with one line saying so', async () => {
    const run = await deploy(aks.production, 'arm-admin', { useClusterAdmin: 'true' });
    assert.equal(run.result?.status, 'Failed', run.log);
    assert.match(
      run.result!.message,
      /^The admin credentials of the AKS cluster production in the resource group rg-release-flow could not be read \(BadRequest\)\. .*local accounts disabled/,
    );
    assert.equal(run.result!.message.split('\n').length, 1);
  });

  it('useClusterAdmin on a local-account cluster deploys with the admin credentials', async () => {
    const ns = 'arm-admin-local';
    const run = await deploy(aks.staging, ns, { useClusterAdmin: 'true' });
    assert.equal(run.result?.status, 'Succeeded', run.log);
    assert.ok(
      aks.cloud.azure.requests.some((r) => /listClusterAdminCredential/i.test(r.path) && r.status === 200),
    );
    assert.ok(aks.staging.getObject('ConfigMap', ns, 'settings'));
  });

  it('an identity without a role on the cluster fails with the role to grant', async () => {
    aks.arm.revoke('staging', aks.app.objectId);
    try {
      const run = await deploy(aks.staging, 'arm-norole');
      assert.equal(run.result?.status, 'Failed', run.log);
      assert.match(
        run.result!.message,
        /^The user credentials of the AKS cluster staging .*\(AuthorizationFailed\).*Azure Kubernetes Service Cluster User Role/,
      );
    } finally {
      aks.arm.grant('staging', aks.app.objectId, 'admin');
    }
  });
});
