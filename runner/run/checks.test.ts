import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinTasks } from '../builtin';
import { compilePipeline } from '../compile';
import { describeLocation } from '../model';
import { createTaskCatalog, readExtensionTasks } from './catalog';
import { checkAgainstResources } from './checks';
import { parseResources } from './resources';

/** Each thing a pipeline names that the resources file must hold, missing: one line at its place. */
const catalog = createTaskCatalog(readExtensionTasks(join(__dirname, '..', '..', 'tasks')), builtinTasks());
const folder = mkdtempSync(join(tmpdir(), 'runner-checks-'));
const resources = parseResources(
  {
    connections: {
      'orders-nonprod': { type: 'azurerm', url: 'https://management.azure.com/', scheme: 'ServicePrincipal' },
      'staging-kubernetes': { type: 'kubernetes', url: 'https://aks.example', scheme: 'Kubernetes' },
    },
    environments: { staging: { orders: { type: 'Kubernetes', connection: 'staging-kubernetes' } } },
  },
  join(folder, 'resources.yml'),
);

function problems(yaml: string): string[] {
  const file = join(mkdtempSync(join(folder, 'p-')), 'azure-pipelines.yml');
  writeFileSync(file, yaml);
  const compiled = compilePipeline({ file, repositories: { self: folder, tools: folder }, catalog });
  return checkAgainstResources(compiled, resources, catalog, { resourcesFile: 'resources.yml' }).map(
    (problem) => `${problem.location ? `${describeLocation(problem.location)}: ` : ''}${problem.message}`,
  );
}

describe('runner: checks against the resources file', () => {
  it('passes a pipeline whose connections and environment resources exist', () => {
    assert.deepEqual(
      problems(`jobs:
  - deployment: deploy_staging
    environment: { name: staging, resourceName: orders }
    strategy:
      runOnce:
        deploy:
          steps:
            - download: none
            - task: KeyVaultSecrets@1
              inputs: { azureSubscription: orders-nonprod, keyVaultName: kv, secrets: '*' }
`),
      [],
    );
  });

  const cases: [string, string, RegExp][] = [
    [
      'a service connection no one declared',
      `steps:
  - task: KeyVaultSecrets@1
    inputs:
      azureSubscription: orders-prod
      keyVaultName: kv
      secrets: '*'
`,
      /\(Line: 4, Col: 7\): The input 'azureSubscription' of KeyVaultSecrets@1 names the service connection 'orders-prod', which does not exist: add it under connections in resources.yml\.$/,
    ],
    [
      "an environment's Kubernetes resource no one declared",
      `jobs:
  - deployment: deploy_production
    environment: { name: production, resourceName: orders }
    strategy: { runOnce: { deploy: { steps: [ { download: none }, { bash: echo } ] } } }
`,
      /The environment 'production' has no Kubernetes resource 'orders': add it under 'environments: \{ production: \{ orders: /,
    ],
    [
      'a pipeline resource whose runs are nowhere',
      `resources:
  pipelines:
    - pipeline: ci
      source: orders-api-ci
steps:
  - bash: echo
`,
      /The pipeline resource 'ci' names the pipeline 'orders-api-ci', which has no runs folder: add 'pipelines: \{ orders-api-ci: <folder of its runs> \}' in resources\.yml\.$/,
    ],
    [
      'a variable group no one declared',
      `variables:
  - group: shared
steps:
  - bash: echo
`,
      /\(Line: 2, Col: 5\): The variable group 'shared' is not defined: add it under variableGroups in resources\.yml\.$/,
    ],
  ];
  for (const [what, yaml, expected] of cases) {
    it(`names ${what}`, () => {
      const found = problems(yaml);
      assert.equal(found.length, 1, found.join('\n'));
      assert.match(found[0]!, expected);
    });
  }
});
