import type { KubeObject } from './object';

/**
 * The defaulting the API server does on write, for the fields the controllers and
 * kubectl's rollout rules read (replicas, strategies, restart policy, ...). Defaulted
 * values are stored but owned by nobody after an apply, as on a real server.
 */
export function applyDefaults(object: KubeObject): void {
  const spec = object.spec;
  switch (object.kind) {
    case 'Deployment':
      if (!spec) return;
      spec.replicas ??= 1;
      spec.revisionHistoryLimit ??= 10;
      spec.progressDeadlineSeconds ??= 600;
      spec.strategy ??= { type: 'RollingUpdate' };
      spec.strategy.type ??= 'RollingUpdate';
      if (spec.strategy.type === 'RollingUpdate') {
        spec.strategy.rollingUpdate ??= {};
        spec.strategy.rollingUpdate.maxSurge ??= '25%';
        spec.strategy.rollingUpdate.maxUnavailable ??= '25%';
      }
      podTemplateDefaults(spec.template);
      break;
    case 'ReplicaSet':
      if (!spec) return;
      spec.replicas ??= 1;
      podTemplateDefaults(spec.template);
      break;
    case 'StatefulSet':
      if (!spec) return;
      spec.replicas ??= 1;
      spec.revisionHistoryLimit ??= 10;
      spec.podManagementPolicy ??= 'OrderedReady';
      spec.updateStrategy ??= { type: 'RollingUpdate' };
      spec.updateStrategy.type ??= 'RollingUpdate';
      if (spec.updateStrategy.type === 'RollingUpdate') {
        spec.updateStrategy.rollingUpdate ??= {};
        spec.updateStrategy.rollingUpdate.partition ??= 0;
      }
      spec.persistentVolumeClaimRetentionPolicy ??= { whenDeleted: 'Retain', whenScaled: 'Retain' };
      podTemplateDefaults(spec.template);
      break;
    case 'DaemonSet':
      if (!spec) return;
      spec.revisionHistoryLimit ??= 10;
      spec.updateStrategy ??= { type: 'RollingUpdate' };
      spec.updateStrategy.type ??= 'RollingUpdate';
      if (spec.updateStrategy.type === 'RollingUpdate') {
        spec.updateStrategy.rollingUpdate ??= {};
        spec.updateStrategy.rollingUpdate.maxUnavailable ??= 1;
        spec.updateStrategy.rollingUpdate.maxSurge ??= 0;
      }
      podTemplateDefaults(spec.template);
      break;
    case 'Job':
      if (!spec) return;
      spec.parallelism ??= 1;
      spec.completions ??= 1;
      spec.backoffLimit ??= 6;
      spec.completionMode ??= 'NonIndexed';
      spec.suspend ??= false;
      podTemplateDefaults(spec.template);
      break;
    case 'CronJob':
      if (!spec) return;
      spec.concurrencyPolicy ??= 'Allow';
      spec.suspend ??= false;
      spec.successfulJobsHistoryLimit ??= 3;
      spec.failedJobsHistoryLimit ??= 1;
      if (spec.jobTemplate?.spec?.template) podTemplateDefaults(spec.jobTemplate.spec.template);
      break;
    case 'Pod':
      if (spec) podSpecDefaults(spec);
      break;
    case 'Service':
      if (!spec) return;
      spec.type ??= 'ClusterIP';
      spec.sessionAffinity ??= 'None';
      spec.ipFamilies ??= ['IPv4'];
      spec.ipFamilyPolicy ??= 'SingleStack';
      spec.internalTrafficPolicy ??= 'Cluster';
      for (const port of (spec.ports ?? []) as KubeObject[]) {
        port.protocol ??= 'TCP';
        port.targetPort ??= port.port;
      }
      break;
    case 'Secret':
      object.type ??= 'Opaque';
      if (object.stringData) {
        object.data ??= {};
        for (const [key, value] of Object.entries(object.stringData as Record<string, string>)) {
          object.data[key] = Buffer.from(String(value)).toString('base64');
        }
        delete object.stringData;
      }
      break;
    case 'HorizontalPodAutoscaler':
      // autoscaling/v2's SetDefaults_HorizontalPodAutoscaler; v1 objects are stored as v2.
      if (!spec || !String(object.apiVersion ?? '').endsWith('/v2')) return;
      spec.minReplicas ??= 1;
      if (!spec.metrics || spec.metrics.length === 0) {
        spec.metrics = [
          {
            type: 'Resource',
            resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } },
          },
        ];
      }
      break;
    case 'Namespace':
      object.spec ??= { finalizers: ['kubernetes'] };
      object.status ??= { phase: 'Active' };
      object.metadata.labels = {
        ...object.metadata.labels,
        'kubernetes.io/metadata.name': object.metadata.name,
      };
      break;
  }
}

function podTemplateDefaults(template: KubeObject | undefined): void {
  if (template?.spec) podSpecDefaults(template.spec);
}

function podSpecDefaults(spec: KubeObject): void {
  spec.restartPolicy ??= 'Always';
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.schedulerName ??= 'default-scheduler';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.securityContext ??= {};
  for (const container of [...(spec.containers ?? []), ...(spec.initContainers ?? [])] as KubeObject[]) {
    const image = String(container.image ?? '');
    const tagged = /:[\w][\w.-]*$/.test(image.split('/').pop() ?? '') || image.includes('@');
    container.imagePullPolicy ??= !tagged || image.endsWith(':latest') ? 'Always' : 'IfNotPresent';
    container.terminationMessagePath ??= '/dev/termination-log';
    container.terminationMessagePolicy ??= 'File';
    container.resources ??= {};
    for (const port of (container.ports ?? []) as KubeObject[]) port.protocol ??= 'TCP';
  }
}
