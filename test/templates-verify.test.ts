// cd.yml's Verify stage at run time: the CI and CD examples run by the local pipeline
// runner, with the packaged tasks, on the emulated Azure of `npm run demo`. Production runs
// a previous release; the new one is deployed, and Verify judges it Failed (over a workspace
// whose answer misses production's limits), so the images production ran before are
// deployed again and the run fails. The cluster is read back afterwards.
import { strict as assert } from 'node:assert';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { appNamespace, sampleAppFolder, startEmulatedWorld, type EmulatedWorld } from '../demo/world';
import { buildAndUnpack, repoRoot } from '../runner/extension-package';
import { runPipelineFile } from '../runner/pipeline';
import { nobodyAnswers, presetApprovals } from '../runner/run/approvals';
import { silentLog } from '../runner/run/log';
import type { RunRecord } from '../runner/run/record';
import type { KubeObject } from './emulators/kubernetes/object';
import { singleArchImage } from './oci/content';

const examples = join(repoRoot, 'templates', 'examples');

const previousReleasePipeline = `# The release production ran before this one.
trigger: none
jobs:
  - deployment: previous_release
    environment:
      name: production
      resourceName: orders
    strategy:
      runOnce:
        deploy:
          steps:
            - download: none
            - checkout: self
            - task: AksDeploy@1
              inputs:
                connectionType: kubernetesServiceConnection
                manifests: |
                  deploy/overlays/production
                  app-insights.yaml
                images: orders/api => $(previousImage)
                rolloutTimeout: 60
`;

describe('cd.yml Verify, run by the runner on the emulated Azure', function () {
  this.timeout(300_000);
  let folder: string;
  let tasksFolder: string;
  let world: EmulatedWorld;
  const runsRoot = () => join(folder, 'runs');

  before(async () => {
    folder = mkdtempSync(join(tmpdir(), 'cd-verify-'));
    tasksFolder = (await buildAndUnpack(join(folder, 'extension'))).tasksDir;
    world = await startEmulatedWorld({ runsRoot: runsRoot() });
  });
  after(async () => {
    await world?.stop();
    if (folder) rmSync(folder, { recursive: true, force: true });
  });

  const failure = (record: RunRecord) =>
    record.stages
      .flatMap((stage) => stage.jobs)
      .flatMap((job) => [job.message, ...job.steps.filter((s) => s.result === 'Failed').map((s) => s.name)])
      .filter(Boolean)
      .join('; ');
  const templateImage = (object: KubeObject | undefined) =>
    (object?.spec as { template: { spec: { containers: { image: string }[] } } } | undefined)?.template.spec
      .containers[0]?.image;

  it('a Failed verdict on production redeploys the images production ran before, and fails the run', async () => {
    const ci = await runPipelineFile({
      file: join(examples, 'azure-pipelines-ci.yml'),
      name: 'orders-api-ci',
      parameters: world.parameters.ci,
      resources: world.resources,
      tasksFolder,
      runsRoot: runsRoot(),
      approvals: nobodyAnswers,
      timeScale: 0.001,
      log: silentLog,
    });
    assert.equal(ci.record.result, 'Succeeded', failure(ci.record));
    const digest = readFileSync(join(ci.folder, 'artifacts', 'image', 'digest'), 'utf8').trim();
    // Staging's URL serves what the image CI pushed holds, as the demo does.
    await world.serveRelease('orders/api', digest);

    // Production runs an earlier image of orders/api, from the production registry.
    const previous = singleArchImage();
    await world.promote.seed(world.registries.prod, 'orders/api', previous, ['0.9.0']);
    const previousImage = `${world.registries.prod.loginServer}/orders/api@${previous.digest}`;
    const release = join(folder, 'previous-release');
    mkdirSync(release, { recursive: true });
    cpSync(join(sampleAppFolder, 'deploy'), join(release, 'deploy'), { recursive: true });
    writeFileSync(join(release, 'azure-pipelines.yml'), previousReleasePipeline);
    writeFileSync(
      join(release, 'app-insights.yaml'),
      `apiVersion: v1\nkind: Secret\nmetadata:\n  name: app-insights\n  namespace: ${appNamespace}\nstringData:\n  APPLICATIONINSIGHTS_CONNECTION_STRING: InstrumentationKey=00000000-0000-4000-8000-000000000000\n`,
    );
    const earlier = await runPipelineFile({
      file: join(release, 'azure-pipelines.yml'),
      name: 'orders-api-previous-release',
      variables: { previousImage },
      resources: { ...world.resources, repositories: { ...world.resources.repositories, self: release } },
      tasksFolder,
      runsRoot: join(release, 'runs'),
      approvals: nobodyAnswers,
      log: silentLog,
    });
    assert.equal(earlier.record.result, 'Succeeded', failure(earlier.record));

    // The CD example, verifying production with limits the release misses there.
    const verifyWorkspace = '5b0e6c1d-3f2a-4c8b-9d7e-1a2b3c4d5e6f';
    world.logs.setResult(verifyWorkspace, {
      columns: [
        { name: 'requests', type: 'long' },
        { name: 'failedRatePercent', type: 'real' },
      ],
      rows: [[1840, 0.2]],
    });
    const cdExample = parse(readFileSync(join(examples, 'azure-pipelines-cd.yml'), 'utf8')) as {
      extends: { parameters: { cd: Record<string, unknown> } };
    };
    Object.assign(cdExample.extends.parameters.cd, {
      productionLogAnalyticsWorkspaceId: verifyWorkspace,
      productionBaseUrl: world.stagingUrl,
      verifyHealthThresholds: 'failedRatePercent <= 0.1',
    });
    const cdFile = join(folder, 'azure-pipelines-cd.yml');
    writeFileSync(cdFile, stringify(cdExample));
    const cd = await runPipelineFile({
      file: cdFile,
      name: 'orders-api-cd',
      parameters: world.parameters.cd,
      resources: world.resources,
      tasksFolder,
      runsRoot: runsRoot(),
      approvals: presetApprovals('approved', 'approved by the test'),
      timeScale: 0.001,
      log: silentLog,
      triggeredBy: { alias: 'ci', runFolder: ci.folder },
    });
    const record = cd.record;
    assert.deepEqual(
      record.stages.map((stage) => [stage.name, stage.result]),
      [
        ['Staging', 'Succeeded'],
        ['Acceptance', 'Succeeded'],
        ['Validation', 'Succeeded'],
        ['Promote', 'Succeeded'],
        ['Production', 'Succeeded'],
        ['Verify', 'Failed'],
      ],
      failure(record),
    );
    assert.equal(record.result, 'Failed');
    const production = record.stages.find((stage) => stage.name === 'Production')!.jobs[0]!;
    assert.equal(production.outputs['Deploy_orders.deploy.previousImages'], `orders/api => ${previousImage}`);
    assert.match(production.outputs['Deploy_orders.deployed.at'] ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const verify = record.stages.find((stage) => stage.name === 'Verify')!;
    assert.deepEqual(
      verify.jobs.map((job) => [job.name, job.result]),
      [
        ['verify', 'Failed'],
        ['rollback_production', 'Succeeded'],
      ],
    );
    assert.equal(verify.jobs[0]!.outputs['gate.verdict'], 'Failed');

    // What production runs afterwards: the previous release, read back from the cluster.
    const deployment = world.clusters.production.getObject('Deployment', appNamespace, 'orders-api');
    assert.equal(templateImage(deployment), previousImage);
    const pods = world.clusters.production
      .listObjects('Pod', appNamespace)
      .filter((pod) => pod.metadata.name?.startsWith('orders-api-') && !pod.metadata.deletionTimestamp);
    assert.ok(pods.length > 0);
    for (const pod of pods)
      assert.equal((pod.spec as { containers: { image: string }[] }).containers[0]!.image, previousImage);
    assert.notEqual(previous.digest, digest, 'the release verified is another image');
  });
});
