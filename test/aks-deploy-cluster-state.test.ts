import { strict as assert } from 'node:assert';
import {
  configMapYaml,
  documents,
  namespaceYaml,
  registry,
  startAksDeployCluster,
  workloadYaml,
  type AksDeployCluster,
} from './support/aks-deploy-cluster';

const autoscalerYaml = (name: string, target: string, min: number, max: number): string =>
  [
    'apiVersion: autoscaling/v2',
    'kind: HorizontalPodAutoscaler',
    `metadata: { name: ${name} }`,
    'spec:',
    `  scaleTargetRef: { apiVersion: apps/v1, kind: Deployment, name: ${target} }`,
    `  minReplicas: ${min}`,
    `  maxReplicas: ${max}`,
  ].join('\n');

/**
 * AksDeploy@1 (bundled, through the agent harness) against what a cluster does on its
 * own: a HorizontalPodAutoscaler that owns a workload's replica count, an identity that
 * lacks a permission, and namespaces being deleted (Terminating until emptied).
 */
describe('AksDeploy against autoscalers, refusals and terminating namespaces', function () {
  this.timeout(120_000);
  let env: AksDeployCluster;

  before(async () => {
    env = await startAksDeployCluster();
  });
  after(async () => env?.stop());
  afterEach(() => {
    env.azure.reset();
    env.cluster.authorize = () => true;
  });

  const deploy = (ns: string, text: string, inputs: Record<string, string> = {}) =>
    env.deploy({
      files: { 'k8s/app.yaml': text },
      inputs: { manifests: 'k8s/*.yaml', namespace: ns, ...inputs },
    });

  it('leaves replicas to the HorizontalPodAutoscaler that scales the workload, on every redeploy', async () => {
    const ns = 'scaled';
    const manifests = (tag: string) =>
      documents(
        namespaceYaml(ns),
        workloadYaml('Deployment', 'api', `${registry}/orders/api:${tag}`, { replicas: 2 }),
        autoscalerYaml('api', 'api', 3, 5),
      );
    const first = await deploy(ns, manifests('1.0'));
    assert.equal(first.result?.status, 'Succeeded', first.log);
    // The autoscaler raises the count to its minimum through the scale subresource.
    const waited = await env.kubectl([
      '-n',
      ns,
      'wait',
      '--for=jsonpath={.spec.replicas}=3',
      'deployment/api',
      '--timeout=20s',
    ]);
    assert.equal(waited.code, 0, waited.stderr);

    // Without the autoscaler's count applied back, this apply would conflict with
    // kube-controller-manager over .spec.replicas, or scale the workload down to 2.
    for (const tag of ['1.0', '1.1']) {
      const again = await deploy(ns, manifests(tag));
      assert.equal(again.result?.status, 'Succeeded', again.log);
      assert.match(
        again.log,
        new RegExp(
          `Deployment ${ns}/api: replicas left to the HorizontalPodAutoscaler api \\(3 now\\); the manifest's 2 is not applied`,
        ),
      );
      const live = env.cluster.getObject('Deployment', ns, 'api')!;
      assert.equal(live.spec.replicas, 3);
      assert.equal(live.status.readyReplicas, 3);
      assert.equal(live.spec.template.spec.containers[0].image, `${registry}/orders/api:${tag}`);
    }
    // A dry run shows no change of replicas either.
    const dry = await deploy(ns, manifests('1.1'), { dryRun: 'true' });
    assert.equal(dry.result?.status, 'Succeeded', dry.log);
    assert.match(dry.log, new RegExp(`\\(dry run\\) Deployment ${ns}/api unchanged`));
  });

  it('a 403 names the permission the identity lacks, as a SelfSubjectAccessReview confirms it', async () => {
    const ns = 'refused';
    const first = await deploy(ns, documents(namespaceYaml(ns), configMapYaml('settings', '{ a: "1" }')));
    assert.equal(first.result?.status, 'Succeeded', first.log);
    env.cluster.authorize = (access) => !(access.resource === 'deployments' && access.verb === 'patch');
    const run = await deploy(
      ns,
      documents(namespaceYaml(ns), workloadYaml('Deployment', 'api', `${registry}/orders/api:1.0`)),
    );
    assert.equal(run.result?.status, 'Failed', run.log);
    assert.equal(
      run.result?.message,
      `The cluster's API server refused PATCH /apis/apps/v1/namespaces/${ns}/deployments/api: the identity 'token-user' may not patch deployments.apps in the namespace '${ns}' (the cluster says: User does not have access to the resource in Azure. Update role assignment to allow access.). Give it that permission, then run again: with Azure RBAC for Kubernetes, a role assignment such as Azure Kubernetes Service RBAC Writer on the cluster or the namespace; with Kubernetes RBAC, a Role or ClusterRole that allows the verb 'patch' on 'deployments.apps', bound to the identity.`,
    );
  });

  it('refuses a namespace that is being deleted, before applying anything', async () => {
    const ns = 'leaving';
    const first = await deploy(ns, documents(namespaceYaml(ns), configMapYaml('settings', '{ a: "1" }')));
    assert.equal(first.result?.status, 'Succeeded', first.log);
    // Held by a finalizer of someone else's, the namespace stays Terminating.
    const held = await env.kubectl([
      '-n',
      ns,
      'patch',
      'configmap',
      'settings',
      '--type=merge',
      '-p',
      '{"metadata":{"finalizers":["example.com/hold"]}}',
    ]);
    assert.equal(held.code, 0, held.stderr);
    const deleted = await env.kubectl(['delete', 'namespace', ns, '--wait=false']);
    assert.equal(deleted.code, 0, deleted.stderr);
    env.azure.reset();
    const run = await deploy(ns, configMapYaml('other', '{ b: "2" }'));
    assert.equal(run.result?.status, 'Failed', run.log);
    assert.match(
      run.result!.message,
      new RegExp(
        `^The namespace '${ns}' is being deleted \\(since \\d{4}-\\d\\d-\\d\\dT[\\d:]+Z\\), so nothing can be created in it, and nothing was applied\\.`,
      ),
    );
    assert.deepEqual(env.writes(), []);
    const released = await env.kubectl([
      '-n',
      ns,
      'patch',
      'configmap',
      'settings',
      '--type=merge',
      '-p',
      '{"metadata":{"finalizers":null}}',
    ]);
    assert.equal(released.code, 0, released.stderr);
  });

  it('waits for a namespace of the manifests that is still terminating, then creates it again', async () => {
    const ns = 'recreated';
    const manifests = documents(
      namespaceYaml(ns),
      workloadYaml('Deployment', 'api', `${registry}/orders/api:1.0`),
      configMapYaml('settings', '{ a: "1" }'),
    );
    const first = await deploy(ns, manifests);
    assert.equal(first.result?.status, 'Succeeded', first.log);
    const before = env.cluster.getObject('Namespace', undefined, ns)!.metadata.uid;
    const deleted = await env.kubectl(['delete', 'namespace', ns, '--wait=false']);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.ok(env.cluster.getObject('Namespace', undefined, ns)?.metadata.deletionTimestamp);

    const run = await deploy(ns, manifests);
    assert.equal(run.result?.status, 'Succeeded', run.log);
    assert.match(
      run.log,
      new RegExp(`Namespace ${ns} is being deleted: waiting until it is gone to create it again`),
    );
    const namespace = env.cluster.getObject('Namespace', undefined, ns)!;
    assert.notEqual(namespace.metadata.uid, before);
    assert.equal(namespace.metadata.deletionTimestamp, undefined);
    assert.equal(env.cluster.getObject('Deployment', ns, 'api')?.status?.readyReplicas, 2);
    assert.ok(env.cluster.getObject('ConfigMap', ns, 'settings'));
  });

  it('does not count a member that is already being deleted against the prune limit', async () => {
    const ns = 'pruned';
    const all = documents(
      namespaceYaml(ns),
      workloadYaml('Deployment', 'api', `${registry}/orders/api:1.0`),
      workloadYaml('Deployment', 'worker', `${registry}/orders/worker:1.0`),
      configMapYaml('settings', '{ a: "1" }'),
    );
    const first = await deploy(ns, all, { prune: 'true' });
    assert.equal(first.result?.status, 'Succeeded', first.log);
    // Someone deletes the worker, which someone else's finalizer holds: it is going, but still listed.
    const held = await env.kubectl([
      '-n',
      ns,
      'patch',
      'deployment',
      'worker',
      '--type=merge',
      '-p',
      '{"metadata":{"finalizers":["example.com/hold"]}}',
    ]);
    assert.equal(held.code, 0, held.stderr);
    const going = await env.kubectl(['-n', ns, 'delete', 'deployment', 'worker', '--wait=false']);
    assert.equal(going.code, 0, going.stderr);
    const run = await deploy(
      ns,
      documents(namespaceYaml(ns), workloadYaml('Deployment', 'api', `${registry}/orders/api:1.0`)),
      { prune: 'true', pruneLimit: '1' },
    );
    assert.equal(run.result?.status, 'Succeeded', run.log);
    assert.match(run.log, new RegExp(`ConfigMap ${ns}/settings pruned`));
    assert.doesNotMatch(run.log, /Deployment \S+\/worker pruned/);
    assert.equal(env.cluster.getObject('ConfigMap', ns, 'settings'), undefined);
    assert.ok(env.cluster.getObject('Deployment', ns, 'worker')?.metadata.deletionTimestamp);
    const released = await env.kubectl([
      '-n',
      ns,
      'patch',
      'deployment',
      'worker',
      '--type=merge',
      '-p',
      '{"metadata":{"finalizers":null}}',
    ]);
    assert.equal(released.code, 0, released.stderr);
  });
});
