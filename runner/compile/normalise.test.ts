import assert from 'node:assert/strict';
import type { AgentJob, CheckoutStep, DeploymentJob, ServerJob, TaskStep } from '../model';
import { compiled, problemsOf, removeRepositories, type Repositories } from './testing';

const pipeline = (text: string): Repositories => ({ self: { 'azure-pipelines.yml': text } });
const taskOf = (step: unknown) => {
  const { task, majorVersion, inputs, shorthand } = step as TaskStep;
  return { task: `${task}@${majorVersion}`, inputs, shorthand };
};

describe('compile: normalising into the model', () => {
  after(removeRepositories);

  it('gives a steps-only pipeline one stage __default and one job Job, checked out first', () => {
    const result = compiled(
      pipeline('pool: { vmImage: ubuntu-latest }\nworkspace: { clean: all }\nsteps:\n- script: echo hi\n'),
    );
    assert.equal(result.stages.length, 1);
    const [stage] = result.stages;
    assert.deepEqual([stage.name, stage.displayName, stage.dependsOn], ['__default', '__default', []]);
    const job = stage.jobs[0] as AgentJob;
    assert.deepEqual(
      [job.kind, job.name, job.displayName, job.pool, job.workspaceClean],
      ['job', 'Job', 'Job', { vmImage: 'ubuntu-latest' }, 'all'],
    );
    assert.deepEqual(
      job.steps.map((step) => (step.kind === 'checkout' ? `checkout ${step.repository}` : step.displayName)),
      ['checkout self', 'CmdLine'],
    );
    assert.deepEqual(job.steps[0].location, { file: '/azure-pipelines.yml', line: 1, column: 1 });
  });

  it('takes an omitted stage dependsOn as the stage before, [] as none, and a job without one as none', () => {
    const result = compiled(
      pipeline(`stages:
- stage: A
  jobs: [{ job: a, steps: [{ checkout: none }] }]
- stage: B
  jobs: [{ job: b, steps: [{ checkout: none }] }, { job: c, dependsOn: b, steps: [{ checkout: none }] }]
- stage: C
  dependsOn: []
  jobs: [{ job: d, steps: [{ checkout: none }] }]
- stage: D
  dependsOn: [A, B]
  condition: succeeded('A')
  jobs: [{ job: e, steps: [{ checkout: none }] }]
`),
    );
    assert.deepEqual(
      result.stages.map((stage) => [stage.name, stage.dependsOn, stage.condition]),
      [
        ['A', [], undefined],
        ['B', ['A'], undefined],
        ['C', [], undefined],
        ['D', ['A', 'B'], "succeeded('A')"],
      ],
    );
    assert.deepEqual(
      result.stages[1].jobs.map((job) => [job.name, job.dependsOn]),
      [
        ['b', []],
        ['c', ['b']],
      ],
    );
  });

  it('reads variables in mapping and list form, and inherits the pool; pool: server makes an agentless job', () => {
    const result = compiled(
      pipeline(`variables:
  a: 1
pool: shared
stages:
- stage: S
  variables:
  - name: b
    value: $[ variables.a ]
    readonly: true
  - group: secrets
  jobs:
  - job: onShared
    steps: [{ checkout: none }]
  - job: wait
    pool: server
    timeoutInMinutes: 30
    steps:
    - task: ManualValidation@1
      inputs: { notifyUsers: a@b.c }
`),
    );
    assert.deepEqual(result.variables, [
      {
        kind: 'value',
        name: 'a',
        value: '1',
        readonly: false,
        location: { file: '/azure-pipelines.yml', line: 2, column: 3 },
      },
    ]);
    assert.deepEqual(
      result.stages[0].variables.map((variable) => ({ ...variable, location: undefined })),
      [
        { kind: 'value', name: 'b', value: '$[ variables.a ]', readonly: true, location: undefined },
        { kind: 'group', name: 'secrets', location: undefined },
      ],
    );
    assert.deepEqual((result.stages[0].jobs[0] as AgentJob).pool, { name: 'shared' });
    const wait = result.stages[0].jobs[1] as ServerJob;
    assert.deepEqual([wait.kind, wait.timeoutInMinutes, wait.steps.length], ['server', 30, 1]);
  });

  it('spells out every shorthand as the task it stands for', () => {
    const result = compiled({
      self: {
        'azure-pipelines.yml': `resources:
  pipelines:
  - pipeline: ci
    source: orders-ci
steps:
- checkout: self
  fetchDepth: 1
  clean: true
- script: echo a
  workingDirectory: src
  failOnStderr: true
- bash: echo b
- pwsh: echo c
  errorActionPreference: continue
- powershell: echo d
- publish: out
  artifact: drop
- download: current
- download: current
  artifact: drop
  patterns: '**/*.zip'
- download: ci
  artifact: image
- download: none
`,
      },
    });
    const [checkout, ...steps] = (result.stages[0].jobs[0] as AgentJob).steps;
    assert.deepEqual(
      [checkout.kind, (checkout as CheckoutStep).fetchDepth, (checkout as CheckoutStep).clean],
      ['checkout', 1, true],
    );
    assert.deepEqual(steps.map(taskOf), [
      {
        task: 'CmdLine@2',
        inputs: { script: 'echo a', workingDirectory: 'src', failOnStderr: 'true' },
        shorthand: 'script',
      },
      { task: 'Bash@3', inputs: { targetType: 'inline', script: 'echo b' }, shorthand: 'bash' },
      {
        task: 'PowerShell@2',
        inputs: { targetType: 'inline', script: 'echo c', pwsh: 'true', errorActionPreference: 'continue' },
        shorthand: 'pwsh',
      },
      { task: 'PowerShell@2', inputs: { targetType: 'inline', script: 'echo d' }, shorthand: 'powershell' },
      {
        task: 'PublishPipelineArtifact@1',
        inputs: { targetPath: 'out', artifactName: 'drop' },
        shorthand: 'publish',
      },
      {
        task: 'DownloadPipelineArtifact@2',
        inputs: { buildType: 'current', itemPattern: '**', targetPath: '$(Pipeline.Workspace)' },
        shorthand: 'download',
      },
      {
        task: 'DownloadPipelineArtifact@2',
        inputs: {
          buildType: 'current',
          artifactName: 'drop',
          itemPattern: '**/*.zip',
          targetPath: '$(Pipeline.Workspace)/drop',
        },
        shorthand: 'download',
      },
      {
        task: 'DownloadPipelineArtifact@2',
        inputs: {
          buildType: 'specific',
          definition: 'orders-ci',
          buildVersionToDownload: 'specific',
          pipelineId: '$(resources.pipeline.ci.runID)',
          project: '$(System.TeamProjectId)',
          artifactName: 'image',
          itemPattern: '**',
          targetPath: '$(Pipeline.Workspace)/ci/image',
        },
        shorthand: 'download',
      },
    ]);
    assert.deepEqual(
      steps.map((step) => step.displayName),
      [
        'CmdLine',
        'Bash',
        'PowerShell',
        'PowerShell',
        'PublishPipelineArtifact',
        'DownloadPipelineArtifact',
        'DownloadPipelineArtifact',
        'DownloadPipelineArtifact',
      ],
    );
  });

  it("names a task step after its task's instanceNameFormat when it has no displayName", () => {
    const result = compiled(
      pipeline('steps:\n- task: AcceptanceGate@1\n  inputs: { baseUrl: https://a.example }\n'),
    );
    assert.equal(
      (result.stages[0].jobs[0] as AgentJob).steps[1].displayName,
      'Acceptance gate: https://a.example',
    );
  });

  it('reads a deployment job: environment forms, every runOnce hook, artifacts downloaded in deploy only', () => {
    const result = compiled(
      pipeline(`resources:
  pipelines:
  - pipeline: ci
    source: orders-ci
    trigger: true
jobs:
- deployment: toStaging
  environment: staging.orders
  strategy:
    runOnce:
      preDeploy: { steps: [{ script: pre }] }
      deploy: { steps: [{ script: deploy }] }
      routeTraffic: { steps: [{ script: route }] }
      postRouteTraffic: { steps: [{ script: post }] }
      on:
        failure: { steps: [{ script: failure }] }
        success: { steps: [{ script: success }] }
- deployment: quiet
  environment: { name: prod, resourceName: orders, resourceType: kubernetes }
  strategy:
    runOnce:
      deploy:
        steps:
        - download: none
        - script: deploy
`),
    );
    const [staging, quiet] = result.stages[0].jobs as DeploymentJob[];
    assert.deepEqual(
      { ...staging.environment, location: undefined },
      { name: 'staging', resourceName: 'orders', location: undefined },
    );
    const scripts = (steps: readonly unknown[] | undefined) =>
      (steps ?? []).map((step) => (step as TaskStep).inputs.script ?? (step as TaskStep).inputs.targetPath);
    assert.deepEqual(
      Object.fromEntries(Object.entries(staging.hooks).map(([hook, steps]) => [hook, scripts(steps)])),
      {
        preDeploy: ['pre'],
        deploy: ['$(Pipeline.Workspace)', '$(Pipeline.Workspace)/ci', 'deploy'],
        routeTraffic: ['route'],
        postRouteTraffic: ['post'],
        onFailure: ['failure'],
        onSuccess: ['success'],
      },
    );
    assert.deepEqual(
      { ...quiet.environment, location: undefined },
      { name: 'prod', resourceName: 'orders', resourceType: 'Kubernetes', location: undefined },
    );
    assert.deepEqual(scripts(quiet.hooks.deploy), ['deploy']);
    assert.deepEqual(result.pipelines[0].trigger, { include: [], exclude: [] });
  });

  it('records trigger, pr and schedules, and the repositories', () => {
    const result = compiled(
      pipeline(`trigger:
  branches: { include: [main], exclude: [wip/*] }
pr: none
schedules:
- cron: '0 3 * * *'
  branches: { include: [main] }
  always: true
resources:
  repositories:
  - repository: tools
    type: github
    name: contoso/tools
    ref: refs/tags/v1
steps:
- checkout: none
`),
    );
    assert.deepEqual(
      [result.trigger?.enabled, result.trigger?.branches],
      [true, { include: ['main'], exclude: ['wip/*'] }],
    );
    assert.equal(result.pr?.enabled, false);
    assert.deepEqual([result.schedules?.[0].cron, result.schedules?.[0].always], ['0 3 * * *', true]);
    assert.deepEqual(
      result.repositories.map((repository) => [
        repository.alias,
        repository.type,
        repository.name,
        repository.ref,
      ]),
      [
        ['self', 'git', 'self', undefined],
        ['tools', 'github', 'contoso/tools', 'refs/tags/v1'],
      ],
    );
  });

  const unsupported: [string, string, string][] = [
    [
      'container jobs',
      'jobs:\n- job: a\n  container: ubuntu\n  steps: [{ checkout: none }]\n',
      'Container jobs (container:) are not supported by the runner',
    ],
    [
      'service containers',
      'jobs:\n- job: a\n  services: { db: postgres }\n  steps: [{ checkout: none }]\n',
      'Service containers (services:) are not supported by the runner',
    ],
    [
      'matrix',
      'jobs:\n- job: a\n  strategy: { matrix: { x: { a: 1 } } }\n  steps: [{ checkout: none }]\n',
      'strategy: matrix is not supported by the runner',
    ],
    [
      'parallel',
      'jobs:\n- job: a\n  strategy: { parallel: 2 }\n  steps: [{ checkout: none }]\n',
      'strategy: parallel (slicing) is not supported by the runner',
    ],
    [
      'rolling deployments',
      'jobs:\n- deployment: a\n  environment: e\n  strategy: { rolling: { deploy: { steps: [] } } }\n',
      'The rolling deployment strategy is not supported by the runner: use runOnce',
    ],
    [
      'canary deployments',
      'jobs:\n- deployment: a\n  environment: e\n  strategy: { canary: { deploy: { steps: [] } } }\n',
      'The canary deployment strategy is not supported by the runner: use runOnce',
    ],
    [
      'container resources',
      'resources:\n  containers: [{ container: c, image: x }]\nsteps: [{ checkout: none }]\n',
      'Container resources (resources.containers) are not supported by the runner',
    ],
    [
      'build resources',
      'resources:\n  builds: [{ build: b, type: Jenkins, connection: c, source: s }]\nsteps: [{ checkout: none }]\n',
      'Build resources (resources.builds) are not supported by the runner',
    ],
    [
      'package resources',
      'resources:\n  packages: [{ package: p, type: npm, connection: c, name: n }]\nsteps: [{ checkout: none }]\n',
      'Package resources (resources.packages) are not supported by the runner',
    ],
    [
      'webhooks',
      'resources:\n  webhooks: [{ webhook: w, connection: c }]\nsteps: [{ checkout: none }]\n',
      'Webhook resources (resources.webhooks) are not supported by the runner',
    ],
    [
      'a checkout of an unmapped repository',
      'resources:\n  repositories: [{ repository: tools, type: git, name: p/t }]\nsteps:\n- checkout: tools\n',
      "checkout: tools is a repository the runner has no folder for: name its folder in the runner's resources file",
    ],
    [
      'a checkout of an undeclared repository',
      'steps:\n- checkout: tools\n',
      "The checkout step references the repository 'tools' which is not defined by the pipeline: declare it under resources.repositories",
    ],
    [
      'a download from an undeclared pipeline',
      'steps:\n- download: ci\n',
      "download: 'ci' is neither current, none nor a pipeline resource: declare it under resources.pipelines",
    ],
    [
      'a script in an agentless job',
      'jobs:\n- job: a\n  pool: server\n  steps: [{ script: echo }]\n',
      'script needs an agent: an agentless job (pool: server) runs only server tasks such as ManualValidation@1',
    ],
    ['an unknown key', 'steps:\n- script: echo\n  dispalyName: x\n', "Unexpected value 'dispalyName'"],
    [
      'a misspelt boolean',
      'steps:\n- script: echo\n  continueOnError: yes\n',
      "continueOnError must be true or false, not 'yes'",
    ],
    ['getPackage steps', 'steps:\n- getPackage: p\n', 'getPackage steps are not supported by the runner'],
  ];
  for (const [what, text, message] of unsupported) {
    it(`refuses ${what}, naming the line`, () => {
      const problems = problemsOf(pipeline(text));
      assert.ok(
        problems.some(
          (line) => /^\/azure-pipelines\.yml \(Line: \d+, Col: \d+\): /.test(line) && line.includes(message),
        ),
        problems.join('\n'),
      );
    });
  }
});
