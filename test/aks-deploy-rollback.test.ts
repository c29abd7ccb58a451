import { strict as assert } from 'node:assert';
import type { KubeObject } from './emulators/kubernetes/object';
import {
  documents,
  namespaceYaml,
  registry,
  startAksDeployCluster,
  workloadYaml,
  type AksDeployCluster,
} from './support/aks-deploy-cluster';

/**
 * A release that crashes is rolled back, and the release after it deploys: the rollback
 * leaves every field with the task's apply manager, so the next server-side apply under
 * the same name meets no conflict. The machine's kubectl, applying as the task does
 * (`--server-side --field-manager=AksDeploy --dry-run=server`), judges that independently.
 */
describe('AksDeploy: good, crashing (rolled back), good again', function () {
  this.timeout(120_000);
  let env: AksDeployCluster;

  before(async () => {
    env = await startAksDeployCluster();
  });
  after(async () => env?.stop());
  afterEach(() => env.azure.reset());

  const imageOf = (object: KubeObject | undefined): string | undefined =>
    (object?.spec as { template?: { spec?: { containers?: { image: string }[] } } } | undefined)?.template
      ?.spec?.containers?.[0]?.image;
  const managers = (object: KubeObject | undefined) =>
    ((object?.metadata.managedFields ?? []) as { manager?: string; operation?: string }[]).map(
      (entry) => `${entry.manager}/${entry.operation}`,
    );

  const cases = [
    ['Deployment', 'node20'],
    ['StatefulSet', 'node20'],
    ['DaemonSet', 'node20'],
    ['Deployment', 'node24'],
  ] as const;
  for (const [kind, node] of cases) {
    it(`${kind}: the release after a rollback applies without conflicts (${node})`, async () => {
      const ns = `fix-forward-${kind.toLowerCase()}-${node}`;
      const repository = `${registry}/fix-forward/${kind.toLowerCase()}-${node}`;
      const crashing = `${repository}:2.0`;
      env.cluster.setImageBehaviour(crashing, {
        readyAfterMs: 60_000,
        exitAfterMs: 10,
        exitCode: 1,
        logs: ['panic: missing configuration'],
      });
      const manifest = (tag: string) =>
        documents(namespaceYaml(ns), workloadYaml(kind, 'app', `${repository}:${tag}`));
      const deploy = (tag: string, inputs: Record<string, string> = {}) =>
        env.deploy({
          node,
          files: { 'k8s/app.yaml': manifest(tag) },
          inputs: { manifests: 'k8s/*.yaml', namespace: ns, ...inputs },
        });

      const good = await deploy('1.0');
      assert.equal(good.result?.status, 'Succeeded', good.log);

      const crashed = await deploy('2.0', { rolloutTimeout: '5' });
      assert.equal(crashed.result?.status, 'Failed', crashed.log);
      assert.equal(crashed.outputVariables.get('rolloutStatus')?.value, 'RolledBack', crashed.log);
      // The outputs name this deploy's release, the crashing one, and what ran before it.
      assert.equal(
        crashed.outputVariables.get('previousImages')?.value,
        `${repository} => ${repository}:1.0`,
      );
      const crashedHash = crashed.outputVariables.get('podTemplateHash')?.value ?? '';
      const label = kind === 'Deployment' ? 'pod-template-hash' : 'controller-revision-hash';
      const revisions = env.cluster
        .listObjects(kind === 'Deployment' ? 'ReplicaSet' : 'ControllerRevision', ns)
        .filter((revision) => revision.metadata.labels?.[label] === crashedHash);
      assert.equal(revisions.length, 1, `one revision is labelled ${label}=${crashedHash}`);
      assert.match(JSON.stringify(revisions[0]), /:2\.0"/, 'the hash is the crashing release');
      assert.match(crashed.log, /rolled back to its previous revision, which is ready/);
      const rolledBack = env.cluster.getObject(kind, ns, 'app');
      assert.equal(imageOf(rolledBack), `${repository}:1.0`);
      assert.ok(
        !managers(rolledBack).includes('AksDeploy/Update'),
        `the rollback left fields with an Update manager: ${managers(rolledBack).join(', ')}`,
      );

      // The independent judge: kubectl applying the next release as the task's manager.
      const next = env.tempFile(`${ns}.yaml`, manifest('3.0'));
      const judged = await env.kubectl([
        'apply',
        '--server-side',
        '--field-manager=AksDeploy',
        '--dry-run=server',
        '-n',
        ns,
        '-f',
        next,
      ]);
      assert.equal(judged.code, 0, judged.stderr);
      assert.doesNotMatch(judged.stderr, /conflict/i);

      const fixed = await deploy('3.0');
      assert.equal(fixed.result?.status, 'Succeeded', fixed.log);
      assert.equal(fixed.outputVariables.get('rolloutStatus')?.value, 'Succeeded');
      assert.equal(imageOf(env.cluster.getObject(kind, ns, 'app')), `${repository}:3.0`);
    });
  }

  it('DaemonSet: rolls back to the revision that ran before, as kubectl rollout undo picks it', async () => {
    const ns = 'undo-daemonset';
    const repository = `${registry}/undo/agent`;
    env.cluster.setImageBehaviour(`${repository}:9.0`, { neverReady: true });
    const deploy = (tag: string, inputs: Record<string, string> = {}) =>
      env.deploy({
        files: {
          'k8s/app.yaml': documents(
            namespaceYaml(ns),
            workloadYaml('DaemonSet', 'agent', `${repository}:${tag}`),
          ),
        },
        inputs: { manifests: 'k8s/*.yaml', namespace: ns, ...inputs },
      });
    // 1.0, then 2.0, then 1.0 again: 1.0 is the revision that ran last before the failure.
    for (const tag of ['1.0', '2.0', '1.0']) {
      const run = await deploy(tag);
      assert.equal(run.result?.status, 'Succeeded', run.log);
    }
    const failed = await deploy('9.0', { rolloutTimeout: '4' });
    assert.equal(failed.outputVariables.get('rolloutStatus')?.value, 'RolledBack', failed.log);
    assert.equal(imageOf(env.cluster.getObject('DaemonSet', ns, 'agent')), `${repository}:1.0`);
  });

  it('takes back fields an earlier rollback left under an Update by AksDeploy', async () => {
    const ns = 'take-back';
    const repository = `${registry}/take-back/api`;
    const manifest = (tag: string) =>
      documents(namespaceYaml(ns), workloadYaml('Deployment', 'api', `${repository}:${tag}`));
    const deploy = (tag: string) =>
      env.deploy({
        files: { 'k8s/app.yaml': manifest(tag) },
        inputs: { manifests: 'k8s/*.yaml', namespace: ns },
      });
    assert.equal((await deploy('1.0')).result?.status, 'Succeeded');
    // What the task's JSON-patch rollback used to leave behind.
    const patched = await env.kubectl([
      'patch',
      'deployment/api',
      '-n',
      ns,
      '--field-manager=AksDeploy',
      '--type=json',
      '-p',
      JSON.stringify([
        { op: 'replace', path: '/spec/template/spec/containers/0/image', value: `${repository}:0.9` },
      ]),
    ]);
    assert.equal(patched.code, 0, patched.stderr);
    assert.ok(managers(env.cluster.getObject('Deployment', ns, 'api')).includes('AksDeploy/Update'));

    const next = await deploy('2.0');
    assert.equal(next.result?.status, 'Succeeded', next.log);
    assert.match(
      next.log,
      /Deployment take-back\/api: taking back \.spec\.template\.spec\.containers\[name="api"\]\.image from an earlier rollback's update by AksDeploy/,
    );
    const live = env.cluster.getObject('Deployment', ns, 'api');
    assert.equal(imageOf(live), `${repository}:2.0`);
    assert.ok(!managers(live).includes('AksDeploy/Update'), managers(live).join(', '));
  });
});
