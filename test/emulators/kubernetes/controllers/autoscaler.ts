import { recordUpdate } from '../managed-fields';
import { timestamp, type KubeObject } from '../object';
import { groupVersion } from '../resources';
import { condition, groupOf, listKind, recordEvent, writeStatus, type ControllerContext } from './context';

/** How often the autoscaler looks at each HorizontalPodAutoscaler (--horizontal-pod-autoscaler-sync-period), before scaling. */
const syncPeriodMs = 15_000;

/**
 * The HorizontalPodAutoscaler controller, without a metrics source: it keeps its target's
 * replicas within minReplicas and maxReplicas through the scale subresource (as
 * kube-controller-manager, so the apply that set them loses ownership of spec.replicas),
 * and reports that it cannot read CPU use, as a real one does on a cluster whose metrics
 * API answers nothing (pkg/controller/podautoscaler/horizontal.go, reconcileAutoscaler).
 */
export class AutoscalerController {
  private readonly lastSync = new Map<string, number>();
  private readonly warned = new Set<string>();

  constructor(private readonly context: ControllerContext) {}

  /** One pass over every HorizontalPodAutoscaler whose sync period has come round. */
  reconcile(): void {
    const now = this.context.now();
    const period = syncPeriodMs * this.context.timeScale;
    const live = new Set<string>();
    for (const hpa of listKind(this.context, 'autoscaling', 'HorizontalPodAutoscaler')) {
      const uid = String(hpa.metadata.uid);
      live.add(uid);
      if (hpa.metadata.deletionTimestamp) continue;
      const last = this.lastSync.get(uid);
      const changed = hpa.status?.observedGeneration !== hpa.metadata.generation;
      if (last !== undefined && now < last + period && !changed) {
        this.context.wakeAt(last + period, hpa);
        continue;
      }
      this.lastSync.set(uid, now);
      this.context.wakeAt(now + period, hpa);
      this.sync(hpa);
    }
    for (const uid of this.lastSync.keys()) if (!live.has(uid)) this.lastSync.delete(uid);
  }

  private sync(hpa: KubeObject): void {
    const { context } = this;
    const { objects } = context;
    const spec = hpa.spec ?? {};
    const reference = spec.scaleTargetRef ?? {};
    const at = timestamp(new Date(context.now()));
    const previous = (hpa.status?.conditions ?? []) as KubeObject[];
    const type = objects.types.byKind(groupOf({ apiVersion: reference.apiVersion }), String(reference.kind));
    const target =
      type?.subresources?.includes('scale') &&
      objects.find(type, hpa.metadata.namespace, String(reference.name));
    if (!type || !target) {
      const resource = type
        ? type.group
          ? `${type.resource}.${type.group}`
          : type.resource
        : String(reference.kind);
      const message = `the HPA controller was unable to get the target's current scale: ${resource} "${reference.name}" not found`;
      this.once(`${hpa.metadata.uid}:FailedGetScale`, () =>
        recordEvent(
          context,
          hpa,
          'Warning',
          'FailedGetScale',
          `${resource} "${reference.name}" not found`,
          'horizontal-pod-autoscaler',
        ),
      );
      writeStatus(context, hpa, {
        ...hpa.status,
        observedGeneration: hpa.metadata.generation,
        currentReplicas: hpa.status?.currentReplicas ?? 0,
        desiredReplicas: hpa.status?.desiredReplicas ?? 0,
        conditions: [condition(previous, 'AbleToScale', 'False', 'FailedGetScale', message, at)],
      });
      return;
    }
    const current = Number(target.spec?.replicas ?? 1);
    const min = Number(spec.minReplicas ?? 1);
    const max = Number(spec.maxReplicas ?? current);
    let desired = current;
    let reason: string | undefined;
    let active: KubeObject;
    if (current === 0 && min !== 0) {
      active = condition(
        previous,
        'ScalingActive',
        'False',
        'ScalingDisabled',
        'scaling is disabled since the replica count of the target is zero',
        at,
      );
    } else if (current > max) {
      desired = max;
      reason = 'Current number of replicas above Spec.MaxReplicas';
    } else if (current < min) {
      desired = min;
      reason = 'Current number of replicas below Spec.MinReplicas';
    }
    const metricsMessage =
      'the HPA was unable to compute the replica count: failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API';
    active ??= condition(previous, 'ScalingActive', 'False', 'FailedGetResourceMetric', metricsMessage, at);
    let lastScaleTime = hpa.status?.lastScaleTime;
    if (reason) {
      const scaled = { ...target, spec: { ...target.spec, replicas: desired } };
      const updated = objects.prepareUpdate(type, target, scaled);
      objects.update(
        type,
        recordUpdate(target, updated, {
          manager: 'kube-controller-manager',
          apiVersion: groupVersion(type),
          subresource: 'scale',
        }),
      );
      lastScaleTime = at;
      recordEvent(
        context,
        hpa,
        'Normal',
        'SuccessfulRescale',
        `New size: ${desired}; reason: ${reason}`,
        'horizontal-pod-autoscaler',
      );
    } else if (active.reason === 'FailedGetResourceMetric') {
      this.once(`${hpa.metadata.uid}:FailedGetResourceMetric`, () => {
        recordEvent(
          context,
          hpa,
          'Warning',
          'FailedGetResourceMetric',
          'failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API',
          'horizontal-pod-autoscaler',
        );
        recordEvent(
          context,
          hpa,
          'Warning',
          'FailedComputeMetricsReplicas',
          'invalid metrics (1 invalid out of 1), first error is: failed to get cpu resource metric value: failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API',
          'horizontal-pod-autoscaler',
        );
      });
    }
    const limited =
      desired === max && reason
        ? condition(
            previous,
            'ScalingLimited',
            'True',
            'TooManyReplicas',
            'the desired replica count is more than the maximum replica count',
            at,
          )
        : desired === min && reason
          ? condition(
              previous,
              'ScalingLimited',
              'True',
              'TooFewReplicas',
              'the desired replica count is less than the minimum replica count',
              at,
            )
          : condition(
              previous,
              'ScalingLimited',
              'False',
              'DesiredWithinRange',
              'the desired count is within the acceptable range',
              at,
            );
    writeStatus(context, hpa, {
      observedGeneration: hpa.metadata.generation,
      ...(lastScaleTime ? { lastScaleTime } : {}),
      currentReplicas: current,
      desiredReplicas: desired,
      currentMetrics: null,
      conditions: [
        reason
          ? condition(
              previous,
              'AbleToScale',
              'True',
              'SucceededRescale',
              `the HPA controller was able to update the target scale to ${desired}`,
              at,
            )
          : condition(
              previous,
              'AbleToScale',
              'True',
              'SucceededGetScale',
              "the HPA controller was able to get the target's current scale",
              at,
            ),
        active,
        limited,
      ],
    });
  }

  private once(key: string, emit: () => void): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    emit();
  }
}
