import * as k8s from '@kubernetes/client-node';
import { strict as assert } from 'node:assert';
import { builtInTypes, groupVersion } from './resources';
import { openApiGroupVersion, openApiV2 } from './openapi';
import { encodeOpenApiV2 } from './openapi-protobuf';
import { startClusterFixture, until, type ClusterFixture } from './testing';

// What the emulated API server does beyond storing: deletion (grace periods, finalizers,
// propagation, namespaces), conversion between served versions, reviews, tables, OpenAPI.
describe('emulated Kubernetes API server: lifecycle, conversion, reviews', () => {
  let fixture: ClusterFixture;
  let config: k8s.KubeConfig;
  let core: k8s.CoreV1Api;
  let apps: k8s.AppsV1Api;

  before(async () => {
    fixture = await startClusterFixture();
    config = new k8s.KubeConfig();
    config.loadFromString(fixture.kubeconfig);
    core = config.makeApiClient(k8s.CoreV1Api);
    apps = config.makeApiClient(k8s.AppsV1Api);
  });
  after(async () => fixture.stop());
  afterEach(() => {
    fixture.cluster.authorize = () => true;
  });

  const deployment = (name: string, namespace = 'default', grace?: number): k8s.V1Deployment => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          ...(grace !== undefined ? { terminationGracePeriodSeconds: grace } : {}),
          containers: [{ name: 'app', image: `registry.test/${name}:1` }],
        },
      },
    },
  });
  const readyPods = async (name: string, namespace = 'default'): Promise<k8s.V1Pod[]> => {
    let pods: k8s.V1Pod[] = [];
    await until(async () => {
      pods = (await core.listNamespacedPod({ namespace, labelSelector: `app=${name}` })).items;
      return pods.length === 2 && pods.every((pod) => pod.status?.phase === 'Running');
    });
    return pods;
  };
  const gone = (read: () => Promise<unknown>) => async (): Promise<boolean> => {
    try {
      await read();
      return false;
    } catch (error) {
      return (error as { code?: number }).code === 404;
    }
  };

  it('gives a pod its grace period (scaled), marks it, tells its containers to stop, then removes it', async () => {
    await apps.createNamespacedDeployment({
      namespace: 'default',
      body: deployment('graceful', 'default', 50),
    });
    const [pod] = await readyPods('graceful');
    const started = Date.now();
    const deleted = await core.deleteNamespacedPod({ name: pod!.metadata!.name!, namespace: 'default' });
    assert.equal(deleted.metadata?.deletionGracePeriodSeconds, 50);
    assert.ok(deleted.metadata?.deletionTimestamp);
    const read = await core.readNamespacedPod({ name: pod!.metadata!.name!, namespace: 'default' });
    assert.ok(read.metadata?.deletionTimestamp);
    await until(gone(() => core.readNamespacedPod({ name: pod!.metadata!.name!, namespace: 'default' })));
    // 50 s at a time scale of 0.01.
    assert.ok(Date.now() - started >= 450, `gone after ${Date.now() - started} ms`);
    const events = fixture.cluster
      .listObjects('Event', 'default')
      .filter((event) => event.involvedObject.name === pod!.metadata!.name && event.reason === 'Killing');
    assert.equal(events[0]?.message, 'Stopping container app');
    // Its ReplicaSet replaced it at once: a terminating pod no longer counts.
    await readyPods('graceful');
  });

  it('removes at once a pod that never reached a node, or with a grace period of 0', async () => {
    const pod = await core.createNamespacedPod({
      namespace: 'default',
      body: {
        metadata: { name: 'unbound' },
        spec: {
          nodeSelector: { nowhere: 'true' },
          containers: [{ name: 'app', image: 'registry.test/x:1' }],
        },
      },
    });
    await core.deleteNamespacedPod({ name: pod.metadata!.name!, namespace: 'default' });
    assert.ok(await gone(() => core.readNamespacedPod({ name: 'unbound', namespace: 'default' }))());
  });

  it('deletes in the foreground: the owner waits, with its finalizer, for what it owns', async () => {
    await apps.createNamespacedDeployment({ namespace: 'default', body: deployment('fore', 'default', 100) });
    await readyPods('fore');
    await apps.deleteNamespacedDeployment({
      name: 'fore',
      namespace: 'default',
      propagationPolicy: 'Foreground',
    });
    const held = await apps.readNamespacedDeployment({ name: 'fore', namespace: 'default' });
    assert.deepEqual(held.metadata?.finalizers, ['foregroundDeletion']);
    assert.ok(held.metadata?.deletionTimestamp);
    await until(async () =>
      (await core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=fore' })).items.every(
        (pod) => pod.metadata?.deletionTimestamp,
      ),
    );
    await until(gone(() => apps.readNamespacedDeployment({ name: 'fore', namespace: 'default' })));
    assert.equal(
      (await core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=fore' })).items.length,
      0,
    );
  });

  it('orphans: the owner goes, what it owned stays without the reference', async () => {
    await apps.createNamespacedDeployment({ namespace: 'default', body: deployment('orphaned') });
    await readyPods('orphaned');
    await apps.deleteNamespacedDeployment({
      name: 'orphaned',
      namespace: 'default',
      propagationPolicy: 'Orphan',
    });
    await until(gone(() => apps.readNamespacedDeployment({ name: 'orphaned', namespace: 'default' })));
    const replicaSets = (
      await apps.listNamespacedReplicaSet({ namespace: 'default', labelSelector: 'app=orphaned' })
    ).items;
    assert.equal(replicaSets.length, 1);
    assert.equal(replicaSets[0]!.metadata?.ownerReferences, undefined);
    assert.equal((await readyPods('orphaned')).length, 2);
  });

  it('terminates a namespace: Terminating, no new content, emptied, conditions, then gone', async () => {
    await core.createNamespace({ body: { metadata: { name: 'ending' } } });
    await apps.createNamespacedDeployment({ namespace: 'ending', body: deployment('app', 'ending', 100) });
    await readyPods('app', 'ending');
    const deleted = await core.deleteNamespace({ name: 'ending' });
    assert.equal((deleted as k8s.V1Namespace).status?.phase, 'Terminating');
    await assert.rejects(
      core.createNamespacedConfigMap({ namespace: 'ending', body: { metadata: { name: 'late' } } }),
      (error: { code?: number; body?: string }) =>
        error.code === 403 &&
        /unable to create new content in namespace ending because it is being terminated/.test(
          String(error.body),
        ) &&
        /NamespaceTerminating/.test(String(error.body)),
    );
    // After its discovery, the controller deletes the content; the pods take their grace period.
    await until(async () => {
      const namespace = await core.readNamespace({ name: 'ending' });
      return (namespace.status?.conditions ?? []).some(
        (condition) =>
          condition.type === 'NamespaceContentRemaining' &&
          /pods has 2 resource instances/.test(condition.message ?? ''),
      );
    });
    await until(gone(() => core.readNamespace({ name: 'ending' })));
    assert.equal(fixture.cluster.listObjects('Pod', 'ending').length, 0);
  });

  it('keeps a CRD until its custom resources are gone', async () => {
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'gadgets.example.com' },
      spec: {
        group: 'example.com',
        scope: 'Namespaced',
        names: { plural: 'gadgets', singular: 'gadget', kind: 'Gadget' },
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
          },
        ],
      },
    };
    const objects = k8s.KubernetesObjectApi.makeApiClient(config);
    await objects.create(crd);
    await objects.create({
      apiVersion: 'example.com/v1',
      kind: 'Gadget',
      metadata: { name: 'g1', namespace: 'default' },
    });
    await objects.delete({ apiVersion: crd.apiVersion, kind: crd.kind, metadata: crd.metadata });
    await until(
      () =>
        fixture.cluster.getObject('CustomResourceDefinition', undefined, 'gadgets.example.com') === undefined,
    );
    // Its custom resources went first: none is left in storage.
    assert.deepEqual(fixture.cluster.store.list('example.com/gadgets'), []);
  });

  it('serves core Events through events.k8s.io/v1, converted', async () => {
    const event = fixture.cluster
      .listObjects('Event', 'default')
      .find((each) => each.reason === 'ScalingReplicaSet')!;
    const events = config.makeApiClient(k8s.EventsV1Api);
    const read = await events.readNamespacedEvent({ name: event.metadata.name, namespace: 'default' });
    assert.equal(read.apiVersion, 'events.k8s.io/v1');
    assert.equal(read.regarding?.name, event.involvedObject.name);
    assert.equal(read.note, event.message);
    assert.equal(read.reportingController, event.reportingComponent);
    assert.equal(read.deprecatedCount, event.count);
  });

  it('serves one HorizontalPodAutoscaler through autoscaling/v1 and v2, and scales its target into range', async () => {
    await apps.createNamespacedDeployment({ namespace: 'default', body: deployment('scaled') });
    await config.makeApiClient(k8s.AutoscalingV1Api).createNamespacedHorizontalPodAutoscaler({
      namespace: 'default',
      body: {
        metadata: { name: 'scaled' },
        spec: {
          scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'scaled' },
          minReplicas: 3,
          maxReplicas: 4,
          targetCPUUtilizationPercentage: 60,
        },
      },
    });
    const v2 = await config
      .makeApiClient(k8s.AutoscalingV2Api)
      .readNamespacedHorizontalPodAutoscaler({ name: 'scaled', namespace: 'default' });
    assert.deepEqual(JSON.parse(JSON.stringify(v2.spec?.metrics)), [
      {
        type: 'Resource',
        resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } },
      },
    ]);
    await until(
      async () =>
        (await apps.readNamespacedDeployment({ name: 'scaled', namespace: 'default' })).spec?.replicas === 3,
    );
    const live = await apps.readNamespacedDeployment({ name: 'scaled', namespace: 'default' });
    const scaleManager = live.metadata?.managedFields?.find((entry) => entry.subresource === 'scale');
    assert.equal(scaleManager?.manager, 'kube-controller-manager');
    await until(async () => {
      const status = (
        await config
          .makeApiClient(k8s.AutoscalingV1Api)
          .readNamespacedHorizontalPodAutoscaler({ name: 'scaled', namespace: 'default' })
      ).status;
      return status?.currentReplicas === 3 && status.desiredReplicas === 3;
    });
  });

  it('answers access reviews from the authorizer, and who the user is', async () => {
    fixture.cluster.authorize = (access) => access.verb !== 'delete';
    const reviews = config.makeApiClient(k8s.AuthorizationV1Api);
    const ask = (verb: string) =>
      reviews.createSelfSubjectAccessReview({
        body: {
          spec: {
            resourceAttributes: { verb, group: 'apps', resource: 'deployments', namespace: 'default' },
          },
        },
      });
    assert.equal((await ask('patch')).status?.allowed, true);
    const denied = (await ask('delete')).status;
    assert.equal(denied?.allowed, false);
    assert.match(denied?.reason ?? '', /User does not have access to the resource in Azure/);
    const whoami = await config.makeApiClient(k8s.AuthenticationV1Api).createSelfSubjectReview({ body: {} });
    assert.equal(whoami.status?.userInfo?.username, 'token-user');
  });

  it('has the OpenAPI schema of every built-in kind it serves, in v2 and v3', () => {
    const v2 = openApiV2(builtInTypes, []);
    const gvks = (schema: {
      'x-kubernetes-group-version-kind'?: { group: string; version: string; kind: string }[];
    }) => schema['x-kubernetes-group-version-kind'] ?? [];
    for (const type of builtInTypes) {
      const has = (schemas: Record<string, never>) =>
        Object.values(schemas).some((schema) =>
          gvks(schema).some(
            (gvk) => gvk.group === type.group && gvk.version === type.version && gvk.kind === type.kind,
          ),
        );
      assert.ok(
        has(v2.definitions),
        `v2 lacks ${groupVersion(type)} ${type.kind}: rerun openapi/generate.ts`,
      );
      const v3 = openApiGroupVersion(builtInTypes, [], type.group, type.version);
      assert.ok(
        v3 && has(v3.components.schemas),
        `v3 lacks ${groupVersion(type)} ${type.kind}: rerun openapi/generate.ts`,
      );
    }
    // Every reference resolves within its document.
    const refs = JSON.stringify(v2).match(/"#\/definitions\/[^"]+"/g) ?? [];
    for (const ref of new Set(refs))
      assert.ok(JSON.parse(ref).slice('#/definitions/'.length) in v2.definitions, ref);
    assert.ok(encodeOpenApiV2(v2).length > 100_000);
  });
});
