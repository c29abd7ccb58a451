import { strict as assert } from 'node:assert';
import type { TaskRunResult } from './harness/agent';
import type { KubeObject } from './emulators/kubernetes/object';
import {
  documents,
  namespaceYaml,
  registry,
  startAksDeployCluster,
  workloadYaml,
  type AksDeployCluster,
} from './support/aks-deploy-cluster';

const digest = (char: string) => `sha256:${char.repeat(64)}`;

/**
 * The outputs a later step scopes to this release with: `podTemplateHash` names the labels
 * on the release's pods (read back with the machine's kubectl), and `previousImages` is
 * what the workloads ran before, which the `images` input takes unchanged to put it back.
 */
describe('AksDeploy outputs: podTemplateHash and previousImages', function () {
  this.timeout(120_000);
  let env: AksDeployCluster;

  before(async () => {
    env = await startAksDeployCluster();
  });
  after(async () => env?.stop());
  afterEach(() => env.azure.reset());

  const output = (run: TaskRunResult, name: string) => run.outputVariables.get(name)?.value;
  /** The pods kubectl lists with a label selector, by name, with their labels and first image. */
  const pods = async (ns: string, selector: string) => {
    const read = await env.kubectl(['get', 'pods', '-n', ns, '-l', selector, '-o', 'json']);
    assert.equal(read.code, 0, read.stderr);
    return (JSON.parse(read.stdout) as { items: KubeObject[] }).items
      .filter((pod) => !pod.metadata.deletionTimestamp)
      .map((pod) => ({
        name: pod.metadata.name ?? '',
        labels: pod.metadata.labels ?? {},
        image: (pod.spec as { containers: { image: string }[] }).containers[0]!.image,
      }));
  };

  for (const node of ['node20', 'node24'] as const) {
    it(`a Deployment's hash is its new pods' label, and previousImages redeploys the first digest (${node})`, async () => {
      const ns = `outputs-${node}`;
      const manifest = documents(namespaceYaml(ns), workloadYaml('Deployment', 'api', 'orders/api'));
      const deploy = (images: string) =>
        env.deploy({
          node,
          files: { 'k8s/app.yaml': manifest },
          inputs: { manifests: 'k8s/*.yaml', namespace: ns, images },
        });
      const first = await deploy(`orders/api => ${registry}/orders/api@${digest('a')}`);
      assert.equal(first.result?.status, 'Succeeded', first.log);
      assert.equal(output(first, 'previousImages'), '', 'nothing ran before a first deploy');
      const firstHash = output(first, 'podTemplateHash') ?? '';
      assert.match(firstHash, /^[a-z0-9]+$/);
      const firstPods = await pods(ns, 'app=api');
      assert.equal(firstPods.length, 2);
      for (const pod of firstPods) assert.equal(pod.labels['pod-template-hash'], firstHash, pod.name);

      const second = await deploy(`orders/api => ${registry}/orders/api@${digest('b')}`);
      assert.equal(second.result?.status, 'Succeeded', second.log);
      const previous = output(second, 'previousImages');
      assert.equal(previous, `orders/api => ${registry}/orders/api@${digest('a')}`);
      const secondHash = output(second, 'podTemplateHash') ?? '';
      assert.notEqual(secondHash, firstHash);
      const secondPods = await pods(ns, `pod-template-hash=${secondHash}`);
      assert.equal(secondPods.length, 2);
      for (const pod of secondPods) assert.equal(pod.image, `${registry}/orders/api@${digest('b')}`);

      // The output, as it is, is the images input that puts the first release back.
      const back = await deploy(previous!);
      assert.equal(back.result?.status, 'Succeeded', back.log);
      assert.equal(output(back, 'previousImages'), `orders/api => ${registry}/orders/api@${digest('b')}`);
      const read = await env.kubectl([
        'get',
        'deployment/api',
        '-n',
        ns,
        '-o',
        'jsonpath={.spec.template.spec.containers[0].image}',
      ]);
      assert.equal(read.stdout, `${registry}/orders/api@${digest('a')}`);
      const backPods = await pods(ns, `pod-template-hash=${output(back, 'podTemplateHash')}`);
      assert.equal(backPods.length, 2);
      for (const pod of backPods) assert.equal(pod.image, `${registry}/orders/api@${digest('a')}`);
    });
  }

  it("names a StatefulSet's and a DaemonSet's controller-revision-hash, in the manifests' order", async () => {
    const ns = 'outputs-revisions';
    const manifest = (tag: string) =>
      documents(
        namespaceYaml(ns),
        workloadYaml('StatefulSet', 'cache', `${registry}/infra/cache:${tag}`),
        workloadYaml('DaemonSet', 'agent', `${registry}/infra/agent:${tag}`),
      );
    const deploy = (tag: string) =>
      env.deploy({
        files: { 'k8s/app.yaml': manifest(tag) },
        inputs: { manifests: 'k8s/*.yaml', namespace: ns },
      });
    assert.equal((await deploy('1')).result?.status, 'Succeeded');
    const run = await deploy('2');
    assert.equal(run.result?.status, 'Succeeded', run.log);
    const [cacheHash, agentHash, ...rest] = (output(run, 'podTemplateHash') ?? '').split(',');
    assert.deepEqual(rest, []);
    const updateRevision = await env.kubectl([
      'get',
      'statefulset/cache',
      '-n',
      ns,
      '-o',
      'jsonpath={.status.updateRevision}',
    ]);
    assert.equal(cacheHash, updateRevision.stdout);
    for (const [app, hash, image] of [
      ['cache', cacheHash, `${registry}/infra/cache:2`],
      ['agent', agentHash, `${registry}/infra/agent:2`],
    ] as const) {
      const all = await pods(ns, `app=${app}`);
      assert.ok(all.length > 0, app);
      for (const pod of all) {
        assert.equal(pod.labels['controller-revision-hash'], hash, pod.name);
        assert.equal(pod.image, image, pod.name);
      }
    }
    // The images were the manifests' own: only those that changed are listed, by repository.
    assert.equal(
      output(run, 'previousImages'),
      [
        `${registry}/infra/cache => ${registry}/infra/cache:1`,
        `${registry}/infra/agent => ${registry}/infra/agent:1`,
      ].join('\n'),
    );
  });
});
