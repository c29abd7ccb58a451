import { strict as assert } from 'node:assert';
import { EmulatedCluster } from './cluster';
import type { KubeObject } from './object';
import { decodeProtobuf, encodeProtobuf, prefersProtobuf, protobufMediaType } from './protobuf';

// Bodies kubectl 1.32.5 sent to the emulated API server (captured off the wire), and the
// JSON kubectl 1.31 sends for the same commands.
const sent = {
  'kubectl create configmap late --from-literal=a=b': {
    hex: '6b3873000a0f0a0276311209436f6e6669674d6170121e0a140a046c61746512001a0022002a0032003800420012060a01611201621a002200',
    json: { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'late' }, data: { a: 'b' } },
  },
  'kubectl auth can-i create deployments': {
    hex: '6b3873000a320a17617574686f72697a6174696f6e2e6b38732e696f2f7631121753656c665375626a656374416363657373526576696577124a0a100a0012001a0022002a00320038004200122c0a2a0a0764656661756c7412066372656174651a046170707322002a0b6465706c6f796d656e747332003a001a08080012001a0020001a002200',
    json: {
      kind: 'SelfSubjectAccessReview',
      apiVersion: 'authorization.k8s.io/v1',
      metadata: {},
      spec: {
        resourceAttributes: { namespace: 'default', verb: 'create', group: 'apps', resource: 'deployments' },
      },
      status: { allowed: false },
    },
  },
  'kubectl create deployment d --image=x': {
    hex: '6b3873000a150a07617070732f7631120a4465706c6f796d656e74129b010a1b0a016412001a0022002a003200380042005a080a03617070120164126e0801120a0a080a036170701201641a560a1a0a0012001a0022002a003200380042005a080a036170701201641238121a0a01781201782a0042006a007200800100880100900100a201001a00320042004a0052005800600068008201008a01009a0100c2010022020a00280038001a0c0800100018002000280038001a002200',
    json: {
      kind: 'Deployment',
      apiVersion: 'apps/v1',
      metadata: { name: 'd', labels: { app: 'd' } },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'd' } },
        template: {
          metadata: { labels: { app: 'd' } },
          spec: { containers: [{ name: 'x', image: 'x', resources: {} }] },
        },
        strategy: {},
      },
      status: {},
    },
  },
};

// The special JSON forms a Deployment has: times, quantities, int-or-strings, inlined
// structs (a volume's source, a key selector's name), raw JSON (managedFields), and
// pointers whose zero counts (replicas: 0, automountServiceAccountToken: false).
const deployment: KubeObject = {
  kind: 'Deployment',
  apiVersion: 'apps/v1',
  metadata: {
    name: 'api',
    namespace: 'shop',
    uid: '0b5b4c4e-6f0a-4d2e-9a43-0d8f7c1f2a10',
    resourceVersion: '42',
    generation: 3,
    creationTimestamp: '2025-01-02T03:04:05Z',
    labels: { app: 'api' },
    managedFields: [
      {
        manager: 'kubectl',
        operation: 'Apply',
        apiVersion: 'apps/v1',
        time: '2025-01-02T03:04:05Z',
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:spec': { 'f:replicas': {} } },
      },
    ],
  },
  spec: {
    replicas: 0,
    selector: { matchLabels: { app: 'api' } },
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: 1 } },
    template: {
      metadata: { labels: { app: 'api' } },
      spec: {
        terminationGracePeriodSeconds: 0,
        automountServiceAccountToken: false,
        volumes: [{ name: 'config', configMap: { name: 'settings', defaultMode: 420 } }],
        containers: [
          {
            name: 'app',
            image: 'registry.test/api:1',
            ports: [{ containerPort: 8080, protocol: 'TCP' }],
            env: [{ name: 'MODE', valueFrom: { configMapKeyRef: { name: 'settings', key: 'mode' } } }],
            resources: { requests: { cpu: '250m', memory: '64Mi' } },
            readinessProbe: { httpGet: { path: '/ready', port: 'http' }, periodSeconds: 5 },
          },
        ],
      },
    },
  },
  status: {
    replicas: 2,
    conditions: [
      {
        type: 'Available',
        status: 'True',
        lastUpdateTime: '2025-01-02T03:04:06Z',
        lastTransitionTime: '2025-01-02T03:04:06Z',
        reason: 'MinimumReplicasAvailable',
        message: 'Deployment has minimum availability.',
      },
    ],
  },
};

describe('the API server protobuf encoding (protobufjs over the Kubernetes .proto files)', () => {
  for (const [command, { hex, json }] of Object.entries(sent)) {
    it(`reads what ${command} sends as the JSON kubectl 1.31 sends, less its null creationTimestamp`, () => {
      assert.deepEqual(decodeProtobuf(Buffer.from(hex, 'hex')), json);
    });
  }

  it('writes an object that reads back the same: times, quantities, int-or-strings, inlined structs, raw JSON, zero pointers', () => {
    const encoded = encodeProtobuf(deployment)!;
    assert.deepEqual([...encoded.subarray(0, 4)], [0x6b, 0x38, 0x73, 0x00]);
    assert.deepEqual(decodeProtobuf(encoded), deployment);
  });

  it('writes bytes as base64, MicroTime with microseconds and Go slices as arrays', () => {
    const secret = {
      kind: 'Secret',
      apiVersion: 'v1',
      metadata: { name: 's' },
      type: 'Opaque',
      data: { a: 'c2VjcmV0' },
    };
    assert.deepEqual(decodeProtobuf(encodeProtobuf(secret)!), secret);
    const event = {
      kind: 'Event',
      apiVersion: 'events.k8s.io/v1',
      metadata: { name: 'e', namespace: 'default' },
      eventTime: '2025-01-02T03:04:05.123456Z',
      reason: 'Started',
      regarding: { kind: 'Pod', name: 'p' },
    };
    assert.deepEqual(decodeProtobuf(encodeProtobuf(event)!), event);
    const review = {
      kind: 'SelfSubjectReview',
      apiVersion: 'authentication.k8s.io/v1',
      metadata: {},
      status: { userInfo: { username: 'u', groups: ['g'], extra: { scopes: ['a', 'b'] } } },
    };
    assert.deepEqual(decodeProtobuf(encodeProtobuf(review)!), review);
  });

  it('writes lists and a Status (meta/v1) under the apiVersion they carry', () => {
    const list = { kind: 'ConfigMapList', apiVersion: 'v1', metadata: { resourceVersion: '7' }, items: [] };
    // An empty repeated field is not written: the list reads back without items, as Go's nil slice.
    assert.deepEqual(decodeProtobuf(encodeProtobuf(list)!), {
      kind: 'ConfigMapList',
      apiVersion: 'v1',
      metadata: list.metadata,
    });
    const status = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'configmaps "x" not found',
      reason: 'NotFound',
      details: { name: 'x', kind: 'configmaps' },
      code: 404,
    };
    assert.deepEqual(decodeProtobuf(encodeProtobuf(status)!), status);
  });

  it('has no protobuf form for a custom resource: JSON is answered, a protobuf body refused with 415', () => {
    assert.equal(
      encodeProtobuf({ kind: 'Widget', apiVersion: 'example.com/v1', metadata: { name: 'w' } }),
      undefined,
    );
    assert.equal(
      encodeProtobuf({ kind: 'Deployment', apiVersion: 'apps.example.com/v1', metadata: {} }),
      undefined,
    );
    // kind example.com/v1 Widget in the envelope, written field by field.
    const field = (number: number, bytes: Buffer) =>
      Buffer.concat([Buffer.from([(number << 3) | 2, bytes.length]), bytes]);
    const typeMeta = Buffer.concat([
      field(1, Buffer.from('example.com/v1')),
      field(2, Buffer.from('Widget')),
    ]);
    const body = Buffer.concat([
      Buffer.from('k8s\0', 'latin1'),
      field(1, typeMeta),
      field(2, Buffer.alloc(0)),
    ]);
    assert.throws(
      () => decodeProtobuf(body),
      (error: { code?: number }) => error.code === 415,
    );
  });

  it('refuses a body without the envelope with 400', () => {
    assert.throws(
      () => decodeProtobuf(Buffer.from('{"kind":"ConfigMap"}')),
      (error: { code?: number; message?: string }) =>
        error.code === 400 && /does not appear to be a protobuf message/.test(error.message ?? ''),
    );
  });

  it('is what a client gets when protobuf is its first choice, and only then', () => {
    assert.equal(prefersProtobuf(`${protobufMediaType},application/json`), true);
    assert.equal(prefersProtobuf('application/json, */*'), false);
    assert.equal(prefersProtobuf(`application/json,${protobufMediaType}`), false);
    assert.equal(prefersProtobuf(`${protobufMediaType};as=Table;v=v1;g=meta.k8s.io,application/json`), false);
    assert.equal(prefersProtobuf(undefined), false);
  });
});

describe('the emulated API server speaks protobuf to a client that does', () => {
  const cluster = new EmulatedCluster({ name: 'proto', tokens: ['t'], timeScale: 0.01 });
  after(() => cluster.stop());
  const request = async (
    method: string,
    path: string,
    headers: Record<string, string>,
    body = Buffer.alloc(0),
  ) => {
    const response = await cluster.handler({
      method,
      url: new URL(`https://${cluster.host}${path}`),
      headers: { authorization: 'Bearer t', ...headers },
      body,
    });
    return response!;
  };
  const protobufClient = {
    accept: `${protobufMediaType},application/json`,
    'content-type': protobufMediaType,
  };

  it('creates from a protobuf body and answers in protobuf', async () => {
    const created = await request(
      'POST',
      '/api/v1/namespaces/default/configmaps?fieldManager=kubectl-create',
      protobufClient,
      Buffer.from(sent['kubectl create configmap late --from-literal=a=b'].hex, 'hex'),
    );
    assert.equal(created.status, 201);
    assert.equal(created.headers?.['content-type'], protobufMediaType);
    const object = decodeProtobuf(created.body as Buffer);
    assert.deepEqual(object.data, { a: 'b' });
    assert.equal(object.metadata.namespace, 'default');
    assert.equal(object.metadata.managedFields[0].manager, 'kubectl-create');
    assert.match(object.metadata.creationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('answers the same object as JSON to a JSON client, and an error as a protobuf Status', async () => {
    const read = await request('GET', '/api/v1/namespaces/default/configmaps/late', {
      accept: 'application/json',
    });
    assert.equal(read.headers?.['content-type'], 'application/json');
    assert.deepEqual((read.body as KubeObject).data, { a: 'b' });
    const missing = await request('GET', '/api/v1/namespaces/default/configmaps/none', protobufClient);
    assert.equal(missing.status, 404);
    assert.equal(decodeProtobuf(missing.body as Buffer).reason, 'NotFound');
  });

  it('answers a review sent in protobuf (kubectl auth can-i)', async () => {
    const review = await request(
      'POST',
      '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
      protobufClient,
      Buffer.from(sent['kubectl auth can-i create deployments'].hex, 'hex'),
    );
    assert.equal(review.status, 201);
    assert.equal(decodeProtobuf(review.body as Buffer).status.allowed, true);
  });
});
