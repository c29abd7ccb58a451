import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { startClusterFixture, type ClusterFixture } from './testing';

// The machine's kubectl against the emulated API server: it must work with it exactly as
// with a real cluster (discovery, OpenAPI probe, server-side apply, watch, logs).
describe('emulated Kubernetes API server (kubectl)', () => {
  let fixture: ClusterFixture;
  const manifest = (replicas: number, image = 'registry.test/shop/api:1.0') => `
apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: shop
spec:
  replicas: ${replicas}
  selector:
    matchLabels: {app: api}
  template:
    metadata:
      labels: {app: api}
    spec:
      containers:
      - name: app
        image: ${image}
        ports: [{containerPort: 8080}]
`;

  before(async () => {
    fixture = await startClusterFixture();
  });
  after(async () => fixture.stop());

  const file = (name: string, text: string): string => {
    const path = join(tmpdir(), `${process.pid}-${name}`);
    writeFileSync(path, text);
    return path;
  };

  it('applies server-side, waits for the rollout, and reads the objects back as JSON', async () => {
    const applied = await fixture.kubectl(['apply', '--server-side', '-f', file('shop.yaml', manifest(3))]);
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stdout, /deployment.apps\/api serverside-applied/);
    const rollout = await fixture.kubectl([
      '-n',
      'shop',
      'rollout',
      'status',
      'deployment/api',
      '--timeout=30s',
    ]);
    assert.equal(rollout.code, 0, rollout.stderr);
    assert.match(rollout.stdout, /deployment "api" successfully rolled out/);
    const read = await fixture.kubectl(['-n', 'shop', 'get', 'deployment', 'api', '-o', 'json']);
    const deployment = JSON.parse(read.stdout) as {
      status: { readyReplicas: number };
      metadata: { annotations: Record<string, string> };
    };
    assert.equal(deployment.status.readyReplicas, 3);
    assert.equal(deployment.metadata.annotations['deployment.kubernetes.io/revision'], '1');
    const pods = JSON.parse(
      (await fixture.kubectl(['-n', 'shop', 'get', 'pods', '-l', 'app=api', '-o', 'json'])).stdout,
    ) as { items: unknown[] };
    assert.equal(pods.items.length, 3);
  });

  it('prints the default columns kubectl shows for deployments and pods', async () => {
    const deployments = await fixture.kubectl(['-n', 'shop', 'get', 'deployments']);
    assert.match(
      deployments.stdout,
      /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\napi\s+3\/3\s+3\s+3\s+\d+s\n$/,
    );
    const pods = await fixture.kubectl(['-n', 'shop', 'get', 'pods']);
    assert.match(
      pods.stdout,
      /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\n(api-\w+-\w+\s+1\/1\s+Running\s+0\s+\d+s\n){3}$/,
    );
  });

  it('prints events with the columns kubectl shows', async () => {
    const events = await fixture.kubectl(['-n', 'shop', 'get', 'events']);
    assert.match(events.stdout, /^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE\n/);
    assert.match(
      events.stdout,
      /Normal\s+ScalingReplicaSet\s+deployment\/api\s+Scaled up replica set api-\w+ from 0 to 3/,
    );
  });

  it('rolls back with kubectl rollout undo to the previous ReplicaSet', async () => {
    const updated = await fixture.kubectl([
      'apply',
      '--server-side',
      '-f',
      file('shop2.yaml', manifest(3, 'registry.test/shop/api:2.0')),
    ]);
    assert.equal(updated.code, 0, updated.stderr);
    assert.equal(
      (await fixture.kubectl(['-n', 'shop', 'rollout', 'status', 'deployment/api', '--timeout=30s'])).code,
      0,
    );
    const undo = await fixture.kubectl(['-n', 'shop', 'rollout', 'undo', 'deployment/api']);
    assert.equal(undo.code, 0, undo.stderr);
    assert.equal(
      (await fixture.kubectl(['-n', 'shop', 'rollout', 'status', 'deployment/api', '--timeout=30s'])).code,
      0,
    );
    const read = JSON.parse(
      (await fixture.kubectl(['-n', 'shop', 'get', 'replicasets', '-o', 'json'])).stdout,
    ) as {
      items: {
        metadata: { annotations: Record<string, string> };
        spec: { replicas: number; template: { spec: { containers: { image: string }[] } } };
      }[];
    };
    // Two ReplicaSets: the first template's came back as revision 3, not a third one.
    assert.equal(read.items.length, 2);
    const current = read.items.find((each) => each.spec.replicas === 3)!;
    assert.equal(current.metadata.annotations['deployment.kubernetes.io/revision'], '3');
    assert.equal(current.spec.template.spec.containers[0]!.image, 'registry.test/shop/api:1.0');
  });

  it('updates an image with kubectl set image (a strategic merge patch) and rolls it out', async () => {
    fixture.cluster.setImageBehaviour('registry.test/shop/api', {});
    const set = await fixture.kubectl([
      '-n',
      'shop',
      'set',
      'image',
      'deployment/api',
      'app=registry.test/shop/api:1.1',
    ]);
    assert.equal(set.code, 0, set.stderr);
    assert.equal(
      (await fixture.kubectl(['-n', 'shop', 'rollout', 'status', 'deployment/api', '--timeout=30s'])).code,
      0,
    );
    const read = JSON.parse(
      (await fixture.kubectl(['-n', 'shop', 'get', 'deployment', 'api', '-o', 'json'])).stdout,
    ) as {
      spec: { template: { spec: { containers: { image: string; ports: unknown[] }[] } } };
    };
    assert.equal(read.spec.template.spec.containers[0]!.image, 'registry.test/shop/api:1.1');
    assert.equal(read.spec.template.spec.containers[0]!.ports.length, 1);
    const back = await fixture.kubectl([
      '-n',
      'shop',
      'set',
      'image',
      'deployment/api',
      'app=registry.test/shop/api:1.0',
    ]);
    assert.equal(back.code, 0, back.stderr);
    assert.equal(
      (await fixture.kubectl(['-n', 'shop', 'rollout', 'status', 'deployment/api', '--timeout=30s'])).code,
      0,
    );
  });

  it('reports a field conflict with the manager and field, and takes it with --force-conflicts', async () => {
    const conflict = await fixture.kubectl([
      'apply',
      '--server-side',
      '--field-manager=other',
      '-f',
      file('shop5.yaml', manifest(5)),
    ]);
    assert.notEqual(conflict.code, 0);
    assert.match(conflict.stderr, /Apply failed with 1 conflict: conflict with "kubectl": \.spec\.replicas/);
    const forced = await fixture.kubectl([
      'apply',
      '--server-side',
      '--field-manager=other',
      '--force-conflicts',
      '-f',
      file('shop5.yaml', manifest(5)),
    ]);
    assert.equal(forced.code, 0, forced.stderr);
  });

  it('scales through the scale subresource, which then owns replicas as the real server words it', async () => {
    const scaled = await fixture.kubectl(['-n', 'shop', 'scale', 'deployment/api', '--replicas=4']);
    assert.equal(scaled.code, 0, scaled.stderr);
    const conflict = await fixture.kubectl([
      'apply',
      '--server-side',
      '--field-manager=other',
      '-f',
      file('shop5b.yaml', manifest(5)),
    ]);
    assert.match(
      conflict.stderr,
      /conflict with "kubectl" with subresource "scale" using apps\/v1: \.spec\.replicas/,
    );
    const forced = await fixture.kubectl([
      'apply',
      '--server-side',
      '--field-manager=other',
      '--force-conflicts',
      '-f',
      file('shop5b.yaml', manifest(5)),
    ]);
    assert.equal(forced.code, 0, forced.stderr);
  });

  it('shows a dry run without changing anything', async () => {
    const dry = await fixture.kubectl([
      'apply',
      '--server-side',
      '--dry-run=server',
      '--force-conflicts',
      '-f',
      file('shop9.yaml', manifest(9)),
    ]);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /\(server dry run\)/);
    const read = JSON.parse(
      (await fixture.kubectl(['-n', 'shop', 'get', 'deployment', 'api', '-o', 'json'])).stdout,
    ) as { spec: { replicas: number } };
    assert.equal(read.spec.replicas, 5);
  });

  it('serves pod logs, and names the previous container when it never restarted', async () => {
    fixture.cluster.setImageBehaviour('registry.test/shop/worker', {
      logs: ['starting', 'listening on :8080'],
    });
    const pod = `apiVersion: v1
kind: Pod
metadata: {name: worker, namespace: shop}
spec:
  containers: [{name: main, image: "registry.test/shop/worker:2"}]
`;
    assert.equal((await fixture.kubectl(['apply', '--server-side', '-f', file('worker.yaml', pod)])).code, 0);
    const waited = await fixture.kubectl([
      '-n',
      'shop',
      'wait',
      '--for=condition=Ready',
      'pod/worker',
      '--timeout=30s',
    ]);
    assert.equal(waited.code, 0, waited.stderr);
    const logs = await fixture.kubectl(['-n', 'shop', 'logs', 'worker', '--tail=1']);
    assert.equal(logs.stdout, 'listening on :8080\n');
    const previous = await fixture.kubectl(['-n', 'shop', 'logs', 'worker', '--previous']);
    assert.match(previous.stderr, /previous terminated container "main" in pod "worker" not found/);
  });

  it('deletes a deployment with its pods and waits until it is gone', async () => {
    const deleted = await fixture.kubectl([
      '-n',
      'shop',
      'delete',
      'deployment',
      'api',
      '--wait=true',
      '--timeout=30s',
    ]);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.match(deleted.stdout, /deployment.apps "api" deleted/);
    // Its pods go in the background, each within its grace period: those still there are
    // Terminating, as on a real cluster, and gone once waited for.
    const left = JSON.parse(
      (await fixture.kubectl(['-n', 'shop', 'get', 'pods', '-l', 'app=api', '-o', 'json'])).stdout,
    ) as { items: { metadata: { deletionTimestamp?: string } }[] };
    assert.ok(left.items.every((pod) => pod.metadata.deletionTimestamp));
    const waited = await fixture.kubectl([
      '-n',
      'shop',
      'wait',
      '--for=delete',
      'pod',
      '-l',
      'app=api',
      '--timeout=30s',
    ]);
    assert.equal(waited.code, 0, waited.stderr);
    const pods = JSON.parse(
      (await fixture.kubectl(['-n', 'shop', 'get', 'pods', '-l', 'app=api', '-o', 'json'])).stdout,
    ) as { items: unknown[] };
    assert.equal(pods.items.length, 0);
  });

  it('answers a read in a missing namespace so that kubectl names the namespace', async () => {
    // kubectl follows a 404 for the object with a GET of its namespace, and reports that one.
    const result = await fixture.kubectl(['-n', 'nowhere', 'get', 'deployment', 'api']);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /namespaces "nowhere" not found/);
  });
});
