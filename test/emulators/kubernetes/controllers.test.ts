import * as k8s from '@kubernetes/client-node';
import { strict as assert } from 'node:assert';
import { startClusterFixture, until, type ClusterFixture } from './testing';
import type { KubeObject } from './object';

// The simulated controllers at a fast time scale (0.01: a 600 s deadline is 6 s), read
// through the API as a deploy task would read them.
describe('emulated Kubernetes controllers', () => {
  let fixture: ClusterFixture;
  let objects: k8s.KubernetesObjectApi;
  const missing = new Set<string>();

  before(async () => {
    fixture = await startClusterFixture({ imageExists: async (image) => !missing.has(image) });
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
  const get = (kind: string, name: string) => fixture.cluster.getObject(kind, 'default', name)!;
  // The pods that run: those being deleted (stopping within their grace period) are left out.
  const pods = (label: string) =>
    fixture.cluster
      .listObjects('Pod', 'default')
      .filter((pod) => pod.metadata.labels?.app === label && !pod.metadata.deletionTimestamp);
  const events = (name: string) =>
    fixture.cluster.listObjects('Event', 'default').filter((event) => event.involvedObject.name === name);
  const condition = (object: KubeObject, type: string) =>
    ((object.status?.conditions ?? []) as KubeObject[]).find((each) => each.type === type);

  const template = (app: string, image: string, extra: KubeObject = {}) => ({
    metadata: { labels: { app } },
    spec: { containers: [{ name: 'app', image }], ...extra },
  });
  const deployment = (name: string, image: string, spec: KubeObject = {}) => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default' },
    spec: { replicas: 3, selector: { matchLabels: { app: name } }, template: template(name, image), ...spec },
  });

  it('rolls a Deployment out through ReplicaSets and Pods, with the real status and conditions', async () => {
    await apply(deployment('web', 'registry.test/web:1'));
    await until(() => get('Deployment', 'web').status?.availableReplicas === 3);
    const web = get('Deployment', 'web');
    assert.equal(web.status.observedGeneration, 1);
    assert.equal(web.status.updatedReplicas, 3);
    assert.equal(web.status.readyReplicas, 3);
    assert.equal(condition(web, 'Available')?.reason, 'MinimumReplicasAvailable');
    assert.equal(condition(web, 'Progressing')?.reason, 'NewReplicaSetAvailable');
    assert.equal(web.metadata.annotations['deployment.kubernetes.io/revision'], '1');
    const replicaSets = fixture.cluster
      .listObjects('ReplicaSet', 'default')
      .filter((each) => each.metadata.name.startsWith('web-'));
    assert.equal(replicaSets.length, 1);
    const hash = replicaSets[0]!.metadata.labels['pod-template-hash'];
    assert.equal(replicaSets[0]!.metadata.name, `web-${hash}`);
    assert.ok(pods('web').every((pod) => pod.metadata.labels['pod-template-hash'] === hash));
    const pod = pods('web')[0]!;
    assert.equal(condition(pod, 'Ready')?.status, 'True');
    assert.match(pod.status.containerStatuses[0].imageID, /^registry\.test\/web@sha256:[0-9a-f]{64}$/);
  });

  it('rolls an update to a new ReplicaSet, scales the old one down, and rolls back by patching the template', async () => {
    await apply(deployment('web', 'registry.test/web:2'));
    await until(() => {
      const web = get('Deployment', 'web');
      return (
        web.status?.observedGeneration === 2 &&
        web.status?.updatedReplicas === 3 &&
        web.status?.replicas === 3 &&
        condition(web, 'Progressing')?.reason === 'NewReplicaSetAvailable'
      );
    });
    const replicaSets = fixture.cluster
      .listObjects('ReplicaSet', 'default')
      .filter((each) => each.metadata.name.startsWith('web-'));
    const byRevision = new Map(
      replicaSets.map((each) => [each.metadata.annotations['deployment.kubernetes.io/revision'], each]),
    );
    assert.equal(byRevision.get('1')!.spec.replicas, 0);
    assert.equal(byRevision.get('2')!.spec.replicas, 3);
    assert.ok(pods('web').every((pod) => pod.spec.containers[0].image === 'registry.test/web:2'));
    assert.ok(
      events('web').some((event) => /^Scaled down replica set web-\w+ from \d to \d$/.test(event.message)),
    );

    // A rollback is a write of the old template; its ReplicaSet becomes the newest revision.
    const previous = byRevision.get('1')!.spec.template;
    delete previous.metadata.labels['pod-template-hash'];
    await objects.patch(
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web', namespace: 'default' },
        spec: { template: previous },
      } as k8s.KubernetesObject,
      undefined,
      undefined,
      'rollback',
      undefined,
      k8s.PatchStrategy.StrategicMergePatch,
    );
    await until(
      () =>
        get('Deployment', 'web').status?.updatedReplicas === 3 &&
        pods('web').every((pod) => pod.spec.containers[0].image === 'registry.test/web:1') &&
        pods('web').length === 3,
    );
    assert.equal(get('Deployment', 'web').metadata.annotations['deployment.kubernetes.io/revision'], '3');
  });

  it('counts a pod available only minReadySeconds (scaled) after it became ready', async () => {
    await apply(deployment('slow-start', 'registry.test/web:1', { replicas: 2, minReadySeconds: 100 }));
    await until(() => get('Deployment', 'slow-start').status?.readyReplicas === 2);
    assert.equal(get('Deployment', 'slow-start').status.availableReplicas, undefined);
    await until(() => get('Deployment', 'slow-start').status?.availableReplicas === 2);
  });

  it('reports ProgressDeadlineExceeded when pods never become ready within progressDeadlineSeconds', async () => {
    fixture.cluster.setImageBehaviour('registry.test/stuck', { neverReady: true });
    const stuck = deployment('stuck', 'registry.test/stuck:1', { replicas: 2, progressDeadlineSeconds: 100 });
    stuck.spec.template.spec.containers[0] = {
      ...stuck.spec.template.spec.containers[0]!,
      readinessProbe: { httpGet: { path: '/ready', port: 8080 } },
    } as (typeof stuck.spec.template.spec.containers)[0];
    await apply(stuck);
    await until(
      () => condition(get('Deployment', 'stuck'), 'Progressing')?.reason === 'ProgressDeadlineExceeded',
    );
    const progressing = condition(get('Deployment', 'stuck'), 'Progressing')!;
    assert.equal(progressing.status, 'False');
    assert.match(progressing.message, /^ReplicaSet "stuck-\w+" has timed out progressing\.$/);
    assert.equal(condition(get('Deployment', 'stuck'), 'Available')?.status, 'False');
    assert.ok(
      events(pods('stuck')[0]!.metadata.name).some(
        (event) =>
          event.reason === 'Unhealthy' &&
          event.message === 'Readiness probe failed: HTTP probe failed with statuscode: 503',
      ),
    );
  });

  it('shows ErrImagePull then ImagePullBackOff, with Failed events naming the image', async () => {
    missing.add('registry.test/web:missing');
    await apply(deployment('pull', 'registry.test/web:missing', { replicas: 1 }));
    await until(
      () => pods('pull')[0]?.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ImagePullBackOff',
    );
    const pod = pods('pull')[0]!;
    assert.equal(pod.status.phase, 'Pending');
    assert.equal(
      pod.status.containerStatuses[0].state.waiting.message,
      'Back-off pulling image "registry.test/web:missing"',
    );
    const failed = events(pod.metadata.name).filter((event) => event.reason === 'Failed');
    assert.ok(
      failed.some((event) => event.message.startsWith('Failed to pull image "registry.test/web:missing": ')),
    );
    assert.ok(failed.some((event) => event.message === 'Error: ImagePullBackOff'));
    assert.equal(failed[0]!.type, 'Warning');
    assert.equal(failed[0]!.involvedObject.kind, 'Pod');
  });

  it('crash-loops a container with restarts, the last exit code and its logs', async () => {
    fixture.cluster.setImageBehaviour('registry.test/crash:1', {
      exitAfterMs: 10,
      exitCode: 3,
      logs: ['booting', 'panic: no config'],
    });
    await apply(deployment('crash', 'registry.test/crash:1', { replicas: 1 }));
    await until(() => Number(pods('crash')[0]?.status?.containerStatuses?.[0]?.restartCount) >= 2);
    const pod = pods('crash')[0]!;
    const status = pod.status.containerStatuses[0];
    assert.equal(pod.status.phase, 'Running');
    assert.equal(status.lastState.terminated.exitCode, 3);
    assert.equal(status.lastState.terminated.reason, 'Error');
    const logs = await fixture.kubectl(['logs', pod.metadata.name, '--previous']);
    assert.equal(logs.stdout, 'booting\npanic: no config\n');
    await until(
      () => pods('crash')[0]?.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CrashLoopBackOff',
    );
    assert.match(
      pods('crash')[0]!.status.containerStatuses[0].state.waiting.message,
      /^back-off \d+s restarting failed container=app pod=crash-/,
    );
    assert.ok(events(pod.metadata.name).some((event) => event.reason === 'BackOff'));
  });

  it('leaves pods that fit no node Unschedulable with a FailedScheduling event', async () => {
    await apply(
      deployment('picky', 'registry.test/web:1', {
        replicas: 1,
        template: template('picky', 'registry.test/web:1', { nodeSelector: { gpu: 'true' } }),
      }),
    );
    await until(() => condition(pods('picky')[0] ?? {}, 'PodScheduled')?.reason === 'Unschedulable');
    const pod = pods('picky')[0]!;
    assert.equal(condition(pod, 'PodScheduled')!.status, 'False');
    assert.match(
      condition(pod, 'PodScheduled')!.message,
      /^0\/3 nodes are available: 3 node\(s\) didn't match Pod's node affinity\/selector\./,
    );
    assert.ok(events(pod.metadata.name).some((event) => event.reason === 'FailedScheduling'));
    const big = template('big', 'registry.test/web:1');
    (big.spec.containers[0] as KubeObject).resources = { requests: { cpu: '64' } };
    await apply(deployment('big', 'registry.test/web:1', { replicas: 1, template: big }));
    await until(() =>
      /Insufficient cpu/.test(condition(pods('big')[0] ?? {}, 'PodScheduled')?.message ?? ''),
    );
  });

  it('schedules pods whose requests fit a node, as the nodes report their allocatable resources', async () => {
    const modest = template('modest', 'registry.test/web:1');
    (modest.spec.containers[0] as KubeObject).resources = { requests: { cpu: '50m', memory: '64Mi' } };
    await apply(deployment('modest', 'registry.test/web:1', { replicas: 1, template: modest }));
    await until(() => condition(pods('modest')[0] ?? {}, 'PodScheduled')?.status === 'True');
  });

  it('runs a StatefulSet in order, and updates it from the highest ordinal down to the partition', async () => {
    const statefulSet = (image: string, partition: number) => ({
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'db', namespace: 'default' },
      spec: {
        replicas: 3,
        serviceName: 'db',
        selector: { matchLabels: { app: 'db' } },
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition } },
        template: template('db', image),
      },
    });
    await apply(statefulSet('registry.test/db:1', 0));
    await until(() => get('StatefulSet', 'db').status?.readyReplicas === 3);
    const first = get('StatefulSet', 'db').status;
    assert.equal(first.currentRevision, first.updateRevision);
    assert.deepEqual(
      pods('db')
        .map((pod) => pod.metadata.name)
        .sort(),
      ['db-0', 'db-1', 'db-2'],
    );
    await apply(statefulSet('registry.test/db:2', 2));
    await until(
      () =>
        get('StatefulSet', 'db').status?.updatedReplicas === 1 &&
        get('StatefulSet', 'db').status?.readyReplicas === 3,
    );
    const partial = get('StatefulSet', 'db').status;
    assert.notEqual(partial.updateRevision, partial.currentRevision);
    assert.equal(get('Pod', 'db-2').spec.containers[0].image, 'registry.test/db:2');
    assert.equal(get('Pod', 'db-0').spec.containers[0].image, 'registry.test/db:1');
    const rollout = await fixture.kubectl(['rollout', 'status', 'statefulset/db', '--timeout=30s']);
    assert.match(rollout.stdout, /partitioned roll out complete: 1 new pods have been updated/);
    await apply(statefulSet('registry.test/db:2', 0));
    await until(
      () =>
        get('StatefulSet', 'db').status?.currentRevision ===
          get('StatefulSet', 'db').status?.updateRevision &&
        get('StatefulSet', 'db').status?.readyReplicas === 3,
    );
    const revisions = fixture.cluster
      .listObjects('ControllerRevision', 'default')
      .filter((each) => each.metadata.name.startsWith('db-'));
    assert.equal(revisions.length, 2);
  });

  it('runs a DaemonSet on every matching node and rolls it node by node', async () => {
    const daemonSet = (image: string) => ({
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'agent', namespace: 'default' },
      spec: {
        selector: { matchLabels: { app: 'agent' } },
        template: template('agent', image, { nodeSelector: { 'kubernetes.io/os': 'linux' } }),
      },
    });
    await apply(daemonSet('registry.test/agent:1'));
    await until(() => get('DaemonSet', 'agent').status?.numberAvailable === 3);
    assert.equal(get('DaemonSet', 'agent').status.desiredNumberScheduled, 3);
    await apply(daemonSet('registry.test/agent:2'));
    const rollout = await fixture.kubectl(['rollout', 'status', 'daemonset/agent', '--timeout=30s']);
    assert.equal(rollout.code, 0, rollout.stderr);
    assert.match(rollout.stdout, /daemon set "agent" successfully rolled out/);
    assert.equal(get('DaemonSet', 'agent').status.updatedNumberScheduled, 3);
    assert.ok(pods('agent').every((pod) => pod.spec.containers[0].image === 'registry.test/agent:2'));
    // Back to the first template: its ControllerRevision is reused and becomes the newest
    // (controller_history's "update the revision number of an equal revision"), which is
    // what kubectl rollout undo reads to pick the previous one.
    await apply(daemonSet('registry.test/agent:1'));
    const back = await fixture.kubectl(['rollout', 'status', 'daemonset/agent', '--timeout=30s']);
    assert.equal(back.code, 0, back.stderr);
    const revisions = fixture.cluster
      .listObjects('ControllerRevision', 'default')
      .filter((each) => each.metadata.name.startsWith('agent-'))
      .map((each) => [each.data.spec.template.spec.containers[0].image, each.revision]);
    assert.deepEqual(revisions.sort(), [
      ['registry.test/agent:1', 3],
      ['registry.test/agent:2', 2],
    ]);
  });

  it('completes a Job, and fails one past its backoffLimit', async () => {
    fixture.cluster.setImageBehaviour('registry.test/migrate:ok', { exitAfterMs: 20, exitCode: 0 });
    fixture.cluster.setImageBehaviour('registry.test/migrate:bad', { exitAfterMs: 5, exitCode: 2 });
    const job = (name: string, image: string) => ({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name, namespace: 'default' },
      spec: {
        backoffLimit: 1,
        template: { spec: { restartPolicy: 'Never', containers: [{ name: 'migrate', image }] } },
      },
    });
    await apply(job('migrate', 'registry.test/migrate:ok'));
    await until(() => condition(get('Job', 'migrate'), 'Complete')?.status === 'True');
    assert.equal(get('Job', 'migrate').status.succeeded, 1);
    await apply(job('broken', 'registry.test/migrate:bad'));
    await until(() => condition(get('Job', 'broken'), 'Failed')?.status === 'True');
    const failed = condition(get('Job', 'broken'), 'Failed')!;
    assert.equal(failed.reason, 'BackoffLimitExceeded');
    assert.equal(failed.message, 'Job has reached the specified backoff limit');
    assert.equal(get('Job', 'broken').status.failed, 2);
  });
});
