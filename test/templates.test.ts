// Offline checks of the pipeline templates in templates/: the Azure Pipelines schema
// (extended with this extension's tasks), task steps against their task.json, parameter
// declarations against their use, and the staged structure after expanding the examples'
// parameter sets the way Azure Pipelines expands compile-time expressions.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { compilePipeline } from '../runner/compile';
import {
  PipelineError,
  type CompiledPipeline,
  type DeploymentJob,
  type Job,
  type ServerJob,
  type TaskStep,
} from '../runner/model';
import { conditionHolds, statusFunctions, type DependencyView } from '../runner/run/evaluation';
import type { RecordResult } from '../runner/run/record';
import { testCatalog } from './templates/task-catalog';
import {
  expandPipeline,
  loadYaml,
  withoutKeys,
  type TemplateValue,
  type YamlMapping,
} from './templates/yaml-data';
import { checkParameterUsage } from './templates/parameter-usage';
import { PipelineSchema, extendedSchema, type PipelineDefinition } from './templates/schema';
import { checkTaskSteps, taskCatalog, taskSteps } from './templates/task-steps';

const root = join(__dirname, '..');
const repositories = { self: root, releaseFlow: root };
const example = (name: string) => join(root, 'templates', 'examples', `azure-pipelines-${name}.yml`);
const exampleFiles = ['pr', 'ci', 'cd'].map(example);

const templates: [string, PipelineDefinition][] = [
  ['templates/pr.yml', 'stagesTemplate'],
  ['templates/ci.yml', 'stagesTemplate'],
  ['templates/cd.yml', 'stagesTemplate'],
  ['templates/cd-extends.yml', 'extendsTemplate'],
  ['templates/steps/setup.yml', 'stepsTemplate'],
  ['templates/steps/quality.yml', 'stepsTemplate'],
  ['templates/steps/deploy.yml', 'stepsTemplate'],
  ['templates/steps/image-digest.yml', 'stepsTemplate'],
];

const asMapping = (value: TemplateValue | undefined) => value as YamlMapping;

/** cd.yml's parameters for health scoped to the release, in staging and in a verified production. */
const scopedAndVerified: YamlMapping = {
  stagingClusterName: 'aks-orders-staging',
  appRoleName: 'orders-api',
  appVersion: '$(resources.pipeline.ci.runName)',
  healthWaitMinutes: '10',
  skipValidationWhenPassed: true,
  productionLogAnalyticsWorkspaceId: '0d5e2a41-6b7c-4d8e-9f10-a1b2c3d4e5f6',
  productionBaseUrl: 'https://orders.contoso.com',
  productionClusterName: 'aks-orders-production',
  verifyWaitMinutes: '3',
};
const stagesOf = (pipeline: YamlMapping) => pipeline.stages as YamlMapping[];
const stage = (pipeline: YamlMapping, name: string) => {
  const found = stagesOf(pipeline).find((candidate) => candidate.stage === name);
  assert.ok(found, `stage ${name} exists`);
  return found;
};
const jobsOf = (stageNode: YamlMapping) => stageNode.jobs as YamlMapping[];
const stepsOf = (job: YamlMapping): YamlMapping[] =>
  (job.steps ?? asMapping(asMapping(asMapping(job.strategy).runOnce).deploy).steps) as YamlMapping[];
const dependsOn = (stageNode: YamlMapping) =>
  stageNode.dependsOn === undefined ? undefined : ([] as TemplateValue[]).concat(stageNode.dependsOn);

/** The CD example's parameters, passed straight to templates/cd.yml with some changed. */
function expandCd(overrides: YamlMapping): YamlMapping {
  const cdExample = asMapping(loadYaml(example('cd')));
  const given = asMapping(asMapping(asMapping(cdExample.extends).parameters).cd);
  const rest = withoutKeys(cdExample, ['extends']);
  const pipeline = {
    ...rest,
    stages: [{ template: 'templates/cd.yml@releaseFlow', parameters: { ...given, ...overrides } }],
  };
  return expandPipeline(example('cd'), repositories, pipeline);
}

/** The CD example with some of cd.yml's parameters changed, compiled by the runner. */
function compileCd(overrides: YamlMapping): CompiledPipeline {
  const cdExample = asMapping(loadYaml(example('cd')));
  const extended = asMapping(cdExample.extends);
  const parameters = asMapping(extended.parameters);
  const source = stringify({
    ...cdExample,
    extends: {
      ...extended,
      parameters: { ...parameters, cd: { ...asMapping(parameters.cd), ...overrides } },
    },
  });
  return compilePipeline({ file: example('cd'), source, repositories, catalog: testCatalog() });
}

/** The gate's verdict as the Acceptance stage ends with it: Failed fails, Warning and Inconclusive succeed with issues. */
const gateResults: Record<string, RecordResult> = {
  Passed: 'Succeeded',
  Warning: 'SucceededWithIssues',
  Inconclusive: 'SucceededWithIssues',
  Failed: 'Failed',
};

/**
 * The stages after Acceptance that run, their conditions evaluated as the runner does,
 * for a gate verdict and the approver's answer (a rejection fails Validation).
 */
function stagesRun(
  pipeline: CompiledPipeline,
  verdict: string,
  answer: 'approve' | 'reject' = 'approve',
): string[] {
  const views = new Map<string, DependencyView>([
    ['Staging', { result: 'Succeeded', outputs: {} }],
    [
      'Acceptance',
      {
        result: gateResults[verdict]!,
        outputs: { 'acceptance.gate.verdict': verdict, 'acceptance.gate.score': '75.0' },
      },
    ],
  ]);
  const ran: string[] = [];
  for (const stage of pipeline.stages.filter((each) => !views.has(each.name))) {
    const view = (name: string) => views.get(name) ?? { result: 'Skipped' as const, outputs: {} };
    const holds = conditionHolds(
      stage.condition,
      { dependencies: Object.fromEntries(stage.dependsOn.map((name) => [name, view(name)])) },
      statusFunctions({
        dependencies: Object.fromEntries(stage.dependsOn.map((name) => [name, view(name).result])),
        defaults: stage.dependsOn,
        canceled: false,
      }),
    );
    if (holds) ran.push(stage.name);
    const result = !holds
      ? 'Skipped'
      : stage.name === 'Validation' && answer === 'reject'
        ? 'Failed'
        : 'Succeeded';
    views.set(stage.name, { result, outputs: {} });
  }
  return ran;
}

/** Whether a job's condition holds, given its stage's jobs and the stages before, as the runner evaluates it. */
function jobRuns(
  job: Job,
  dependencies: Record<string, DependencyView>,
  stageDependencies: Record<string, Record<string, DependencyView>>,
): boolean {
  return conditionHolds(
    job.condition,
    { dependencies, stageDependencies },
    statusFunctions({
      dependencies: Object.fromEntries(
        Object.entries(dependencies).map(([name, view]) => [name, view.result]),
      ),
      defaults: job.dependsOn,
      canceled: false,
    }),
  );
}

function expandWith(template: string, parameters: YamlMapping): YamlMapping {
  // The PR example's resources declare the releaseFlow repository the template comes from.
  const { resources } = asMapping(loadYaml(example('pr')));
  const pipeline = { resources, stages: [{ template: `${template}@releaseFlow`, parameters }] };
  return expandPipeline(example('pr'), repositories, pipeline);
}

describe('pipeline templates', function () {
  // Compiling the 1.6 MB schema takes seconds; it is done once per definition.
  this.timeout(180_000);
  let schema: ReturnType<typeof extendedSchema>;
  let expandedSchema: PipelineSchema;
  let templateSchema: PipelineSchema;
  let catalog: ReturnType<typeof taskCatalog>;
  const variants = new Map<string, YamlMapping>();

  before(() => {
    schema = extendedSchema();
    expandedSchema = new PipelineSchema(schema, false);
    templateSchema = new PipelineSchema(schema, true);
    catalog = taskCatalog(schema);
    for (const file of exampleFiles) variants.set(file, expandPipeline(file, repositories));
    variants.set(
      'cd.yml without manual validation, without health query',
      expandCd({
        manualValidation: false,
        stagingLogAnalyticsWorkspaceId: '',
      }),
    );
    variants.set('cd.yml with the health scoped to the release, and Verify', expandCd(scopedAndVerified));
    variants.set(
      'pr.yml for dotnet with own lint steps',
      expandWith('templates/pr.yml', {
        stack: 'dotnet',
        lintSteps: [{ script: 'dotnet tool run dotnet-csharpier --check .' }],
      }),
    );
    variants.set(
      'ci.yml for dotnet',
      expandWith('templates/ci.yml', {
        stack: 'dotnet',
        integrationConnection: 'c',
        integrationKeyVault: 'kv',
        registryConnection: 'r',
        nonProductionRegistry: 'contosononprod.azurecr.io',
        imageRepository: 'orders/api',
      }),
    );
  });

  describe('schema', () => {
    for (const [file, definition] of templates) {
      it(`${file} is a valid ${definition}`, () => {
        assert.deepEqual(templateSchema.validate(loadYaml(join(root, file)), definition), []);
      });
    }
    for (const file of exampleFiles) {
      it(`templates/examples/${file.split('/').pop()} is a valid pipeline`, () => {
        assert.deepEqual(templateSchema.validate(loadYaml(file), 'pipeline'), []);
      });
    }
    it('every expanded pipeline is valid, with no expression left to excuse it', () => {
      for (const [name, pipeline] of variants)
        assert.deepEqual(expandedSchema.validate(pipeline, 'pipeline'), [], name);
    });

    const broken: [string, string, RegExp][] = [
      [
        'an input AksDeploy@1 does not have',
        'task: AksDeploy@1\n  inputs: { manifests: a, clusterName: c, helmChart: x }',
        /additionalProperty.*helmChart/,
      ],
      [
        'a closed pickList value',
        'task: AksDeploy@1\n  inputs: { manifests: a, connectionType: kubeconfig }',
        /allowedValues/,
      ],
      [
        'a required input left out',
        'task: AcrPromoteImage@1\n  inputs: { sourceConnection: a, sourceImage: b }',
        /required property 'sourceRegistry'/,
      ],
      [
        'a major version that does not exist',
        'task: AksDeploy@2\n  inputs: { manifests: a }',
        /steps\/0: matches no step, job or stage form: .*AksDeploy@2/,
      ],
      [
        'task not the first key',
        'displayName: x\n  task: AcceptanceGate@1\n  inputs: { baseUrl: b }',
        /firstProperty/,
      ],
    ];
    for (const [mistake, step, expected] of broken) {
      it(`rejects ${mistake}`, () => {
        const errors = expandedSchema.validate(parse(`steps:\n- ${step}\n`), 'stepsTemplate');
        assert.ok(
          errors.some((line) => expected.test(line)),
          errors.join('\n'),
        );
      });
    }
  });

  describe('task steps', () => {
    it('name tasks and inputs that exist, with legal values, in every template', () => {
      for (const [file] of templates)
        assert.deepEqual(checkTaskSteps(loadYaml(join(root, file)), catalog, false), [], file);
    });
    it('give every required input in every expanded pipeline', () => {
      for (const [name, pipeline] of variants)
        assert.deepEqual(checkTaskSteps(pipeline, catalog, true), [], name);
    });

    const mistakes: [string, string, RegExp][] = [
      ['AksDeploy@2', '{ manifests: a }', /no such task; versions that exist: aksdeploy@1/],
      ['AksDeploy@1', '{ manifests: a, chart: x }', /unknown input 'chart'/],
      [
        'AksDeploy@1',
        '{ manifests: a, connectionType: kubeconfig }',
        /'connectionType' is 'kubeconfig'; accepted: azureResourceManager, kubernetesServiceConnection/,
      ],
      [
        'AksDeploy@1',
        '{ manifests: a, resourceGroup: rg, clusterName: c }',
        /required input 'azureSubscription'/,
      ],
      [
        'AksDeploy@1',
        '{ manifests: a, connectionType: kubernetesServiceConnection, dryRun: maybe }',
        /'dryRun' is 'maybe', not true or false/,
      ],
      [
        'ManualValidation@1',
        '{ onTimeout: wait, notifyUsers: a }',
        /'onTimeout' is 'wait'; accepted: reject, resume/,
      ],
    ];
    for (const [task, inputs, expected] of mistakes) {
      it(`report ${task} with ${inputs}`, () => {
        const problems = checkTaskSteps(
          parse(`steps:\n- task: ${task}\n  inputs: ${inputs}\n`),
          catalog,
          true,
        );
        assert.ok(
          problems.some((line) => expected.test(line)),
          problems.join('\n'),
        );
      });
    }
    it('take a required input hidden by its visibleRule as not needed', () => {
      const problems = checkTaskSteps(
        parse(
          'steps:\n- task: AksDeploy@1\n  inputs: { manifests: a, connectionType: kubernetesServiceConnection }\n',
        ),
        catalog,
        true,
      );
      assert.deepEqual(problems, []);
    });
  });

  describe('parameters', () => {
    for (const [file] of templates) {
      it(`${file}: every reference is declared and every declaration is used`, () => {
        assert.deepEqual(checkParameterUsage(loadYaml(join(root, file)), file), []);
      });
    }
    it('reports an undeclared reference and an unused declaration', () => {
      const document = parse(
        'parameters:\n- name: used\n- name: unused\nsteps:\n- script: echo ${{ parameters.used }} ${{ parameters.typo }}\n',
      );
      assert.deepEqual(checkParameterUsage(document, 't.yml'), [
        't.yml: ${{ parameters.typo }} is not a declared parameter',
        "t.yml: parameter 'unused' is declared but never used",
      ]);
    });
  });

  describe('pr.yml', () => {
    it('lints, builds, tests and publishes results and coverage, with no secrets and no push', () => {
      const pipeline = variants.get(example('pr'))!;
      assert.deepEqual(
        stagesOf(pipeline).map((s) => s.stage),
        ['Quality'],
      );
      const tasks = taskSteps(pipeline).map((step) => step.task);
      // PublishCodeCoverageResults@1 is deprecated; @2 reads Cobertura and more.
      assert.ok(tasks.includes('PublishTestResults@2') && tasks.includes('PublishCodeCoverageResults@2'));
      // Node 20 is past its end of life: the default is the current LTS, through UseNode@1 (NodeTool@0 is deprecated).
      const node = taskSteps(pipeline).find((step) => step.task === 'UseNode@1');
      assert.equal(node?.inputs.version, '24.x');
      for (const forbidden of ['KeyVaultSecrets@1', 'Docker@2', 'AcrPromoteImage@1', 'AksDeploy@1']) {
        assert.ok(!tasks.includes(forbidden), `${forbidden} in the PR pipeline`);
      }
      const steps = stepsOf(jobsOf(stagesOf(pipeline)[0])[0]);
      assert.ok(!steps.some((step) => 'publish' in step), 'no artifacts from a pull request');
      const scripts = steps.map((step) => step.script).filter(Boolean);
      assert.deepEqual(scripts, ['npm ci', 'npm run lint', 'npm run build --if-present', 'npm test']);
    });
    it("replaces a default with the caller's steps and keeps the others", () => {
      const steps = stepsOf(jobsOf(stagesOf(variants.get('pr.yml for dotnet with own lint steps')!)[0])[0]);
      const scripts = steps.map((step) => String(step.script ?? '')).filter(Boolean);
      assert.equal(scripts[1], 'dotnet tool run dotnet-csharpier --check .');
      assert.match(scripts[2], /^dotnet build/);
      assert.match(scripts[3], /^dotnet test .*--collect "XPlat Code Coverage"/);
    });
  });

  describe('ci.yml', () => {
    const pipeline = () => variants.get(example('ci'))!;
    it("reuses the PR's quality stage unchanged", () => {
      const ciParameters = asMapping(stagesOf(asMapping(loadYaml(example('ci'))))[0].parameters);
      const pr = expandWith('templates/pr.yml', { stack: ciParameters.stack });
      assert.deepEqual(stage(pipeline(), 'Quality'), stage(pr, 'Quality'));
    });
    it('loads the integration secrets with KeyVaultSecrets@1 before the integration tests', () => {
      const steps = stepsOf(jobsOf(stage(pipeline(), 'Integration'))[0]);
      const vault = steps.findIndex((step) => step.task === 'KeyVaultSecrets@1');
      const tests = steps.findIndex((step) => step.script === 'npm run test:integration');
      assert.ok(vault >= 0 && vault < tests);
      assert.deepEqual(dependsOn(stage(pipeline(), 'Integration')), ['Quality']);
    });
    it('pushes to the non-production registry and publishes the digest and the manifests', () => {
      const imageStage = stage(pipeline(), 'Image');
      assert.deepEqual(dependsOn(imageStage), ['Integration']);
      const steps = stepsOf(jobsOf(imageStage)[0]);
      const docker = steps.find((step) => step.task === 'Docker@2')!;
      assert.equal(asMapping(docker.inputs).command, 'buildAndPush');
      assert.equal(
        asMapping(steps.find((step) => step.name === 'image')!.env).REGISTRY,
        'contosononprod.azurecr.io',
      );
      assert.deepEqual(
        steps.filter((step) => 'publish' in step).map((step) => step.artifact),
        ['image', 'manifests'],
      );
      // The base and every overlay, so that each environment deploys its own.
      assert.equal(steps.find((step) => step.artifact === 'manifests')!.publish, 'deploy');
    });
  });

  describe('cd.yml', () => {
    const withValidation = () => variants.get(example('cd'))!;
    const withoutValidation = () => variants.get('cd.yml without manual validation, without health query')!;

    it('is triggered by the CI pipeline resource it downloads from, and downloads only what CI publishes', () => {
      const pipelines = asMapping(asMapping(loadYaml(example('cd'))).resources).pipelines as YamlMapping[];
      const ci = pipelines.find((resource) => resource.pipeline === 'ci');
      assert.ok(ci?.trigger, 'the ci resource has a trigger');
      const downloads =
        JSON.stringify(withValidation()).match(/"download":"[^"]+","artifact":"[^"]+"/g) ?? [];
      assert.ok(downloads.length > 0);
      for (const download of downloads)
        assert.match(download, /"download":"ci","artifact":"(image|manifests)"/);
    });

    it('runs Staging → Acceptance → Validation → Promote → Production', () => {
      const stages = stagesOf(withValidation());
      assert.deepEqual(
        stages.map((s) => s.stage),
        ['Staging', 'Acceptance', 'Validation', 'Promote', 'Production'],
      );
      assert.deepEqual(stages.map(dependsOn), [
        [],
        ['Staging'],
        ['Acceptance'],
        ['Acceptance', 'Validation'],
        ['Promote'],
      ]);
      const validate = jobsOf(stage(withValidation(), 'Validation'))[0];
      assert.equal(validate.pool, 'server');
      // The task times out first, so its onTimeout decides; a job that timed out first is cancelled.
      assert.equal(stepsOf(validate)[0].timeoutInMinutes, 1440);
      assert.ok(Number(validate.timeoutInMinutes) > 1440);
      const inputs = asMapping(stepsOf(validate)[0].inputs);
      assert.equal(inputs.approvers, '[Orders]\\Release Approvers');
      assert.equal(inputs.onTimeout, 'reject');
      // The approver sees the gate's verdict and score first, read from the Acceptance stage's outputs.
      assert.match(
        String(inputs.instructions),
        /^Acceptance gate: \$\(gateVerdict\), health score \$\(gateScore\)\. Check staging/,
      );
      assert.deepEqual(validate.variables, {
        gateVerdict: "$[ stageDependencies.Acceptance.acceptance.outputs['gate.verdict'] ]",
        gateScore: "$[ stageDependencies.Acceptance.acceptance.outputs['gate.score'] ]",
      });
      // Without a workspace there is no health to score: the verdict alone.
      const unscored = jobsOf(stage(withoutValidation(), 'Validation'))[0];
      assert.match(
        String(asMapping(stepsOf(unscored)[0].inputs).instructions),
        /^Acceptance gate: \$\(gateVerdict\)\. Check staging/,
      );
      assert.deepEqual(Object.keys(asMapping(unscored.variables)), ['gateVerdict']);
    });

    it('routes on the gate verdict: Validation when asked for, or when Warning or Inconclusive; nothing after Failed', () => {
      const all = ['Validation', 'Promote', 'Production'];
      const unattended = ['Promote', 'Production'];
      const cases: [string, YamlMapping, Record<string, string[]>][] = [
        ['manual validation', {}, { Passed: all, Warning: all, Inconclusive: all, Failed: [] }],
        [
          'manual validation skipped when Passed',
          { skipValidationWhenPassed: true },
          { Passed: unattended, Warning: all, Inconclusive: all, Failed: [] },
        ],
        [
          'no manual validation',
          { manualValidation: false },
          { Passed: unattended, Warning: all, Inconclusive: all, Failed: [] },
        ],
        [
          'no manual validation, skipValidationWhenPassed changing nothing',
          { manualValidation: false, skipValidationWhenPassed: true },
          { Passed: unattended, Warning: all, Inconclusive: all, Failed: [] },
        ],
      ];
      for (const [name, overrides, expected] of cases) {
        const pipeline = compileCd(overrides);
        for (const [verdict, stages] of Object.entries(expected))
          assert.deepEqual(stagesRun(pipeline, verdict), stages, `${name}, verdict ${verdict}`);
        // A rejection stops the promotion, whatever made Validation run.
        assert.deepEqual(stagesRun(pipeline, 'Warning', 'reject'), ['Validation'], `${name}, rejected`);
      }
    });

    it('without manual validation waits for no one when the gate passed, and Promote still depends on Acceptance', () => {
      const pipeline = withoutValidation();
      assert.deepEqual(
        stagesOf(pipeline).map((s) => s.stage),
        ['Staging', 'Acceptance', 'Validation', 'Promote', 'Production'],
      );
      assert.deepEqual(dependsOn(stage(pipeline, 'Promote')), ['Acceptance', 'Validation']);
      assert.match(
        String(stage(pipeline, 'Validation').condition),
        /in\(dependencies\.Acceptance\.outputs\['acceptance\.gate\.verdict'\], 'Warning', 'Inconclusive'\)/,
      );
      assert.match(
        String(stage(pipeline, 'Promote').condition),
        /in\(dependencies\.Validation\.result, 'Succeeded', 'SucceededWithIssues', 'Skipped'\)/,
      );
    });

    it('deploys to staging by digest from the non-production registry, on the environment’s Kubernetes resource', () => {
      const deploy = jobsOf(stage(withValidation(), 'Staging'))[0];
      assert.deepEqual(deploy.environment, {
        name: 'staging',
        resourceName: 'orders',
        resourceType: 'Kubernetes',
      });
      assert.equal(
        deploy.deployment,
        'deploy_staging',
        '`deploy` is a keyword and cannot name a deployment job',
      );
      assert.equal(stage(withValidation(), 'Staging').lockBehavior, 'sequential');
      const aks = asMapping(stepsOf(deploy).find((step) => step.task === 'AksDeploy@1')!.inputs);
      // The manifests name the repository; each environment pins it to its own registry.
      assert.equal(aks.images, 'orders/api => contosononprod.azurecr.io/orders/api@$(imageDigest)');
      assert.equal(aks.connectionType, 'kubernetesServiceConnection');
      assert.ok(!('kubernetesServiceConnection' in aks), 'the environment passes its connection down');
      const digestStep = stepsOf(deploy).findIndex((step) =>
        String(step.bash ?? '').includes('variable=imageDigest'),
      );
      assert.ok(
        digestStep >= 0 && digestStep < stepsOf(deploy).findIndex((step) => step.task === 'AksDeploy@1'),
      );
    });

    it('gates on staging, with the health query only when a workspace is given', () => {
      const gate = (pipeline: YamlMapping) =>
        asMapping(
          stepsOf(jobsOf(stage(pipeline, 'Acceptance'))[0]).find((step) => step.task === 'AcceptanceGate@1')!
            .inputs,
        );
      assert.equal(gate(withValidation()).baseUrl, 'https://orders-staging.contoso.com');
      assert.equal(gate(withValidation()).logAnalyticsWorkspaceId, '7f3c0d52-0c8a-4e1b-9b6f-2b1d3c4e5f60');
      assert.equal(gate(withValidation()).azureSubscription, 'orders-staging');
      assert.ok(!('logAnalyticsWorkspaceId' in gate(withoutValidation())));
      // Without a cluster the health comes from Application Insights alone: no Container Insights scope.
      for (const input of ['clusterName', 'namespace', 'podTemplateHash', 'appRoleName', 'healthWaitMinutes'])
        assert.ok(!(input in gate(withValidation())), input);
    });

    it("scopes the staging gate to the cluster, the namespace and the staging deploy's pods", () => {
      const scoped = variants.get('cd.yml with the health scoped to the release, and Verify')!;
      const acceptance = jobsOf(stage(scoped, 'Acceptance'))[0];
      const inputs = asMapping(stepsOf(acceptance).find((step) => step.task === 'AcceptanceGate@1')!.inputs);
      assert.deepEqual(
        [
          inputs.clusterName,
          inputs.namespace,
          inputs.podTemplateHash,
          inputs.appRoleName,
          inputs.healthWaitMinutes,
        ],
        ['aks-orders-staging', 'orders', '$(stagingPodTemplateHash)', 'orders-api', '10'],
      );
      assert.equal(inputs.appVersion, '$(resources.pipeline.ci.runName)');
      // A deployment job on an environment's resource names its outputs Deploy_<resource>.<step>.<var>.
      assert.deepEqual(acceptance.variables, {
        stagingPodTemplateHash:
          "$[ stageDependencies.Staging.deploy_staging.outputs['Deploy_orders.deploy.podTemplateHash'] ]",
      });
      const namespaced = expandCd({ stagingClusterName: 'aks', stagingNamespace: 'orders-staging' });
      const gate = stepsOf(jobsOf(stage(namespaced, 'Acceptance'))[0]).find(
        (step) => step.task === 'AcceptanceGate@1',
      )!;
      assert.equal(asMapping(gate.inputs).namespace, 'orders-staging');
    });

    it('verifies production after its deploy only when a production workspace is given', () => {
      assert.ok(!stagesOf(withValidation()).some((each) => each.stage === 'Verify'));
      const production = jobsOf(stage(withValidation(), 'Production'))[0];
      assert.ok(!stepsOf(production).some((step) => step.name === 'deployed'));

      const verified = variants.get('cd.yml with the health scoped to the release, and Verify')!;
      assert.deepEqual(
        stagesOf(verified).map((each) => [each.stage, dependsOn(each)]),
        [
          ['Staging', []],
          ['Acceptance', ['Staging']],
          ['Validation', ['Acceptance']],
          ['Promote', ['Acceptance', 'Validation']],
          ['Production', ['Promote']],
          ['Verify', ['Production']],
        ],
      );
      const steps = stepsOf(jobsOf(stage(verified, 'Production'))[0]);
      const deployed = steps.findIndex((step) => step.name === 'deployed');
      assert.ok(
        deployed > steps.findIndex((step) => step.task === 'AksDeploy@1'),
        'noted after the rollouts',
      );
      const [verify, rollback] = jobsOf(stage(verified, 'Verify'));
      const gate = asMapping(stepsOf(verify).find((step) => step.task === 'AcceptanceGate@1')!.inputs);
      assert.deepEqual(gate, {
        baseUrl: 'https://orders.contoso.com',
        azureSubscription: 'orders-production',
        logAnalyticsWorkspaceId: '0d5e2a41-6b7c-4d8e-9f10-a1b2c3d4e5f6',
        healthThresholds: 'failedRatePercent <= 1\np95DurationMs <= 1000\n',
        healthWindowStart: '$(deployedAt)',
        clusterName: 'aks-orders-production',
        namespace: 'orders',
        podTemplateHash: '$(podTemplateHash)',
        appRoleName: 'orders-api',
        appVersion: '$(resources.pipeline.ci.runName)',
        healthWaitMinutes: '3',
      });
      assert.deepEqual(verify.variables, {
        podTemplateHash:
          "$[ stageDependencies.Production.deploy_production.outputs['Deploy_orders.deploy.podTemplateHash'] ]",
        deployedAt:
          "$[ stageDependencies.Production.deploy_production.outputs['Deploy_orders.deployed.at'] ]",
      });
      // The rollback redeploys production's previous images, with production's manifests, on its environment.
      assert.equal(rollback.deployment, 'rollback_production');
      assert.deepEqual(rollback.environment, {
        name: 'production',
        resourceName: 'orders',
        resourceType: 'Kubernetes',
      });
      const redeploy = asMapping(stepsOf(rollback).find((step) => step.task === 'AksDeploy@1')!.inputs);
      const deploy = asMapping(steps.find((step) => step.task === 'AksDeploy@1')!.inputs);
      assert.equal(redeploy.images, '$(previousImages)');
      assert.deepEqual(
        [rollback, jobsOf(stage(verified, 'Production'))[0]].map(
          (job) => stepsOf(job).find((step) => step.task === 'AksDeploy@1')!.displayName,
        ),
        ['Redeploy the images production ran before', 'Deploy orders/api => $(promotedImage)'],
      );
      assert.equal(redeploy.manifests, deploy.manifests);
      assert.deepEqual(rollback.variables, {
        previousImages:
          "$[ stageDependencies.Production.deploy_production.outputs['Deploy_orders.deploy.previousImages'] ]",
      });
    });

    it('redeploys what production ran before only when Verify judged it Failed and something ran before', () => {
      const pipeline = compileCd(scopedAndVerified);
      const verify = pipeline.stages.find((each) => each.name === 'Verify')!;
      const rollback = verify.jobs.find((job) => job.name === 'rollback_production')!;
      assert.deepEqual(rollback.dependsOn, ['verify']);
      const runs = (verdict: string, previousImages: string) =>
        jobRuns(
          rollback,
          { verify: { result: gateResults[verdict]!, outputs: { 'gate.verdict': verdict } } },
          {
            Production: {
              deploy_production: {
                result: 'Succeeded',
                outputs: { 'Deploy_orders.deploy.previousImages': previousImages },
              },
            },
          },
        );
      const previous = 'orders/api => contosoprod.azurecr.io/orders/api@sha256:' + 'a'.repeat(64);
      assert.equal(runs('Failed', previous), true);
      for (const verdict of ['Passed', 'Warning', 'Inconclusive'])
        assert.equal(runs(verdict, previous), false, verdict);
      assert.equal(runs('Failed', ''), false, 'a first deploy has nothing to go back to');
      // The verify job failed with the gate, so the stage and the run fail after the redeploy.
      assert.equal(gateResults.Failed, 'Failed');
    });

    it('promotes by digest with referrers, from the non-production to the production registry', () => {
      const steps = stepsOf(jobsOf(stage(withValidation(), 'Promote'))[0]);
      const promote = asMapping(steps.find((step) => step.task === 'AcrPromoteImage@1')!.inputs);
      assert.equal(promote.sourceRegistry, 'contosononprod.azurecr.io');
      assert.equal(promote.sourceImage, 'orders/api@$(imageDigest)');
      assert.equal(promote.targetRegistry, 'contosoprod.azurecr.io');
      assert.equal(promote.copyReferrers, true);
      // A digest-only source needs a tag in the target: the tag CI pushed, unless promotedTags says otherwise.
      assert.equal(promote.targetTags, '$(resources.pipeline.ci.runID)');
    });

    it("deploys to production the reference from the Promote stage's output variable", () => {
      for (const pipeline of [withValidation(), withoutValidation()]) {
        const production = stage(pipeline, 'Production');
        const deploy = jobsOf(production)[0];
        assert.ok(deploy.deployment, 'production is a deployment job');
        assert.equal(asMapping(deploy.environment).resourceType, 'Kubernetes');
        assert.equal(deploy.deployment, 'deploy_production');
        assert.equal(production.lockBehavior, 'sequential');
        const aks = asMapping(stepsOf(deploy).find((step) => step.task === 'AksDeploy@1')!.inputs);
        const variable = /^orders\/api => \$\((\w+)\)$/.exec(String(aks.images))![1];
        const source = String(asMapping(deploy.variables)[variable]);
        // A deployment job reads a regular job's output of an earlier stage as
        // stageDependencies.<stage>.<job>.outputs['<step>.<variable>'].
        const match = /^\$\[\s*stageDependencies\.(\w+)\.(\w+)\.outputs\['(\w+)\.(\w+)'\]\s*\]$/.exec(source);
        assert.ok(match, `${source} is a stageDependencies reference`);
        const [, stageName, jobName, stepName, output] = match;
        assert.deepEqual(dependsOn(production), [stageName], 'the producing stage is a direct dependency');
        const job = jobsOf(stage(pipeline, stageName)).find((candidate) => candidate.job === jobName);
        assert.ok(job, `a regular job ${jobName} (a deployment job would need its name as a prefix)`);
        const step = stepsOf(job).find((candidate) => candidate.name === stepName)!;
        assert.equal(step.task, 'AcrPromoteImage@1');
        assert.equal(output, 'imageReference');
      }
    });

    it('gives both deployments the Application Insights connection string from Key Vault as a Secret manifest', () => {
      for (const [name, vault] of [
        ['Staging', 'orders-staging-kv'],
        ['Production', 'orders-prod-kv'],
      ]) {
        const steps = stepsOf(jobsOf(stage(withValidation(), name))[0]);
        const secrets = asMapping(steps.find((step) => step.task === 'KeyVaultSecrets@1')!.inputs);
        assert.equal(secrets.keyVaultName, vault);
        assert.equal(secrets.exportFormat, 'kubernetesSecret');
        assert.match(String(secrets.secrets), /=> APPLICATIONINSIGHTS_CONNECTION_STRING$/);
        const manifests = String(
          asMapping(steps.find((step) => step.task === 'AksDeploy@1')!.inputs).manifests,
        );
        assert.ok(manifests.includes(`$(Agent.TempDirectory)/${String(secrets.exportFile)}`), manifests);
      }
    });

    it('deploys each environment’s overlay of CI’s manifests, and plain manifests when told', () => {
      const manifestLines = (pipeline: YamlMapping, name: string) =>
        String(
          asMapping(
            stepsOf(jobsOf(stage(pipeline, name))[0]).find((step) => step.task === 'AksDeploy@1')!.inputs,
          ).manifests,
        )
          .trim()
          .split('\n');
      assert.deepEqual(manifestLines(withValidation(), 'Staging'), [
        '$(Pipeline.Workspace)/ci/manifests/overlays/staging',
        '$(Agent.TempDirectory)/app-insights.yaml',
      ]);
      assert.deepEqual(manifestLines(withValidation(), 'Production'), [
        '$(Pipeline.Workspace)/ci/manifests/overlays/production',
        '$(Agent.TempDirectory)/app-insights.yaml',
      ]);
      const plain = expandCd({ stagingManifests: '**/*.@(yaml|yml)', productionManifests: 'k8s/*.yaml' });
      assert.deepEqual(
        manifestLines(plain, 'Staging')[0],
        '$(Pipeline.Workspace)/ci/manifests/**/*.@(yaml|yml)',
      );
      assert.deepEqual(
        manifestLines(plain, 'Production')[0],
        '$(Pipeline.Workspace)/ci/manifests/k8s/*.yaml',
      );
    });

    it('is what the extends entry point runs, with nothing added', () => {
      const direct = expandCd({});
      assert.deepEqual(withValidation().stages, direct.stages);
    });
  });

  describe('compiled by the runner', () => {
    const compile = (file: string, folders = { self: root, releaseFlow: root }) =>
      compilePipeline({ file, repositories: folders, catalog: testCatalog() });

    it('compiles the PR and CI examples with every task, input and output reference checked', () => {
      const pr = compile(example('pr'));
      assert.deepEqual(
        pr.stages.map((s) => s.name),
        ['Quality'],
      );
      const quality = pr.stages[0].jobs[0];
      assert.equal(quality.kind, 'job');
      const steps = (quality as { steps: readonly TaskStep[] }).steps;
      assert.deepEqual(steps[0], { ...steps[0], kind: 'checkout', repository: 'self', fetchDepth: 1 });
      const lint = steps.find((step) => step.kind === 'task' && step.inputs.script === 'npm run lint')!;
      assert.deepEqual([lint.task, lint.majorVersion, lint.shorthand], ['CmdLine', 2, 'script']);
      const ci = compile(example('ci'));
      assert.deepEqual(
        ci.stages.map((s) => [s.name, s.dependsOn]),
        [
          ['Quality', []],
          ['Integration', ['Quality']],
          ['Image', ['Integration']],
        ],
      );
    });

    it('refuses a deployment job named deploy, a keyword the service does not support', () => {
      const copy = mkdtempSync(join(tmpdir(), 'release-flow-'));
      try {
        cpSync(join(root, 'templates'), join(copy, 'templates'), { recursive: true });
        const cd = join(copy, 'templates', 'cd.yml');
        writeFileSync(
          cd,
          readFileSync(cd, 'utf8').replace(/- deployment: deploy_\w+$/gm, '- deployment: deploy'),
        );
        assert.throws(
          () =>
            compile(join(copy, 'templates', 'examples', 'azure-pipelines-cd.yml'), {
              self: copy,
              releaseFlow: copy,
            }),
          (error: unknown) =>
            error instanceof PipelineError &&
            error.problems.length === 2 &&
            error.problems.every(
              (problem) =>
                problem.location?.file === '/templates/cd.yml@releaseFlow' &&
                /Deployment job name 'deploy': the word deploy is a keyword/.test(problem.message),
            ),
        );
      } finally {
        rmSync(copy, { recursive: true, force: true });
      }
    });

    it('compiles the CD example', () => {
      const pipeline = compile(example('cd'));
      assert.deepEqual(
        pipeline.pipelines.map((resource) => [resource.alias, resource.source, resource.trigger]),
        [['ci', 'orders-api-ci', { include: ['main'], exclude: [] }]],
      );
      const validation = pipeline.stages.find((s) => s.name === 'Validation')!.jobs[0] as ServerJob;
      assert.deepEqual(
        [
          validation.kind,
          validation.timeoutInMinutes,
          validation.steps[0].task,
          validation.steps[0].timeoutInMinutes,
        ],
        ['server', 43200, 'ManualValidation', 1440],
      );
      const production = pipeline.stages.find((s) => s.name === 'Production')!.jobs[0] as DeploymentJob;
      assert.deepEqual(production.environment, {
        ...production.environment,
        name: 'production',
        resourceName: 'orders',
      });
      const download = production.hooks.deploy[0] as TaskStep;
      assert.deepEqual(download.inputs, {
        buildType: 'specific',
        project: '$(System.TeamProjectId)',
        definition: 'orders-api-ci',
        buildVersionToDownload: 'specific',
        pipelineId: '$(resources.pipeline.ci.runID)',
        artifactName: 'manifests',
        itemPattern: '**',
        targetPath: '$(Pipeline.Workspace)/ci/manifests',
      });
      // The step's inputs name the template line where they were written.
      const aks = production.hooks.deploy.find(
        (step) => step.kind === 'task' && step.task === 'AksDeploy',
      ) as TaskStep;
      assert.equal(aks.inputLocations.images.file, '/templates/steps/deploy.yml@releaseFlow');
    });
  });

  describe('parameter mistakes', () => {
    // The mistake is reported where it was written: the pipeline that passes the values.
    const at = (file: string, message: string) =>
      new RegExp(
        `^/templates/examples/azure-pipelines-${file}\\.yml \\(Line: \\d+, Col: \\d+\\): ${message}$`,
        'm',
      );
    const mistakes: [string, YamlMapping, RegExp][] = [
      [
        'a value outside values:',
        { onTimeout: 'wait' },
        at('cd', "The 'onTimeout' parameter value 'wait' is not a valid value\\."),
      ],
      [
        'a missing required parameter',
        { imageRepository: undefined as unknown as TemplateValue },
        at('pr', "A value for the 'imageRepository' parameter must be provided\\."),
      ],
      [
        'a boolean that is not one',
        { manualValidation: 'sometimes' },
        at('cd', "The 'manualValidation' parameter is not a valid Boolean\\."),
      ],
      [
        'a number that is not one',
        { rolloutTimeout: '10m' },
        at('cd', "The 'rolloutTimeout' parameter is not a valid Number\\."),
      ],
      ['a misspelt name', { aprovers: 'x' }, at('cd', "Unexpected parameter 'aprovers'")],
      [
        'a mapping for a string',
        { stagingBaseUrl: { url: 'x' } },
        at('cd', "The 'stagingBaseUrl' parameter is not a valid String\\."),
      ],
    ];
    for (const [mistake, overrides, expected] of mistakes) {
      it(`says clearly what is wrong with ${mistake}`, () => {
        const cleaned = Object.fromEntries(
          Object.entries(overrides).filter(([, value]) => value !== undefined),
        );
        const run = () =>
          overrides.imageRepository === undefined && 'imageRepository' in overrides
            ? expandWith('templates/cd.yml', withoutKeys(cdParameters(), ['imageRepository']))
            : expandCd(cleaned);
        assert.throws(
          run,
          (error: unknown) => error instanceof PipelineError && expected.test(error.message),
        );
      });
    }
    it('says which stepList item is not a step', () => {
      assert.throws(
        () => expandWith('templates/pr.yml', { testSteps: ['npm test'] }),
        /\/templates\/examples\/azure-pipelines-pr\.yml \(Line: \d+, Col: \d+\): The 'testSteps' parameter is not a valid StepList\.$/m,
      );
    });
  });
});

function cdParameters(): YamlMapping {
  return asMapping(asMapping(asMapping(asMapping(loadYaml(example('cd'))).extends).parameters).cd);
}
