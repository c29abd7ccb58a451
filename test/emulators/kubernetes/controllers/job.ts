import { timestamp, type KubeObject } from '../object';
import {
  condition,
  createOwned,
  isPodReady,
  isPodTerminal,
  isPodTerminating,
  listDue,
  owned,
  podFromTemplate,
  recordEvent,
  remove,
  writeStatus,
  type ControllerContext,
} from './context';

/**
 * The Job controller: runs `parallelism` pods until `completions` succeed, counts
 * failures (pod failures, and container restarts under OnFailure) against
 * `backoffLimit`, and ends with the Complete or Failed condition as the real one does.
 */
export function reconcileJobs(context: ControllerContext): void {
  for (const job of listDue(context, 'batch', 'Job')) syncJob(context, job);
}

function syncJob(context: ControllerContext, job: KubeObject): void {
  const spec = job.spec ?? {};
  const previous = (job.status?.conditions ?? []) as KubeObject[];
  if (previous.some((each) => (each.type === 'Complete' || each.type === 'Failed') && each.status === 'True'))
    return;
  const at = timestamp(new Date(context.now()));
  const pods = owned(context, job, '', 'Pod');
  const succeeded = pods.filter((pod) => pod.status?.phase === 'Succeeded').length;
  const restarts =
    spec.template?.spec?.restartPolicy === 'OnFailure'
      ? pods.reduce(
          (sum, pod) =>
            sum +
            ((pod.status?.containerStatuses ?? []) as KubeObject[]).reduce(
              (n, each) => n + Number(each.restartCount ?? 0),
              0,
            ),
          0,
        )
      : 0;
  const failed = pods.filter((pod) => pod.status?.phase === 'Failed').length + restarts;
  let active = pods.filter((pod) => !isPodTerminal(pod) && !isPodTerminating(pod));
  const completions = Number(spec.completions ?? 1);
  const parallelism = Number(spec.parallelism ?? 1);
  const backoffLimit = Number(spec.backoffLimit ?? 6);
  const status: KubeObject = {
    startTime: job.status?.startTime ?? at,
    uncountedTerminatedPods: {},
  };
  let conditions: KubeObject[] = [];
  if (failed > backoffLimit) {
    for (const pod of active) remove(context, pod);
    active = [];
    const message = 'Job has reached the specified backoff limit';
    conditions = [
      condition(previous, 'FailureTarget', 'True', 'BackoffLimitExceeded', message, at, {
        lastProbeTime: at,
      }),
      condition(previous, 'Failed', 'True', 'BackoffLimitExceeded', message, at, { lastProbeTime: at }),
    ];
    recordEvent(context, job, 'Warning', 'BackoffLimitExceeded', message, 'job-controller');
  } else if (succeeded >= completions) {
    conditions = [
      condition(
        previous,
        'SuccessCriteriaMet',
        'True',
        'CompletionsReached',
        'Reached expected number of succeeded pods',
        at,
        { lastProbeTime: at },
      ),
      condition(
        previous,
        'Complete',
        'True',
        'CompletionsReached',
        'Reached expected number of succeeded pods',
        at,
        { lastProbeTime: at },
      ),
    ];
    status.completionTime = at;
    recordEvent(context, job, 'Normal', 'Completed', 'Job completed', 'job-controller');
  } else if (!spec.suspend) {
    const wanted = Math.min(parallelism, completions - succeeded) - active.length;
    for (let i = 0; i < wanted; i++) {
      const pod = createOwned(context, job, '', 'Pod', {
        ...podFromTemplate(spec.template, {}),
        metadata: { ...podFromTemplate(spec.template, {}).metadata, generateName: `${job.metadata.name}-` },
      });
      recordEvent(
        context,
        job,
        'Normal',
        'SuccessfulCreate',
        `Created pod: ${pod.metadata.name}`,
        'job-controller',
      );
      active.push(pod);
    }
  }
  if (active.length > 0) status.active = active.length;
  if (succeeded > 0) status.succeeded = succeeded;
  if (failed > 0) status.failed = failed;
  status.ready = active.filter(isPodReady).length;
  status.terminating = 0;
  if (conditions.length > 0) status.conditions = conditions;
  writeStatus(context, job, status);
}
