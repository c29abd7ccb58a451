import * as k8s from '@kubernetes/client-node';
import { strict as assert } from 'node:assert';
import { startClusterFixture, until, type ClusterFixture } from './testing';

// The API conventions as @kubernetes/client-node sees them: discovery, namespaces,
// server-side apply with managedFields and conflicts, dry run, list, watch, delete.
describe('emulated Kubernetes API server (client-node)', () => {
  let fixture: ClusterFixture;
  let config: k8s.KubeConfig;
  let objects: k8s.KubernetesObjectApi;

  before(async () => {
    fixture = await startClusterFixture();
    config = new k8s.KubeConfig();
    config.loadFromString(fixture.kubeconfig);
    objects = k8s.KubernetesObjectApi.makeApiClient(config);
  });
  after(async () => fixture.stop());

  const deployment = (name: string, replicas: number, image = 'registry.test/app:1'): k8s.V1Deployment => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default', labels: { app: name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image }] } },
    },
  });

  const apply = <T extends k8s.KubernetesObject>(
    object: T,
    manager: string,
    options: { force?: boolean; dryRun?: boolean } = {},
  ) =>
    objects.patch(
      object,
      undefined,
      options.dryRun ? 'All' : undefined,
      manager,
      options.force ?? false,
      k8s.PatchStrategy.ServerSideApply,
    );

  it('serves discovery for the core group and the named groups', async () => {
    const core = await config.makeApiClient(k8s.CoreApi).getAPIVersions();
    assert.deepEqual(core.versions, ['v1']);
    const groups = await config.makeApiClient(k8s.ApisApi).getAPIVersions();
    const names = groups.groups.map((group) => group.name);
    for (const name of [
      'apps',
      'batch',
      'apiextensions.k8s.io',
      'networking.k8s.io',
      'rbac.authorization.k8s.io',
      'policy',
    ]) {
      assert.ok(names.includes(name), name);
    }
    const apps = await config.makeApiClient(k8s.AppsV1Api).getAPIResources();
    const deployments = apps.resources.find((resource) => resource.name === 'deployments')!;
    assert.equal(deployments.kind, 'Deployment');
    assert.equal(deployments.namespaced, true);
    assert.ok(deployments.verbs.includes('patch') && deployments.verbs.includes('watch'));
    const version = await config.makeApiClient(k8s.VersionApi).getCode();
    assert.equal(version.major, '1');
  });

  it('refuses requests without a valid bearer token with a 401 Status', async () => {
    const stranger = new k8s.KubeConfig();
    stranger.loadFromString(fixture.kubeconfig.replace(fixture.token, 'not-a-valid-token'));
    const error = await stranger
      .makeApiClient(k8s.CoreV1Api)
      .listNamespace()
      .then(
        () => assert.fail('expected 401'),
        (failure: k8s.ApiException<string>) => failure,
      );
    assert.equal(error.code, 401);
  });

  it('creates by server-side apply, with managedFields, generation and string identity fields', async () => {
    const applied = await apply(deployment('web', 2), 'aks-deploy');
    assert.equal(applied.metadata?.generation, 1);
    assert.equal(typeof applied.metadata?.resourceVersion, 'string');
    assert.match(applied.metadata?.uid ?? '', /^[0-9a-f-]{36}$/);
    const managed = applied.metadata?.managedFields ?? [];
    assert.equal(managed.length, 1);
    assert.equal(managed[0]!.manager, 'aks-deploy');
    assert.equal(managed[0]!.operation, 'Apply');
    assert.equal(managed[0]!.fieldsType, 'FieldsV1');
    const fields = managed[0]!.fieldsV1 as Record<string, Record<string, unknown>>;
    assert.deepEqual(fields['f:spec']!['f:replicas'], {});
    const containers = (
      fields['f:spec']!['f:template'] as Record<string, Record<string, Record<string, unknown>>>
    )['f:spec']!['f:containers'] as Record<string, unknown>;
    assert.deepEqual(Object.keys(containers), ['k:{"name":"app"}']);
    // Defaulted fields are stored, owned by nobody.
    const read = await config
      .makeApiClient(k8s.AppsV1Api)
      .readNamespacedDeployment({ name: 'web', namespace: 'default' });
    assert.equal(read.spec?.progressDeadlineSeconds, 600);
    assert.equal(read.spec?.strategy?.type, 'RollingUpdate');
  });

  it('bumps generation on a spec change and not on a label change; a no-op apply keeps the resourceVersion', async () => {
    const settings: k8s.V1ConfigMap = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'settings', namespace: 'default' },
      data: { a: '1' },
    };
    const first = await apply(settings, 'aks-deploy');
    const same = await apply(settings, 'aks-deploy');
    assert.equal(same.metadata?.resourceVersion, first.metadata?.resourceVersion);
    await apply(deployment('gen', 1), 'aks-deploy');
    const scaled = await apply(deployment('gen', 3), 'aks-deploy');
    assert.equal(scaled.metadata?.generation, 2);
    const labelled = deployment('gen', 3);
    labelled.metadata!.labels = { ...labelled.metadata!.labels, team: 'a' };
    const relabelled = await apply(labelled, 'aks-deploy');
    assert.equal(relabelled.metadata?.generation, 2);
  });

  it('answers a conflicting apply with 409 and FieldManagerConflict causes, and lets force take the field', async () => {
    await apply(deployment('owned', 2), 'aks-deploy');
    const error = await apply(deployment('owned', 5), 'someone-else').then(
      () => assert.fail('expected a conflict'),
      (failure: k8s.ApiException<string>) => failure,
    );
    assert.equal(error.code, 409);
    const status = JSON.parse(error.body) as k8s.V1Status;
    assert.equal(status.reason, 'Conflict');
    assert.equal(status.message, 'Apply failed with 1 conflict: conflict with "aks-deploy": .spec.replicas');
    assert.deepEqual(status.details?.causes, [
      { type: 'FieldManagerConflict', message: 'conflict with "aks-deploy"', field: '.spec.replicas' },
    ]);
    // The same value is shared ownership, not a conflict.
    await apply(deployment('owned', 2), 'someone-else');
    const forced = await apply(deployment('owned', 5), 'someone-else', { force: true });
    assert.equal(forced.spec?.replicas, 5);
    const mine = forced.metadata?.managedFields?.find((entry) => entry.manager === 'aks-deploy');
    assert.equal(
      ((mine?.fieldsV1 as Record<string, Record<string, unknown>>)['f:spec'] ?? {})['f:replicas'],
      undefined,
    );
  });

  it('names an updater in a conflict with the API version it wrote through', async () => {
    await apply(deployment('patched', 1), 'aks-deploy');
    const apps = config.makeApiClient(k8s.AppsV1Api);
    await apps.patchNamespacedDeployment(
      {
        name: 'patched',
        namespace: 'default',
        body: { spec: { replicas: 4 } },
        fieldManager: 'kubectl-scale',
      },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    const error = await apply(deployment('patched', 2), 'aks-deploy').then(
      () => assert.fail('expected a conflict'),
      (failure: k8s.ApiException<string>) => failure,
    );
    const status = JSON.parse(error.body) as k8s.V1Status;
    assert.equal(status.details?.causes?.[0]?.message, 'conflict with "kubectl-scale" using apps/v1');
  });

  it('removes fields a manager stops applying, unless another manager owns them', async () => {
    const labelled = deployment('prune-fields', 1);
    labelled.metadata!.labels = { app: 'prune-fields', tier: 'web' };
    await apply(labelled, 'aks-deploy');
    const after = await apply(deployment('prune-fields', 1), 'aks-deploy');
    assert.deepEqual(after.metadata?.labels, { app: 'prune-fields' });
  });

  it('persists nothing on dryRun=All for apply and delete', async () => {
    const dry = await apply(deployment('dry', 1), 'aks-deploy', { dryRun: true });
    assert.equal(dry.metadata?.name, 'dry');
    const apps = config.makeApiClient(k8s.AppsV1Api);
    await assert.rejects(
      apps.readNamespacedDeployment({ name: 'dry', namespace: 'default' }),
      (error: k8s.ApiException<string>) => error.code === 404,
    );
    await apply(deployment('dry', 1), 'aks-deploy');
    await apps.deleteNamespacedDeployment({ name: 'dry', namespace: 'default', dryRun: 'All' });
    await apps.readNamespacedDeployment({ name: 'dry', namespace: 'default' });
  });

  it('answers 404 with namespaces "x" not found for an apply into a missing namespace', async () => {
    const object = deployment('lost', 1);
    object.metadata!.namespace = 'missing';
    const error = await apply(object, 'aks-deploy').then(
      () => assert.fail('expected 404'),
      (failure: k8s.ApiException<string>) => failure,
    );
    assert.equal(error.code, 404);
    assert.equal((JSON.parse(error.body) as k8s.V1Status).message, 'namespaces "missing" not found');
  });

  it('lists by label and field selector', async () => {
    await apply(deployment('listed-a', 1), 'aks-deploy');
    await apply(deployment('listed-b', 1), 'aks-deploy');
    const apps = config.makeApiClient(k8s.AppsV1Api);
    const byLabel = await apps.listNamespacedDeployment({
      namespace: 'default',
      labelSelector: 'app in (listed-a,listed-b)',
    });
    assert.deepEqual(byLabel.items.map((item) => item.metadata?.name).sort(), ['listed-a', 'listed-b']);
    const byField = await apps.listNamespacedDeployment({
      namespace: 'default',
      fieldSelector: 'metadata.name=listed-b',
    });
    assert.deepEqual(
      byField.items.map((item) => item.metadata?.name),
      ['listed-b'],
    );
    assert.match(byField.metadata?.resourceVersion ?? '', /^\d+$/);
  });

  it('pages a list with limit and continue', async () => {
    const core = config.makeApiClient(k8s.CoreV1Api);
    for (const name of ['page-a', 'page-b', 'page-c']) {
      await apply(
        {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name, namespace: 'default', labels: { paged: 'yes' } },
        },
        'aks-deploy',
      );
    }
    const first = await core.listNamespacedConfigMap({
      namespace: 'default',
      labelSelector: 'paged=yes',
      limit: 2,
    });
    assert.equal(first.items.length, 2);
    assert.equal(first.metadata?.remainingItemCount, 1);
    const second = await core.listNamespacedConfigMap({
      namespace: 'default',
      labelSelector: 'paged=yes',
      limit: 2,
      _continue: first.metadata?._continue,
    });
    assert.deepEqual(
      second.items.map((item) => item.metadata?.name),
      ['page-c'],
    );
    assert.equal(second.metadata?._continue, undefined);
  });

  it('watches from a resourceVersion, and answers 410 Expired for a compacted one', async () => {
    const apps = config.makeApiClient(k8s.AppsV1Api);
    const start = await apps.listNamespacedDeployment({ namespace: 'default' });
    const events: { type: string; name: string; replicas: number }[] = [];
    const watch = new k8s.Watch(config);
    let stop: AbortController | undefined;
    const seen = new Promise<void>((resolve, reject) => {
      void watch
        .watch(
          '/apis/apps/v1/namespaces/default/deployments',
          { resourceVersion: start.metadata?.resourceVersion, fieldSelector: 'metadata.name=watched' },
          (type, object: k8s.V1Deployment) => {
            events.push({ type, name: object.metadata!.name!, replicas: object.spec!.replicas! });
            if (type === 'DELETED') resolve();
          },
          (error) => (error ? reject(error as Error) : undefined),
        )
        .then((controller) => (stop = controller), reject);
    });
    await apply(deployment('watched', 1), 'aks-deploy');
    await apply(deployment('watched', 2), 'aks-deploy');
    await apps.deleteNamespacedDeployment({ name: 'watched', namespace: 'default' });
    await seen;
    stop?.abort();
    // Controllers' status writes are MODIFIED events too; the spec change is among them.
    assert.equal(events[0]!.type, 'ADDED');
    assert.equal(events[events.length - 1]!.type, 'DELETED');
    assert.ok(events.some((event) => event.type === 'MODIFIED' && event.replicas === 2));

    fixture.cluster.store.compact();
    const expired = await new Promise<{ type: string; object: k8s.V1Status }>((resolve, reject) => {
      void watch.watch(
        '/apis/apps/v1/namespaces/default/deployments',
        { resourceVersion: start.metadata?.resourceVersion },
        (type, object: k8s.V1Status) => resolve({ type, object }),
        (error) => (error ? reject(error as Error) : undefined),
      );
    });
    assert.equal(expired.type, 'ERROR');
    assert.equal(expired.object.code, 410);
    assert.equal(expired.object.reason, 'Expired');
  });

  it('tells a label-filtered watch that an object left the filter, as DELETED', async () => {
    const core = config.makeApiClient(k8s.CoreV1Api);
    const start = await core.listNamespacedConfigMap({ namespace: 'default' });
    const seen: string[] = [];
    let stop: AbortController | undefined;
    const left = new Promise<void>((resolve, reject) => {
      void new k8s.Watch(config)
        .watch(
          '/api/v1/namespaces/default/configmaps',
          { resourceVersion: start.metadata?.resourceVersion, labelSelector: 'stage=canary' },
          (type, object: k8s.V1ConfigMap) => {
            seen.push(`${type} ${object.metadata?.labels?.stage}`);
            if (type === 'DELETED') resolve();
          },
          (error) => (error ? reject(error as Error) : undefined),
        )
        .then((controller) => (stop = controller), reject);
    });
    const labelled = (stage: string) => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'moving', namespace: 'default', labels: { stage } },
    });
    await apply(labelled('canary'), 'aks-deploy');
    await apply(labelled('stable'), 'aks-deploy');
    await left;
    stop?.abort();
    assert.deepEqual(seen, ['ADDED canary', 'DELETED stable']);
  });

  it('refuses an apply whose resourceVersion is stale with 409', async () => {
    const first: k8s.KubernetesObject = await apply(
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'guarded', namespace: 'default' },
        data: { a: '1' },
      },
      'aks-deploy',
    );
    await apply(
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'guarded', namespace: 'default' },
        data: { a: '2' },
      },
      'aks-deploy',
    );
    const stale = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'guarded', namespace: 'default', resourceVersion: first.metadata?.resourceVersion },
      data: { a: '3' },
    };
    await assert.rejects(
      apply(stale, 'aks-deploy'),
      (error: k8s.ApiException<string>) =>
        error.code === 409 && /the object has been modified/.test(error.body),
    );
  });

  it('replaces with PUT, and refuses a PUT from a stale resourceVersion with 409', async () => {
    const core = config.makeApiClient(k8s.CoreV1Api);
    const created = await core.createNamespacedConfigMap({
      namespace: 'default',
      body: { metadata: { name: 'replaced' }, data: { a: '1' } },
    });
    assert.equal(created.metadata?.managedFields?.[0]?.operation, 'Update');
    const replaced = await core.replaceNamespacedConfigMap({
      name: 'replaced',
      namespace: 'default',
      body: { ...created, data: { b: '2' } },
    });
    assert.deepEqual(replaced.data, { b: '2' });
    await assert.rejects(
      core.replaceNamespacedConfigMap({
        name: 'replaced',
        namespace: 'default',
        body: { ...created, data: { c: '3' } },
      }),
      (error: k8s.ApiException<unknown>) => error.code === 409,
    );
    await assert.rejects(
      core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'replaced' } } }),
      (error: k8s.ApiException<unknown>) => error.code === 409,
    );
  });

  it('allocates a cluster IP to a Service', async () => {
    const service = await apply(
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'web', namespace: 'default' },
        spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] },
      },
      'aks-deploy',
    );
    assert.match((service as k8s.V1Service).spec?.clusterIP ?? '', /^10\.0\.\d+\.\d+$/);
    assert.equal((service as k8s.V1Service).spec?.ports?.[0]?.protocol, 'TCP');
  });

  it('deletes in the background with what the object owns', async () => {
    await apply(deployment('cascade', 2), 'aks-deploy');
    const core = config.makeApiClient(k8s.CoreV1Api);
    await until(
      async () =>
        (await core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=cascade' })).items
          .length === 2,
    );
    await config
      .makeApiClient(k8s.AppsV1Api)
      .deleteNamespacedDeployment({ name: 'cascade', namespace: 'default', propagationPolicy: 'Background' });
    const apps = config.makeApiClient(k8s.AppsV1Api);
    assert.equal(
      (await apps.listNamespacedReplicaSet({ namespace: 'default', labelSelector: 'app=cascade' })).items
        .length,
      0,
    );
    // The pods stop within their grace period (30 s, scaled), then go.
    const stopping = (await core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=cascade' }))
      .items;
    assert.equal(stopping.length, 2);
    assert.ok(
      stopping.every(
        (pod) => pod.metadata?.deletionTimestamp && pod.metadata.deletionGracePeriodSeconds === 30,
      ),
    );
    await until(
      async () =>
        (await core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=cascade' })).items
          .length === 0,
    );
  });

  it('serves instances of an applied CustomResourceDefinition', async () => {
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'widgets.example.com' },
      spec: {
        group: 'example.com',
        scope: 'Namespaced',
        names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
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
    await apply(crd, 'aks-deploy');
    const widget = await apply(
      {
        apiVersion: 'example.com/v1',
        kind: 'Widget',
        metadata: { name: 'w', namespace: 'default' },
        spec: { size: 3 },
      } as k8s.KubernetesObject,
      'aks-deploy',
    );
    assert.equal((widget as unknown as { spec: { size: number } }).spec.size, 3);
    const custom = config.makeApiClient(k8s.CustomObjectsApi);
    const listed = (await custom.listNamespacedCustomObject({
      group: 'example.com',
      version: 'v1',
      namespace: 'default',
      plural: 'widgets',
    })) as { items: unknown[] };
    assert.equal(listed.items.length, 1);
  });
});
