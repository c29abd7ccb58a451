import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { runTask, type Endpoint, type TaskRunResult } from './harness/agent';
import { EmulatedCluster } from './emulators/kubernetes/cluster';
import type { KubeObject } from './emulators/kubernetes/object';
import { kubeconfigYaml } from './emulators/kubernetes/kubeconfig';
import { kubectlKubeconfig, runKubectl } from './emulators/kubernetes/testing';
import { startEmulatedAzure, type EmulatedAzure } from './emulators/server';

const digest = (char: string) => `sha256:${char.repeat(64)}`;
const registry = 'registry.azure.test:5000';

/** A Deployment manifest; `extra` goes into the pod spec, `spec` into the Deployment's. */
function deploymentYaml(
  name: string,
  image: string,
  options: { namespace?: string; replicas?: number; spec?: string[]; pod?: string[] } = {},
): string {
  return [
    'apiVersion: apps/v1',
    'kind: Deployment',
    `metadata: { name: ${name}${options.namespace ? `, namespace: ${options.namespace}` : ''} }`,
    'spec:',
    `  replicas: ${options.replicas ?? 2}`,
    ...(options.spec ?? []).map((line) => `  ${line}`),
    `  selector: { matchLabels: { app: ${name} } }`,
    '  template:',
    `    metadata: { labels: { app: ${name} } }`,
    '    spec:',
    ...(options.pod ?? []).map((line) => `      ${line}`),
    `      containers: [{ name: ${name}, image: "${image}" }]`,
  ].join('\n');
}
const namespaceYaml = (name: string) => `apiVersion: v1\nkind: Namespace\nmetadata: { name: ${name} }`;
const configMapYaml = (name: string, data: string, namespace?: string) =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: ${name}${namespace ? `, namespace: ${namespace}` : ''} }\ndata: ${data}`;
const documents = (...docs: string[]) => docs.join('\n---\n');

/**
 * AksDeploy@1 through the agent harness, on the bundled task, against the emulated
 * Kubernetes API server (its simulated controllers at 1/100 of their real durations).
 * Each case works in a namespace of its own, so the cases share one cluster.
 */
describe('AksDeploy against an emulated cluster', function () {
  this.timeout(120_000);
  let azure: EmulatedAzure;
  let cluster: EmulatedCluster;
  let kubectlDir: string;
  let kubectlConfig: string;
  const token = 'staging-deployer-token';
  const missingImages = /\/missing(:|@)/;

  before(async () => {
    azure = await startEmulatedAzure();
    cluster = new EmulatedCluster({
      name: 'staging',
      tokens: [token],
      timeScale: 0.01,
      imageExists: async (reference) => !missingImages.test(reference),
    });
    azure.register(cluster.host, cluster.handler);
    azure.register('127.0.0.1', cluster.loopbackHandler);
    kubectlDir = mkdtempSync(join(tmpdir(), 'aks-deploy-kubectl-'));
    kubectlConfig = join(kubectlDir, 'config');
    writeFileSync(kubectlConfig, kubectlKubeconfig(azure, cluster, token), { mode: 0o600 });
  });
  after(async () => {
    cluster?.stop();
    await azure?.stop();
    if (kubectlDir) rmSync(kubectlDir, { recursive: true, force: true });
  });
  afterEach(() => {
    azure.reset();
    cluster.behaviours.clear();
  });

  const serviceAccountEndpoint = (data: Record<string, string> = {}): Endpoint => ({
    url: azure.url(cluster.host),
    scheme: 'Token',
    parameters: { apiToken: Buffer.from(token).toString('base64') },
    data: { authorizationType: 'ServiceAccount', ...data },
  });

  function deploy(
    text: string,
    inputs: Record<string, string> = {},
    options: { node?: 'node20' | 'node24'; endpoint?: Endpoint; variables?: Record<string, string> } = {},
  ): Promise<TaskRunResult> {
    return runTask({
      task: 'AksDeploy',
      node: options.node ?? 'node20',
      inputs: {
        connectionType: 'kubernetesServiceConnection',
        kubernetesServiceConnection: 'k8s',
        manifests: 'k8s/*.yaml',
        rolloutTimeout: '30',
        ...inputs,
      },
      endpoints: { k8s: options.endpoint ?? serviceAccountEndpoint() },
      ...(options.variables ? { variables: options.variables } : {}),
      env: azure.env(),
      secrets: [token],
      prepare: (dirs) => {
        mkdirSync(join(dirs.sources, 'k8s'), { recursive: true });
        writeFileSync(join(dirs.sources, 'k8s', 'app.yaml'), text);
      },
    });
  }

  const kubectl = (args: string[], input?: string) => runKubectl(kubectlConfig, args, input);
  const imagesOf = (object: KubeObject | undefined, path: string[]): string[] => {
    let node: unknown = object;
    for (const field of path) node = (node as Record<string, unknown> | undefined)?.[field];
    const spec = node as
      { initContainers?: { image: string }[]; containers?: { image: string }[] } | undefined;
    return [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])].map((c) => c.image);
  };
  const output = (run: TaskRunResult, name: string) => run.outputVariables.get(name)?.value;

  for (const node of ['node20', 'node24'] as const) {
    it(`deploys and pins the image, updates, and a redeploy changes nothing (${node})`, async () => {
      const ns = `orders-${node}`;
      const manifest = (tag: string) =>
        documents(
          namespaceYaml(ns),
          deploymentYaml('api', `${registry}/orders/api:${tag}`),
          configMapYaml('settings', '{ mode: staging }'),
        );
      const pin = { images: `${registry}/orders/api@${digest('c')}`, namespace: ns };
      const first = await deploy(manifest('1.0'), pin, { node });
      assert.equal(first.result?.status, 'Succeeded', first.log);
      assert.equal(output(first, 'rolloutStatus'), 'Succeeded');
      assert.equal(
        output(first, 'appliedObjects'),
        [`Namespace//${ns}`, `Deployment/${ns}/api`, `ConfigMap/${ns}/settings`].join('\n'),
      );
      assert.match(first.log, new RegExp(`Deployment ${ns}/api created`));
      assert.match(first.log, /Deployment\/orders-node\d\d\/api: 2\/2 ready/);
      assert.ok(
        first.progress.some((p) => p.value === 100),
        JSON.stringify(first.progress),
      );
      assert.equal(first.summaries.length, 1);
      assert.equal(first.summaries[0]!.name, `Deploy to AKS (${ns}).md`, 'the name the Extensions tab shows');
      const summary = first.summaries[0]!.content ?? '';
      assert.match(summary, new RegExp(`^## Deploy to AKS: ✅ succeeded · ${ns} on `));
      assert.match(summary, new RegExp(`\\| Deployment \\| api \\| ${ns} \\| created \\|`));
      assert.match(
        summary,
        new RegExp(
          `\\| Deployment ${ns}/api \\| ✅ rolled out \\| \\d+\\.\\d s \\| successfully rolled out \\|`,
        ),
      );
      const live = cluster.getObject('Deployment', ns, 'api');
      assert.deepEqual(imagesOf(live, ['spec', 'template', 'spec']), [
        `${registry}/orders/api@${digest('c')}`,
      ]);
      assert.equal(live?.metadata.annotations?.['azure-pipelines/run'], '20250101.1');

      const update = await deploy(
        manifest('1.0').replace('mode: staging', 'mode: canary'),
        { ...pin, images: `${registry}/orders/api@${digest('d')}` },
        { node },
      );
      assert.equal(update.result?.status, 'Succeeded', update.log);
      assert.match(update.log, new RegExp(`Deployment ${ns}/api configured`));
      assert.match(update.log, new RegExp(`ConfigMap ${ns}/settings configured`));

      const again = await deploy(
        manifest('1.0').replace('mode: staging', 'mode: canary'),
        { ...pin, images: `${registry}/orders/api@${digest('d')}` },
        { node },
      );
      assert.equal(again.result?.status, 'Succeeded', again.log);
      for (const object of [`Namespace ${ns}`, `Deployment ${ns}/api`, `ConfigMap ${ns}/settings`]) {
        assert.match(again.log, new RegExp(`${object} unchanged`));
      }
    });
  }

  it('kubectl reads what the task applied, with the task as the field manager', async () => {
    const ns = 'readback';
    const run = await deploy(
      documents(
        namespaceYaml(ns),
        deploymentYaml('web', `${registry}/web/site:2.1`),
        configMapYaml('web', '{ colour: blue }'),
      ),
      { namespace: ns, images: `${registry}/web/site@${digest('e')}` },
    );
    assert.equal(run.result?.status, 'Succeeded', run.log);
    const read = await kubectl([
      'get',
      'deployments,configmaps',
      '-n',
      ns,
      '-o',
      'json',
      '--show-managed-fields',
    ]);
    assert.equal(read.code, 0, read.stderr);
    const items = (JSON.parse(read.stdout) as { items: KubeObject[] }).items;
    const deployment = items.find((i) => i.kind === 'Deployment' && i.metadata.name === 'web');
    const configMap = items.find((i) => i.kind === 'ConfigMap' && i.metadata.name === 'web');
    assert.deepEqual(imagesOf(deployment, ['spec', 'template', 'spec']), [
      `${registry}/web/site@${digest('e')}`,
    ]);
    assert.deepEqual(configMap?.data, { colour: 'blue' });
    const managers = (deployment?.metadata.managedFields ?? []) as { manager?: string; operation?: string }[];
    assert.ok(
      managers.some((m) => m.manager === 'AksDeploy' && m.operation === 'Apply'),
      JSON.stringify(managers),
    );
    const status = await kubectl(['rollout', 'status', 'deployment/web', '-n', ns, '--timeout=10s']);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /successfully rolled out/);
  });

  it('pins images in every workload kind, with registry ports, nested paths, tags and digests', async () => {
    const ns = 'pinning';
    const api = `${registry}/team/api`;
    const migrate = 'localhost:5000/tools/migrate';
    const nested = `${registry}/a/b/c`;
    const podSpec = (indent: string) =>
      [
        `${indent}initContainers: [{ name: migrate, image: "${migrate}" }]`,
        `${indent}containers:`,
        `${indent}- { name: api, image: "${api}:1.0" }`,
        `${indent}- { name: extra, image: "${api}-extra:1.0" }`,
        `${indent}- { name: nested, image: "${nested}@${digest('1')}" }`,
      ].join('\n');
    const template = (indent: string) =>
      `${indent}template:\n${indent}  metadata: { labels: { app: x } }\n${indent}  spec:\n${podSpec(`${indent}    `)}`;
    const manifest = documents(
      namespaceYaml(ns),
      `apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: d }\nspec:\n  selector: { matchLabels: { app: x } }\n${template('  ')}`,
      `apiVersion: apps/v1\nkind: StatefulSet\nmetadata: { name: s }\nspec:\n  serviceName: s\n  selector: { matchLabels: { app: x } }\n${template('  ')}`,
      `apiVersion: apps/v1\nkind: DaemonSet\nmetadata: { name: ds }\nspec:\n  selector: { matchLabels: { app: x } }\n${template('  ')}`,
      `apiVersion: batch/v1\nkind: Job\nmetadata: { name: j }\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n${podSpec('      ')}`,
      `apiVersion: batch/v1\nkind: CronJob\nmetadata: { name: cj }\nspec:\n  schedule: "0 1 * * *"\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          restartPolicy: Never\n${podSpec('          ')}`,
      `apiVersion: v1\nkind: Pod\nmetadata: { name: p }\nspec:\n${podSpec('  ')}`,
    );
    const run = await deploy(manifest, {
      namespace: ns,
      rolloutTimeout: '0',
      images: [`${api}@${digest('a')}`, `${migrate}@${digest('b')}`, `${nested}:3.0`].join('\n'),
    });
    assert.equal(run.result?.status, 'Succeeded', run.log);
    assert.equal(output(run, 'rolloutStatus'), 'Skipped');
    const expected = [
      `${migrate}@${digest('b')}`,
      `${api}@${digest('a')}`,
      `${api}-extra:1.0`,
      `${nested}:3.0`,
    ];
    const paths: [string, string, string[]][] = [
      ['Deployment', 'd', ['spec', 'template', 'spec']],
      ['StatefulSet', 's', ['spec', 'template', 'spec']],
      ['DaemonSet', 'ds', ['spec', 'template', 'spec']],
      ['Job', 'j', ['spec', 'template', 'spec']],
      ['CronJob', 'cj', ['spec', 'jobTemplate', 'spec', 'template', 'spec']],
      ['Pod', 'p', ['spec']],
    ];
    for (const [kind, name, path] of paths) {
      assert.deepEqual(imagesOf(cluster.getObject(kind, ns, name), path), expected, kind);
    }
  });

  it('waits on 20 Deployments at once with one watch, not one poll per workload', async () => {
    const ns = 'parallel';
    cluster.setImageBehaviour(`${registry}/parallel/app`, { readyAfterMs: 1500 });
    const manifest = documents(
      namespaceYaml(ns),
      ...Array.from({ length: 20 }, (_, i) => deploymentYaml(`app-${i}`, `${registry}/parallel/app:1`)),
    );
    const run = await deploy(manifest, { namespace: ns });
    assert.equal(run.result?.status, 'Succeeded', run.log);
    for (let i = 0; i < 20; i++) assert.match(run.log, new RegExp(`Deployment/${ns}/app-${i}: 2/2 ready`));
    const deploymentRequests = azure.requests.filter((r) => r.path.includes(`/namespaces/${ns}/deployments`));
    const watches = deploymentRequests.filter((r) => /[?&]watch=1/.test(r.path));
    const reads = deploymentRequests.filter((r) => r.method === 'GET' && !/[?&]watch=1/.test(r.path));
    assert.equal(watches.length, 1, JSON.stringify(watches));
    // One read per Deployment before its apply, and one list before the watch.
    assert.equal(reads.length, 21, JSON.stringify(reads.map((r) => r.path)));
  });

  it('applies a CustomResourceDefinition first, waits until it is Established, then its custom resources', async () => {
    const ns = 'crds';
    const crd = [
      'apiVersion: apiextensions.k8s.io/v1',
      'kind: CustomResourceDefinition',
      'metadata: { name: widgets.example.azure.test }',
      'spec:',
      '  group: example.azure.test',
      '  scope: Namespaced',
      '  names: { plural: widgets, singular: widget, kind: Widget }',
      '  versions:',
      '  - name: v1',
      '    served: true',
      '    storage: true',
      '    schema: { openAPIV3Schema: { type: object, x-kubernetes-preserve-unknown-fields: true } }',
    ].join('\n');
    // The custom resource comes first in the file: the task still applies the CRD before it.
    const widget =
      'apiVersion: example.azure.test/v1\nkind: Widget\nmetadata: { name: gear }\nspec: { teeth: 12 }';
    const run = await deploy(documents(widget, namespaceYaml(ns), crd), { namespace: ns });
    assert.equal(run.result?.status, 'Succeeded', run.log);
    assert.match(
      run.log,
      /CustomResourceDefinition widgets\.example\.azure\.test created[\s\S]*Widget crds\/gear created/,
    );
    const watches = azure.requests.filter((r) => /customresourcedefinitions\?.*watch=1/.test(r.path));
    assert.ok(
      azure.requests.some((r) =>
        /customresourcedefinitions\?.*fieldSelector=metadata\.name%3Dwidgets/.test(r.path),
      ),
      'the CRD was read by name',
    );
    assert.ok(watches.length <= 1, 'polled instead of watched');
    const read = await kubectl(['get', 'widgets.example.azure.test', 'gear', '-n', ns, '-o', 'json']);
    assert.equal(read.code, 0, read.stderr);
    assert.deepEqual((JSON.parse(read.stdout) as { spec: unknown }).spec, { teeth: 12 });
  });

  it('an unknown kind fails with one line naming the file and document', async () => {
    const run = await deploy(
      documents(
        configMapYaml('fine', '{ a: "1" }'),
        'apiVersion: example.azure.test/v9\nkind: Gizmo\nmetadata: { name: g }',
      ),
      {},
    );
    assert.equal(run.result?.status, 'Failed', run.log);
    assert.match(
      run.result!.message,
      /^k8s\/app\.yaml, document 2: the cluster serves no example\.azure\.test\/v9 Gizmo\./,
    );
    assert.equal(run.result!.message.split('\n').length, 1);
    assert.equal(
      cluster.getObject('ConfigMap', 'default', 'fine'),
      undefined,
      'applied before the manifests were checked',
    );
  });

  it('follows each kind by kubectl’s rules: DaemonSet, Job and a partitioned StatefulSet', async () => {
    const ns = 'kinds';
    const job = `${registry}/batch/report`;
    cluster.setImageBehaviour(job, { exitAfterMs: 300, exitCode: 0, logs: ['done'] });
    const manifest = documents(
      namespaceYaml(ns),
      [
        'apiVersion: apps/v1',
        'kind: DaemonSet',
        'metadata: { name: agent }',
        'spec:',
        '  selector: { matchLabels: { app: agent } }',
        '  template:',
        '    metadata: { labels: { app: agent } }',
        `    spec: { containers: [{ name: agent, image: "${registry}/infra/agent:1" }] }`,
      ].join('\n'),
      [
        'apiVersion: batch/v1',
        'kind: Job',
        'metadata: { name: report }',
        'spec:',
        '  template:',
        `    spec: { restartPolicy: Never, containers: [{ name: report, image: "${job}:1" }] }`,
      ].join('\n'),
      [
        'apiVersion: apps/v1',
        'kind: StatefulSet',
        'metadata: { name: cache }',
        'spec:',
        '  serviceName: cache',
        '  replicas: 3',
        '  updateStrategy: { type: RollingUpdate, rollingUpdate: { partition: 2 } }',
        '  selector: { matchLabels: { app: cache } }',
        '  template:',
        '    metadata: { labels: { app: cache } }',
        `    spec: { containers: [{ name: cache, image: "${registry}/infra/cache:1" }] }`,
      ].join('\n'),
    );
    const first = await deploy(manifest, { namespace: ns });
    assert.equal(first.result?.status, 'Succeeded', first.log);
    assert.match(first.log, /DaemonSet\/kinds\/agent: 3\/3 ready/);
    assert.match(first.log, /Job\/kinds\/report: .*(complete|succeeded)/i);
    const update = await deploy(manifest.replace('infra/cache:1', 'infra/cache:2'), { namespace: ns });
    assert.equal(update.result?.status, 'Succeeded', update.log);
    assert.match(
      update.log,
      /StatefulSet\/kinds\/cache: .*partitioned roll out complete: 1 new pods updated/,
    );
    const pods = cluster.listObjects('Pod', ns).filter((p) => p.metadata.name?.startsWith('cache-'));
    const images = Object.fromEntries(pods.map((p) => [p.metadata.name, imagesOf(p, ['spec'])[0]]));
    assert.deepEqual(images, {
      'cache-0': `${registry}/infra/cache:1`,
      'cache-1': `${registry}/infra/cache:1`,
      'cache-2': `${registry}/infra/cache:2`,
    });
  });

  describe('failures: explained in the log and the summary, in one error line that ends with the first cause', () => {
    it('ImagePullBackOff names the image; a new Deployment is not rolled back', async () => {
      const ns = 'pull';
      const run = await deploy(
        documents(
          namespaceYaml(ns),
          deploymentYaml('api', `${registry}/orders/missing:1.0`, { replicas: 1 }),
        ),
        { namespace: ns, rolloutTimeout: '5' },
      );
      assert.equal(run.result?.status, 'Failed', run.log);
      assert.match(
        run.result!.message,
        /^1 of 1 rollouts failed .*First cause: Deployment\/pull\/api: container api: (ImagePullBackOff|ErrImagePull) \(image registry\.azure\.test:5000\/orders\/missing:1\.0\)/,
      );
      assert.equal(run.result!.message.split('\n').length, 1);
      const message = run.log;
      assert.match(message, /Deployment\/pull\/api: not ready within 5 s/);
      assert.match(
        message,
        /container api: (ImagePullBackOff|ErrImagePull) \(image registry\.azure\.test:5000\/orders\/missing:1\.0\)/,
      );
      assert.match(message, /warning events, oldest first:/);
      assert.match(message, /not rolled back: it is new/);
      assert.equal(output(run, 'rolloutStatus'), 'Failed');
    });

    it('CrashLoopBackOff shows the last log lines, then rolls back to the previous revision', async () => {
      const ns = 'crash';
      const good = `${registry}/orders/api:1.0`;
      const bad = `${registry}/orders/api:2.0`;
      cluster.setImageBehaviour(bad, {
        readyAfterMs: 60_000,
        exitAfterMs: 10,
        exitCode: 1,
        logs: ['starting', 'panic: DATABASE_URL is not set'],
      });
      const first = await deploy(documents(namespaceYaml(ns), deploymentYaml('api', good)), {
        namespace: ns,
      });
      assert.equal(first.result?.status, 'Succeeded', first.log);
      const run = await deploy(documents(namespaceYaml(ns), deploymentYaml('api', bad)), {
        namespace: ns,
        rolloutTimeout: '6',
      });
      assert.equal(run.result?.status, 'Failed', run.log);
      assert.match(
        run.result!.message,
        /^1 of 1 rollouts failed .*First cause: Deployment\/crash\/api: CrashLoopBackOff, container api logged: panic: DATABASE_URL is not set$/,
      );
      const summary = run.summaries[0]?.content ?? '';
      assert.match(summary, /### Why it failed\n\n#### Deployment crash\/api: CrashLoopBackOff\n/);
      assert.match(summary, /```\nstarting\npanic: DATABASE_URL is not set\n```/);
      assert.match(
        summary,
        /Rolled back to revision 1, which is ready: `registry\.azure\.test:5000\/orders\/api:1\.0`/,
      );
      const message = run.log;
      assert.match(message, /Deployment\/crash\/api/);
      assert.match(message, /CrashLoopBackOff/);
      assert.match(message, /\| panic: DATABASE_URL is not set/);
      assert.match(message, /rolled back to its previous revision, which is ready/);
      assert.match(run.log, /rolling back to revision 1/);
      assert.equal(output(run, 'rolloutStatus'), 'RolledBack');
      assert.deepEqual(imagesOf(cluster.getObject('Deployment', ns, 'api'), ['spec', 'template', 'spec']), [
        good,
      ]);
    });

    it('Unschedulable gives the scheduler’s reason', async () => {
      const ns = 'unschedulable';
      const run = await deploy(
        documents(
          namespaceYaml(ns),
          deploymentYaml('big', `${registry}/orders/api:1.0`, { replicas: 1 }).replace(
            'image: "registry.azure.test:5000/orders/api:1.0"',
            'image: "registry.azure.test:5000/orders/api:1.0", resources: { requests: { cpu: "64" } }',
          ),
        ),
        { namespace: ns, rolloutTimeout: '4' },
      );
      assert.equal(run.result?.status, 'Failed', run.log);
      assert.match(run.result!.message, /First cause: .*Unschedulable: .*Insufficient cpu/);
      assert.match(run.log, /FailedScheduling/);
    });

    it('ProgressDeadlineExceeded is reported as it happens, before the timeout', async () => {
      const ns = 'deadline';
      cluster.setImageBehaviour(`${registry}/orders/stuck`, { neverReady: true });
      const run = await deploy(
        documents(
          namespaceYaml(ns),
          deploymentYaml('api', `${registry}/orders/stuck:1`, {
            replicas: 1,
            spec: ['progressDeadlineSeconds: 100'],
          }),
        ),
        { namespace: ns, rolloutTimeout: '60', rollbackOnFailure: 'false' },
      );
      assert.equal(run.result?.status, 'Failed', run.log);
      assert.match(run.log, /ProgressDeadlineExceeded/);
      assert.doesNotMatch(run.log, /not ready within/);
      assert.equal(output(run, 'rolloutStatus'), 'Failed');
    });

    it('a StatefulSet that times out is rolled back to its previous revision', async () => {
      const ns = 'stateful';
      const good = `${registry}/orders/db:1.0`;
      const bad = `${registry}/orders/db:2.0`;
      cluster.setImageBehaviour(bad, { neverReady: true });
      const statefulSet = (image: string) =>
        [
          'apiVersion: apps/v1',
          'kind: StatefulSet',
          'metadata: { name: db }',
          'spec:',
          '  serviceName: db',
          '  replicas: 2',
          '  selector: { matchLabels: { app: db } }',
          '  template:',
          '    metadata: { labels: { app: db } }',
          `    spec: { containers: [{ name: db, image: "${image}" }] }`,
        ].join('\n');
      const first = await deploy(documents(namespaceYaml(ns), statefulSet(good)), { namespace: ns });
      assert.equal(first.result?.status, 'Succeeded', first.log);
      const run = await deploy(documents(namespaceYaml(ns), statefulSet(bad)), {
        namespace: ns,
        rolloutTimeout: '4',
      });
      assert.equal(run.result?.status, 'Failed', run.log);
      assert.match(run.log, /StatefulSet\/stateful\/db: not ready within 4 s/);
      assert.match(run.log, /rolled back to its previous revision, which is ready/);
      assert.equal(output(run, 'rolloutStatus'), 'RolledBack');
      assert.deepEqual(imagesOf(cluster.getObject('StatefulSet', ns, 'db'), ['spec', 'template', 'spec']), [
        good,
      ]);
    });
  });

  it('prunes what it applied before and no longer has, only when prune is on', async () => {
    const ns = 'prune';
    const both = documents(
      namespaceYaml(ns),
      configMapYaml('kept', '{ a: "1" }'),
      configMapYaml('dropped', '{ b: "2" }'),
    );
    const one = documents(namespaceYaml(ns), configMapYaml('kept', '{ a: "1" }'));
    assert.equal((await deploy(both, { namespace: ns })).result?.status, 'Succeeded');
    // Not the task's own: never pruned.
    const other = await kubectl(['apply', '-n', ns, '-f', '-'], configMapYaml('someone-elses', '{ c: "3" }'));
    assert.equal(other.code, 0, other.stderr);

    const withoutPrune = await deploy(one, { namespace: ns });
    assert.equal(withoutPrune.result?.status, 'Succeeded', withoutPrune.log);
    assert.ok(cluster.getObject('ConfigMap', ns, 'dropped'), 'pruned without prune: true');

    const pruned = await deploy(one, { namespace: ns, prune: 'true' });
    assert.equal(pruned.result?.status, 'Succeeded', pruned.log);
    assert.match(pruned.log, /ConfigMap prune\/dropped pruned/);
    assert.equal(cluster.getObject('ConfigMap', ns, 'dropped'), undefined);
    assert.ok(cluster.getObject('ConfigMap', ns, 'kept'));
    assert.ok(cluster.getObject('ConfigMap', ns, 'someone-elses'));
    assert.doesNotMatch(output(pruned, 'appliedObjects') ?? '', /dropped/);
  });

  it('reports a field another manager owns by field and manager; an annotation it owns is only a warning', async () => {
    const ns = 'conflict';
    const manifest = documents(namespaceYaml(ns), deploymentYaml('api', `${registry}/orders/api:1.0`));
    assert.equal((await deploy(manifest, { namespace: ns })).result?.status, 'Succeeded');

    // Another pipeline stamped its own run on the pod template: a courtesy field, so a warning.
    const stamp = await kubectl(
      ['apply', '--server-side', '--field-manager=other-pipeline', '--force-conflicts', '-f', '-'],
      [
        'apiVersion: apps/v1',
        'kind: Deployment',
        `metadata: { name: api, namespace: ${ns}, annotations: { azure-pipelines/run: "other.7" } }`,
      ].join('\n'),
    );
    assert.equal(stamp.code, 0, stamp.stderr);
    const warned = await deploy(manifest, { namespace: ns });
    assert.equal(warned.result?.status, 'Succeeded', warned.log);
    assert.equal(warned.warnings.length, 1, JSON.stringify(warned.warnings));
    assert.match(
      warned.warnings[0]!.message,
      /Deployment conflict\/api: \.metadata\.annotations\.azure-pipelines\/run could not be written \(managed by "?'?other-pipeline/,
    );

    // Someone scaled it by hand: replicas is theirs now, and the task must not take it silently.
    const scaled = await kubectl(['patch', 'deployment/api', '-n', ns, '-p', '{"spec":{"replicas":3}}']);
    assert.equal(scaled.code, 0, scaled.stderr);
    const refused = await deploy(manifest, { namespace: ns });
    assert.equal(refused.result?.status, 'Failed', refused.log);
    assert.equal(refused.errors.length, 1, JSON.stringify(refused.errors));
    assert.match(
      refused.result!.message,
      /^Deployment conflict\/api: the field \.spec\.replicas is managed by 'kubectl-patch'/,
    );
  });

  it('places objects: the manifest’s namespace, then the input, then the connection’s, then default', async () => {
    const manifest = documents(
      namespaceYaml('ns-own'),
      namespaceYaml('ns-input'),
      namespaceYaml('ns-connection'),
      configMapYaml('placed-own', '{ a: "1" }', 'ns-own'),
      configMapYaml('placed', '{ a: "1" }'),
    );
    const cases: { inputs: Record<string, string>; data: Record<string, string>; expected: string }[] = [
      { inputs: { namespace: 'ns-input' }, data: { namespace: 'ns-connection' }, expected: 'ns-input' },
      { inputs: {}, data: { namespace: 'ns-connection' }, expected: 'ns-connection' },
      { inputs: {}, data: {}, expected: 'default' },
    ];
    for (const { inputs, data, expected } of cases) {
      const run = await deploy(manifest, inputs, { endpoint: serviceAccountEndpoint(data) });
      assert.equal(run.result?.status, 'Succeeded', run.log);
      assert.ok(cluster.getObject('ConfigMap', expected, 'placed'), `placed in ${expected}`);
      assert.ok(cluster.getObject('ConfigMap', 'ns-own', 'placed-own'));
      assert.equal(
        cluster.getObject('ConfigMap', expected === 'ns-own' ? 'x' : 'ns-own', 'placed'),
        undefined,
      );
    }
  });

  it('a dry run shows what would change and changes nothing', async () => {
    const ns = 'dry';
    const manifest = (mode: string, replicas: number) =>
      documents(
        namespaceYaml(ns),
        configMapYaml('settings', `{ mode: ${mode} }`),
        deploymentYaml('api', `${registry}/orders/api:1.0`, { replicas }),
      );
    assert.equal((await deploy(manifest('staging', 2), { namespace: ns })).result?.status, 'Succeeded');
    const before = cluster.getObject('ConfigMap', ns, 'settings')?.metadata.resourceVersion;
    const run = await deploy(documents(manifest('production', 3), configMapYaml('new-one', '{ x: "1" }')), {
      namespace: ns,
      dryRun: 'true',
    });
    assert.equal(run.result?.status, 'Succeeded', run.log);
    assert.equal(output(run, 'rolloutStatus'), 'DryRun');
    assert.match(
      run.log,
      /\(dry run\) ConfigMap dry\/settings configured\n {2}~ \.data\.mode: "staging" -> "production"/,
    );
    assert.match(run.log, /\(dry run\) Deployment dry\/api configured\n {2}~ \.spec\.replicas: 2 -> 3/);
    assert.match(run.log, /\(dry run\) ConfigMap dry\/new-one created/);
    assert.match(run.log, /\(dry run\) Namespace dry unchanged/);
    const summary = run.summaries[0]?.content ?? '';
    assert.equal(run.summaries[0]?.name, `Deploy to AKS, dry run (${ns}).md`);
    assert.match(summary, /^## Deploy to AKS: 🔍 dry run · dry on /);
    assert.match(
      summary,
      /### What would change\n\nConfigMap dry\/settings:\n\n```\n~ \.data\.mode: "staging" -> "production"\n```/,
    );
    assert.equal(cluster.getObject('ConfigMap', ns, 'settings')?.metadata.resourceVersion, before);
    assert.equal(cluster.getObject('ConfigMap', ns, 'new-one'), undefined);
  });

  it('retries through 429 with Retry-After, 5xx and a dropped watch from the API server (node24)', async () => {
    const ns = 'flaky';
    const host = cluster.host;
    azure.injectFault({
      match: (r) => r.url.hostname === host && r.method === 'PATCH',
      fault: { kind: 'throttle', retryAfterSeconds: 1 },
      times: 2,
    });
    azure.injectFault({
      match: (r) => r.url.hostname === host && r.method === 'GET' && !r.url.searchParams.has('watch'),
      fault: { kind: 'status', status: 503 },
      times: 3,
    });
    // The first watch loses its connection: the wait reconnects from where it was.
    cluster.setImageBehaviour(`${registry}/o/slow`, { readyAfterMs: 1500 });
    azure.injectFault({
      match: (r) => r.url.hostname === host && r.url.searchParams.get('watch') === '1',
      fault: { kind: 'drop' },
      times: 1,
    });
    const run = await deploy(
      documents(
        namespaceYaml(ns),
        configMapYaml('settings', '{ a: "1" }'),
        deploymentYaml('api', `${registry}/o/slow:1`),
      ),
      { namespace: ns },
      { node: 'node24' },
    );
    assert.equal(run.result?.status, 'Succeeded', run.log);
    const faults = azure.requests.filter((r) => r.fault);
    assert.equal(faults.filter((r) => r.fault === 'throttle').length, 2);
    assert.equal(faults.filter((r) => r.fault === 'status').length, 3);
    assert.equal(faults.filter((r) => r.fault === 'drop').length, 1);
    assert.ok(
      azure.requests.filter((r) => /[?&]watch=1/.test(r.path)).length >= 2,
      'the watch was not reopened',
    );
    assert.ok(cluster.getObject('Deployment', ns, 'api'));
  });

  it('reaches the cluster through a Kubeconfig connection, its named context and namespace (node24)', async () => {
    const ns = 'from-kubeconfig';
    const good = kubeconfigYaml({
      clusterName: 'staging',
      userName: 'deployer',
      server: azure.url(cluster.host, '').replace(/\/$/, ''),
      caPem: azure.ca.caPem,
      user: { token },
      namespace: ns,
    });
    // The current context points at a user the cluster refuses; clusterContext picks the good one.
    const config = parseYaml(good) as {
      contexts: { name: string; context: Record<string, string> }[];
      users: { name: string; user: Record<string, string> }[];
      'current-context': string;
    };
    config.contexts.push({ name: 'stale', context: { cluster: 'staging', user: 'stale' } });
    config.users.push({ name: 'stale', user: { token: 'revoked-token' } });
    config['current-context'] = 'stale';
    const run = await deploy(
      documents(namespaceYaml(ns), configMapYaml('settings', '{ a: "1" }')),
      {},
      {
        node: 'node24',
        endpoint: {
          url: azure.url(cluster.host),
          scheme: 'Kubernetes',
          parameters: { kubeconfig: stringifyYaml(config), clusterContext: 'staging' },
          data: { authorizationType: 'Kubeconfig' },
        },
      },
    );
    assert.equal(run.result?.status, 'Succeeded', run.log);
    assert.ok(cluster.getObject('ConfigMap', ns, 'settings'), 'placed by the context’s namespace');
    assert.doesNotMatch(run.log, /revoked-token|staging-deployer-token/);
  });

  for (const node of ['node20', 'node24'] as const) {
    it(`takes the connection and namespace an environment's Kubernetes resource passes down (${node})`, async () => {
      const ns = `env-${node}`;
      // What the agent gets for `environment: staging.<resource>`: the task's empty
      // connectedService:kubernetes input filled with the resource's connection, an
      // AzureSubscription-type Kubernetes connection whose data names the namespace, and
      // connectionType at its default.
      const environmentEndpoint: Endpoint = {
        url: azure.url(cluster.host),
        scheme: 'Token',
        parameters: {
          apiToken: Buffer.from(token).toString('base64'),
          serviceAccountCertificate: Buffer.from(azure.ca.caPem).toString('base64'),
        },
        data: { authorizationType: 'AzureSubscription', namespace: ns, clusterId: 'staging' },
      };
      const run = await runTask({
        task: 'AksDeploy',
        node,
        inputs: {
          connectionType: 'azureResourceManager',
          kubernetesServiceConnection: 'env-resource-connection',
          manifests: 'k8s/*.yaml',
          rolloutTimeout: '30',
        },
        endpoints: { 'env-resource-connection': environmentEndpoint },
        variables: { 'Environment.Name': 'staging', 'Environment.ResourceName': ns },
        env: azure.env(),
        secrets: [token],
        prepare: (dirs) => {
          mkdirSync(join(dirs.sources, 'k8s'), { recursive: true });
          writeFileSync(
            join(dirs.sources, 'k8s', 'app.yaml'),
            documents(
              namespaceYaml(ns),
              configMapYaml('settings', '{ a: "1" }'),
              deploymentYaml('api', `${registry}/o/a:1`),
            ),
          );
        },
      });
      assert.equal(run.result?.status, 'Succeeded', run.log);
      assert.match(
        run.log,
        new RegExp(
          `through the environment resource '${ns}' \\(connection 'env-resource-connection'\\), namespace '${ns}'`,
        ),
      );
      assert.equal(run.summaries[0]?.name, 'Deploy to AKS (staging).md');
      assert.match(run.summaries[0]?.content ?? '', / · environment staging\n/);
      assert.ok(cluster.getObject('ConfigMap', ns, 'settings'));
      assert.ok(cluster.getObject('Deployment', ns, 'api'));
      assert.equal(output(run, 'rolloutStatus'), 'Succeeded');
    });
  }
});
