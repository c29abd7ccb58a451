import * as k8s from '@kubernetes/client-node';
import { strict as assert } from 'node:assert';
import type { KubeObject } from './object';
import { startClusterFixture, until, type ClusterFixture } from './testing';

// The EndpointSlice and Endpoints controllers, read through the cluster as kube-proxy
// would read what they write.
describe('emulated Kubernetes: EndpointSlices and Endpoints of Services', () => {
  let fixture: ClusterFixture;
  let objects: k8s.KubernetesObjectApi;

  before(async () => {
    fixture = await startClusterFixture();
    fixture.cluster.setImageBehaviour('registry.test/unready', { neverReady: true });
    const config = new k8s.KubeConfig();
    config.loadFromString(fixture.kubeconfig);
    objects = k8s.KubernetesObjectApi.makeApiClient(config);
  });
  after(async () => fixture.stop());

  const apply = (object: KubeObject) =>
    objects.patch(
      object as k8s.KubernetesObject,
      undefined,
      undefined,
      'tests',
      true,
      k8s.PatchStrategy.ServerSideApply,
    );
  const remove = (kind: string, apiVersion: string, name: string) =>
    objects.delete({ kind, apiVersion, metadata: { name, namespace: 'default' } });
  const slices = (service: string) =>
    fixture.cluster
      .listObjects('EndpointSlice', 'default')
      .filter((slice) => slice.metadata.labels?.['kubernetes.io/service-name'] === service);
  const endpoints = (service: string) => fixture.cluster.getObject('Endpoints', 'default', service);
  const pods = (app: string) =>
    fixture.cluster.listObjects('Pod', 'default').filter((pod) => pod.metadata.labels?.app === app);
  const addresses = (service: string) =>
    slices(service)
      .flatMap((slice) => (slice.endpoints ?? []) as KubeObject[])
      .map((each) => each.addresses[0] as string)
      .sort();

  const deployment = (
    name: string,
    replicas: number,
    image = 'registry.test/web:1',
    extra: KubeObject = {},
  ) => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default' },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          terminationGracePeriodSeconds: 100,
          containers: [{ name: 'app', image, ports: [{ name: 'http', containerPort: 8080 }] }],
          ...extra,
        },
      },
    },
  });
  const service = (name: string, spec: KubeObject = {}) => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'default', labels: { tier: 'web' } },
    spec: {
      selector: { app: name },
      ports: [
        { name: 'web', port: 80, targetPort: 'http' },
        { name: 'metrics', port: 9090, targetPort: 9090 },
      ],
      ...spec,
    },
  });

  it('lists the ready pods of a Service in an EndpointSlice it owns, and in its Endpoints', async () => {
    await apply(service('web'));
    await apply(deployment('web', 2));
    await until(
      () =>
        addresses('web').length === 2 &&
        slices('web')[0]!.endpoints.every((e: KubeObject) => e.conditions.ready),
    );
    const [slice, ...others] = slices('web');
    assert.equal(others.length, 0);
    const owner = fixture.cluster.getObject('Service', 'default', 'web')!;
    assert.match(slice!.metadata.name, /^web-[a-z0-9]{5}$/);
    assert.deepEqual(slice!.metadata.labels, {
      tier: 'web',
      'kubernetes.io/service-name': 'web',
      'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
    });
    assert.deepEqual(
      slice!.metadata.ownerReferences.map((each: KubeObject) => [each.kind, each.uid, each.controller]),
      [['Service', owner.metadata.uid, true]],
    );
    assert.equal(slice!.addressType, 'IPv4');
    // Ports by name, the named target port resolved to the container's port.
    assert.deepEqual(slice!.ports, [
      { name: 'web', port: 8080, protocol: 'TCP' },
      { name: 'metrics', port: 9090, protocol: 'TCP' },
    ]);
    const ips = pods('web')
      .map((pod) => pod.status.podIP as string)
      .sort();
    assert.deepEqual(addresses('web'), ips);
    const first = (slice!.endpoints as KubeObject[]).find((each) => each.addresses[0] === ips[0])!;
    const pod = pods('web').find((each) => each.status.podIP === ips[0])!;
    assert.deepEqual(first, {
      addresses: [ips[0]],
      conditions: { ready: true, serving: true, terminating: false },
      nodeName: pod.spec.nodeName,
      targetRef: { kind: 'Pod', namespace: 'default', name: pod.metadata.name, uid: pod.metadata.uid },
    });

    const legacy = endpoints('web')!;
    assert.deepEqual(legacy.metadata.labels, { tier: 'web' });
    assert.equal(legacy.subsets.length, 1);
    assert.deepEqual(
      legacy.subsets[0].addresses.map((each: KubeObject) => each.ip),
      ips,
    );
    assert.equal(legacy.subsets[0].notReadyAddresses, undefined);
    assert.deepEqual(legacy.subsets[0].ports, slice!.ports);
  });

  it('follows the pods as they come and go: a scale up, then a graceful scale down', async () => {
    await apply(deployment('web', 3));
    await until(() => addresses('web').length === 3);
    await apply(deployment('web', 1));
    // The pods being deleted stay in the slice while they stop, serving but not ready, and
    // leave the Endpoints at once.
    await until(() =>
      slices('web')[0]!.endpoints.some((each: KubeObject) => each.conditions.terminating === true),
    );
    const stopping = (slices('web')[0]!.endpoints as KubeObject[]).filter(
      (each) => each.conditions.terminating,
    );
    assert.ok(stopping.every((each) => each.conditions.ready === false && each.conditions.serving === true));
    await until(() => endpoints('web')!.subsets[0].addresses.length === 1);
    await until(() => addresses('web').length === 1);
    const running = pods('web').filter((pod) => !pod.metadata.deletionTimestamp);
    assert.deepEqual(addresses('web'), [running[0]!.status.podIP]);
  });

  it('lists pods that are not ready as such: not ready in the slice, notReadyAddresses in the Endpoints', async () => {
    await apply(service('slow'));
    await apply({
      ...deployment('slow', 2, 'registry.test/unready:1'),
      spec: {
        ...deployment('slow', 2, 'registry.test/unready:1').spec,
        template: {
          metadata: { labels: { app: 'slow' } },
          spec: {
            containers: [
              {
                name: 'app',
                image: 'registry.test/unready:1',
                ports: [{ name: 'http', containerPort: 8080 }],
                readinessProbe: { httpGet: { path: '/ready', port: 8080 } },
              },
            ],
          },
        },
      },
    });
    await until(() => addresses('slow').length === 2);
    for (const each of slices('slow')[0]!.endpoints as KubeObject[])
      assert.deepEqual(each.conditions, { ready: false, serving: false, terminating: false });
    const subset = endpoints('slow')!.subsets[0];
    assert.equal(subset.addresses, undefined);
    assert.equal(subset.notReadyAddresses.length, 2);
  });

  it('keeps a placeholder slice without ports for a Service that selects nothing, and splits pods whose ports differ', async () => {
    await apply(service('none'));
    await until(() => slices('none').length === 1 && !!endpoints('none'));
    assert.deepEqual(slices('none')[0]!.endpoints, []);
    assert.deepEqual(slices('none')[0]!.ports, []);
    assert.equal(endpoints('none')!.subsets, undefined);
    // A pod without the named port serves only the numbered one: it goes in a slice of its own.
    await apply({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'bare', namespace: 'default', labels: { app: 'none' } },
      spec: { containers: [{ name: 'app', image: 'registry.test/bare:1' }] },
    });
    await until(() => addresses('none').length === 1);
    assert.deepEqual(slices('none')[0]!.ports, [{ name: 'metrics', port: 9090, protocol: 'TCP' }]);
    assert.deepEqual(endpoints('none')!.subsets[0].ports, [{ name: 'metrics', port: 9090, protocol: 'TCP' }]);
    await apply({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'full', namespace: 'default', labels: { app: 'none' } },
      spec: {
        containers: [
          { name: 'app', image: 'registry.test/full:1', ports: [{ name: 'http', containerPort: 8081 }] },
        ],
      },
    });
    await until(() => addresses('none').length === 2);
    const portSets = slices('none').map((slice) =>
      (slice.ports as KubeObject[]).map((port) => port.port).join(','),
    );
    assert.deepEqual(portSets.sort(), ['8081,9090', '9090']);
    assert.equal(endpoints('none')!.subsets.length, 2);
  });

  it('leaves a Service without a selector to its users, and takes a Service’s slices and Endpoints away with it', async () => {
    await apply({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'external', namespace: 'default' },
      spec: { ports: [{ port: 5432 }] },
    });
    await apply({
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name: 'external', namespace: 'default' },
      subsets: [{ addresses: [{ ip: '192.0.2.10' }], ports: [{ port: 5432 }] }],
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(slices('external').length, 0);
    assert.deepEqual(endpoints('external')!.subsets[0].addresses, [{ ip: '192.0.2.10' }]);

    await remove('Service', 'v1', 'web');
    await until(() => slices('web').length === 0 && !endpoints('web'));
  });

  it('moves the endpoints when the selector changes', async () => {
    await apply(service('slow', { selector: { app: 'none' } }));
    await until(
      () => addresses('slow').length === 2 && addresses('slow').every((ip) => addresses('none').includes(ip)),
    );
    await until(() => endpoints('slow')!.subsets.length === 2);
    assert.equal(
      endpoints('slow')!.subsets.flatMap((subset: KubeObject) => subset.notReadyAddresses ?? []).length,
      0,
    );
  });
});
