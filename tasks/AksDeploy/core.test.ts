import { strict as assert } from 'node:assert';
import { KubernetesApiError } from '../shared/kubernetes/client';
import { parseKubeconfig } from '../shared/kubernetes/kubeconfig';
import type { KubeObject } from '../shared/kubernetes/object';
import { annotate, traceabilityAnnotations } from './annotations';
import { applySetFor, parentObject, parseGroupKind, withMembership } from './apply-set';
import { parseConflicts } from './cluster';
import { crashingContainers, describeFailure, diagnose } from './diagnosis';
import { namespaceFor } from './placement';
import { appliedObjectsOutput, summaryMarkdown } from './summary';
import { podTemplateOf } from './workloads';

const configMap = (namespace?: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'c', ...(namespace ? { namespace } : {}) },
});

describe('AksDeploy core', () => {
  it('places objects: the manifest, then the input, then the connection, then default', () => {
    const table: [string | undefined, string | undefined, string | undefined, boolean, string | undefined][] =
      [
        // manifest, input, connection, namespaced, expected
        ['own', 'input', 'conn', true, 'own'],
        [undefined, 'input', 'conn', true, 'input'],
        [undefined, undefined, 'conn', true, 'conn'],
        [undefined, undefined, undefined, true, 'default'],
        ['own', 'input', 'conn', false, undefined],
      ];
    for (const [own, input, connection, namespaced, expected] of table) {
      const defaults = { ...(input ? { input } : {}), ...(connection ? { connection } : {}) };
      assert.equal(
        namespaceFor(configMap(own), namespaced, defaults),
        expected,
        JSON.stringify({ own, input, connection }),
      );
    }
  });

  it('annotates workloads and their pod templates, and leaves other kinds alone', () => {
    const annotations = traceabilityAnnotations({
      collectionUri: 'https://dev.azure.com/contoso/',
      project: 'Orders',
      definitionName: 'orders-cd',
      definitionId: '12',
      buildId: '345',
      buildNumber: '20250501.3',
      jobName: 'Deploy',
    });
    assert.equal(
      annotations['azure-pipelines/runuri'],
      'https://dev.azure.com/contoso/Orders/_build/results?buildId=345',
    );
    assert.equal(Object.keys(annotations).length, 7);
    const deployment: KubeObject = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'api' },
      spec: { template: { spec: {} } },
    };
    const annotated = annotate(deployment, annotations);
    assert.equal(annotated.metadata.annotations?.['azure-pipelines/run'], '20250501.3');
    assert.equal(
      (podTemplateOf(annotated)!.metadata as { annotations: Record<string, string> }).annotations[
        'azure-pipelines/pipelineId'
      ],
      '12',
    );
    const plain = configMap();
    assert.equal(annotate(plain, annotations), plain);
    assert.equal(deployment.metadata.annotations, undefined, 'the input was changed');
  });

  it('derives a stable apply set per pipeline and namespace', () => {
    const a = applySetFor('proj', '12', 'orders');
    assert.deepEqual(a, applySetFor('proj', '12', 'orders'));
    assert.notEqual(a.id, applySetFor('proj', '13', 'orders').id);
    assert.notEqual(a.id, applySetFor('proj', '12', 'billing').id);
    assert.match(a.id, /^applyset-[A-Za-z0-9_-]{43}-v1$/);
    assert.equal(withMembership(configMap(), a).metadata.labels?.['applyset.kubernetes.io/part-of'], a.id);
    const parent = parentObject(a, ['Deployment.apps', 'Service', 'Deployment.apps'], ['orders', 'billing']);
    assert.equal(
      parent.metadata.annotations?.['applyset.kubernetes.io/contains-group-kinds'],
      'Deployment.apps,Service',
    );
    assert.equal(parent.metadata.annotations?.['applyset.kubernetes.io/additional-namespaces'], 'billing');
    assert.deepEqual(parseGroupKind('Deployment.apps'), { kind: 'Deployment', group: 'apps' });
    assert.deepEqual(parseGroupKind('Service'), { kind: 'Service', group: '' });
  });

  it('reads apply conflicts by field and manager', () => {
    const error = new KubernetesApiError(
      409,
      'Conflict',
      'Apply failed with 1 conflict',
      [
        {
          type: 'FieldManagerConflict',
          message: 'conflict with "kubectl-client-side-apply" using apps/v1',
          field: '.spec.replicas',
        },
      ],
      'PATCH /apis/apps/v1/namespaces/o/deployments/api',
    );
    assert.deepEqual(parseConflicts(error), [
      { field: '.spec.replicas', manager: 'kubectl-client-side-apply' },
    ]);
  });

  it('explains failing pods: image pulls, crash loops with their logs, scheduling, events', () => {
    const pod = (name: string, status: object): KubeObject => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name },
      status,
    });
    const pods = [
      pod('api-1', {
        containerStatuses: [
          {
            name: 'api',
            image: 'contoso.azurecr.io/api:9',
            state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image' } },
          },
        ],
      }),
      pod('api-2', {
        containerStatuses: [
          {
            name: 'api',
            image: 'x',
            state: { waiting: { reason: 'CrashLoopBackOff' } },
            lastState: { terminated: { exitCode: 1, reason: 'Error' } },
          },
        ],
      }),
      pod('api-3', {
        conditions: [
          {
            type: 'PodScheduled',
            status: 'False',
            reason: 'Unschedulable',
            message: '0/3 nodes are available: 3 Insufficient cpu.',
          },
        ],
      }),
    ];
    assert.deepEqual(crashingContainers(pods), [{ pod: 'api-2', container: 'api' }]);
    const events: KubeObject[] = [
      {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: 'e' },
        type: 'Warning',
        reason: 'BackOff',
        count: 4,
        involvedObject: { kind: 'Pod', name: 'api-2' },
        message: 'Back-off restarting failed container',
        lastTimestamp: '2025-05-01T10:00:00Z',
      },
    ];
    const text = describeFailure(
      diagnose(
        {
          workload: 'Deployment/orders/api',
          verdict: 'ProgressDeadlineExceeded: exceeded its progress deadline',
          pods,
          events,
          logs: new Map([['api-2/api', ['panic: no DATABASE_URL']]]),
        },
        (text) => text,
      ),
    ).join('\n');
    for (const expected of [
      /^Deployment\/orders\/api: ProgressDeadlineExceeded/,
      /api-1, container api: ImagePullBackOff \(image contoso\.azurecr\.io\/api:9\)/,
      /api-2, container api: CrashLoopBackOff; last exit code 1 \(Error\)/,
      /\| panic: no DATABASE_URL/,
      /pod api-3: Unschedulable: 0\/3 nodes are available/,
      /Warning BackOff \(x4\) Pod\/api-2: Back-off restarting/,
    ]) {
      assert.match(text, expected);
    }
  });

  it('reads kubeconfigs: tokens, client certificates, Entra users without kubelogin', () => {
    const b64 = (text: string) => Buffer.from(text).toString('base64');
    const kubeconfig = (user: string) =>
      [
        'apiVersion: v1',
        'kind: Config',
        'current-context: aks',
        'clusters:',
        `- name: aks\n  cluster:\n    server: https://aks.azure.test:443\n    certificate-authority-data: ${b64('CA')}`,
        'contexts:',
        '- name: aks\n  context:\n    cluster: aks\n    user: u\n    namespace: orders',
        'users:',
        `- name: u\n  user:\n${user}`,
      ].join('\n');
    const local = parseKubeconfig(
      kubeconfig(
        `    client-certificate-data: ${b64('CERT')}\n    client-key-data: ${b64('KEY')}\n    token: t0k`,
      ),
    );
    assert.deepEqual(
      [
        local.server,
        local.caPem,
        local.clientCertificatePem,
        local.clientKeyPem,
        local.token,
        local.namespace,
        local.entra,
      ],
      ['https://aks.azure.test:443', 'CA', 'CERT', 'KEY', 't0k', 'orders', false],
    );
    const entra = parseKubeconfig(
      kubeconfig(
        '    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: kubelogin\n      args: [get-token]',
      ),
    );
    assert.equal(entra.entra, true);
    assert.throws(() => parseKubeconfig(kubeconfig('    exec:\n      command: aws')), /cannot run/);
    assert.throws(() => parseKubeconfig('current-context: x\n'), /no context/);
  });

  it('writes appliedObjects and the summary', () => {
    const result = {
      objects: [
        { kind: 'Namespace', name: 'orders', action: 'created' as const },
        { kind: 'Deployment', namespace: 'orders', name: 'api', action: 'configured' as const },
        { kind: 'ConfigMap', namespace: 'orders', name: 'old', action: 'pruned' as const },
      ],
      rollouts: [
        {
          workload: 'Deployment/orders/api',
          outcome: 'done' as const,
          message: 'successfully rolled out',
          durationMs: 2300,
        },
      ],
      rolloutStatus: 'Succeeded' as const,
      podTemplateHashes: ['5d8f7c9b6'],
      previousImages: [],
    };
    assert.equal(appliedObjectsOutput(result.objects), 'Namespace//orders\nDeployment/orders/api');
    const markdown = summaryMarkdown(result, {
      cluster: 'aks-orders',
      namespace: 'orders',
      place: {},
      dryRun: false,
      applySetRecord: 'orders/aksdeploy-0123456789ab',
    });
    assert.match(markdown, /\| Deployment \| api \| orders \| configured \|/);
    assert.match(markdown, /\| Deployment orders\/api \| ✅ rolled out \| 2\.3 s \|/);
  });
});
