import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { KubeObject } from '../shared/kubernetes/object';
import { TaskError } from '../shared/task-error';
import { parseImageLines } from './image-reference';
import { renderKustomizations, toolMessage, unusedKustomizeInputs, type RenderOptions } from './render';
import { chooseRenderTool, type RenderTool } from './render-tool';
import { runCommand, type RunCommand } from './run-command';
import { podSpecOf } from './workloads';

/** Writes files (path relative to `root` → text), creating their folders. */
function writeTree(root: string, files: Record<string, string>): void {
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), text);
  }
}

/** The first program called `name` on the PATH. */
function onPath(name: string): string | undefined {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : undefined;
}

const digest = 'sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';

/** A base of a Deployment (with an init container and a ConfigMap it reads two ways), a Service, a generator. */
const base = {
  'base/kustomization.yaml': [
    'resources:',
    '  - deployment.yaml',
    '  - service.yaml',
    'configMapGenerator:',
    '  - name: settings',
    '    literals: [MODE=base]',
  ].join('\n'),
  'base/deployment.yaml': [
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
    '          volumeMounts: [{ name: cfg, mountPath: /cfg }]',
    '      volumes: [{ name: cfg, configMap: { name: settings } }]',
  ].join('\n'),
  'base/service.yaml':
    'apiVersion: v1\nkind: Service\nmetadata: { name: api }\nspec: { selector: { app: api }, ports: [{ port: 80 }] }\n',
  'components/report/kustomization.yaml': [
    'apiVersion: kustomize.config.k8s.io/v1alpha1',
    'kind: Component',
    'resources: [cronjob.yaml]',
  ].join('\n'),
  'components/report/cronjob.yaml': [
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
};

/** The staging overlay: a prefix, a component, a merged generator, a strategic merge and a JSON 6902 patch. */
const stagingOverlay = {
  'overlays/staging/kustomization.yaml': [
    'namePrefix: staging-',
    'resources:',
    '  - ../../base',
    'components:',
    '  - ../../components/report',
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
  'overlays/staging/replicas.yaml':
    'apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: api }\nspec: { replicas: 3 }\n',
};

describe('rendering kustomizations with the agent’s kubectl', function () {
  this.timeout(30_000);
  let dir: string;
  let calls: string[][];
  const kubectl = onPath('kubectl');
  before(function () {
    if (!kubectl) {
      console.log('      skipped: kubectl is not on the PATH');
      this.skip();
    }
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'render-'));
    calls = [];
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const counted: RunCommand = (command, args, options) => {
    calls.push([command, ...args]);
    return runCommand(command, args, options);
  };
  const options = (overrides: Partial<RenderOptions> = {}): RenderOptions => ({
    tool: chooseRenderTool(undefined, 'x', dir, {
      which: onPath,
      isFile: () => false,
    }),
    args: [],
    workDir: dir,
    images: [],
    timeoutMs: 20_000,
    ...overrides,
  });
  const render = (folders: string[], overrides: Partial<RenderOptions> = {}) =>
    renderKustomizations(
      folders.map((folder, index) => ({ line: index + 1, folder, path: join(dir, folder) })),
      options(overrides),
      { run: counted, now: () => Date.now() },
    );
  const refusal = async (folders: string[], overrides: Partial<RenderOptions> = {}) => {
    try {
      await render(folders, overrides);
    } catch (error) {
      if (error instanceof TaskError) return { key: error.key, args: error.args };
      throw error;
    }
    return undefined;
  };
  const byName = (objects: readonly { object: KubeObject }[]) =>
    new Map(objects.map(({ object }) => [`${object.kind}/${object.metadata.name}`, object]));
  const images = (object: KubeObject | undefined) => {
    const spec = object && podSpecOf(object);
    return ['initContainers', 'containers'].flatMap((list) =>
      ((spec?.[list] as { image: string }[] | undefined) ?? []).map((container) => container.image),
    );
  };

  it('renders an overlay: patches (strategic merge and JSON 6902), a component, namePrefix and a generator’s hash carried into references', async () => {
    writeTree(dir, { ...base, ...stagingOverlay });
    const { rendered, warnings } = await render(['overlays/staging']);
    assert.deepEqual(warnings, []);
    assert.equal(rendered.length, 1);
    assert.equal(rendered[0]!.folder, 'overlays/staging');
    assert.equal(rendered[0]!.tool, 'kubectl kustomize');
    assert.deepEqual(calls, [[kubectl, 'kustomize', join(dir, 'overlays/staging')]]);
    const objects = byName(rendered[0]!.objects);
    const configMap = [...objects.keys()].find((key) => key.startsWith('ConfigMap/'))!;
    assert.match(configMap, /^ConfigMap\/staging-settings-[a-z0-9]{10}$/, 'namePrefix and the content hash');
    const settings = configMap.slice('ConfigMap/'.length);
    assert.deepEqual(objects.get(configMap)?.data, { MODE: 'staging' }, 'the overlay’s literal merged');
    assert.deepEqual([...objects.keys()].filter((key) => key !== configMap).sort(), [
      'CronJob/staging-report',
      'Deployment/staging-api',
      'Service/staging-api',
    ]);
    const deployment = objects.get('Deployment/staging-api') as KubeObject & {
      spec: {
        replicas: number;
        template: { spec: { containers: { envFrom: unknown }[]; volumes: unknown } };
      };
    };
    assert.equal(deployment.spec.replicas, 3, 'the strategic merge patch');
    const pod = deployment.spec.template.spec;
    assert.deepEqual(pod.containers[0]!.envFrom, [{ configMapRef: { name: settings } }]);
    assert.deepEqual(pod.volumes, [{ name: 'cfg', configMap: { name: settings } }]);
    const service = objects.get('Service/staging-api') as KubeObject & {
      spec: { ports: { port: number }[] };
    };
    assert.equal(service.spec.ports[0]!.port, 8080, 'the JSON 6902 patch');
    assert.deepEqual(rendered[0]!.objects.map((each) => [each.file, each.document]).slice(0, 2), [
      ['overlays/staging (rendered)', 1],
      ['overlays/staging (rendered)', 2],
    ]);
  });

  it('pins through Kustomize’s own images transformer, in init containers and CronJobs too', async () => {
    writeTree(dir, {
      ...base,
      ...stagingOverlay,
      'overlays/pinned/kustomization.yaml': [
        'resources: [../staging]',
        'images:',
        '  - name: orders/api',
        '    newName: contoso.azurecr.io/orders/api',
        `    digest: ${digest}`,
      ].join('\n'),
    });
    const { rendered, warnings } = await render(['overlays/pinned']);
    assert.deepEqual(warnings, []);
    const objects = byName(rendered[0]!.objects);
    const pinned = `contoso.azurecr.io/orders/api@${digest}`;
    assert.deepEqual(images(objects.get('Deployment/staging-api')), [pinned, pinned]);
    assert.deepEqual(images(objects.get('CronJob/staging-report')), [pinned]);
  });

  it('refuses an images entry whose digest reached no container, naming what the containers use', async () => {
    writeTree(dir, {
      ...base,
      'overlays/typo/kustomization.yaml': [
        'resources: [../../base]',
        'images:',
        '  - name: contoso.azurecr.io/orders/api',
        `    digest: ${digest}`,
      ].join('\n'),
    });
    assert.deepEqual(await refusal(['overlays/typo']), {
      key: 'KustomizeImageUnused',
      args: ['overlays/typo/kustomization.yaml', 3, 'contoso.azurecr.io/orders/api', 'orders/api'],
    });
  });

  it('warns about an images entry that pins only a tag, unless the images input replaces it', async () => {
    writeTree(dir, {
      ...base,
      'overlays/tagged/kustomization.yaml': [
        'resources: [../../base]',
        'images:',
        '  - name: orders/api',
        '    newTag: "1.4.2"',
      ].join('\n'),
    });
    const tagged = await render(['overlays/tagged']);
    assert.deepEqual(
      tagged.warnings.map((warning) => [warning.key, ...warning.args]),
      [['KustomizeImageTagOnly', 'overlays/tagged/kustomization.yaml', 3, 'orders/api', '1.4.2']],
    );
    const pinnedByInput = await render(['overlays/tagged'], {
      images: parseImageLines([{ line: 1, text: `orders/api => contoso.azurecr.io/orders/api@${digest}` }]),
    });
    assert.deepEqual(pinnedByInput.warnings, []);
  });

  it('refuses a remote base before any tool runs', async () => {
    writeTree(dir, {
      'overlays/remote/kustomization.yaml':
        'resources:\n  - github.com/contoso/platform//orders/base?ref=v1.0.0\n',
      'overlays/local/kustomization.yaml': 'resources: [../../base]\n',
      ...base,
    });
    assert.deepEqual(await refusal(['overlays/local', 'overlays/remote']), {
      key: 'KustomizeRemoteResource',
      args: ['overlays/remote/kustomization.yaml', 2, 'github.com/contoso/platform//orders/base?ref=v1.0.0'],
    });
    assert.deepEqual(calls, [], 'no render started');
  });

  it('quotes the tool’s own error, with its file and line, and the command that shows it again', async () => {
    writeTree(dir, {
      'overlays/broken/kustomization.yaml': 'resources: [deployment.yaml]\n',
      'overlays/broken/deployment.yaml':
        'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\n spec: [\n',
    });
    const refused = await refusal(['overlays/broken'], {
      args: ['--load-restrictor', 'LoadRestrictionsRootOnly'],
    });
    assert.equal(refused?.key, 'KustomizeRenderFailed');
    const [folder, tool, message, command] = refused!.args;
    assert.equal(folder, 'overlays/broken');
    assert.equal(tool, 'kubectl kustomize');
    assert.match(String(message), /yaml: line \d+: .* in File: deployment\.yaml/);
    assert.ok(!String(message).includes(dir), `no absolute path: ${String(message)}`);
    assert.equal(command, 'kubectl kustomize overlays/broken --load-restrictor LoadRestrictionsRootOnly');
  });

  it('refuses an overlay that renders nothing', async () => {
    writeTree(dir, { 'overlays/empty/kustomization.yaml': 'resources: []\n' });
    assert.deepEqual(await refusal(['overlays/empty']), {
      key: 'KustomizeRenderedNothing',
      args: ['overlays/empty', 'kubectl kustomize'],
    });
  });

  it('renders several folders at once and returns them in the order of their lines', async () => {
    writeTree(dir, {
      ...base,
      ...stagingOverlay,
      'overlays/production/kustomization.yaml': 'namePrefix: production-\nresources: [../../base]\n',
    });
    const { rendered } = await render(['overlays/production', 'overlays/staging', 'base']);
    assert.deepEqual(
      rendered.map((each) => [each.folder, each.objects.length]),
      [
        ['overlays/production', 3],
        ['overlays/staging', 4],
        ['base', 3],
      ],
    );
  });

  it('passes kustomizeArgs through: a Helm chart with --enable-helm', async function () {
    if (!onPath('helm')) {
      console.log(
        '      skipped: helm is not on the PATH (kubectl kustomize --enable-helm runs helm template)',
      );
      this.skip();
    }
    writeTree(dir, {
      'overlays/chart/kustomization.yaml': [
        'helmCharts:',
        '  - name: hello',
        '    releaseName: hello',
        '    valuesInline: { replicas: 2 }',
      ].join('\n'),
      'overlays/chart/charts/hello/Chart.yaml': 'apiVersion: v2\nname: hello\nversion: 0.1.0\n',
      'overlays/chart/charts/hello/templates/configmap.yaml': [
        'apiVersion: v1',
        'kind: ConfigMap',
        'metadata: { name: {{ .Release.Name }}-settings }',
        'data: { replicas: "{{ .Values.replicas }}" }',
      ].join('\n'),
    });
    const { rendered } = await render(['overlays/chart'], { args: ['--enable-helm'] });
    assert.deepEqual(
      rendered[0]!.objects.map(({ object }) => [object.metadata.name, object.data]),
      [['hello-settings', { replicas: '2' }]],
    );
  });

  it('kills a render that runs out of time', async () => {
    writeTree(dir, { 'overlays/slow/kustomization.yaml': 'resources: []\n' });
    const slow: RenderTool = {
      name: 'slow kustomize',
      command: process.execPath,
      argsFor: () => ['-e', 'setTimeout(() => {}, 20000)'],
    };
    const started = Date.now();
    assert.deepEqual(await refusal(['overlays/slow'], { tool: slow, timeoutMs: 300 }), {
      key: 'KustomizeRenderTimedOut',
      args: ['overlays/slow', 'slow kustomize', 0.3],
    });
    assert.ok(Date.now() - started < 5000);
  });

  it('says when the chosen binary cannot be started', async () => {
    writeTree(dir, {
      'overlays/x/kustomization.yaml': 'resources: []\n',
      'tools/kustomize': 'not a program',
    });
    const tool = chooseRenderTool('tools/kustomize', 'overlays/x', dir, {
      which: () => undefined,
      isFile: () => true,
    });
    assert.deepEqual(await refusal(['overlays/x'], { tool }), {
      key: 'KustomizeToolNotStarted',
      args: [join(dir, 'tools/kustomize'), 'EACCES', 'overlays/x'],
    });
  });
});

describe('the tool’s error message', () => {
  const table: [string, string, string | undefined][] = [
    [
      'kubectl logging through klog',
      'E1206 03:15:42.577998    8471 run.go:72] "command failed" err="invalid Kustomization: json: unknown field \\"resourcez\\""\n',
      'invalid Kustomization: json: unknown field "resourcez"',
    ],
    [
      'older kubectl',
      "# Warning: 'bases' is deprecated.\nerror: accumulating resources: accumulation err='x'\n",
      "accumulating resources: accumulation err='x'",
    ],
    [
      'the kustomize binary',
      'Error: invalid Kustomization: yaml: line 2: bad\n',
      'invalid Kustomization: yaml: line 2: bad',
    ],
    ['anything else', 'panic: boom\n\ngoroutine 1\n', 'goroutine 1'],
    ['nothing', '', undefined],
  ];
  for (const [what, stderr, message] of table) {
    it(what, () => assert.equal(toolMessage(stderr), message));
  }
});

describe('Kustomize inputs without a kustomization', () => {
  it('warns about each one that does nothing', () => {
    assert.deepEqual(unusedKustomizeInputs({ args: [] }), []);
    assert.deepEqual(
      unusedKustomizeInputs({ args: ['--enable-helm'], binary: 'kustomize' }).map((w) => [w.key, ...w.args]),
      [
        ['KustomizeInputUnused', 'kustomizeArgs'],
        ['KustomizeInputUnused', 'kustomizeBinary'],
      ],
    );
  });
});
