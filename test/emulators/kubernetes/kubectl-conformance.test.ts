import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findKubectlReleases, runKubectl, startClusterFixture, type ClusterFixture } from './testing';

/**
 * The kubectl conformance table: the machine's real kubectl, run as a user runs it, against
 * the emulated API server, each invocation with the exit code and the key output a real
 * AKS 1.31 cluster gives. A change that makes the emulator tell itself apart from a real
 * API server fails here. The steps run in order, each on what the ones before it left.
 * The table runs once with each kubectl release the machine has of those a user may point
 * at such a cluster: 1.31 speaks JSON, 1.32's typed clients speak protobuf.
 */
interface Step {
  readonly name: string;
  readonly args: readonly string[];
  /** Arranges what the step needs first (an authorizer, an image's behaviour). */
  readonly before?: (fixture: ClusterFixture) => void;
  readonly code: number;
  readonly stdout?: readonly RegExp[];
  readonly stderr?: readonly RegExp[];
  /** Patterns the output must not show. */
  readonly notStdout?: readonly RegExp[];
}

const shop = `apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  replicas: 2
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
      - name: app
        image: registry.test/shop/api:1.0
        readinessProbe: {httpGet: {path: /ready, port: 8080}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: shop}
data: {mode: live, region: westeurope}
---
apiVersion: v1
kind: Secret
metadata: {name: credentials, namespace: shop}
stringData: {password: not-a-real-one}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec:
  selector: {app: api}
  ports: [{port: 80, targetPort: 8080}]
`;

const crdAndWidget = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer, description: How many parts the widget has.}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: w1, namespace: default}
spec: {size: 3}
`;

// Pods that take 200 s (2 s at the fixture's time scale) to stop, so that a deletion's
// intermediate states can be read.
const workload = (name: string, namespace = 'default'): string => `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: ${namespace}}
spec:
  replicas: 2
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      terminationGracePeriodSeconds: 200
      containers: [{name: app, image: "registry.test/${name}:1"}]
`;

const worker = `apiVersion: v1
kind: Pod
metadata: {name: worker, namespace: default}
spec:
  terminationGracePeriodSeconds: 100
  containers: [{name: main, image: "registry.test/worker:1"}]
`;

for (const kubectl of findKubectlReleases(['1.31', '1.32'])) {
  if ('absent' in kubectl) {
    describe(`kubectl ${kubectl.release} conformance`, () => {
      console.log(`      kubectl ${kubectl.release} conformance skipped: ${kubectl.absent}`);
      it.skip(`skipped: ${kubectl.absent}`);
    });
    continue;
  }
  describe(`kubectl ${kubectl.release} conformance (${kubectl.version}): the real kubectl against the emulated API server`, () =>
    conformanceTable(kubectl.binary));
}

function conformanceTable(binary: string): void {
  let fixture: ClusterFixture;
  let folder: string;
  // A manifest by name in the steps (`@shop.yaml`), its path once the folder exists.
  const file = (name: string): string => `@${name}`;
  const resolved = (arg: string): string => (arg.startsWith('@') ? join(folder, arg.slice(1)) : arg);
  const write = (name: string, text: string): void => writeFileSync(join(folder, name), text);

  before(async () => {
    fixture = await startClusterFixture();
    folder = mkdtempSync(join(tmpdir(), 'kubectl-conformance-'));
    write('shop.yaml', shop);
    write('shop-3.yaml', shop.replace('replicas: 2', 'replicas: 3'));
    write('crd.yaml', crdAndWidget);
    write('web.yaml', workload('web'));
    write('keep.yaml', workload('keep'));
    write('worker.yaml', worker);
    write(
      'gone.yaml',
      `apiVersion: v1\nkind: Namespace\nmetadata: {name: gone}\n---\n${workload('app', 'gone')}`,
    );
  });
  after(async () => {
    await fixture.stop();
    rmSync(folder, { recursive: true, force: true });
  });

  const steps = (): Step[] => [
    // Discovery and OpenAPI.
    { name: 'version', args: ['version'], code: 0, stdout: [/Server Version: v1\.31\.3/] },
    {
      name: 'api-resources lists the reviews, EndpointSlices, both autoscaling versions and podtemplates',
      args: ['api-resources'],
      code: 0,
      stdout: [
        /^selfsubjectaccessreviews\s+authorization\.k8s\.io\/v1\s+false\s+SelfSubjectAccessReview$/m,
        /^selfsubjectrulesreviews\s+authorization\.k8s\.io\/v1\s+false\s+SelfSubjectRulesReview$/m,
        /^selfsubjectreviews\s+authentication\.k8s\.io\/v1\s+false\s+SelfSubjectReview$/m,
        /^endpointslices\s+discovery\.k8s\.io\/v1\s+true\s+EndpointSlice$/m,
        /^horizontalpodautoscalers\s+hpa\s+autoscaling\/v2\s+true\s+HorizontalPodAutoscaler$/m,
        /^podtemplates\s+v1\s+true\s+PodTemplate$/m,
        /^events\s+ev\s+events\.k8s\.io\/v1\s+true\s+Event$/m,
      ],
    },
    {
      name: 'api-versions',
      args: ['api-versions'],
      code: 0,
      stdout: [
        /^autoscaling\/v1$/m,
        /^autoscaling\/v2$/m,
        /^discovery\.k8s\.io\/v1$/m,
        /^authorization\.k8s\.io\/v1$/m,
      ],
    },
    {
      name: 'explain reads the OpenAPI v3 schemas of the built-in kinds',
      args: ['explain', 'deployment.spec.replicas'],
      code: 0,
      stdout: [/FIELD: replicas <integer>/, /Number of desired pods/],
    },
    {
      name: 'explain --output=plaintext-openapiv2 reads the OpenAPI v2 document (protobuf)',
      args: ['explain', 'pods.spec.terminationGracePeriodSeconds', '--output=plaintext-openapiv2'],
      code: 0,
      stdout: [/FIELD:\s+terminationGracePeriodSeconds <integer>/, /Optional duration in seconds/],
    },

    // Server-side apply, rollout, diff.
    {
      name: 'apply --server-side',
      args: ['apply', '--server-side', '-f', file('shop.yaml')],
      code: 0,
      stdout: [
        /namespace\/shop serverside-applied/,
        /deployment\.apps\/api serverside-applied/,
        /secret\/credentials serverside-applied/,
      ],
    },
    {
      name: 'rollout status',
      args: ['-n', 'shop', 'rollout', 'status', 'deployment/api', '--timeout=30s'],
      code: 0,
      stdout: [/deployment "api" successfully rolled out/],
    },
    {
      name: 'diff --server-side shows the change and exits 1',
      args: ['diff', '--server-side', '-f', file('shop-3.yaml')],
      code: 1,
      stdout: [/^-\s+replicas: 2$/m, /^\+\s+replicas: 3$/m],
    },
    {
      name: 'rollout history',
      args: ['-n', 'shop', 'rollout', 'history', 'deployment/api'],
      code: 0,
      stdout: [/REVISION\s+CHANGE-CAUSE/, /^1\s+<none>$/m],
    },
    {
      name: 'describe',
      args: ['-n', 'shop', 'describe', 'deployment', 'api'],
      code: 0,
      stdout: [
        /Replicas:\s+2 desired \| 2 updated \| 2 total \| 2 available \| 0 unavailable/,
        /Readiness:\s+http-get/,
      ],
    },

    // Tables.
    {
      name: 'get pods -o wide shows the pod IP and node',
      args: ['-n', 'shop', 'get', 'pods', '-o', 'wide'],
      code: 0,
      stdout: [
        /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES$/m,
        /^api-\S+\s+1\/1\s+Running\s+0\s+\S+\s+10\.244\.\d+\.\d+\s+aks-nodepool1-\d+-vmss00000\d\s+<none>\s+<none>$/m,
      ],
    },
    {
      name: 'get deployments -o wide shows containers, images and selector',
      args: ['-n', 'shop', 'get', 'deployments', '-o', 'wide'],
      code: 0,
      stdout: [
        /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\s+CONTAINERS\s+IMAGES\s+SELECTOR$/m,
        /^api\s+2\/2\s+2\s+2\s+\S+\s+app\s+registry\.test\/shop\/api:1\.0\s+app=api$/m,
      ],
    },
    {
      name: 'get configmaps shows their data count',
      args: ['-n', 'shop', 'get', 'configmaps', 'settings'],
      code: 0,
      stdout: [/^NAME\s+DATA\s+AGE$/m, /^settings\s+2\s+/m],
    },
    {
      name: 'get secrets shows their type',
      args: ['-n', 'shop', 'get', 'secrets', 'credentials'],
      code: 0,
      stdout: [/^NAME\s+TYPE\s+DATA\s+AGE$/m, /^credentials\s+Opaque\s+1\s+/m],
    },
    {
      name: 'get nodes -o wide',
      args: ['get', 'nodes', '-o', 'wide'],
      code: 0,
      stdout: [
        /^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION\s+INTERNAL-IP\s+EXTERNAL-IP\s+OS-IMAGE\s+KERNEL-VERSION\s+CONTAINER-RUNTIME$/m,
        /^aks-nodepool1-\d+-vmss000000\s+Ready\s+<none>\s+\S+\s+v1\.31\.3\s+10\.224\.0\.4\s+<none>\s+Ubuntu 22\.04\.5 LTS\s+\S+\s+containerd:\/\/\S+$/m,
      ],
    },
    {
      name: 'get services -o wide',
      args: ['-n', 'shop', 'get', 'services', '-o', 'wide'],
      code: 0,
      stdout: [/^api\s+ClusterIP\s+10\.0\.\d+\.\d+\s+<none>\s+80\/TCP\s+\S+\s+app=api$/m],
    },
    // Endpoints: what the EndpointSlice and Endpoints controllers made of the Service.
    {
      name: 'get endpointslices: the ready pods of the Service, its port resolved',
      args: ['-n', 'shop', 'get', 'endpointslices'],
      code: 0,
      stdout: [
        /^NAME\s+ADDRESSTYPE\s+PORTS\s+ENDPOINTS\s+AGE$/m,
        /^api-[a-z0-9]{5}\s+IPv4\s+8080\s+10\.244\.\d+\.\d+,10\.244\.\d+\.\d+\s+\S+$/m,
      ],
    },
    {
      name: 'the slice is labelled with its Service and its manager, and owned by the Service',
      args: [
        '-n',
        'shop',
        'get',
        'endpointslices',
        '-l',
        'kubernetes.io/service-name=api',
        '-o',
        'jsonpath={.items[0].metadata.labels.endpointslice\\.kubernetes\\.io/managed-by} {.items[0].metadata.ownerReferences[0].kind}/{.items[0].metadata.ownerReferences[0].name} {.items[0].endpoints[*].conditions.ready}',
      ],
      code: 0,
      stdout: [/^endpointslice-controller\.k8s\.io Service\/api true true$/],
    },
    {
      name: 'get endpoints',
      args: ['-n', 'shop', 'get', 'endpoints', 'api'],
      code: 0,
      stdout: [/^NAME\s+ENDPOINTS\s+AGE$/m, /^api\s+10\.244\.\d+\.\d+:8080,10\.244\.\d+\.\d+:8080\s+\S+$/m],
    },
    {
      name: 'describe service shows its endpoints',
      args: ['-n', 'shop', 'describe', 'service', 'api'],
      code: 0,
      stdout: [/^Endpoints:\s+10\.244\.\d+\.\d+:8080,10\.244\.\d+\.\d+:8080$/m],
    },
    {
      name: 'get --sort-by a field outside metadata (includeObject=Object)',
      args: ['-n', 'shop', 'get', 'pods', '--sort-by=.status.podIP'],
      code: 0,
      stdout: [/^NAME\s+READY/m, /^api-\S+\s+1\/1\s+Running/m],
      notStdout: [/No resources found/],
    },

    // Events, through both APIs.
    {
      name: 'get events',
      args: ['-n', 'shop', 'get', 'events'],
      code: 0,
      stdout: [/Normal\s+ScalingReplicaSet\s+deployment\/api\s+Scaled up replica set api-\w+ from 0 to 2/],
    },
    {
      name: 'get events.events.k8s.io serves the same events',
      args: ['-n', 'shop', 'get', 'events.v1.events.k8s.io'],
      code: 0,
      stdout: [/Normal\s+ScalingReplicaSet\s+deployment\/api\s+Scaled up replica set api-\w+ from 0 to 2/],
    },
    {
      name: 'events --for',
      args: ['-n', 'shop', 'events', '--for', 'deployment/api'],
      code: 0,
      stdout: [/ScalingReplicaSet\s+Deployment\/api\s+Scaled up replica set/],
    },
    {
      name: 'no readiness probe failure for a container that has no probe',
      before: (f) => f.cluster.setImageBehaviour('registry.test/web', { neverReady: true }),
      args: ['apply', '-f', file('web.yaml')],
      code: 0,
      stdout: [/deployment\.apps\/web created/],
    },
    {
      name: 'that pod never gets to run',
      args: [
        'wait',
        '--for=jsonpath={.status.containerStatuses[0].state.waiting.reason}=ContainerCreating',
        'pod',
        '-l',
        'app=web',
        '--timeout=20s',
      ],
      code: 0,
    },
    {
      name: 'and no Unhealthy event is recorded for it',
      args: ['get', 'events', '--field-selector', 'reason=Unhealthy'],
      code: 0,
      stderr: [/No resources found in default namespace/],
    },

    // CRDs: the first apply of a CRD with its object is refused as on a real cluster.
    {
      name: 'apply of a CRD with its first object: the kind is not mapped yet',
      args: ['apply', '-f', file('crd.yaml')],
      code: 1,
      stdout: [/customresourcedefinition\.apiextensions\.k8s\.io\/widgets\.example\.com created/],
      stderr: [
        /resource mapping not found for name: "w1" namespace: "default" from ".*crd\.yaml": no matches for kind "Widget" in version "example\.com\/v1"\nensure CRDs are installed first/,
      ],
    },
    {
      name: 'the same apply once the CRD is established',
      args: ['apply', '-f', file('crd.yaml')],
      code: 0,
      stdout: [/widget\.example\.com\/w1 created/],
    },
    {
      name: 'explain a custom resource from its CRD schema',
      args: ['explain', 'widget.spec.size'],
      code: 0,
      stdout: [/FIELD: size <integer>/, /How many parts the widget has\./],
    },

    // Authorization and authentication.
    {
      name: 'auth can-i (allowed)',
      args: ['auth', 'can-i', 'create', 'deployments', '-n', 'shop'],
      code: 0,
      stdout: [/^yes$/m],
    },
    {
      name: 'auth can-i --list (a cluster admin)',
      args: ['auth', 'can-i', '--list', '-n', 'shop'],
      code: 0,
      stdout: [/^\*\.\*\s+\[\]\s+\[\]\s+\[\*\]$/m],
    },
    {
      name: 'auth whoami',
      args: ['auth', 'whoami'],
      code: 0,
      stdout: [/^Username\s+token-user$/m, /^Groups\s+\[system:authenticated\]$/m],
    },
    {
      name: 'auth can-i (denied, with the authorizer’s reason)',
      before: (f) => {
        f.cluster.authorize = (access) => !(access.resource === 'secrets' && access.verb === 'delete');
      },
      args: ['auth', 'can-i', 'delete', 'secrets', '-n', 'shop'],
      code: 1,
      stdout: [
        /^no - User does not have access to the resource in Azure\. Update role assignment to allow access\.$/m,
      ],
    },
    {
      name: 'a forbidden request names the verb, resource and namespace',
      args: ['-n', 'shop', 'delete', 'secret', 'credentials'],
      code: 1,
      stderr: [
        /Error from server \(Forbidden\): secrets "credentials" is forbidden: User "token-user" cannot delete resource "secrets" in API group "" in the namespace "shop"/,
      ],
    },
    {
      name: 'auth can-i --list under Azure RBAC: incomplete, as the webhook cannot list rules',
      args: ['auth', 'can-i', '--list', '-n', 'shop'],
      code: 0,
      stdout: [/^selfsubjectaccessreviews\.authorization\.k8s\.io\s+\[\]\s+\[\]\s+\[create\]$/m],
    },

    // Autoscaling.
    {
      name: 'autoscale',
      before: (f) => {
        f.cluster.authorize = () => true;
      },
      args: ['-n', 'shop', 'autoscale', 'deployment', 'api', '--min=3', '--max=5'],
      code: 0,
      stdout: [/horizontalpodautoscaler\.autoscaling\/api autoscaled/],
    },
    {
      name: 'the autoscaler raises the replicas to its minimum',
      args: ['-n', 'shop', 'wait', '--for=jsonpath={.spec.replicas}=3', 'deployment/api', '--timeout=20s'],
      code: 0,
    },
    {
      name: 'the Service’s slice follows: its third pod is listed once ready',
      args: [
        '-n',
        'shop',
        'wait',
        '--for=jsonpath={.endpoints[2].conditions.ready}=true',
        'endpointslices',
        '-l',
        'kubernetes.io/service-name=api',
        '--timeout=20s',
      ],
      code: 0,
    },
    {
      name: 'get hpa',
      args: ['-n', 'shop', 'get', 'hpa'],
      code: 0,
      stdout: [
        /^NAME\s+REFERENCE\s+TARGETS\s+MINPODS\s+MAXPODS\s+REPLICAS\s+AGE$/m,
        /^api\s+Deployment\/api\s+cpu: <unknown>\/80%\s+3\s+5\s+3\s+/m,
      ],
    },
    {
      name: 'the same HPA through autoscaling/v1',
      args: [
        '-n',
        'shop',
        'get',
        'horizontalpodautoscalers.v1.autoscaling',
        'api',
        '-o',
        'jsonpath={.apiVersion} {.spec.minReplicas} {.spec.maxReplicas} {.spec.targetCPUUtilizationPercentage}',
      ],
      code: 0,
      stdout: [/^autoscaling\/v1 3 5 80$/],
    },
    {
      name: 'an apply of the old replica count conflicts with the autoscaler, as on a real server',
      args: ['apply', '--server-side', '--field-manager=deploy', '-f', file('shop.yaml')],
      code: 1,
      stderr: [
        /conflict with "kube-controller-manager" with subresource "scale" using apps\/v1: \.spec\.replicas/,
      ],
    },

    // Logs.
    {
      name: 'logs --timestamps',
      before: (f) =>
        f.cluster.setImageBehaviour('registry.test/worker', { logs: ['starting', 'listening on :8080'] }),
      args: ['apply', '-f', file('worker.yaml')],
      code: 0,
    },
    {
      name: 'the worker is ready',
      args: ['wait', '--for=condition=Ready', 'pod/worker', '--timeout=20s'],
      code: 0,
    },
    {
      name: 'its log lines carry their time',
      args: ['logs', 'worker', '--timestamps'],
      code: 0,
      stdout: [
        /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z starting\n\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z listening on :8080\n$/,
      ],
    },
    {
      name: 'logs --tail',
      args: ['logs', 'worker', '--tail=1'],
      code: 0,
      stdout: [/^listening on :8080\n$/],
    },

    // Deletion: grace periods, finalizers, propagation, namespaces.
    {
      name: 'a pod is deleted gracefully',
      args: ['delete', 'pod', 'worker', '--wait=false'],
      code: 0,
      stdout: [/pod "worker" deleted/],
    },
    {
      name: 'it is Terminating meanwhile',
      args: ['get', 'pod', 'worker'],
      code: 0,
      stdout: [/^worker\s+1\/1\s+Terminating\s+0\s+/m],
    },
    {
      name: 'with its grace period and a deletionTimestamp',
      args: [
        'get',
        'pod',
        'worker',
        '-o',
        'jsonpath={.metadata.deletionGracePeriodSeconds} {.metadata.deletionTimestamp}',
      ],
      code: 0,
      stdout: [/^100 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/],
    },
    {
      name: 'its container is told to stop',
      args: ['get', 'events', '--field-selector', 'involvedObject.name=worker,reason=Killing'],
      code: 0,
      stdout: [/Normal\s+Killing\s+pod\/worker\s+Stopping container main/],
    },
    { name: 'then it is gone', args: ['wait', '--for=delete', 'pod/worker', '--timeout=20s'], code: 0 },
    {
      name: 'foreground deletion keeps the owner until its dependents are gone',
      args: ['delete', 'deployment', 'web', '--cascade=foreground', '--wait=false'],
      code: 0,
      stdout: [/deployment\.apps "web" deleted/],
    },
    {
      name: 'the owner carries the foregroundDeletion finalizer meanwhile',
      args: ['get', 'deployment', 'web', '-o', 'jsonpath={.metadata.finalizers}'],
      code: 0,
      stdout: [/foregroundDeletion/],
    },
    {
      name: 'the foreground deletion finishes',
      args: ['wait', '--for=delete', 'deployment/web', '--timeout=20s'],
      code: 0,
    },
    {
      name: 'an orphaning delete',

      args: ['apply', '-f', file('keep.yaml')],
      code: 0,
    },
    {
      name: 'its ReplicaSet exists',
      args: [
        'wait',
        '--for=jsonpath={.status.readyReplicas}=2',
        'replicaset',
        '-l',
        'app=keep',
        '--timeout=20s',
      ],
      code: 0,
    },
    {
      name: 'delete --cascade=orphan',
      args: ['delete', 'deployment', 'keep', '--cascade=orphan'],
      code: 0,
      stdout: [/deployment\.apps "keep" deleted/],
    },
    {
      name: 'leaves the ReplicaSet, without its owner',
      args: [
        'get',
        'replicasets',
        '-l',
        'app=keep',
        '-o',
        'jsonpath={.items[0].metadata.ownerReferences}{"|"}{.items[0].status.readyReplicas}',
      ],
      code: 0,
      stdout: [/^\|2$/],
    },
    { name: 'a namespace is deleted in the background', args: ['apply', '-f', file('gone.yaml')], code: 0 },
    {
      name: 'delete namespace --wait=false',
      args: ['delete', 'namespace', 'gone', '--wait=false'],
      code: 0,
      stdout: [/namespace "gone" deleted/],
    },
    {
      name: 'it is Terminating',
      args: ['get', 'namespace', 'gone'],
      code: 0,
      stdout: [/^gone\s+Terminating\s+/m],
    },
    {
      name: 'nothing new can be created in it',
      args: ['-n', 'gone', 'create', 'configmap', 'late'],
      code: 1,
      stderr: [
        /configmaps "late" is forbidden: unable to create new content in namespace gone because it is being terminated/,
      ],
    },
    {
      name: 'the namespace goes once it is empty',
      args: ['wait', '--for=delete', 'namespace/gone', '--timeout=30s'],
      code: 0,
    },
    {
      name: 'delete -f of a file that starts with its Namespace deletes everything in it',
      args: ['delete', '-f', file('shop.yaml')],
      code: 0,
      stdout: [
        /namespace "shop" deleted/,
        /deployment\.apps "api" deleted/,
        /configmap "settings" deleted/,
        /secret "credentials" deleted/,
        /service "api" deleted/,
      ],
    },
    {
      name: 'and the namespace is gone',
      args: ['get', 'namespace', 'shop'],
      code: 1,
      stderr: [/namespaces "shop" not found/],
    },
  ];

  for (const [index, step] of steps().entries()) {
    it(`${String(index + 1).padStart(2, '0')} kubectl ${step.args.join(' ').slice(0, 90)}: ${step.name}`, async () => {
      step.before?.(fixture);
      const result = await runKubectl(fixture.kubectlConfigPath, step.args.map(resolved), undefined, binary);
      const shown = `exit ${result.code}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`;
      assert.equal(result.code, step.code, shown);
      for (const pattern of step.stdout ?? []) assert.match(result.stdout, pattern, shown);
      for (const pattern of step.stderr ?? []) assert.match(result.stderr, pattern, shown);
      for (const pattern of step.notStdout ?? []) assert.doesNotMatch(result.stdout, pattern, shown);
    });
  }
}
