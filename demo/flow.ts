import { runTask, type RunDirectories, type TaskRun } from '../test/harness/agent';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClusterSupport, DemoCluster, DemoClusters } from './clusters';
import {
  appName,
  appVersion,
  connections,
  vaultName,
  workspaceId,
  type Breakage,
  type DemoEnvironment,
} from './environment';
import type { PipelineLog } from './log';
import { sampleAppManifests } from './manifests';
import { interruption } from './processes';
import { stages, type StepRecord, type StepStatus } from './pipeline';
import type { SampleImage } from './sample-image';

/** What the CD flow's steps run with. */
export interface FlowContext {
  readonly env: DemoEnvironment;
  /** Task folders unpacked from the vsix, by task name. */
  readonly tasks: ReadonlyMap<string, string>;
  readonly image: SampleImage;
  readonly clusters: ClusterSupport;
  /** The emulated AKS clusters, when they are available. */
  readonly cluster?: DemoClusters;
  /** What the user asked to break. */
  readonly breakage?: Breakage;
  readonly log: PipelineLog;
  /** System.PipelineStartTime: the gate's health query looks at requests since then. */
  readonly pipelineStartedAt: Date;
}

/** What later steps take from earlier ones, as pipeline variables carry it. */
interface FlowState {
  /** Secret variables KeyVaultSecrets set (real values: only ever handed to later tasks). */
  secretVariables: Record<string, string>;
  /**
   * The Kubernetes Secret KeyVaultSecrets exported for the deploy that follows it in the
   * same job (it holds secret values: only ever written into that step's temp folder).
   */
  secretManifest?: string;
  /** AcrPromoteImage's imageReference output: what production deploys. */
  promotedReference?: string;
}

type StepOutcome = Pick<StepRecord, 'status' | 'logLines' | 'message' | 'summaries' | 'outputs' | 'notes'>;

interface StepDefinition {
  readonly stage: string;
  readonly name: string;
  readonly task: string;
  readonly run: (context: FlowContext, state: FlowState) => Promise<StepOutcome>;
}

/** The acceptance checks the gate runs against the staging app. */
export const acceptanceChecks = `defaults:
  timeoutMs: 5000
checks:
  - name: health
    path: /healthz
    assertions:
      - jsonPath: $.status
        equals: ok
      - jsonPath: $.version
        equals: "${appVersion}"
  - name: orders
    path: /api/orders
    repeat: 10
    p95LatencyMs: 2000
    assertions:
      - jsonPath: $.orders[0].item
        exists: true
  - name: the API token from Key Vault reaches the app
    path: /echo
    headers:
      Authorization: Bearer $(API_TOKEN)
    assertions:
      - jsonPath: $.headers.authorization
        matches: ^Bearer
`;

/** The CD flow's steps, in the order the templates lay them out. */
export const cdSteps: readonly StepDefinition[] = [
  keyVaultStep(stages.staging, connections.nonprod),
  aksDeployStep(stages.staging, 'Deploy to staging AKS', {
    environment: 'staging',
    cluster: (clusters) => clusters.staging,
    registry: (context) => context.env.world.nonprod.loginServer,
    image: (context) =>
      `${context.env.world.nonprod.loginServer}/${context.image.repository}@${context.image.index.digest}`,
  }),
  {
    stage: stages.acceptance,
    name: 'Acceptance gate on staging',
    task: 'AcceptanceGate@1',
    run: async (context, state) =>
      (
        await harnessStep(context, 'AcceptanceGate', {
          inputs: {
            baseUrl: context.env.staging.url,
            checks: 'acceptance-checks.yaml',
            waitUntilReady: '/ready',
            readinessTimeoutSeconds: '30',
            minPassRate: '100',
            azureSubscription: connections.nonprod,
            logAnalyticsWorkspaceId: workspaceId,
            logAnalyticsEndpoint: context.env.world.cloud.azure.url('loganalytics.azure.test', ''),
          },
          secretVariables: state.secretVariables,
          variables: { 'System.PipelineStartTime': context.pipelineStartedAt.toISOString() },
          prepare: (dirs) => writeFileSync(join(dirs.sources, 'acceptance-checks.yaml'), acceptanceChecks),
        })
      ).outcome,
  },
  {
    stage: stages.validation,
    name: 'Approve the promotion to production',
    task: 'ManualValidation@1 (agentless)',
    run: async () => ({
      status: 'AutoApproved',
      logLines: [
        'In a real pipeline a person approves the release here, after looking at staging.',
        'The demo approves it itself, without waiting.',
      ],
      message: '',
      summaries: [],
      outputs: {},
      notes: [],
    }),
  },
  {
    stage: stages.promote,
    name: 'Promote the image by digest',
    task: 'AcrPromoteImage@1',
    run: async (context, state) => {
      const run = await harnessStep(context, 'AcrPromoteImage', {
        inputs: {
          sourceConnection: connections.nonprod,
          sourceRegistry: context.env.world.nonprod.loginServer,
          // By digest: production gets exactly what staging tested.
          sourceImage: `${context.image.repository}@${context.image.index.digest}`,
          targetConnection: connections.prod,
          targetRegistry: context.env.world.prod.loginServer,
          targetTags: context.image.tag,
        },
      });
      state.promotedReference = run.outcome.outputs.imageReference;
      return run.outcome;
    },
  },
  keyVaultStep(stages.production, connections.prod),
  aksDeployStep(stages.production, 'Deploy to production AKS', {
    environment: 'production',
    cluster: (clusters) => clusters.production,
    registry: (context) => context.env.world.prod.loginServer,
    image: (_context, state) => state.promotedReference,
  }),
];

/**
 * Runs the steps in order and prints each as it ends. After a failure the rest are
 * skipped, as a pipeline skips the steps and stages that depend on a failed one.
 */
export async function runCdFlow(context: FlowContext): Promise<StepRecord[]> {
  const records: StepRecord[] = [];
  const state: FlowState = { secretVariables: {} };
  let stage = '';
  for (const step of cdSteps) {
    // Interrupted: the signal handler is stopping everything; start nothing new.
    if (interruption()) break;
    if (step.stage !== stage) {
      stage = step.stage;
      context.log.stage(stage);
    }
    context.log.stepStarted(step);
    const started = Date.now();
    const stopped = records.some((record) => record.status === 'Failed');
    const outcome: StepOutcome = stopped
      ? notRun('Skipped', 'an earlier step failed, so the pipeline stops here')
      : await step.run(context, state).catch((error: Error) => notRun('Failed', error.message));
    const record: StepRecord = {
      stage: step.stage,
      name: step.name,
      task: step.task,
      ...outcome,
      durationMs: Date.now() - started,
    };
    records.push(record);
    context.log.stepFinished(record);
  }
  return records;
}

/** The Kubernetes Secret file KeyVaultSecrets exports and AksDeploy applies, as in templates/steps/deploy.yml. */
const secretManifestFile = 'appinsights-secret.yaml';

/**
 * KeyVaultSecrets at the start of a deploy job: the app's Application Insights connection
 * string exported as a Kubernetes Secret for the deploy, and the API token the gate sends.
 */
function keyVaultStep(stage: string, connection: string): StepDefinition {
  return {
    stage,
    name: 'Secrets from Key Vault',
    task: 'KeyVaultSecrets@1',
    run: async (context, state) => {
      const run = await harnessStep(context, 'KeyVaultSecrets', {
        inputs: {
          azureSubscription: connection,
          keyVaultName: vaultName,
          secrets:
            'appinsights-connection-string => APPLICATIONINSIGHTS_CONNECTION_STRING\napi-token => API_TOKEN',
          exportFile: secretManifestFile,
          exportFormat: 'kubernetesSecret',
        },
        expectedSecretFiles: [secretManifestFile],
      });
      state.secretVariables = run.secretVariables;
      state.secretManifest = readIfPresent(join(run.dirs.temp, secretManifestFile));
      const names = Object.keys(run.secretVariables);
      const masked = names.map((name) => `${name} = ***`).join(', ');
      return {
        ...run.outcome,
        notes: [
          ...(names.length > 0 ? [`secret variables for later steps: ${masked}`] : []),
          ...(state.secretManifest
            ? [`exported ${secretManifestFile} (a Kubernetes Secret) for the deploy`]
            : []),
        ],
      };
    },
  };
}

function readIfPresent(path: string): string | undefined {
  return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
}

/** Where one AksDeploy step deploys, and what. */
interface DeployTarget {
  readonly environment: string;
  readonly cluster: (clusters: DemoClusters) => DemoCluster;
  /** The registry the environment's manifests name the image in. */
  readonly registry: (context: FlowContext) => string;
  /** The pinned reference to deploy (`registry/repository@digest`). */
  readonly image: (context: FlowContext, state: FlowState) => string | undefined;
}

function aksDeployStep(stage: string, name: string, target: DeployTarget): StepDefinition {
  return {
    stage,
    name,
    task: 'AksDeploy@1',
    run: async (context, state) => {
      if (!context.clusters.available || !context.cluster)
        return notRun('NotAvailable', context.clusters.reason);
      const image = target.image(context, state);
      if (!image) return notRun('Failed', 'No pinned image to deploy: the promotion set no imageReference.');
      const cluster = target.cluster(context.cluster);
      if (context.breakage === 'staging' && target.environment === 'staging') {
        // The release crashes on start: the rollout fails, AksDeploy explains why and rolls back.
        context.cluster.crash(cluster, image, [
          `${appName} ${appVersion} starting`,
          'Error: APPLICATIONINSIGHTS_CONNECTION_STRING is not a valid connection string',
        ]);
      }
      const run = await harnessStep(context, 'AksDeploy', {
        inputs: {
          connectionType: 'kubernetesServiceConnection',
          kubernetesServiceConnection: context.cluster.connectionOf(cluster),
          namespace: appName,
          // The agent expands $(Agent.TempDirectory) before the task starts; the harness does
          // not, so the path is spelled relative to the sources folder (_work/1/s → _work/_temp).
          manifests: `manifests/*.yaml\n../../_temp/${secretManifestFile}`,
          images: image,
          rolloutTimeout: '30',
          rollbackOnFailure: 'true',
        },
        endpoints: { ...context.env.endpoints, ...context.cluster.endpoints },
        expectedSecretFiles: [secretManifestFile],
        prepare: (dirs) => {
          if (state.secretManifest)
            writeFileSync(join(dirs.temp, secretManifestFile), state.secretManifest, { mode: 0o600 });
          mkdirSync(join(dirs.sources, 'manifests'));
          writeFileSync(
            join(dirs.sources, 'manifests', `${appName}.yaml`),
            sampleAppManifests({ registry: target.registry(context), environment: target.environment }),
          );
        },
      });
      // Read back from the cluster's own store, not from what the task says it did.
      const held = cluster.objects();
      return {
        ...run.outcome,
        notes: [`${target.environment} cluster holds: ${held.join(', ') || 'nothing'}`],
      };
    },
  };
}

function notRun(status: StepStatus, message: string): StepOutcome {
  return { status, logLines: [], message, summaries: [], outputs: {}, notes: [] };
}

/**
 * Deploys the previous release to staging with the packaged AksDeploy, as the last run of
 * the pipeline left it, so that a failed rollout has a revision to roll back to.
 */
export async function deployPreviousRelease(context: FlowContext, previous: SampleImage): Promise<void> {
  if (!context.cluster) return;
  const reference = `${context.env.world.nonprod.loginServer}/${previous.repository}@${previous.index.digest}`;
  const run = await harnessStep(context, 'AksDeploy', {
    inputs: {
      connectionType: 'kubernetesServiceConnection',
      kubernetesServiceConnection: context.cluster.connectionOf(context.cluster.staging),
      namespace: appName,
      manifests: 'manifests/*.yaml',
      images: reference,
      rolloutTimeout: '30',
    },
    endpoints: { ...context.env.endpoints, ...context.cluster.endpoints },
    prepare: (dirs) => {
      mkdirSync(join(dirs.sources, 'manifests'));
      writeFileSync(
        join(dirs.sources, 'manifests', `${appName}.yaml`),
        sampleAppManifests({ registry: context.env.world.nonprod.loginServer, environment: 'staging' }),
      );
    },
  });
  if (run.outcome.status === 'Failed') {
    throw new Error(
      `Deploying the previous release ${previous.tag} to staging failed: ${run.outcome.message}`,
    );
  }
}

/** Runs one packaged task through the agent harness, as the agent would run the step. */
async function harnessStep(
  context: FlowContext,
  taskName: string,
  run: Omit<TaskRun, 'task'>,
): Promise<{ outcome: StepOutcome; secretVariables: Record<string, string>; dirs: RunDirectories }> {
  const folder = context.tasks.get(taskName);
  if (!folder) throw new Error(`The vsix holds no ${taskName} task.`);
  const result = await runTask({
    task: folder,
    node: 'node20',
    endpoints: context.env.endpoints,
    env: context.env.taskEnv,
    // The harness's leak check fails the step if any of these reaches a log or a file.
    secrets: context.env.secretValues,
    timeoutMs: 40_000,
    ...run,
  });
  const status: StepStatus =
    result.agentResult === 'Succeeded' || result.agentResult === 'SucceededWithIssues'
      ? result.agentResult
      : 'Failed';
  const variables = [...result.variables.values()];
  return {
    outcome: {
      status,
      logLines: [...result.logLines],
      message: result.result?.message ?? (result.timedOut ? 'timed out' : ''),
      summaries: result.summaries.map((summary) => ({
        name: summary.name,
        content: summary.content ?? '',
      })),
      outputs: Object.fromEntries(
        [...result.outputVariables.values()]
          .filter((variable) => !variable.secret)
          .map((variable) => [variable.name, variable.value]),
      ),
      notes: [],
    },
    dirs: result.dirs,
    secretVariables: Object.fromEntries(
      variables.filter((variable) => variable.secret).map((variable) => [variable.name, variable.value]),
    ),
  };
}
