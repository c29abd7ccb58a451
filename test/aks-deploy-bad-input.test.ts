import { strict as assert } from 'node:assert';
import type { Endpoint, TaskRunResult } from './harness/agent';
import {
  configMapYaml,
  documents,
  namespaceYaml,
  registry,
  startAksDeployCluster,
  workloadYaml,
  type AksDeployCluster,
  type DeployRun,
} from './support/aks-deploy-cluster';

/** One bad (or borderline) input and what the task must answer. */
interface Row {
  readonly what: string;
  readonly files?: DeployRun['files'];
  readonly inputs: Readonly<Record<string, string>>;
  /** Service connections by id, when not the cluster's `k8s` connection. */
  readonly endpoints?: (env: AksDeployCluster) => Readonly<Record<string, Endpoint>>;
  readonly secrets?: readonly string[];
  /** A deploy run first, in the row's namespace, so that there is something to leave alone. */
  readonly setup?: Pick<DeployRun, 'files' | 'inputs'>;
  readonly status: 'Failed' | 'SucceededWithIssues' | 'Succeeded';
  /** Key words the one error (or warning) line must hold: where, what is wrong, the fix. */
  readonly says?: readonly RegExp[];
  readonly check?: (run: TaskRunResult, env: AksDeployCluster) => void;
}

const good = configMapYaml('settings', '{ mode: staging }');
const manifest = { 'k8s/app.yaml': good };
const k8s = { manifests: 'k8s/*.yaml' };
/** An error line quotes at most about 200 characters of a value. */
const short = (run: TaskRunResult) =>
  assert.ok(run.result!.message.length < 1200, `${run.result!.message.length} characters`);

/** A YAML bomb: nine levels of nine aliases (9^9 strings when expanded). */
const bomb = [
  'apiVersion: v1',
  'kind: ConfigMap',
  'metadata: { name: lol }',
  'data:',
  '  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
  ...'bcdefghi'
    .split('')
    .map((name, i) => `  ${name}: &${name} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(',')}]`),
].join('\n');

/**
 * The rows, for one namespace of their own. Each refused row must leave the cluster as it
 * was: no write reached it, and no object changed.
 */
function rows(ns: string): Row[] {
  const three = documents(
    namespaceYaml(ns),
    configMapYaml('a', '{ v: "1" }'),
    configMapYaml('b', '{ v: "1" }'),
    configMapYaml('c', '{ v: "1" }'),
  );
  const keepOnlyA = documents(configMapYaml('a', '{ v: "2" }'));
  const inNs = { ...k8s, namespace: ns };
  return [
    // Empty and whitespace-only.
    {
      what: 'an empty manifests input',
      inputs: { manifests: '' },
      status: 'Failed',
      says: [/^The input 'manifests' is empty/, /one path or glob per line/],
    },
    {
      what: 'a whitespace-only manifests input',
      inputs: { manifests: '  \n\t\n  ' },
      status: 'Failed',
      says: [/^The input 'manifests' is empty/],
    },
    {
      what: 'an empty manifest file, with prune',
      setup: { files: { 'k8s/app.yaml': three }, inputs: inNs },
      files: { 'k8s/app.yaml': '' },
      inputs: { ...inNs, prune: 'true' },
      status: 'Failed',
      says: [/^The manifests hold no Kubernetes object: k8s\/app\.yaml/, /refuses to deploy nothing/],
      check: (_, env) => assert.ok(env.cluster.getObject('ConfigMap', ns, 'c'), 'pruned'),
    },
    {
      what: 'a manifest file of comments only, with prune',
      setup: { files: { 'k8s/app.yaml': three }, inputs: inNs },
      files: {
        'k8s/app.yaml': '# apiVersion: v1\n# kind: ConfigMap\n---\n# nothing\n',
        'k8s/more.yaml': ' \n',
      },
      inputs: { ...inNs, prune: 'true', pruneLimit: 'unlimited' },
      status: 'Failed',
      says: [/^The manifests hold no Kubernetes object: k8s\/app\.yaml, k8s\/more\.yaml/],
    },
    // The prune guard.
    {
      what: 'a prune that deletes more than the deploy applies',
      setup: { files: { 'k8s/app.yaml': three }, inputs: inNs },
      files: { 'k8s/app.yaml': keepOnlyA },
      inputs: { ...inNs, prune: 'true' },
      status: 'Failed',
      says: [
        new RegExp(
          `^Prune would delete 3 objects \\(ConfigMap ${ns}/b, ConfigMap ${ns}/c, Namespace ${ns}\\)`,
        ),
        /more than the 1 this deploy applies, so nothing was changed/,
        /set pruneLimit to 3 or unlimited/,
      ],
      check: (_, env) => {
        const a = env.cluster.getObject('ConfigMap', ns, 'a');
        assert.deepEqual(a?.data, { v: '1' }, 'applied before the prune was refused');
      },
    },
    {
      what: 'a prune over a pruneLimit number',
      setup: { files: { 'k8s/app.yaml': three }, inputs: inNs },
      files: {
        'k8s/app.yaml': documents(
          namespaceYaml(ns),
          configMapYaml('a', '{ v: "1" }'),
          configMapYaml('b', '{ v: "1" }'),
        ),
      },
      inputs: { ...inNs, prune: 'true', pruneLimit: '0' },
      status: 'Failed',
      says: [
        new RegExp(
          `^Prune would delete 1 objects \\(ConfigMap ${ns}/c\\), more than pruneLimit allows \\(0\\)`,
        ),
      ],
    },
    {
      what: 'a dry run of a prune over the limit (refused the same way)',
      setup: { files: { 'k8s/app.yaml': three }, inputs: inNs },
      files: { 'k8s/app.yaml': keepOnlyA },
      inputs: { ...inNs, prune: 'true', dryRun: 'true' },
      status: 'Failed',
      says: [/^Prune would delete 3 objects/],
    },
    {
      what: 'a dry run of a prune over a pruneLimit number',
      setup: { files: { 'k8s/app.yaml': three }, inputs: inNs },
      files: { 'k8s/app.yaml': documents(namespaceYaml(ns), configMapYaml('a', '{ v: "2" }')) },
      inputs: { ...inNs, prune: 'true', pruneLimit: '1', dryRun: 'true' },
      status: 'Failed',
      says: [/^Prune would delete 2 objects .*more than pruneLimit allows \(1\)/],
    },
    {
      what: 'a dry run of an allowed prune shows it and deletes nothing (legal)',
      setup: { files: { 'k8s/app.yaml': three }, inputs: inNs },
      files: { 'k8s/app.yaml': documents(namespaceYaml(ns), configMapYaml('a', '{ v: "2" }')) },
      inputs: { ...inNs, prune: 'true', dryRun: 'true' },
      status: 'Succeeded',
      check: (run, env) => {
        assert.match(run.log, new RegExp(`\\(dry run\\) ConfigMap ${ns}/b pruned`));
        assert.ok(env.cluster.getObject('ConfigMap', ns, 'b'), 'a dry run deleted');
        assert.match(run.summaries[0]?.content ?? '', /\| ConfigMap \| c \| .* \| pruned \|/);
      },
    },
    {
      what: 'a prune over the default limit with pruneLimit unlimited (legal)',
      setup: { files: { 'k8s/app.yaml': three }, inputs: inNs },
      files: { 'k8s/app.yaml': documents(namespaceYaml(ns)) },
      inputs: { ...inNs, prune: 'true', pruneLimit: 'unlimited' },
      status: 'Succeeded',
      check: (run, env) => {
        for (const name of ['a', 'b', 'c'])
          assert.equal(env.cluster.getObject('ConfigMap', ns, name), undefined, name);
        assert.match(run.log, new RegExp(`ConfigMap ${ns}/c pruned`));
      },
    },
    {
      what: 'a pruneLimit without prune (legal, with a warning)',
      files: { 'k8s/app.yaml': documents(namespaceYaml(ns), good) },
      inputs: { ...inNs, pruneLimit: '5' },
      status: 'SucceededWithIssues',
      says: [/^The input 'pruneLimit' is '5', but prune is false/, /Set prune to true, or remove pruneLimit/],
    },
    // Out of range, wrong type, unknown option.
    {
      what: 'a negative rolloutTimeout',
      files: manifest,
      inputs: { ...k8s, rolloutTimeout: '-1' },
      status: 'Failed',
      says: [/^The input 'rolloutTimeout' must be a whole number from 0 to 86400, but it is '-1'/],
    },
    {
      what: 'a rolloutTimeout over a day',
      files: manifest,
      inputs: { ...k8s, rolloutTimeout: '86401' },
      status: 'Failed',
      says: [/^The input 'rolloutTimeout' must be a whole number from 0 to 86400/],
    },
    {
      what: 'a rolloutTimeout that is not a number',
      files: manifest,
      inputs: { ...k8s, rolloutTimeout: '10m' },
      status: 'Failed',
      says: [/^The input 'rolloutTimeout' must be a whole number/, /'10m'/],
    },
    {
      what: 'prune that is not a boolean',
      files: manifest,
      inputs: { ...k8s, prune: 'yes' },
      status: 'Failed',
      says: [/^The input 'prune' must be true or false, but it is 'yes'/],
    },
    {
      what: 'a pruneLimit that is neither a keyword nor a number',
      files: manifest,
      inputs: { ...k8s, prune: 'true', pruneLimit: 'all' },
      status: 'Failed',
      says: [
        /^The input 'pruneLimit' must be applied, unlimited or a whole number from 0 to 1000000, but it is 'all'/,
      ],
    },
    {
      what: 'a negative pruneLimit',
      files: manifest,
      inputs: { ...k8s, prune: 'true', pruneLimit: '-3' },
      status: 'Failed',
      says: [/^The input 'pruneLimit' must be applied, unlimited or a whole number/],
    },
    {
      what: 'an unknown connectionType',
      files: manifest,
      inputs: { ...k8s, connectionType: 'kubectl' },
      status: 'Failed',
      says: [
        /^The input 'connectionType' must be one of: azureResourceManager, kubernetesServiceConnection\. It is 'kubectl'/,
      ],
    },
    // Oversized values.
    {
      what: 'a 120 KB namespace',
      files: manifest,
      inputs: { ...k8s, namespace: 'n'.repeat(120_000) },
      status: 'Failed',
      says: [
        /^The input 'namespace' is not a valid namespace name: 'n+… \(119800 more characters\)'/,
        /at most 63 characters/,
      ],
      check: short,
    },
    {
      what: 'a 120 KB images line',
      files: manifest,
      inputs: { ...k8s, images: `${registry}/${'a'.repeat(120_000)}:1 x` },
      status: 'Failed',
      says: [/^Line 1 of the input 'images' is not a pinned image reference/],
      check: short,
    },
    {
      what: 'a 120 KB manifests line',
      files: manifest,
      inputs: { manifests: `k8s/${'a'.repeat(120_000)}.yaml` },
      status: 'Failed',
      says: [/^Line 1 of the input 'manifests' is 120009 characters long, longer than any path \(4096\)/],
      check: short,
    },
    {
      what: 'a 120 KB rolloutTimeout',
      files: manifest,
      inputs: { ...k8s, rolloutTimeout: '9'.repeat(120_000) },
      status: 'Failed',
      says: [/^The input 'rolloutTimeout' must be a whole number/],
      check: short,
    },
    // Manifest files that are not manifests.
    {
      what: 'a binary manifest file',
      files: { 'k8s/app.yaml': Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03]) },
      inputs: k8s,
      status: 'Failed',
      says: [/^k8s\/app\.yaml is not YAML or JSON text/, /save the file as UTF-8/],
    },
    {
      what: 'a YAML bomb',
      files: { 'k8s/bomb.yaml': bomb },
      inputs: k8s,
      status: 'Failed',
      says: [/^k8s\/bomb\.yaml, document 1: its aliases expand to too many nodes/],
    },
    {
      what: 'invalid YAML',
      files: { 'k8s/app.yaml': `${good}\n---\nkind: [unclosed\n` },
      inputs: k8s,
      status: 'Failed',
      says: [/^k8s\/app\.yaml, document 2: not valid YAML or JSON/],
    },
    {
      what: 'a manifest without a kind',
      files: { 'k8s/app.yaml': 'apiVersion: v1\nmetadata: { name: x }\n' },
      inputs: k8s,
      status: 'Failed',
      says: [/^k8s\/app\.yaml, document 1: the object has no kind/],
    },
    // Paths and globs.
    {
      what: 'globs that together match nothing',
      files: manifest,
      inputs: { manifests: 'deploy/**/*.yaml\ndeploy/**/*.yml' },
      status: 'Failed',
      says: [
        /^No file matches the input 'manifests' \(deploy\/\*\*\/\*\.yaml, deploy\/\*\*\/\*\.yml; searched from /,
      ],
    },
    {
      what: 'a plain path that names no file',
      files: manifest,
      inputs: { manifests: 'k8s/*.yaml\nk8s/service.yaml' },
      status: 'Failed',
      says: [/^Line 2 of the input 'manifests' names the file 'k8s\/service\.yaml', which does not exist/],
    },
    {
      what: 'a plain path that names a folder',
      files: manifest,
      inputs: { manifests: 'k8s' },
      status: 'Failed',
      says: [
        /^Line 1 of the input 'manifests' names the folder 'k8s', which holds no kustomization\.yaml/,
        /Add a glob for its files, for example k8s\/\*\.yaml, or name the folder of the kustomization to render/,
      ],
    },
    {
      what: 'a missing path with unicode and spaces',
      files: manifest,
      inputs: { manifests: 'k8s/déploiement final/app.yaml' },
      status: 'Failed',
      says: [/^Line 1 of the input 'manifests' names the file 'k8s\/déploiement final\/app\.yaml'/],
    },
    {
      what: 'unicode and spaces in paths (legal)',
      files: {
        'k8s/déploiement final/app.yaml': documents(
          namespaceYaml(ns),
          configMapYaml('unicode', '{ a: "1" }'),
        ),
      },
      inputs: { manifests: 'k8s/déploiement final/app.yaml\nk8s/**/*.yml', namespace: ns },
      status: 'Succeeded',
      check: (_, env) => assert.ok(env.cluster.getObject('ConfigMap', ns, 'unicode')),
    },
    {
      what: 'a yaml and a yml glob where only yaml files exist (legal)',
      files: { 'k8s/app.yaml': documents(namespaceYaml(ns), configMapYaml('yaml-only', '{ a: "1" }')) },
      inputs: { manifests: 'k8s/**/*.yaml\nk8s/**/*.yml\n!k8s/old/**', namespace: ns },
      status: 'Succeeded',
      check: (_, env) => assert.ok(env.cluster.getObject('ConfigMap', ns, 'yaml-only')),
    },
    // Names the API server would refuse.
    {
      what: 'a namespace input the server would refuse',
      files: manifest,
      inputs: { ...k8s, namespace: 'Bad_Namespace!' },
      status: 'Failed',
      says: [
        /^The input 'namespace' is not a valid namespace name: 'Bad_Namespace!'/,
        /for example orders-staging/,
      ],
    },
    {
      what: 'a namespace that does not exist',
      files: manifest,
      inputs: { ...k8s, namespace: `${ns}-missing` },
      status: 'Failed',
      says: [
        new RegExp(
          `^The namespace '${ns}-missing' does not exist on the cluster, and the manifests do not create it, so nothing was applied`,
        ),
        /Add a Namespace manifest for it/,
      ],
    },
    {
      what: 'a manifest name the server would refuse',
      files: { 'k8s/app.yaml': documents(good, configMapYaml('My_Settings', '{ a: "1" }')) },
      inputs: k8s,
      status: 'Failed',
      says: [
        /^k8s\/app\.yaml, document 2: 'My_Settings' is not a valid ConfigMap name/,
        /for example orders-api/,
      ],
    },
    {
      what: 'a Service name that starts with a digit',
      files: {
        'k8s/app.yaml':
          'apiVersion: v1\nkind: Service\nmetadata: { name: 2api }\nspec: { ports: [{ port: 80 }] }',
      },
      inputs: k8s,
      status: 'Failed',
      says: [/^k8s\/app\.yaml, document 1: '2api' is not a valid Service name/, /starting with a letter/],
    },
    {
      what: 'a manifest namespace the server would refuse',
      files: { 'k8s/app.yaml': configMapYaml('settings', '{ a: "1" }', 'Orders_NS') },
      inputs: k8s,
      status: 'Failed',
      says: [/^k8s\/app\.yaml, document 1: the ConfigMap 'settings' has metadata\.namespace 'Orders_NS'/],
    },
    {
      what: 'an image pull secret name the server would refuse',
      files: manifest,
      inputs: { ...k8s, imagePullSecrets: 'acr-pull\n\nacr pull' },
      status: 'Failed',
      says: [
        /^Line 3 of the input 'imagePullSecrets' is not a valid Secret name: 'acr pull'/,
        /for example acr-pull/,
      ],
    },
    {
      what: 'a connection namespace the server would refuse',
      files: manifest,
      inputs: k8s,
      endpoints: (env) => ({ k8s: env.serviceAccountEndpoint({ namespace: 'Team Orders' }) }),
      status: 'Failed',
      says: [/^The namespace 'Team Orders' of the service connection 'k8s' is not a valid namespace name/],
    },
    // Images.
    {
      what: 'a malformed image line',
      files: manifest,
      inputs: { ...k8s, images: 'contoso.azurecr.io/api@sha256:abc\n' },
      status: 'Failed',
      says: [/^Line 1 of the input 'images' is not a pinned image reference/],
    },
    {
      what: 'an image line that replaces nothing',
      files: { 'k8s/app.yaml': workloadYaml('Deployment', 'api', `${registry}/orders/api:1.0`) },
      inputs: { ...k8s, images: `\ncontoso.azurecr.io/orders/api@sha256:${'c'.repeat(64)}` },
      status: 'Failed',
      says: [
        /^Line 2 of the input 'images' \('contoso\.azurecr\.io\/orders\/api@sha256:c+'\) replaces nothing/,
        /no container in the manifests uses the repository contoso\.azurecr\.io\/orders\/api/,
        /The containers use: registry\.azure\.test:5000\/orders\/api\./,
      ],
    },
    {
      what: 'two lines for one repository',
      files: manifest,
      inputs: { ...k8s, images: 'app:1\ndocker.io/library/app:2' },
      status: 'Failed',
      says: [/^Line 2 of the input 'images' pins docker\.io\/library\/app a second time/],
    },
    // Connections.
    {
      what: 'a Kubernetes connection type without a connection or environment',
      files: manifest,
      inputs: { ...k8s, kubernetesServiceConnection: '' },
      status: 'Failed',
      says: [/^No Kubernetes service connection/],
    },
    {
      what: 'a connection that does not exist',
      files: manifest,
      inputs: { ...k8s, kubernetesServiceConnection: 'aks-prod-typo' },
      status: 'Failed',
      says: [
        /^The Kubernetes service connection 'aks-prod-typo' was not found, or this pipeline is not authorised to use it/,
      ],
    },
    {
      what: 'an Azure Resource Manager connection given as the Kubernetes connection',
      files: manifest,
      inputs: k8s,
      endpoints: () => ({
        k8s: {
          url: 'https://management.azure.test/',
          scheme: 'ServicePrincipal',
          parameters: {
            tenantid: '7f1c6a0e-0000-4000-8000-000000000001',
            serviceprincipalid: '7f1c6a0e-0000-4000-8000-000000000002',
            serviceprincipalkey: 'arm-connection-client-secret',
            authenticationType: 'spnKey',
          },
          data: { subscriptionId: '7f1c6a0e-0000-4000-8000-000000000003', environment: 'AzureCloud' },
        },
      }),
      secrets: ['arm-connection-client-secret'],
      status: 'Failed',
      says: [
        /^The service connection 'k8s' is not a Kubernetes service connection the task can use \(its type is 'ServicePrincipal'\)/,
        /Kubeconfig, Service Account or Azure Subscription/,
      ],
    },
    {
      what: 'a Kubernetes connection of an unknown authorization type',
      files: manifest,
      inputs: k8s,
      endpoints: (env) => ({
        k8s: { ...env.serviceAccountEndpoint(), data: { authorizationType: 'ClientCertificate' } },
      }),
      status: 'Failed',
      says: [/its type is 'ClientCertificate'/],
    },
  ];
}

/**
 * AksDeploy@1's bad input, through the agent harness on Node 20 and Node 24, against an
 * emulated cluster: each row fails with one clear line (what, where, how to fix) and no
 * stack trace or secret, and leaves the cluster as it was; the legal rows succeed (with
 * a warning where the input does nothing).
 */
describe('AksDeploy bad input', function () {
  this.timeout(120_000);
  let env: AksDeployCluster;

  before(async () => {
    env = await startAksDeployCluster();
  });
  after(async () => env?.stop());

  /** Every object's uid and resourceVersion, for the kinds the rows could touch. */
  const clusterState = () =>
    ['Namespace', 'ConfigMap', 'Secret', 'Service', 'Deployment']
      .flatMap((kind) => env.cluster.listObjects(kind))
      .map(
        (o) =>
          `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name} ${o.metadata.uid} ${o.metadata.resourceVersion}`,
      )
      .sort();

  for (const node of ['node20', 'node24'] as const) {
    rows('ns').forEach(({ what }, index) => {
      it(`${what} (${node})`, async () => {
        const ns = `bad-input-${index}-${node}`;
        const row = rows(ns)[index]!;
        if (row.setup) {
          const setup = await env.deploy({ files: row.setup.files, inputs: row.setup.inputs ?? {} });
          assert.equal(setup.result?.status, 'Succeeded', setup.log);
        }
        const before = clusterState();
        env.azure.clearRequestLog();
        const run = await env.deploy({
          node,
          files: row.files ?? {},
          inputs: row.inputs,
          ...(row.endpoints ? { endpoints: row.endpoints(env) } : {}),
          ...(row.secrets ? { secrets: row.secrets } : {}),
        });
        assert.equal(run.result?.status, row.status, run.log);
        assert.doesNotMatch(run.log, /\n\s+at .+\(.+:\d+:\d+\)/, 'a stack trace reached the log');
        if (row.status === 'Failed') {
          assert.equal(run.errors.length, 1, JSON.stringify(run.errors));
          assert.equal(run.result!.message.split('\n').length, 1, run.result!.message);
          for (const words of row.says ?? []) assert.match(run.result!.message, words);
          assert.deepEqual(env.writes(), [], 'a refused deploy wrote to the cluster');
          assert.deepEqual(clusterState(), before, 'a refused deploy changed the cluster');
        } else if (row.status === 'SucceededWithIssues') {
          assert.equal(run.warnings.length, 1, JSON.stringify(run.warnings));
          for (const words of row.says ?? []) assert.match(run.warnings[0]!.message, words);
        }
        row.check?.(run, env);
      });
    });
  }
});
