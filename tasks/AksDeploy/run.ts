import type { ResourceInfo } from '../shared/kubernetes/discovery';
import { groupOf, isRecord, objectKey, type KubeObject } from '../shared/kubernetes/object';
import { TaskError, TaskErrors } from '../shared/task-error';
import { KubernetesApiError } from '../shared/kubernetes/client';
import { annotate, withoutTraceabilityFields } from './annotations';
import { withMembership, type ApplySet } from './apply-set';
import { autoscalerOf, keepingLiveReplicas, replicasOf } from './autoscaling';
import {
  builtIn,
  Cluster,
  fieldManager,
  isCrd,
  type ApplyOptions,
  type ApplyResult,
  type FieldConflict,
} from './cluster';
import type { PruneLimit } from './config';
import { describeChanges, fieldChanges, type FieldChange } from './diff';
import {
  crashingContainers,
  describeFailure,
  diagnose,
  firstCause,
  type WorkloadDiagnosis,
} from './diagnosis';
import { explainForbidden } from './forbidden';
import type { ManifestObject } from './manifests';
import { checkManifestNamespace } from './names';
import { namespaceFor, placed, type NamespaceDefaults } from './placement';
import {
  checkPruneLimit,
  deleteCandidates,
  describeObject,
  findPruneCandidates,
  readApplySet,
  recordApplySet,
} from './prune';
import type { PinnedImage } from './image-reference';
import { previousImages } from './previous-images';
import { releaseRevisionHashes } from './release-revisions';
import { restorePreviousRevision, rollbackKinds } from './rollback';
import { rolloutState, type RolloutState } from './rollout-status';
import { isWaitable } from './workloads';

/** What the task does, decided from its inputs. */
export interface RunConfig {
  /** The objects to apply, their images pinned and pull secrets added (see prepare.ts). */
  readonly manifests: readonly ManifestObject[];
  /** The `images` input, to write `previousImages` in its form. */
  readonly images: readonly PinnedImage[];
  readonly namespaces: NamespaceDefaults;
  /** Seconds; 0 applies without waiting. */
  readonly rolloutTimeoutSeconds: number;
  readonly rollbackOnFailure: boolean;
  readonly prune: boolean;
  readonly pruneLimit: PruneLimit;
  readonly dryRun: boolean;
  readonly annotations: Readonly<Record<string, string>>;
  /** Builds the apply set for the deploy's namespace. */
  readonly applySet: (namespace: string) => ApplySet;
}

/** What the run needs from the outside world. */
export interface RunDeps {
  readonly cluster: Cluster;
  readonly log: (line: string) => void;
  readonly warn: (line: string) => void;
  readonly progress: (percent: number, description: string) => void;
  readonly now: () => number;
  /** Masks the job's secrets in what the task quotes from the cluster (pod logs, events), before it is cut. */
  readonly redact: (text: string) => string;
}

/** One object applied (or that would be), for the summary and `appliedObjects`. */
export interface AppliedObject {
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
  readonly action: 'created' | 'configured' | 'unchanged' | 'pruned';
  /** For a dry run of an object that exists: the fields the apply would change. */
  readonly changes?: readonly FieldChange[];
}

/** One workload's rollout, for the summary. */
export interface RolloutResult {
  readonly workload: string;
  readonly outcome: 'done' | 'failed' | 'timedOut' | 'rolledBack' | 'notRolledBack';
  readonly message: string;
  /** How long the rollout ran until it was judged (the rollback's wait is `rollbackMs`). */
  readonly durationMs: number;
  /** What a rollback put back: the revision and its container images. */
  readonly restored?: { readonly revision: string; readonly images: readonly string[] };
  readonly rollbackMs?: number;
}

/** The run's outcome; `failure` is set when the task must fail after reporting. */
export interface RunResult {
  readonly objects: readonly AppliedObject[];
  readonly rollouts: readonly RolloutResult[];
  readonly rolloutStatus: 'Succeeded' | 'Failed' | 'RolledBack' | 'Skipped' | 'DryRun';
  /** Why each failed workload failed, for the summary. */
  readonly diagnoses?: readonly WorkloadDiagnosis[];
  /**
   * The `pod-template-hash` / `controller-revision-hash` values of the revisions the
   * rollouts brought (those of a failed rollout too): empty when no rollout was waited on.
   */
  readonly podTemplateHashes: readonly string[];
  /** `repository => reference` lines of the images the workloads ran before; empty on a first deploy. */
  readonly previousImages: readonly string[];
  readonly failure?: TaskError;
}

interface Planned {
  readonly source: ManifestObject;
  readonly info: ResourceInfo;
  readonly object: KubeObject;
}

const applyConcurrency = 16;

/** How long an object being deleted (a terminating namespace, say) is waited for before it is created again. */
const deletionWaitMs = 300_000;

/**
 * Finds what a prune would delete (before anything is applied, so that a refused prune
 * changes nothing), applies the manifests, prunes, waits on the rollouts, and explains
 * and rolls back a failure. A refusal (403) is explained by the permission it lacks.
 */
export async function run(config: RunConfig, deps: RunDeps): Promise<RunResult> {
  try {
    return await deploy(config, deps);
  } catch (error) {
    if (error instanceof KubernetesApiError && error.status === 403)
      throw await explainForbidden(deps.cluster, error);
    throw error;
  }
}

async function deploy(config: RunConfig, deps: RunDeps): Promise<RunResult> {
  const { cluster } = deps;
  const sources = config.manifests;

  // Kinds defined by CRDs in these same manifests can only be resolved once those are applied.
  const crdKinds = new Set(
    sources
      .filter((s) => isCrd(s.object))
      .map((s) => {
        const spec = isRecord(s.object.spec) ? s.object.spec : {};
        const names = isRecord(spec.names) ? spec.names : {};
        return `${String(spec.group)}/${String(names.kind)}`;
      }),
  );
  const resolved = await Promise.all(
    sources.map(async (source) => ({ source, info: await cluster.resolve(source.object) })),
  );
  const unknown = resolved.filter(
    (r) => !r.info && !crdKinds.has(`${groupOf(r.source.object)}/${r.source.object.kind}`),
  );
  if (unknown.length > 0) {
    throw oneOrMany(
      unknown.map(
        (r) =>
          new TaskError('ManifestUnknownKind', [
            r.source.file,
            r.source.document,
            r.source.object.apiVersion,
            r.source.object.kind,
          ]),
      ),
    );
  }
  for (const { source, info } of resolved) if (info?.namespaced) checkManifestNamespace(source);
  const primaryNamespace = config.namespaces.input || config.namespaces.connection || 'default';
  const set = config.applySet(primaryNamespace);
  const prepare = (source: ManifestObject, info: ResourceInfo): Planned => {
    const namespace = namespaceFor(source.object, info.namespaced, config.namespaces);
    const object = withMembership(annotate(placed(source.object, namespace), { ...config.annotations }), set);
    return { source, info, object };
  };

  const knownNow = resolved.filter((r) => r.info).map((r) => prepare(r.source, r.info!));
  await checkNamespacesExist(cluster, knownNow, sources);
  const autoscalers = await readAutoscalers(cluster, knownNow, deps);

  // What a prune would delete is known before anything is applied. Kinds whose CRD comes
  // with these manifests cannot be resolved yet, and so cannot have members from before.
  const record = await readApplySet(cluster, set);
  const toPrune = config.prune ? await findPruneCandidates(cluster, set, record, knownNow) : [];
  checkPruneLimit(toPrune, sources.length, config.pruneLimit);

  const applied: AppliedObject[] = [];
  const live = new Map<string, KubeObject>();
  const appliedConfigs = new Map<string, KubeObject>();
  const before = new Map<string, KubeObject | undefined>();
  const conflicts: TaskError[] = [];
  const applyOptions: ApplyOptions = { dryRun: config.dryRun, force: false };
  const applyAll = async (planned: readonly Planned[]): Promise<void> => {
    await forEachLimited(planned, applyConcurrency, async (plan) => {
      const { info } = plan;
      let { object } = plan;
      let previous = await cluster.get(info, object.metadata.namespace, object.metadata.name ?? '');
      if (previous?.metadata.deletionTimestamp) {
        // Applied now, it would be changed and then deleted all the same: wait it out, then create it.
        deps.log(`${describe(object)} is being deleted: waiting until it is gone to create it again`);
        if (
          !(await cluster.waitUntilGone(
            info,
            object.metadata.namespace,
            object.metadata.name ?? '',
            deletionWaitMs,
          ))
        )
          throw new TaskError('ObjectStillDeleting', [
            describe(object),
            deletionWaitMs / 1000,
            (previous.metadata.finalizers as string[] | undefined)?.join(', ') || 'none',
          ]);
        previous = undefined;
      }
      before.set(objectKey(object), previous);
      const autoscaler = previous ? autoscalerOf(object, autoscalers) : undefined;
      const wanted = replicasOf(object);
      if (autoscaler && previous && wanted !== undefined) {
        object = keepingLiveReplicas(object, previous);
        deps.log(
          `${describe(object)}: replicas left to the HorizontalPodAutoscaler ${autoscaler.metadata.name} (${String(replicasOf(previous))} now); the manifest's ${wanted} is not applied`,
        );
      }
      let result = await applyOrInvalid(cluster, info, object, previous, applyOptions);
      // Fields an earlier version of this task wrote when it rolled back (an Update under
      // the same name, which the API server tells apart from this Apply) are its own:
      // taken back, as kubectl apply --force-conflicts would, rather than reported.
      if (result.kind === 'conflict' && result.conflicts.every((c) => c.manager === fieldManager)) {
        deps.log(
          `${describe(object)}: taking back ${result.conflicts.map((c) => c.field).join(', ')} from an earlier rollback's update by ${fieldManager}`,
        );
        result = await applyOrInvalid(cluster, info, object, previous, { ...applyOptions, force: true });
      }
      // Traceability is a courtesy: an annotation the server will not take is left out, with a warning.
      const refused =
        result.kind === 'conflict'
          ? result.conflicts.map((c) => c.field)
          : result.kind === 'invalid'
            ? result.fields
            : [];
      const ours = refused.filter((field) => withoutTraceabilityFields(object, [field]));
      const trimmed =
        ours.length > 0 && (result.kind === 'conflict' || ours.length === refused.length)
          ? withoutTraceabilityFields(object, ours)
          : undefined;
      if (trimmed) {
        const why =
          result.kind === 'conflict'
            ? `managed by ${[...new Set(result.conflicts.filter((c) => ours.includes(c.field)).map((c) => `'${c.manager}'`))].join(', ')}`
            : 'refused as invalid';
        deps.warn(`${describe(object)}: ${ours.join(', ')} could not be written (${why}); applied without.`);
        object = trimmed;
        result = await applyOrInvalid(cluster, info, object, previous, applyOptions);
      }
      if (result.kind === 'invalid') {
        throw new TaskError(
          'ManifestRejected',
          [plan.source.file, plan.source.document, describe(object), result.error.message],
          result.error,
        );
      }
      if (result.kind === 'conflict') {
        conflicts.push(...result.conflicts.map((conflict) => conflictError(object, conflict)));
        return;
      }
      live.set(objectKey(object), result.live);
      appliedConfigs.set(objectKey(object), object);
      const changes =
        config.dryRun && previous && result.action === 'configured'
          ? fieldChanges(previous, result.live)
          : [];
      applied.push({
        kind: object.kind,
        ...(object.metadata.namespace ? { namespace: object.metadata.namespace } : {}),
        name: object.metadata.name ?? '',
        action: result.action,
        ...(changes.length > 0 ? { changes } : {}),
      });
      deps.log(
        [
          `${config.dryRun ? '(dry run) ' : ''}${describe(object)} ${result.action}`,
          ...describeChanges(changes),
        ].join('\n'),
      );
    });
  };

  // Namespaces and CRDs first, so that what lives in them can be applied.
  const first = resolved.filter(
    (r) => r.info && (r.source.object.kind === 'Namespace' || isCrd(r.source.object)),
  );
  await applyAll(first.map((r) => prepare(r.source, r.info!)));
  if (!config.dryRun)
    await waitForCrds(
      cluster,
      first.filter((r) => isCrd(r.source.object)).map((r) => r.source.object),
    );
  const rest = await Promise.all(
    resolved
      .filter((r) => !first.includes(r))
      .map(async (r) => {
        const info = r.info ?? (await cluster.resolve(r.source.object));
        if (!info) {
          throw new TaskError('ManifestUnknownKind', [
            r.source.file,
            r.source.document,
            r.source.object.apiVersion,
            r.source.object.kind,
          ]);
        }
        return prepare(r.source, info);
      }),
  );
  await applyAll(rest);
  if (conflicts.length > 0) throw oneOrMany(conflicts);

  const planned = [...first.map((r) => prepare(r.source, r.info!)), ...rest];
  // Applied concurrently, listed in the order they were planned: the same order every run.
  const position = new Map(planned.map((plan, index) => [objectKey(plan.object), index]));
  const positionOf = (o: AppliedObject) => position.get(`${o.kind}/${o.namespace ?? ''}/${o.name}`) ?? 0;
  applied.sort((a, b) => positionOf(a) - positionOf(b));
  const pruned = toPrune.map(({ object }) => ({
    kind: object.kind,
    ...(object.metadata.namespace ? { namespace: object.metadata.namespace } : {}),
    name: object.metadata.name ?? '',
    action: 'pruned' as const,
  }));
  const previous = previousImages(
    planned.map((plan) => ({ applied: plan.object, before: before.get(objectKey(plan.object)) })),
    config.images,
  );
  for (const note of previous.notes) deps.log(note);
  const outputs = { previousImages: previous.lines, podTemplateHashes: [] as string[] };
  if (config.dryRun) {
    for (const { object } of toPrune) deps.log(`(dry run) ${describeObject(object)} pruned`);
    return { objects: [...applied, ...pruned], rollouts: [], rolloutStatus: 'DryRun', ...outputs };
  }
  await deleteCandidates(cluster, toPrune, deps.log);
  applied.push(...pruned);
  await recordApplySet(cluster, set, record, planned, config.prune);

  const workloads = planned
    .filter((plan) => isWaitable(plan.object))
    .map((plan) => ({ plan, live: live.get(objectKey(plan.object))! }));
  if (config.rolloutTimeoutSeconds === 0 || workloads.length === 0) {
    if (workloads.length > 0) deps.log('rolloutTimeout is 0: not waiting for the rollouts.');
    return {
      objects: applied,
      rollouts: [],
      rolloutStatus: workloads.length > 0 ? 'Skipped' : 'Succeeded',
      ...outputs,
    };
  }

  const waited = await waitForRollouts(cluster, workloads, config.rolloutTimeoutSeconds * 1000, deps);
  // Read before a rollback changes the workloads: the revisions this deploy brought.
  outputs.podTemplateHashes = await releaseRevisionHashes(
    cluster,
    waited.map((w) => w.latest),
  );
  const failing = waited.filter((w) => w.outcome !== 'done');
  if (failing.length === 0)
    return { objects: applied, rollouts: waited, rolloutStatus: 'Succeeded', ...outputs };

  const diagnoses: WorkloadDiagnosis[] = [];
  for (const failed of failing)
    diagnoses.push(await explain(cluster, failed.latest, failed.verdict, deps.redact));
  for (const line of diagnoses.flatMap(describeFailure)) deps.log(line);
  let rollouts: RolloutResult[] = waited.map(({ workload, outcome, message, durationMs }) => ({
    workload,
    outcome,
    message,
    durationMs,
  }));
  let status: RunResult['rolloutStatus'] = 'Failed';
  if (config.rollbackOnFailure) {
    const rolledBack = await rollBack(
      cluster,
      failing.map((f) => {
        const { plan } = workloads.find((w) => objectKey(w.plan.object) === f.workload)!;
        return {
          key: f.workload,
          info: plan.info,
          applied: appliedConfigs.get(f.workload) ?? plan.object,
          live: f.latest,
          existedBefore: !!before.get(f.workload),
        };
      }),
      config.rolloutTimeoutSeconds * 1000,
      deps,
    );
    // The rollout keeps its own duration; the rollback's wait is told apart.
    rollouts = rollouts.map((r) => {
      const back = rolledBack.get(r.workload);
      return back ? { ...back, durationMs: r.durationMs, rollbackMs: back.durationMs } : r;
    });
    if ([...rolledBack.values()].some((r) => r.outcome === 'rolledBack')) status = 'RolledBack';
    for (const result of rolledBack.values()) deps.log(`${result.workload}: ${result.message}`);
  }
  return {
    objects: applied,
    rollouts,
    rolloutStatus: status,
    diagnoses,
    ...outputs,
    // One line that ends with the first cause; the whole diagnosis is in the log and the summary.
    failure: new TaskError('RolloutFailed', [failing.length, waited.length, firstCause(diagnoses[0]!)]),
  };
}

const describe = describeObject;

const namespacesInfo: ResourceInfo = {
  group: '',
  version: 'v1',
  resource: 'namespaces',
  kind: 'Namespace',
  namespaced: false,
};

/**
 * The HorizontalPodAutoscalers that may scale the objects: those in the manifests and
 * those on the cluster, in each namespace where an object sets replicas (none is read
 * otherwise). An identity that may not list them gets the manifests' alone, with a line.
 */
async function readAutoscalers(
  cluster: Cluster,
  planned: readonly Planned[],
  deps: RunDeps,
): Promise<KubeObject[]> {
  const found = planned
    .map((plan) => plan.object)
    .filter((object) => object.kind === 'HorizontalPodAutoscaler' && groupOf(object) === 'autoscaling');
  const namespaces = new Set(
    planned
      .filter((plan) => replicasOf(plan.object) !== undefined && plan.object.metadata.namespace)
      .map((plan) => plan.object.metadata.namespace!),
  );
  for (const namespace of namespaces) {
    try {
      found.push(...(await cluster.autoscalers(namespace)));
    } catch (error) {
      if (!(error instanceof KubernetesApiError && error.status === 403)) throw error;
      deps.log(
        `HorizontalPodAutoscalers in ${namespace} cannot be read (forbidden): replicas are applied as the manifests set them`,
      );
    }
  }
  return found;
}

/**
 * Every namespace the objects go to must exist or be created by the manifests, and not be
 * being deleted: checked (one read each) before anything is applied, so that a missing or
 * terminating one is one clear line and not a 404 or 403 halfway through the apply.
 */
async function checkNamespacesExist(
  cluster: Cluster,
  planned: readonly Planned[],
  sources: readonly ManifestObject[],
): Promise<void> {
  const created = new Set(
    sources
      .filter((s) => groupOf(s.object) === '' && s.object.kind === 'Namespace')
      .map((s) => s.object.metadata.name),
  );
  const needed = new Set(
    planned.map((p) => p.object.metadata.namespace).filter((ns): ns is string => !!ns && !created.has(ns)),
  );
  for (const namespace of needed) {
    const live = await cluster.get(namespacesInfo, undefined, namespace);
    if (!live) throw new TaskError('NamespaceNotFound', [namespace]);
    if (live.metadata.deletionTimestamp)
      throw new TaskError('NamespaceTerminating', [namespace, String(live.metadata.deletionTimestamp)]);
  }
}

/** Server-side apply, with a 422 whose causes name fields read as data, so that annotation fields can be dropped. */
async function applyOrInvalid(
  cluster: Cluster,
  info: ResourceInfo,
  object: KubeObject,
  previous: KubeObject | undefined,
  options: ApplyOptions,
): Promise<ApplyResult | { kind: 'invalid'; fields: string[]; error: KubernetesApiError }> {
  try {
    return await cluster.apply(info, object, previous, options);
  } catch (error) {
    if (!(error instanceof KubernetesApiError) || error.status !== 422) throw error;
    const fields = error.causes.map((cause) => cause.field ?? '');
    return { kind: 'invalid', fields: fields.every(Boolean) ? fields : [], error };
  }
}

function conflictError(object: KubeObject, conflict: FieldConflict): TaskError {
  return new TaskError('ApplyConflict', [describe(object), conflict.field, conflict.manager]);
}

/** One problem as its own line in the result; several as one error line each. */
function oneOrMany(errors: readonly TaskError[]): TaskError | TaskErrors {
  return errors.length === 1 ? errors[0]! : new TaskErrors(errors);
}

async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

const crdInfo: ResourceInfo = {
  group: 'apiextensions.k8s.io',
  version: 'v1',
  resource: 'customresourcedefinitions',
  kind: 'CustomResourceDefinition',
  namespaced: false,
};

/** How long a CustomResourceDefinition may take to become Established. */
const crdEstablishTimeoutMs = 60_000;

/** Waits until every CRD applied is Established (watching each by name), then rediscovers its group. */
async function waitForCrds(cluster: Cluster, crds: readonly KubeObject[]): Promise<void> {
  await Promise.all(
    crds.map(async (crd) => {
      const name = crd.metadata.name ?? '';
      if (!(await waitForEstablished(cluster, name))) throw new TaskError('CrdNotEstablished', [name, name]);
      cluster.discovery.forget(String((crd.spec as { group?: string } | undefined)?.group ?? ''));
    }),
  );
}

async function waitForEstablished(cluster: Cluster, name: string): Promise<boolean> {
  const controller = new AbortController();
  const selectors = { fieldSelector: `metadata.name=${name}` };
  let established = false;
  const check = (crd: KubeObject): void => {
    const conditions =
      isRecord(crd.status) && Array.isArray(crd.status.conditions)
        ? (crd.status.conditions as { type?: string; status?: string }[])
        : [];
    if (conditions.some((c) => c.type === 'Established' && c.status === 'True')) {
      established = true;
      controller.abort();
    }
  };
  const relist = async (): Promise<string> => {
    const { items, resourceVersion } = await cluster.list(crdInfo, undefined, selectors);
    items.forEach(check);
    return resourceVersion;
  };
  const timer = setTimeout(() => controller.abort(), crdEstablishTimeoutMs);
  try {
    const from = await relist();
    if (!established)
      await cluster.watch(
        crdInfo,
        undefined,
        from,
        (event) => check(event.object),
        controller.signal,
        relist,
        selectors,
      );
  } finally {
    clearTimeout(timer);
  }
  return established;
}

interface Waited extends RolloutResult {
  readonly latest: KubeObject;
  readonly verdict: string;
}

/**
 * Waits on every workload at once: one list and one watch per resource and namespace,
 * each change judged by kubectl's rules. Progress goes to the log whenever a workload's
 * ready count changes, and to the task's percentage.
 */
async function waitForRollouts(
  cluster: Cluster,
  workloads: readonly { plan: Planned; live: KubeObject }[],
  timeoutMs: number,
  deps: RunDeps,
): Promise<Waited[]> {
  const started = deps.now();
  const states = new Map<string, { latest: KubeObject; state: RolloutState; finishedAt?: number }>();
  for (const { plan, live } of workloads)
    states.set(objectKey(plan.object), { latest: live, state: rolloutState(live)! });
  const controller = new AbortController();
  let settle: () => void = () => undefined;
  const allSettled = new Promise<void>((resolve) => (settle = resolve));
  const report = (key: string, previous: RolloutState | undefined): void => {
    const entry = states.get(key)!;
    const { state } = entry;
    if (state.phase !== 'progressing' && entry.finishedAt === undefined) entry.finishedAt = deps.now();
    if (
      !previous ||
      previous.ready !== state.ready ||
      previous.phase !== state.phase ||
      previous.message !== state.message
    ) {
      deps.log(`${key}: ${state.ready}/${state.desired} ready, ${state.message}`);
      const all = [...states.values()];
      const ready = all.reduce((sum, s) => sum + Math.min(s.state.ready, s.state.desired), 0);
      const desired = all.reduce((sum, s) => sum + s.state.desired, 0);
      const doneCount = all.filter((s) => s.state.phase !== 'progressing').length;
      deps.progress(
        desired === 0 ? 100 : Math.floor((100 * ready) / desired),
        `${doneCount} of ${all.length} rollouts finished`,
      );
    }
    if ([...states.values()].every((s) => s.state.phase !== 'progressing')) settle();
  };
  for (const key of states.keys()) report(key, undefined);

  const groups = new Map<string, { info: ResourceInfo; namespace?: string; names: Set<string> }>();
  for (const { plan } of workloads) {
    const key = `${plan.info.group}/${plan.info.resource}/${plan.object.metadata.namespace ?? ''}`;
    const group = groups.get(key) ?? {
      info: plan.info,
      ...(plan.object.metadata.namespace ? { namespace: plan.object.metadata.namespace } : {}),
      names: new Set<string>(),
    };
    group.names.add(plan.object.metadata.name ?? '');
    groups.set(key, group);
  }
  const accept = (object: KubeObject): void => {
    const key = objectKey(object);
    const entry = states.get(key);
    if (!entry || entry.finishedAt !== undefined) return;
    const previous = entry.state;
    entry.latest = object;
    entry.state = rolloutState(object) ?? previous;
    report(key, previous);
  };
  const watches = [...groups.values()].map(async (group) => {
    const relist = async (): Promise<string> => {
      const listed = await cluster.list(group.info, group.namespace);
      for (const item of listed.items) if (group.names.has(item.metadata.name ?? '')) accept(item);
      return listed.resourceVersion;
    };
    const from = await relist();
    await cluster.watch(
      group.info,
      group.namespace,
      from,
      (event) => {
        if (event.type === 'ADDED' || event.type === 'MODIFIED') {
          accept({
            ...event.object,
            kind: group.info.kind,
            apiVersion: group.info.group ? `${group.info.group}/${group.info.version}` : group.info.version,
          });
        }
      },
      controller.signal,
      relist,
    );
  });
  const timer = setTimeout(settle, timeoutMs);
  try {
    await Promise.race([allSettled, Promise.all(watches).then(() => new Promise<void>(() => undefined))]);
  } finally {
    clearTimeout(timer);
    controller.abort();
    await Promise.allSettled(watches);
  }
  return [...states.entries()].map(([key, entry]) => {
    const durationMs = (entry.finishedAt ?? deps.now()) - started;
    if (entry.state.phase === 'done')
      return {
        workload: key,
        outcome: 'done',
        message: entry.state.message,
        durationMs,
        latest: entry.latest,
        verdict: '',
      };
    if (entry.state.phase === 'failed') {
      return {
        workload: key,
        outcome: 'failed',
        message: entry.state.message,
        durationMs,
        latest: entry.latest,
        verdict: `${entry.state.reason}: ${entry.state.message}`,
      };
    }
    const verdict = `not ready within ${Math.round(timeoutMs / 1000)} s (${entry.state.ready}/${entry.state.desired} ready, ${entry.state.message})`;
    return {
      workload: key,
      outcome: 'timedOut',
      message: verdict,
      durationMs,
      latest: entry.latest,
      verdict,
    };
  });
}

/** Reads pods, events and crash logs of a failing workload and diagnoses them. */
async function explain(
  cluster: Cluster,
  workload: KubeObject,
  verdict: string,
  redact: (text: string) => string,
): Promise<WorkloadDiagnosis> {
  const pods = await cluster.podsOf(workload);
  const namespace = workload.metadata.namespace;
  const replicaSets =
    workload.kind === 'Deployment'
      ? (await cluster.list(builtIn('ReplicaSet'), namespace)).items.filter((rs) =>
          rs.metadata.ownerReferences?.some((o) => o.uid === workload.metadata.uid),
        )
      : [];
  const names = new Set([
    workload.metadata.name ?? '',
    ...pods.map((p) => p.metadata.name ?? ''),
    ...replicaSets.map((rs) => rs.metadata.name ?? ''),
  ]);
  const events = await cluster.eventsAbout(namespace, names);
  const logs = new Map<string, string[]>();
  for (const { pod, container } of crashingContainers(pods).slice(0, 3)) {
    logs.set(`${pod}/${container}`, await cluster.lastLogLines(namespace, pod, container));
  }
  return diagnose({ workload: objectKey(workload), verdict, pods, events, logs }, redact);
}

/**
 * Restores each failed Deployment, StatefulSet or DaemonSet that existed before this
 * deploy to its previous revision (see rollback.ts), and waits for that.
 */
async function rollBack(
  cluster: Cluster,
  failed: readonly {
    key: string;
    info: ResourceInfo;
    applied: KubeObject;
    live: KubeObject;
    existedBefore: boolean;
  }[],
  timeoutMs: number,
  deps: RunDeps,
): Promise<Map<string, RolloutResult>> {
  const results = new Map<string, RolloutResult>();
  const notRolledBack = (key: string, message: string): void => {
    results.set(key, { workload: key, outcome: 'notRolledBack', message, durationMs: 0 });
  };
  const toWait: { plan: Planned; live: KubeObject }[] = [];
  const revisions = new Map<string, { revision: string; images: string[] }>();
  for (const { key, info, applied, live, existedBefore } of failed) {
    if (!(rollbackKinds as readonly string[]).includes(live.kind) || groupOf(live) !== 'apps') continue;
    if (!existedBefore) {
      notRolledBack(key, 'not rolled back: it is new, there is no previous revision');
      continue;
    }
    const restored = await restorePreviousRevision(cluster, { info, applied, live });
    if (restored.kind === 'skipped') {
      notRolledBack(key, restored.reason);
      continue;
    }
    deps.log(`${key}: rolling back to revision ${restored.revision}`);
    revisions.set(key, { revision: restored.revision, images: podImages(restored.live) });
    toWait.push({
      plan: { source: { object: live, file: '', document: 0 }, info, object: live },
      live: restored.live,
    });
  }
  if (toWait.length === 0) return results;
  const waited = await waitForRollouts(cluster, toWait, timeoutMs, deps);
  for (const result of waited) {
    const ok = result.outcome === 'done';
    results.set(result.workload, {
      workload: result.workload,
      outcome: ok ? 'rolledBack' : 'notRolledBack',
      message: ok
        ? `rolled back to its previous revision, which is ready (revision ${revisions.get(result.workload)?.revision ?? '?'})`
        : `rollback did not become ready: ${result.message}`,
      durationMs: result.durationMs,
      ...(ok && revisions.has(result.workload) ? { restored: revisions.get(result.workload)! } : {}),
    });
  }
  return results;
}

/** The container images of a workload's pod template, init containers first. */
function podImages(workload: KubeObject): string[] {
  const template = isRecord(workload.spec) && isRecord(workload.spec.template) ? workload.spec.template : {};
  const spec = isRecord(template.spec) ? template.spec : {};
  return ['initContainers', 'containers'].flatMap((field) =>
    (Array.isArray(spec[field]) ? (spec[field] as unknown[]) : [])
      .filter(isRecord)
      .map((container) => String(container.image ?? '')),
  );
}
