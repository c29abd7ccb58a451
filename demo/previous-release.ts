/**
 * The release before this one, as the last CD run left an environment: an earlier image of
 * orders/api in the environment's registry, deployed with its overlay by AksDeploy@1
 * through the runner. `--break staging` and `--break production` start from it, so that a
 * rollback has something to go back to.
 */
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runPipelineFile } from '../runner/pipeline';
import { nobodyAnswers } from '../runner/run/approvals';
import { silentLog } from '../runner/run/log';
import { singleArchImage } from '../test/oci/content';
import { appNamespace, sampleAppFolder, type EmulatedWorld } from './world';

/** An environment of the CD example. */
export type Environment = 'staging' | 'production';

const previousReleasePipeline = (
  environment: Environment,
) => `# The release before this one, as the last CD run left ${environment}.
trigger: none
jobs:
  - deployment: previous_release
    environment:
      name: ${environment}
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
                  deploy/overlays/${environment}
                  app-insights.yaml
                images: orders/api => $(previousImage)
                rolloutTimeout: 60
`;

/**
 * Pushes an earlier image of orders/api to the environment's registry (non-production for
 * staging, production for production) and deploys it there with AksDeploy@1 through the
 * runner, from `folder`; returns the image reference it deployed.
 */
export async function deployPreviousRelease(
  world: EmulatedWorld,
  environment: Environment,
  tasksFolder: string,
  folder: string,
): Promise<string> {
  const image = singleArchImage();
  const registry = environment === 'staging' ? world.registries.nonprod : world.registries.prod;
  await world.promote.seed(registry, 'orders/api', image, ['0.9.0']);
  const previousImage = `${registry.loginServer}/orders/api@${image.digest}`;
  rmSync(folder, { recursive: true, force: true });
  mkdirSync(folder, { recursive: true });
  cpSync(join(sampleAppFolder, 'deploy'), join(folder, 'deploy'), { recursive: true });
  writeFileSync(join(folder, 'azure-pipelines.yml'), previousReleasePipeline(environment));
  // The previous release had a valid connection string; this is not a secret of the world.
  writeFileSync(
    join(folder, 'app-insights.yaml'),
    `apiVersion: v1\nkind: Secret\nmetadata:\n  name: app-insights\n  namespace: ${appNamespace}\nstringData:\n  APPLICATIONINSIGHTS_CONNECTION_STRING: InstrumentationKey=00000000-0000-4000-8000-000000000000\n`,
  );
  const { record } = await runPipelineFile({
    file: join(folder, 'azure-pipelines.yml'),
    name: `orders-api-previous-release-${environment}`,
    variables: { previousImage },
    resources: { ...world.resources, repositories: { ...world.resources.repositories, self: folder } },
    tasksFolder,
    runsRoot: join(folder, 'runs'),
    approvals: nobodyAnswers,
    log: silentLog,
  });
  if (record.result !== 'Succeeded') {
    const failed = record.stages.flatMap((stage) => stage.jobs).find((job) => job.result !== 'Succeeded');
    throw new Error(
      `Deploying the previous release to ${environment} failed: ${failed?.message ?? record.result}`,
    );
  }
  return previousImage;
}
