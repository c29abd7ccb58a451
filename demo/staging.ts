/**
 * `--break staging`: staging first runs the previous release (deployed by AksDeploy@1 through
 * the runner, as the last CD run would have left it), then the new release crashes on start
 * there, so that CD shows the diagnosis and the rollback.
 */
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runPipelineFile } from '../runner/pipeline';
import { nobodyAnswers } from '../runner/run/approvals';
import { silentLog } from '../runner/run/log';
import { singleArchImage } from '../test/oci/content';
import { appNamespace, sampleAppFolder, type EmulatedWorld } from './world';

const previousReleasePipeline = `# The release before this one, as the last CD run left staging.
trigger: none
jobs:
  - deployment: previous_release
    environment:
      name: staging
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
                  deploy/overlays/staging
                  app-insights.yaml
                images: orders/api => $(previousImage)
                rolloutTimeout: 60
`;

/** Pushes a previous image of orders/api and deploys it to staging with AksDeploy@1 through the runner. */
export async function deployPreviousRelease(
  world: EmulatedWorld,
  tasksFolder: string,
  folder: string,
): Promise<void> {
  const image = singleArchImage();
  await world.promote.seed(world.registries.nonprod, 'orders/api', image, ['0.9.0']);
  rmSync(folder, { recursive: true, force: true });
  mkdirSync(folder, { recursive: true });
  cpSync(join(sampleAppFolder, 'deploy'), join(folder, 'deploy'), { recursive: true });
  writeFileSync(join(folder, 'azure-pipelines.yml'), previousReleasePipeline);
  // The previous release had a valid connection string; this is not a secret of the world.
  writeFileSync(
    join(folder, 'app-insights.yaml'),
    `apiVersion: v1\nkind: Secret\nmetadata:\n  name: app-insights\n  namespace: ${appNamespace}\nstringData:\n  APPLICATIONINSIGHTS_CONNECTION_STRING: InstrumentationKey=00000000-0000-4000-8000-000000000000\n`,
  );
  const { record } = await runPipelineFile({
    file: join(folder, 'azure-pipelines.yml'),
    name: 'orders-api-previous-release',
    variables: { previousImage: `${world.registries.nonprod.loginServer}/orders/api@${image.digest}` },
    resources: { ...world.resources, repositories: { ...world.resources.repositories, self: folder } },
    tasksFolder,
    runsRoot: join(folder, 'runs'),
    approvals: nobodyAnswers,
    log: silentLog,
  });
  if (record.result !== 'Succeeded') {
    const failed = record.stages.flatMap((stage) => stage.jobs).find((job) => job.result !== 'Succeeded');
    throw new Error(`Deploying the previous release to staging failed: ${failed?.message ?? record.result}`);
  }
}

/**
 * Makes the image CI pushed crash on staging as the sample app does with the staging Key
 * Vault's malformed connection string (the emulated kubelet runs no containers: it is told
 * what the container does).
 */
export function crashOnStaging(world: EmulatedWorld, ciRunFolder: string): void {
  const digest = readFileSync(join(ciRunFolder, 'artifacts', 'image', 'digest'), 'utf8').trim();
  world.clusters.staging.setImageBehaviour(`${world.registries.nonprod.loginServer}/orders/api@${digest}`, {
    neverReady: true,
    exitAfterMs: 300,
    exitCode: 1,
    logs: [
      `${new Date().toISOString()} error APPLICATIONINSIGHTS_CONNECTION_STRING is malformed: its InstrumentationKey is not a GUID. Copy it from the Application Insights resource's Overview page; it reads InstrumentationKey=<GUID>;IngestionEndpoint=https://<region>.in.applicationinsights.azure.com/;...`,
    ],
  });
}
