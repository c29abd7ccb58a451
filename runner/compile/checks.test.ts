import assert from 'node:assert/strict';
import { compiled, problemsOf, removeRepositories, type Repositories } from './testing';

const pipeline = (text: string): Repositories => ({ self: { 'azure-pipelines.yml': text } });

describe('compile: checks', () => {
  after(removeRepositories);

  // Each case: the pipeline, and the exact problems (file, line, column and message).
  const cases: [string, string, string[]][] = [
    [
      'an unknown task, with did you mean',
      'steps:\n- task: AksDepoly@1\n- task: AksDeploy@2\n  inputs: { manifests: a }\n',
      [
        "/azure-pipelines.yml (Line: 2, Col: 3): A task is missing. The pipeline references a task called 'AksDepoly' at version 1, which the runner does not know. Did you mean AksDeploy@1?",
        "/azure-pipelines.yml (Line: 3, Col: 3): A task is missing. The pipeline references a task called 'AksDeploy' at version 2, which the runner does not know. Did you mean AksDeploy@1?",
      ],
    ],
    [
      'a task reference without a major version',
      'steps:\n- task: AksDeploy\n',
      [
        "/azure-pipelines.yml (Line: 2, Col: 9): task: 'AksDeploy' must name a task and its major version, like AksDeploy@1",
      ],
    ],
    [
      'an unknown input, aliases counting as known',
      'steps:\n- task: PublishPipelineArtifact@1\n  inputs:\n    path: out\n    artifactNmae: drop\n',
      [
        "/azure-pipelines.yml (Line: 5, Col: 5): PublishPipelineArtifact@1 has no input 'artifactNmae': did you mean 'artifactName'?",
      ],
    ],
    [
      'a missing required input, not one hidden by its visibleRule',
      'steps:\n- task: AksDeploy@1\n  inputs: { manifests: a, connectionType: azureResourceManager }\n- task: AksDeploy@1\n  inputs: { manifests: a, connectionType: kubernetesServiceConnection }\n',
      [
        "/azure-pipelines.yml (Line: 2, Col: 3): AksDeploy@1 needs input 'azureSubscription', which is required and not given",
        "/azure-pipelines.yml (Line: 2, Col: 3): AksDeploy@1 needs input 'resourceGroup', which is required and not given",
        "/azure-pipelines.yml (Line: 2, Col: 3): AksDeploy@1 needs input 'clusterName', which is required and not given",
      ],
    ],
    [
      'a pickList value not in its options, but not an editable one, a macro or a runtime expression',
      `steps:
- task: AksDeploy@1
  inputs: { manifests: a, connectionType: kubeconfig }
- task: AksDeploy@1
  inputs: { manifests: a, connectionType: $(kind) }
- task: AksDeploy@1
  inputs: { manifests: a, azureSubscription: s, resourceGroup: anything, clusterName: c }
`,
      [
        "/azure-pipelines.yml (Line: 3, Col: 27): AksDeploy@1 input 'connectionType' is 'kubeconfig', which is not one of its options: azureResourceManager, kubernetesServiceConnection",
      ],
    ],
    [
      'a server task in an agent job and an agent task in an agentless job',
      `jobs:
- job: agent
  steps:
  - task: ManualValidation@1
    inputs: { notifyUsers: a }
- job: agentless
  pool: server
  steps:
  - task: AcceptanceGate@1
    inputs: { baseUrl: https://a }
`,
      [
        '/azure-pipelines.yml (Line: 4, Col: 5): ManualValidation@1 is a server task: it runs only in an agentless job (pool: server); move it to one',
        '/azure-pipelines.yml (Line: 9, Col: 5): AcceptanceGate@1 runs on an agent, but this job is agentless (pool: server): move the step to an agent job',
      ],
    ],
    [
      'a deployment job named deploy',
      'jobs:\n- deployment: deploy\n  environment: e\n  strategy: { runOnce: { deploy: { steps: [{ script: x }] } } }\n',
      [
        "/azure-pipelines.yml (Line: 2, Col: 3): Deployment job name 'deploy': the word deploy is a keyword and is unsupported as the deployment name; rename the deployment job",
      ],
    ],
    [
      'duplicate stage, job and step names, and invalid names',
      `stages:
- stage: A
  jobs:
  - job: j
    steps:
    - script: a
      name: one
    - script: b
      name: one
    - script: c
      name: 2bad
  - job: j
    steps: [{ checkout: none }]
- stage: A
  jobs:
  - job: my-job
    steps: [{ checkout: none }]
`,
      [
        "/azure-pipelines.yml (Line: 11, Col: 13): Step 2bad has an invalid name. Valid names may only contain alphanumeric characters and '_' and may not start with a number.",
        '/azure-pipelines.yml (Line: 8, Col: 7): Job j: The step name one appears more than once. Step names must be unique within a job.',
        '/azure-pipelines.yml (Line: 12, Col: 5): Stage A job j appears more than once. Job names must be unique within a stage.',
        '/azure-pipelines.yml (Line: 14, Col: 3): The stage name A appears more than once. Stage names must be unique within a pipeline.',
        "/azure-pipelines.yml (Line: 16, Col: 5): Stage A job my-job has an invalid name. Valid names may only contain alphanumeric characters and '_' and may not start with a number.",
      ],
    ],
    [
      'dependsOn naming nothing, and a cycle',
      `stages:
- stage: A
  dependsOn: C
  jobs:
  - job: a
    dependsOn: [b, nope]
    steps: [{ checkout: none }]
  - job: b
    dependsOn: a
    steps: [{ checkout: none }]
- stage: B
  dependsOn: [A, Z]
  jobs: [{ job: c, steps: [{ checkout: none }] }]
- stage: C
  dependsOn: B
  jobs: [{ job: d, steps: [{ checkout: none }] }]
`,
      [
        '/azure-pipelines.yml (Line: 5, Col: 5): Stage A job a depends on unknown job nope.',
        '/azure-pipelines.yml (Line: 8, Col: 5): Stage A job b depends on job a which creates a cycle in the dependency graph.',
        '/azure-pipelines.yml (Line: 11, Col: 3): Stage B depends on unknown stage Z.',
        '/azure-pipelines.yml (Line: 11, Col: 3): Stage B depends on stage A which creates a cycle in the dependency graph.',
      ],
    ],
    [
      'conditions and $[ ] variables that do not parse or name what does not exist there',
      `jobs:
- job: a
  condition: and(succeeded(), eq(variables.x, 'y')
  variables:
    v: $[ succeeded() ]
  steps:
  - script: x
    condition: counter('a', 1)
`,
      [
        "/azure-pipelines.yml (Line: 7, Col: 5): Unrecognized value: 'counter'. Located at position 1 within expression: counter('a', 1).",
        "/azure-pipelines.yml (Line: 2, Col: 3): Unclosed function: 'and'. Located at position 1 within expression: and(succeeded(), eq(variables.x, 'y').",
        "/azure-pipelines.yml (Line: 5, Col: 5): Unrecognized value: 'succeeded'. Located at position 1 within expression: succeeded().",
      ],
    ],
    [
      'output references that cannot find an output',
      `stages:
- stage: A
  jobs:
  - job: setter
    steps:
    - bash: echo "##vso[task.setvariable variable=ready;isOutput=true]yes"
      name: s
    - bash: echo "##vso[task.setvariable variable=local]yes"
      name: quiet
    - task: AcrPromoteImage@1
      name: promote
      inputs: { sourceConnection: c, sourceRegistry: r, sourceImage: i, targetConnection: c, targetRegistry: t }
  - job: reader
    dependsOn: setter
    variables:
      ok: $[ dependencies.setter.outputs['s.ready'] ]
      okTask: $[ dependencies.setter.outputs['promote.imageReference'] ]
      noStep: $[ dependencies.setter.outputs['nope.ready'] ]
      notOutput: $[ dependencies.setter.outputs['quiet.local'] ]
      notDeclared: $[ dependencies.setter.outputs['promote.digest'] ]
    steps: [{ checkout: none }]
  - job: forgetful
    condition: eq(dependencies.setter.outputs['s.ready'], 'yes')
    steps: [{ checkout: none }]
- stage: B
  dependsOn: A
  condition: eq(dependencies.A.outputs['setter.s.ready'], 'yes')
  variables:
    fromStage: $[ stageDependencies.A.setter.outputs['s.ready'] ]
  jobs:
  - job: late
    variables:
      skipped: $[ stageDependencies.C.cjob.outputs['s.ready'] ]
    steps: [{ checkout: none }]
- stage: C
  dependsOn: []
  jobs:
  - job: cjob
    steps: [{ checkout: none }]
`,
      [
        "/azure-pipelines.yml (Line: 18, Col: 7): dependencies.setter.outputs['nope.ready'] reads step 'nope' of job setter, which has no step of that name: give the step that sets 'ready' name: nope",
        "/azure-pipelines.yml (Line: 19, Col: 7): dependencies.setter.outputs['quiet.local']: step 'quiet' of job setter cannot set the output 'local': its script never writes ##vso[task.setvariable variable=local;isOutput=true]",
        "/azure-pipelines.yml (Line: 20, Col: 7): dependencies.setter.outputs['promote.digest']: step 'promote' of job setter cannot set the output 'digest': AcrPromoteImage@1 declares the outputs imageDigest, imageReference",
        "/azure-pipelines.yml (Line: 22, Col: 5): dependencies.setter.outputs['s.ready'] is read by job forgetful, which does not depend on job setter: add setter to its dependsOn (without it the value is empty)",
        "/azure-pipelines.yml (Line: 33, Col: 7): stageDependencies.C.cjob.outputs['s.ready'] is read in stage B, which does not depend on stage C: add C to its dependsOn (without it the value is empty)",
      ],
    ],
    [
      "a deployment job's outputs read without its lifecycle hook's prefix",
      `jobs:
- deployment: plain
  environment: e
  strategy: { runOnce: { deploy: { steps: [{ bash: 'echo "##vso[task.setvariable variable=x;isOutput=true]1"', name: s }] } } }
- deployment: onResource
  environment: e.orders
  strategy: { runOnce: { deploy: { steps: [{ bash: 'echo "##vso[task.setvariable variable=x;isOutput=true]1"', name: s }] } } }
- job: reader
  dependsOn: [plain, onResource]
  variables:
    good: $[ dependencies.plain.outputs['plain.s.x'] ]
    goodResource: $[ dependencies.onResource.outputs['Deploy_orders.s.x'] ]
    bad: $[ dependencies.plain.outputs['s.x'] ]
    badResource: $[ dependencies.onResource.outputs['onResource.s.x'] ]
  steps: [{ checkout: none }]
`,
      [
        "/azure-pipelines.yml (Line: 13, Col: 5): dependencies.plain.outputs['s.x']: job plain is a deployment job, whose outputs carry the lifecycle hook's prefix: read it as 'plain.s.x'",
        "/azure-pipelines.yml (Line: 14, Col: 5): dependencies.onResource.outputs['onResource.s.x']: job onResource is a deployment job, whose outputs carry the lifecycle hook's prefix: read it as 'Deploy_orders.s.x'",
      ],
    ],
  ];
  for (const [what, text, expected] of cases) {
    it(`reports ${what}`, () => assert.deepEqual(problemsOf(pipeline(text)), expected));
  }

  it('accepts what is right: outputs read with dependsOn, named steps and declared outputs', () => {
    compiled(
      pipeline(`jobs:
- job: a
  steps:
  - pwsh: Write-Host "##vso[task.setvariable variable=$name;isOutput=true]1"
    name: dynamic
- job: b
  dependsOn: a
  condition: and(succeeded(), ne(dependencies.a.outputs['dynamic.anything'], ''), in(dependencies.a.result, 'Succeeded'))
  steps: [{ checkout: none }]
`),
    );
  });
});
