import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import type { TaskRunResult } from './harness/agent';
import {
  namespaceYaml,
  registry,
  startAksDeployCluster,
  type AksDeployCluster,
} from './support/aks-deploy-cluster';

const digest = (char: string) => `sha256:${char.repeat(64)}`;

/** The first program called `name` on the PATH. */
function onPath(name: string): string | undefined {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : undefined;
}

/**
 * A base (a Deployment with an init container reading a generated ConfigMap, a Service), a
 * component (a CronJob of the same image) and a staging overlay that patches it both ways
 * (strategic merge and JSON 6902) and merges its own setting into the generator.
 */
const kustomizeFiles: Readonly<Record<string, string>> = {
  'deploy/base/kustomization.yaml': [
    'resources:',
    '  - deployment.yaml',
    '  - service.yaml',
    'configMapGenerator:',
    '  - name: settings',
    '    literals: [MODE=base, PORT="8080"]',
  ].join('\n'),
  'deploy/base/deployment.yaml': [
    'apiVersion: apps/v1',
    'kind: Deployment',
    'metadata: { name: api }',
    'spec:',
    '  replicas: 1',
    '  selector: { matchLabels: { app: api } }',
    '  template:',
    '    metadata: { labels: { app: api } }',
    '    spec:',
    '      initContainers: [{ name: migrate, image: orders/api:latest }]',
    '      containers:',
    '        - name: api',
    '          image: orders/api:latest',
    '          envFrom: [{ configMapRef: { name: settings } }]',
  ].join('\n'),
  'deploy/base/service.yaml':
    'apiVersion: v1\nkind: Service\nmetadata: { name: api }\nspec: { selector: { app: api }, ports: [{ port: 80 }] }\n',
  'deploy/components/report/kustomization.yaml':
    'apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources: [cronjob.yaml]\n',
  'deploy/components/report/cronjob.yaml': [
    'apiVersion: batch/v1',
    'kind: CronJob',
    'metadata: { name: report }',
    'spec:',
    '  schedule: "0 * * * *"',
    '  jobTemplate:',
    '    spec:',
    '      template:',
    '        spec:',
    '          restartPolicy: Never',
    '          containers: [{ name: report, image: orders/api:latest }]',
  ].join('\n'),
  'deploy/overlays/staging/kustomization.yaml': [
    'resources: [../../base]',
    'components: [../../components/report]',
    'configMapGenerator:',
    '  - name: settings',
    '    behavior: merge',
    '    literals: [MODE=staging]',
    'patches:',
    '  - path: replicas.yaml',
    '  - target: { kind: Service, name: api }',
    '    patch: |-',
    '      - op: replace',
    '        path: /spec/ports/0/port',
    '        value: 8080',
  ].join('\n'),
  'deploy/overlays/staging/replicas.yaml':
    'apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: api }\nspec: { replicas: 3 }\n',
};

/** A plain Secret (of no secret value), as KeyVaultSecrets@1 writes one, deployed in the same set as the overlay. */
const secretYaml =
  'apiVersion: v1\nkind: Secret\nmetadata: { name: app-insights }\nstringData: { APPLICATIONINSIGHTS_CONNECTION_STRING: "InstrumentationKey=x" }\n';

/** One Kustomize input and what the task must answer. */
interface Row {
  readonly what: string;
  readonly files: Readonly<Record<string, string>>;
  readonly inputs: Readonly<Record<string, string>>;
  readonly env?: Readonly<Record<string, string>>;
  readonly status: 'Failed' | 'SucceededWithIssues' | 'Succeeded';
  /** Key words the one error (or warning) line must hold. */
  readonly says?: readonly RegExp[];
  readonly check?: (run: TaskRunResult, env: AksDeployCluster, ns: string) => void | Promise<void>;
}

function rows(ns: string): Row[] {
  const files = { ...kustomizeFiles, 'k8s/namespace.yaml': namespaceYaml(ns) };
  const staging = { manifests: 'deploy/overlays/staging\nk8s/namespace.yaml', namespace: ns };
  return [
    {
      what: 'a remote base',
      files: {
        ...files,
        'deploy/overlays/remote/kustomization.yaml':
          'resources:\n  - ../../base\n  - https://github.com/contoso/platform//bases/labels?ref=v3\n',
      },
      inputs: { ...staging, manifests: 'deploy/overlays/remote\nk8s/namespace.yaml' },
      status: 'Failed',
      says: [
        /^deploy\/overlays\/remote\/kustomization\.yaml, line 3: 'https:\/\/github\.com\/contoso\/platform\/\/bases\/labels\?ref=v3' is remote/,
        /Copy the base into the repository/,
      ],
    },
    {
      what: 'a resource that does not exist',
      files: { ...files, 'deploy/overlays/typo/kustomization.yaml': 'resources:\n  - ../../bsae\n' },
      inputs: { ...staging, manifests: 'deploy/overlays/typo' },
      status: 'Failed',
      says: [
        /^deploy\/overlays\/typo\/kustomization\.yaml, line 2: the resource '\.\.\/\.\.\/bsae' does not exist \(looked for deploy\/bsae\)/,
      ],
    },
    {
      what: 'a render error, quoted from kubectl with its file and line',
      files: {
        ...files,
        'deploy/overlays/broken/kustomization.yaml': 'resources: [../../base, extra.yaml]\n',
        'deploy/overlays/broken/extra.yaml':
          'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n data: [\n',
      },
      inputs: { ...staging, manifests: 'deploy/overlays/broken' },
      status: 'Failed',
      says: [
        /^deploy\/overlays\/broken: kubectl kustomize failed: .*yaml: line 4: .* in File: extra\.yaml/,
        /'kubectl kustomize deploy\/overlays\/broken' shows the same error on your machine/,
      ],
    },
    {
      what: 'an overlay that renders nothing',
      files: { ...files, 'deploy/overlays/empty/kustomization.yaml': 'resources: []\n' },
      inputs: { ...staging, manifests: 'deploy/overlays/empty\nk8s/namespace.yaml' },
      status: 'Failed',
      says: [/^deploy\/overlays\/empty rendered no object with kubectl kustomize/],
    },
    {
      what: 'an agent with neither kubectl nor kustomize',
      files,
      inputs: staging,
      env: { PATH: '/nonexistent' },
      status: 'Failed',
      says: [
        /^deploy\/overlays\/staging holds a kustomization, but the agent has neither kubectl nor kustomize on its PATH/,
        /KubectlInstaller@0/,
      ],
    },
    {
      what: 'a kustomizeBinary that does not exist',
      files,
      inputs: { ...staging, kustomizeBinary: '/opt/kustomize/kustomize' },
      status: 'Failed',
      says: [
        /^The input 'kustomizeBinary' names '\/opt\/kustomize\/kustomize', which is not a file on the agent/,
      ],
    },
    {
      what: 'a glob that matches a kustomization and its patches',
      files,
      inputs: { manifests: 'deploy/**/*.yaml', namespace: ns },
      status: 'Failed',
      says: [
        /^deploy\/base\/kustomization\.yaml is a kustomization, not a manifest/,
        /Name its folder on a line of its own \(deploy\/base\)/,
      ],
    },
    {
      what: 'kustomizeArgs that send the output to a file',
      files,
      inputs: { ...staging, kustomizeArgs: '--enable-helm --output=rendered.yaml' },
      status: 'Failed',
      says: [/^The input 'kustomizeArgs' holds '--output=rendered\.yaml'/],
    },
    {
      what: 'an images entry whose digest reaches no container',
      files: {
        ...files,
        'deploy/overlays/pinned/kustomization.yaml': [
          'resources: [../staging]',
          'images:',
          '  - name: contoso.azurecr.io/orders/api',
          `    digest: ${digest('d')}`,
        ].join('\n'),
      },
      inputs: { ...staging, manifests: 'deploy/overlays/pinned\nk8s/namespace.yaml' },
      status: 'Failed',
      says: [
        /^deploy\/overlays\/pinned\/kustomization\.yaml, line 3: the images entry 'contoso\.azurecr\.io\/orders\/api' pins a digest that no rendered container carries/,
        /the containers use orders\/api\./,
      ],
    },
    {
      what: 'kustomizeArgs with no kustomization (legal, with a warning)',
      files,
      inputs: { manifests: 'k8s/namespace.yaml', kustomizeArgs: '--enable-helm' },
      status: 'SucceededWithIssues',
      says: [/^The input 'kustomizeArgs' is set, but the input 'manifests' names no kustomization folder/],
    },
    {
      what: 'an images entry that pins only a tag (legal, with a warning)',
      files: {
        ...files,
        'deploy/overlays/tagged/kustomization.yaml': [
          'resources: [../staging]',
          'images:',
          '  - name: orders/api',
          `    newName: ${registry}/orders/api`,
          '    newTag: "1.4.2"',
        ].join('\n'),
      },
      inputs: { ...staging, manifests: 'deploy/overlays/tagged\nk8s/namespace.yaml' },
      status: 'SucceededWithIssues',
      says: [
        /^deploy\/overlays\/tagged\/kustomization\.yaml, line 3: the images entry 'orders\/api' pins the tag '1\.4\.2', not a digest/,
      ],
    },
    {
      what: 'a kubectl named by kustomizeBinary, with kustomizeArgs passed through (legal)',
      files: {
        ...files,
        'shared/labels.yaml':
          'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: shared }\ndata: { team: orders }\n',
        'deploy/overlays/outside/kustomization.yaml':
          'resources: [../staging, ../../../shared/labels.yaml]\n',
      },
      inputs: {
        ...staging,
        manifests: 'deploy/overlays/outside\nk8s/namespace.yaml',
        kustomizeBinary: onPath('kubectl') ?? 'kubectl',
        kustomizeArgs: '--load-restrictor LoadRestrictionsNone',
      },
      status: 'Succeeded',
      check: (run, env, ns) => {
        assert.match(run.log, /Rendered deploy\/overlays\/outside with \S*kubectl kustomize: 5 objects/);
        assert.deepEqual(env.cluster.getObject('ConfigMap', ns, 'shared')?.data, { team: 'orders' });
      },
    },
  ];
}

/**
 * AksDeploy@1 with kustomization folders, through the agent harness on the bundled task,
 * rendered by the machine's real kubectl, against an emulated cluster; kubectl reads back
 * what was applied.
 */
describe('AksDeploy with Kustomize', function () {
  this.timeout(120_000);
  let env: AksDeployCluster;
  before(async function () {
    if (!onPath('kubectl')) {
      console.log('      skipped: kubectl is not on the PATH');
      this.skip();
    }
    env = await startAksDeployCluster();
  });
  after(async () => env?.stop());

  const getJson = async (args: string[]) => {
    const result = await env.kubectl(['get', ...args, '-o', 'json']);
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(result.stdout) as {
      data?: Record<string, string>;
      spec: Record<string, unknown> & {
        replicas?: number;
        ports?: { port: number }[];
        template?: { spec: PodSpec };
        jobTemplate?: { spec: { template: { spec: PodSpec } } };
      };
    };
  };
  type PodSpec = {
    initContainers?: { image: string }[];
    containers: { image: string; envFrom?: { configMapRef?: { name: string } }[] }[];
  };
  const imagesOf = (spec: PodSpec | undefined) =>
    [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])].map((container) => container.image);

  for (const node of ['node20', 'node24'] as const) {
    it(`renders an overlay beside plain files, pins the rendered images by digest and applies them (${node})`, async () => {
      const ns = `kustomize-${node}`;
      const pinned = `${registry}/orders/api@${digest('a')}`;
      const run = await env.deploy({
        node,
        files: { ...kustomizeFiles, 'k8s/namespace.yaml': namespaceYaml(ns), 'k8s/secret.yaml': secretYaml },
        inputs: {
          manifests: 'deploy/overlays/staging\nk8s/*.yaml',
          namespace: ns,
          images: `orders/api => ${pinned}`,
        },
      });
      assert.equal(run.result?.status, 'Succeeded', run.log);
      assert.match(run.log, /Rendered deploy\/overlays\/staging with kubectl kustomize: 4 objects in \d+ ms/);
      assert.match(
        run.log,
        /Image orders\/api:latest -> registry\.azure\.test:5000\/orders\/api@sha256:a{64} \(Deployment\//,
      );
      const summary = run.summaries[0]?.content ?? '';
      assert.match(summary, /### Rendered with Kustomize/);
      assert.match(summary, /\| deploy\/overlays\/staging \| 4 \| kubectl kustomize \| \d+\.\d s \|/);

      const deployment = await getJson(['deployment', 'api', '-n', ns]);
      assert.equal(deployment.spec.replicas, 3, 'the strategic merge patch');
      assert.deepEqual(
        imagesOf(deployment.spec.template?.spec),
        [pinned, pinned],
        'init container and container',
      );
      const settings = deployment.spec.template!.spec.containers[0]!.envFrom![0]!.configMapRef!.name;
      assert.match(
        settings,
        /^settings-[a-z0-9]{10}$/,
        'the generated name, with its hash, in the reference',
      );
      assert.deepEqual((await getJson(['configmap', settings, '-n', ns])).data, {
        MODE: 'staging',
        PORT: '8080',
      });
      const cronJob = await getJson(['cronjob', 'report', '-n', ns]);
      assert.deepEqual(
        imagesOf(cronJob.spec.jobTemplate?.spec.template.spec),
        [pinned],
        'the component’s CronJob',
      );
      const service = await getJson(['service', 'api', '-n', ns]);
      assert.equal(service.spec.ports?.[0]?.port, 8080, 'the JSON 6902 patch');
      assert.deepEqual((run.outputVariables.get('appliedObjects')?.value ?? '').split('\n').sort(), [
        `ConfigMap/${ns}/${settings}`,
        `CronJob/${ns}/report`,
        `Deployment/${ns}/api`,
        `Namespace//${ns}`,
        `Secret/${ns}/app-insights`,
        `Service/${ns}/api`,
      ]);
    });
  }

  it('pins through Kustomize’s own images transformer, by digest, with no images input', async () => {
    const ns = 'kustomize-transformer';
    const pinned = `${registry}/orders/api@${digest('b')}`;
    const run = await env.deploy({
      files: {
        ...kustomizeFiles,
        'k8s/namespace.yaml': namespaceYaml(ns),
        'deploy/overlays/production/kustomization.yaml': [
          'resources: [../staging]',
          'replicas: [{ name: api, count: 2 }]',
          'images:',
          '  - name: orders/api',
          `    newName: ${registry}/orders/api`,
          `    digest: ${digest('b')}`,
        ].join('\n'),
      },
      inputs: { manifests: 'deploy/overlays/production\nk8s/namespace.yaml', namespace: ns },
    });
    assert.equal(run.result?.status, 'Succeeded', run.log);
    const deployment = await getJson(['deployment', 'api', '-n', ns]);
    assert.equal(deployment.spec.replicas, 2);
    assert.deepEqual(imagesOf(deployment.spec.template?.spec), [pinned, pinned]);
    const cronJob = await getJson(['cronjob', 'report', '-n', ns]);
    assert.deepEqual(imagesOf(cronJob.spec.jobTemplate?.spec.template.spec), [pinned]);
  });

  it('renders a Helm chart with kustomizeArgs --enable-helm', async function () {
    if (!onPath('helm')) {
      console.log(
        '      skipped: helm is not on the PATH (kubectl kustomize --enable-helm runs helm template)',
      );
      this.skip();
    }
    const ns = 'kustomize-helm';
    const run = await env.deploy({
      files: {
        'k8s/namespace.yaml': namespaceYaml(ns),
        'deploy/chart/kustomization.yaml':
          'helmCharts:\n  - name: hello\n    releaseName: hello\n    valuesInline: { mode: staging }\n',
        'deploy/chart/charts/hello/Chart.yaml': 'apiVersion: v2\nname: hello\nversion: 0.1.0\n',
        'deploy/chart/charts/hello/templates/configmap.yaml':
          'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: {{ .Release.Name }}-settings }\ndata: { mode: "{{ .Values.mode }}" }\n',
      },
      inputs: {
        manifests: 'deploy/chart\nk8s/namespace.yaml',
        namespace: ns,
        kustomizeArgs: '--enable-helm',
      },
    });
    assert.equal(run.result?.status, 'Succeeded', run.log);
    assert.deepEqual(env.cluster.getObject('ConfigMap', ns, 'hello-settings')?.data, { mode: 'staging' });
  });

  /** Every object's uid and resourceVersion, for the kinds the rows could touch. */
  const clusterState = () =>
    ['Namespace', 'ConfigMap', 'Secret', 'Service', 'Deployment', 'CronJob']
      .flatMap((kind) => env.cluster.listObjects(kind))
      .map(
        (o) =>
          `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name} ${o.metadata.uid} ${o.metadata.resourceVersion}`,
      )
      .sort();

  for (const node of ['node20', 'node24'] as const) {
    describe(`bad and borderline input (${node})`, () => {
      rows('ns').forEach(({ what }, index) => {
        it(what, async () => {
          const ns = `kustomize-row-${index}-${node}`;
          const row = rows(ns)[index]!;
          const before = clusterState();
          env.azure.clearRequestLog();
          const run = await env.deploy({
            node,
            files: row.files,
            inputs: row.inputs,
            ...(row.env ? { env: row.env } : {}),
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
          await row.check?.(run, env, ns);
        });
      });
    });
  }
});
