import { isRecord, type KubeObject } from '../shared/kubernetes/object';
import { podTemplateOf } from './workloads';

/** The run that deploys, as the pipeline variables describe it. */
export interface PipelineRun {
  readonly collectionUri?: string;
  readonly project?: string;
  readonly definitionName?: string;
  readonly definitionId?: string;
  readonly buildId?: string;
  readonly buildNumber?: string;
  readonly jobName?: string;
}

/**
 * The traceability annotations Azure Pipelines' own Kubernetes tasks write
 * (azure-pipelines/run, pipeline, pipelineId, jobName, project, org, runuri), so that
 * the environment's resource view links a workload back to the run that deployed it.
 * Values that are unknown are left out rather than written empty.
 */
export function traceabilityAnnotations(run: PipelineRun): Record<string, string> {
  const runUri =
    run.collectionUri && run.project && run.buildId
      ? `${run.collectionUri.replace(/\/?$/, '/')}${encodeURIComponent(run.project)}/_build/results?buildId=${run.buildId}`
      : undefined;
  const entries: [string, string | undefined][] = [
    ['azure-pipelines/run', run.buildNumber],
    ['azure-pipelines/pipeline', run.definitionName],
    ['azure-pipelines/pipelineId', run.definitionId],
    ['azure-pipelines/jobName', run.jobName],
    ['azure-pipelines/project', run.project],
    ['azure-pipelines/org', run.collectionUri],
    ['azure-pipelines/runuri', runUri],
  ];
  return Object.fromEntries(entries.filter((entry): entry is [string, string] => !!entry[1]));
}

/** Adds the annotations to a workload and its pod template; other objects are returned as they are. */
export function annotate(object: KubeObject, annotations: Record<string, string>): KubeObject {
  if (Object.keys(annotations).length === 0 || !podTemplateOf(object)) return object;
  const copy = structuredClone(object);
  copy.metadata.annotations = { ...copy.metadata.annotations, ...annotations };
  const template = podTemplateOf(copy)!;
  const metadata = (template.metadata ?? {}) as { annotations?: Record<string, string> };
  template.metadata = { ...metadata, annotations: { ...metadata.annotations, ...annotations } };
  return copy;
}

const traceabilityPrefix = 'azure-pipelines/';

/**
 * Removes the traceability annotations that the API server would not take, named by the
 * fields of a conflict (`.spec.template.metadata.annotations.azure-pipelines/run`, another
 * manager owns it) or of a validation failure (`metadata.annotations`, e.g. too long: then
 * all of ours at that place). Returns undefined when a field is not one of ours, so the
 * failure stays a failure.
 */
export function withoutTraceabilityFields(
  object: KubeObject,
  fields: readonly string[],
): KubeObject | undefined {
  const copy = structuredClone(object);
  for (const field of fields) {
    const match = /^\.?((?:[\w-]+\.)*)metadata\.annotations(?:\.(.+))?$/.exec(field);
    if (!match) return undefined;
    const key = match[2];
    if (key !== undefined && !key.startsWith(traceabilityPrefix)) return undefined;
    let node: unknown = copy;
    for (const segment of [...(match[1] ?? '').split('.').filter(Boolean), 'metadata']) {
      node = isRecord(node) ? node[segment] : undefined;
    }
    const annotations = isRecord(node) && isRecord(node.annotations) ? node.annotations : undefined;
    if (!annotations) return undefined;
    for (const name of Object.keys(annotations)) {
      if (key === undefined ? name.startsWith(traceabilityPrefix) : name === key) delete annotations[name];
    }
  }
  return copy;
}
