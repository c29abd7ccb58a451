import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BuiltinTask } from '../builtin/types';
import type {
  AgentJob,
  CheckoutStep,
  CompiledPipeline,
  DeploymentJob,
  ServerJob,
  SourceLocation,
  Stage,
  TaskStep,
} from '../model';
import { createTaskCatalog } from './catalog';
import { runPipeline, type RunOptions } from './engine';
import { silentLog } from './log';
import type { RunRecord } from './record';
import { emptyResources, type RunnerResources } from './resources';

/**
 * The run's rules on small compiled pipelines whose steps are `Emit@1`, a built-in written
 * here that prints the lines it is given (logging commands included), shows the
 * environment variables it is asked about, and ends as told.
 */
const at: SourceLocation = { file: 'test.yml', line: 1, column: 1 };

const emit: BuiltinTask = {
  definition: {
    name: 'Emit',
    majorVersion: 1,
    inputs: [
      { name: 'lines', type: 'multiLine' },
      { name: 'result', type: 'string', defaultValue: 'Succeeded' },
      { name: 'showEnv', type: 'string' },
    ],
    outputVariables: [],
    runsOn: ['agent', 'server'],
  },
  async run(context) {
    for (const line of context.inputs.lines?.split('\n') ?? []) if (line) context.output(line);
    for (const name of (context.inputs.showEnv ?? '').split(',').filter(Boolean)) {
      context.output(`env ${name}=${context.env[name] ?? '(unset)'}`);
    }
    if (context.inputs.result === 'Wait') {
      await new Promise<void>((resolve) => context.signal.addEventListener('abort', () => resolve()));
      return { status: 'Failed', message: 'stopped waiting' };
    }
    return { status: context.inputs.result as 'Succeeded', message: `ended ${context.inputs.result}` };
  },
};

function step(inputs: Record<string, string>, extra: Partial<TaskStep> = {}): TaskStep {
  return {
    kind: 'task',
    task: 'Emit',
    majorVersion: 1,
    inputs,
    inputLocations: {},
    displayName: extra.name ?? 'Emit',
    continueOnError: false,
    enabled: true,
    env: {},
    location: at,
    ...extra,
  };
}

function agentJob(name: string, steps: AgentJob['steps'], extra: Partial<AgentJob> = {}): AgentJob {
  return {
    kind: 'job',
    name,
    displayName: name,
    dependsOn: [],
    variables: [],
    continueOnError: false,
    location: at,
    pool: { vmImage: 'ubuntu-latest' },
    steps,
    ...extra,
  };
}

function stage(name: string, jobs: Stage['jobs'], extra: Partial<Stage> = {}): Stage {
  return { name, displayName: name, dependsOn: [], variables: [], jobs, location: at, ...extra };
}

function pipeline(stages: Stage[], extra: Partial<CompiledPipeline> = {}): CompiledPipeline {
  return {
    file: 'test.yml',
    parameters: {},
    variables: [],
    repositories: [],
    pipelines: [],
    stages,
    ...extra,
  };
}

const runsRoot = mkdtempSync(join(tmpdir(), 'runner-engine-'));

async function run(
  compiled: CompiledPipeline,
  options: Partial<RunOptions> & { resources?: RunnerResources } = {},
): Promise<RunRecord> {
  const { record } = await runPipeline({
    pipeline: compiled,
    pipelineName: options.pipelineName ?? 'test',
    resources: options.resources ?? emptyResources,
    catalog: createTaskCatalog([], [emit]),
    runsRoot,
    approvals: { ask: () => new Promise(() => undefined) },
    timeScale: 1,
    log: silentLog,
    nodeInstallations: [],
    ...options,
  });
  return record;
}

const stepOf = (record: RunRecord, stageName: string, jobName: string, index = 0) =>
  record.stages.find((s) => s.name === stageName)!.jobs.find((j) => j.name === jobName)!.steps[index]!;

describe('runner: the run', () => {
  it('runs stages after their dependencies, skips what follows a failure, and runs always() and failed() stages', async () => {
    const record = await run(
      pipeline([
        stage('Build', [agentJob('build', [step({ result: 'Failed' })])]),
        stage('Test', [agentJob('test', [step({})])], { dependsOn: ['Build'] }),
        stage('Report', [agentJob('report', [step({})])], { dependsOn: ['Test'], condition: 'always()' }),
        stage('Rescue', [agentJob('rescue', [step({})])], { dependsOn: ['Build'], condition: 'failed()' }),
      ]),
    );
    const results = Object.fromEntries(record.stages.map((s) => [s.name, s.result]));
    assert.deepEqual(results, { Build: 'Failed', Test: 'Skipped', Report: 'Succeeded', Rescue: 'Succeeded' });
    assert.equal(record.result, 'Failed');
    assert.match(record.stages[1]!.message, /Build failed, and the condition is succeeded\(\)/);
  });

  it('passes output variables to later jobs and stages through dependencies and stageDependencies', async () => {
    const setter = step(
      { lines: '##vso[task.setvariable variable=digest;isOutput=true]sha256:abc' },
      { name: 'image' },
    );
    const record = await run(
      pipeline([
        stage('CI', [
          agentJob('push', [setter]),
          agentJob('same', [step({ lines: 'digest is $(fromJob)' })], {
            dependsOn: ['push'],
            variables: [
              {
                kind: 'value',
                name: 'fromJob',
                value: "$[ dependencies.push.outputs['image.digest'] ]",
                readonly: false,
                location: at,
              },
            ],
          }),
        ]),
        stage(
          'CD',
          [
            agentJob('deploy', [step({ lines: 'stage gave $(fromStage)' })], {
              variables: [
                {
                  kind: 'value',
                  name: 'fromStage',
                  value: "$[ stageDependencies.CI.push.outputs['image.digest'] ]",
                  readonly: false,
                  location: at,
                },
              ],
            }),
          ],
          { dependsOn: ['CI'], condition: "eq(dependencies.CI.outputs['push.image.digest'], 'sha256:abc')" },
        ),
      ]),
    );
    assert.deepEqual(stepOf(record, 'CI', 'same').logLines, ['digest is sha256:abc']);
    assert.deepEqual(stepOf(record, 'CD', 'deploy').logLines, ['stage gave sha256:abc']);
    assert.deepEqual(record.stages[0]!.jobs[0]!.outputs, { 'image.digest': 'sha256:abc' });
  });

  it('names a deployment job’s outputs <job>.<step>.<var> for runOnce and Deploy_<resource>.<step>.<var> with a resource', async () => {
    const deployment = (name: string, resourceName?: string): DeploymentJob => ({
      kind: 'deployment',
      name,
      displayName: name,
      dependsOn: [],
      variables: [],
      continueOnError: false,
      location: at,
      pool: {},
      environment: { name: 'staging', ...(resourceName ? { resourceName } : {}), location: at },
      hooks: {
        deploy: [step({ lines: '##vso[task.setvariable variable=v;isOutput=true]x' }, { name: 'set' })],
      },
    });
    const resources: RunnerResources = {
      ...emptyResources,
      connections: [
        {
          id: 'k8s-id',
          name: 'k8s',
          type: 'kubernetes',
          url: 'https://k8s',
          scheme: 'Kubernetes',
          parameters: {},
          data: {},
        },
      ],
      environments: {
        staging: { orders: { name: 'orders', type: 'Kubernetes', connection: 'k8s', namespace: 'orders' } },
      },
    };
    const record = await run(
      pipeline([stage('S', [deployment('plain'), deployment('onResource', 'orders')])]),
      { resources },
    );
    assert.deepEqual(record.stages[0]!.jobs[0]!.outputs, { 'plain.set.v': 'x' });
    assert.deepEqual(record.stages[0]!.jobs[1]!.outputs, { 'Deploy_orders.set.v': 'x' });
  });

  it('keeps secret variables out of a step’s environment unless env: maps them, and masks them', async () => {
    const record = await run(
      pipeline([
        stage('S', [
          agentJob('j', [
            step({
              lines:
                '##vso[task.setvariable variable=TOKEN;issecret=true]s3cr3t-value\n##vso[task.setvariable variable=PLAIN]visible',
            }),
            step(
              { showEnv: 'TOKEN,PLAIN,MAPPED', lines: 'inline $(TOKEN)' },
              { env: { MAPPED: '$(TOKEN)' } },
            ),
          ]),
        ]),
      ]),
    );
    assert.deepEqual(stepOf(record, 'S', 'j', 1).logLines, [
      'inline ***',
      'env TOKEN=(unset)',
      'env PLAIN=visible',
      'env MAPPED=***',
    ]);
    assert.ok(
      !readFileSync(join(runsRoot, 'test', String(record.runId), 'run.json'), 'utf8').includes('s3cr3t'),
    );
  });

  it('skips steps after a failure, runs failed() and always() ones, and counts continueOnError as issues', async () => {
    const record = await run(
      pipeline([
        stage('S', [
          agentJob('tolerant', [step({ result: 'Failed' }, { continueOnError: true }), step({})]),
          agentJob('strict', [
            step({ result: 'Failed' }),
            step({ lines: 'not me' }),
            step({ lines: 'cleanup' }, { condition: 'always()' }),
            step({ lines: 'rescue' }, { condition: 'failed()' }),
          ]),
        ]),
      ]),
    );
    const [tolerant, strict] = record.stages[0]!.jobs;
    assert.equal(tolerant!.result, 'SucceededWithIssues');
    assert.equal(tolerant!.steps[1]!.result, 'Succeeded');
    assert.deepEqual(
      strict!.steps.map((s) => s.result),
      ['Failed', 'Skipped', 'Succeeded', 'Succeeded'],
    );
    assert.equal(strict!.result, 'Failed');
  });

  it('fails a job or a step whose condition cannot be evaluated, with the expression’s error, and runs on', async () => {
    const record = await run(
      pipeline([
        stage('S', [
          agentJob('broken', [step({})], { condition: "eq(format('{1}', 'a'), 'x')" }),
          agentJob('steps', [
            step({}, { condition: "format('{1}', 'a')" }),
            step({}, { condition: 'always()' }),
          ]),
        ]),
      ]),
    );
    const [broken, steps] = record.stages[0]!.jobs;
    assert.equal(broken!.result, 'Failed');
    assert.match(broken!.message, /references more arguments than were supplied/);
    assert.deepEqual(
      steps!.steps.map((each) => each.result),
      ['Failed', 'Succeeded'],
    );
  });

  it('checks one repository out into the sources folder, several each into a folder of its own', async () => {
    const repository = (file: string) => {
      const folder = mkdtempSync(join(tmpdir(), 'repository-'));
      writeFileSync(join(folder, file), 'x');
      return folder;
    };
    const resources: RunnerResources = {
      ...emptyResources,
      repositories: { self: repository('app.txt'), tools: repository('tool.txt') },
    };
    const checkout = (repositoryName: string): CheckoutStep => ({
      kind: 'checkout',
      repository: repositoryName,
      displayName: `Checkout ${repositoryName}`,
      continueOnError: false,
      enabled: true,
      env: {},
      location: at,
    });
    const list = step({ lines: '' }, { displayName: 'list' });
    const record = await run(
      pipeline([
        stage('S', [
          agentJob('one', [checkout('self'), { ...list, inputs: { showEnv: 'BUILD_SOURCESDIRECTORY' } }]),
          agentJob('two', [checkout('self'), checkout('tools')]),
        ]),
      ]),
      { resources },
    );
    const [one, two] = record.stages[0]!.jobs;
    const sources = one!.steps[1]!.logLines[0]!.replace(/^env BUILD_SOURCESDIRECTORY=/, '');
    assert.ok(existsSync(join(sources, 'app.txt')));
    assert.ok(two!.steps[0]!.logLines.some((line) => /Copied 1 files into .*\/s\/self$/.test(line)));
    assert.ok(two!.steps[1]!.logLines.some((line) => /Copied 1 files into .*\/s\/tools$/.test(line)));
  });

  it('cancels an agentless job at its scaled timeout', async () => {
    const server: ServerJob = {
      kind: 'server',
      name: 'wait',
      displayName: 'wait',
      dependsOn: [],
      variables: [],
      continueOnError: false,
      location: at,
      timeoutInMinutes: 1,
      steps: [step({ result: 'Wait' })],
    };
    const started = Date.now();
    const record = await run(pipeline([stage('S', [server])]), { timeScale: 0.002 });
    assert.ok(Date.now() - started < 5_000);
    assert.equal(record.stages[0]!.jobs[0]!.result, 'Canceled');
    assert.match(record.stages[0]!.jobs[0]!.message, /ran longer than the maximum time of 1 minutes/);
  });

  it('puts task.prependpath folders first on PATH for the steps after it', async () => {
    const record = await run(
      pipeline([
        stage('S', [
          agentJob('j', [step({ lines: '##vso[task.prependpath]/opt/tool/bin' }), step({ showEnv: 'PATH' })]),
        ]),
      ]),
    );
    assert.match(stepOf(record, 'S', 'j', 1).logLines[0]!, /^env PATH=\/opt\/tool\/bin:/);
  });

  it('publishes artifact.upload and reads another pipeline’s latest successful run as a pipeline resource', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'artifact-'));
    writeFileSync(join(folder, 'digest'), 'sha256:123\n');
    const ci = await run(
      pipeline([
        stage('S', [agentJob('j', [step({ lines: `##vso[artifact.upload artifactname=image]${folder}` })])]),
      ]),
      { pipelineName: 'orders-ci' },
    );
    assert.deepEqual(ci.artifacts, ['image']);
    const resources: RunnerResources = {
      ...emptyResources,
      pipelines: { 'orders-ci': join(runsRoot, 'orders-ci') },
    };
    const cd = await run(
      pipeline([stage('S', [agentJob('j', [step({ lines: 'ci run $(resources.pipeline.ci.runID)' })])])], {
        pipelines: [{ alias: 'ci', source: 'orders-ci', location: at }],
      }),
      { pipelineName: 'orders-cd', resources },
    );
    assert.deepEqual(stepOf(cd, 'S', 'j').logLines, [`ci run ${ci.runId}`]);
  });
});
