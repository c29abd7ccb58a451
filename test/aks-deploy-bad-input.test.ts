import { strict as assert } from 'node:assert';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runTask } from './harness/agent';

/**
 * AksDeploy@1's bad input, through the agent harness: each case fails with one clear
 * line naming what is wrong (and, for manifests, the file and document), before the
 * task reaches any cluster.
 */
describe('AksDeploy bad input', function () {
  this.timeout(60_000);

  const kubernetesEndpoint = {
    url: 'https://aks-staging.azure.test:6443',
    scheme: 'Token',
    parameters: { apiToken: Buffer.from('not-used').toString('base64') },
    data: { authorizationType: 'ServiceAccount' },
  };
  const good = 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: settings }\n';

  const table: {
    what: string;
    files: Record<string, string>;
    inputs: Record<string, string>;
    error: RegExp;
  }[] = [
    {
      what: 'invalid YAML',
      files: { 'k8s/app.yaml': `${good}---\nkind: [unclosed\n` },
      inputs: { manifests: 'k8s/*.yaml' },
      error: /^k8s\/app\.yaml, document 2: not valid YAML or JSON/,
    },
    {
      what: 'a manifest without a kind',
      files: { 'k8s/app.yaml': 'apiVersion: v1\nmetadata: { name: x }\n' },
      inputs: { manifests: 'k8s/*.yaml' },
      error: /^k8s\/app\.yaml, document 1: the object has no kind/,
    },
    {
      what: 'a glob that matches nothing',
      files: { 'k8s/app.yaml': good },
      inputs: { manifests: 'deploy/**/*.yaml' },
      error: /^No file matches the manifests glob 'deploy\/\*\*\/\*\.yaml'/,
    },
    {
      what: 'a malformed image line',
      files: { 'k8s/app.yaml': good },
      inputs: { manifests: 'k8s/*.yaml', images: 'contoso.azurecr.io/api@sha256:abc\n' },
      error: /^Line 1 of the input 'images' is not a pinned image reference/,
    },
    {
      what: 'no manifests at all',
      files: {},
      inputs: { manifests: '' },
      error: /^The input 'manifests' is empty/,
    },
    {
      what: 'a Kubernetes connection type without a connection or environment',
      files: { 'k8s/app.yaml': good },
      inputs: { manifests: 'k8s/*.yaml', kubernetesServiceConnection: '' },
      error: /^No Kubernetes service connection/,
    },
  ];

  for (const node of ['node20', 'node24'] as const) {
    for (const { what, files, inputs, error } of table) {
      it(`${what} (${node})`, async () => {
        const run = await runTask({
          task: 'AksDeploy',
          node,
          inputs: {
            connectionType: 'kubernetesServiceConnection',
            kubernetesServiceConnection: 'k8s',
            ...inputs,
          },
          endpoints: { k8s: kubernetesEndpoint },
          prepare: (dirs) => {
            for (const [file, text] of Object.entries(files)) {
              mkdirSync(join(dirs.sources, file, '..'), { recursive: true });
              writeFileSync(join(dirs.sources, file), text);
            }
          },
        });
        assert.equal(run.result?.status, 'Failed', run.log);
        assert.match(run.result!.message, error);
        assert.equal(run.result!.message.split('\n').length, 1, run.result!.message);
        assert.doesNotMatch(run.log, /\n\s+at .+\(.+:\d+:\d+\)/, 'a stack trace reached the log');
      });
    }
  }
});
