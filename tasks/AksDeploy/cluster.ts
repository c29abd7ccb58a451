import { KubernetesApiError, type KubernetesClient, type WatchEvent } from '../shared/kubernetes/client';
import { collectionPath, Discovery, objectPath, type ResourceInfo } from '../shared/kubernetes/discovery';
import { groupOf, isRecord, type KubeObject } from '../shared/kubernetes/object';
import { logLineCount } from './diagnosis';

/** The field manager of every write: the task's name, as the issue asks. */
export const fieldManager = 'AksDeploy';

/** What an access review asks about (authorization.k8s.io/v1 ResourceAttributes). */
export interface ResourceAttributes {
  readonly verb: string;
  /** '' for the core group. */
  readonly group: string;
  readonly resource: string;
  readonly subresource?: string;
  readonly namespace?: string;
  readonly name?: string;
}

/** A SelfSubjectAccessReview's answer. */
export interface AccessDecision {
  readonly allowed: boolean;
  /** Why, in the authorizer's words, when it gave any. */
  readonly reason?: string;
}

/** A field another manager owns, from a 409 on apply. */
export interface FieldConflict {
  readonly field: string;
  readonly manager: string;
}

/** Label and field selectors of a list or watch, as the API takes them (`app=api`, `metadata.name=x`). */
export interface Selectors {
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
}

/** How one server-side apply is sent. */
export interface ApplyOptions {
  /** The server validates and answers without storing anything. */
  readonly dryRun: boolean;
  /** Take the fields other managers own where they conflict (`force=true`). */
  readonly force: boolean;
}

/** The outcome of one server-side apply. */
export type ApplyResult =
  | {
      readonly kind: 'applied';
      readonly live: KubeObject;
      readonly action: 'created' | 'configured' | 'unchanged';
    }
  | { readonly kind: 'conflict'; readonly conflicts: readonly FieldConflict[] };

// Fields that change on every write or belong to the server; ignored when telling
// "configured" from "unchanged".
function comparable(object: KubeObject | undefined): string {
  if (!object) return '';
  const { resourceVersion, generation, managedFields, creationTimestamp, uid, ...metadata } = object.metadata;
  void resourceVersion;
  void generation;
  void managedFields;
  void creationTimestamp;
  void uid;
  const { status, ...rest } = object;
  void status;
  return JSON.stringify({ ...rest, metadata });
}

/** Reads a conflict cause: `conflict with "kubectl-client-side-apply" using apps/v1` at `.spec.replicas`. */
export function parseConflicts(error: KubernetesApiError): FieldConflict[] {
  return error.causes
    .filter((cause) => cause.type === 'FieldManagerConflict' || /conflict with/.test(cause.message ?? ''))
    .map((cause) => ({
      field: cause.field ?? '',
      manager: /conflict with "([^"]*)"/.exec(cause.message ?? '')?.[1] ?? cause.message ?? 'another manager',
    }));
}

/**
 * The deploy task's view of one cluster: apply, read, watch, delete and the reads that
 * explain a failure, over the REST client and discovery.
 */
export class Cluster {
  readonly discovery: Discovery;

  constructor(readonly client: KubernetesClient) {
    this.discovery = new Discovery(client);
  }

  /** The resource for an object's kind, or undefined when the cluster does not serve it. */
  resolve(object: KubeObject): Promise<ResourceInfo | undefined> {
    return this.discovery.resolve(object.apiVersion, object.kind);
  }

  /** The live object, or undefined when it does not exist. */
  async get(
    info: ResourceInfo,
    namespace: string | undefined,
    name: string,
  ): Promise<KubeObject | undefined> {
    try {
      return (
        await this.client.request({
          method: 'GET',
          path: objectPath(info, namespace, name),
          idempotent: true,
        })
      ).body;
    } catch (error) {
      if (error instanceof KubernetesApiError && error.status === 404) return undefined;
      throw error;
    }
  }

  /** Objects of a resource in a namespace (or cluster-wide), filtered by label selector. */
  async list(
    info: ResourceInfo,
    namespace: string | undefined,
    selectors: Selectors = {},
  ): Promise<{ items: KubeObject[]; resourceVersion: string }> {
    const { body } = await this.client.request<{
      items?: KubeObject[];
      metadata?: { resourceVersion?: string };
    }>({
      method: 'GET',
      path: collectionPath(info, namespace),
      query: { ...selectors },
      idempotent: true,
    });
    const kind = info.kind;
    const apiVersion = info.group ? `${info.group}/${info.version}` : info.version;
    // List items carry no kind of their own.
    return {
      items: (body.items ?? []).map((item) => ({ ...item, kind, apiVersion })),
      resourceVersion: body.metadata?.resourceVersion ?? '',
    };
  }

  /**
   * Server-side apply (idempotent, so retried). `before` is the live object read first;
   * the answer is compared with it, server-owned fields aside, to tell configured from
   * unchanged (the same way for a dry run, whose answer is never stored).
   */
  async apply(
    info: ResourceInfo,
    object: KubeObject,
    before: KubeObject | undefined,
    { dryRun, force }: ApplyOptions,
  ): Promise<ApplyResult> {
    const { metadata } = object;
    try {
      const { status, body } = await this.client.request({
        method: 'PATCH',
        path: objectPath(info, metadata.namespace, metadata.name ?? ''),
        query: { fieldManager, force: String(force), ...(dryRun ? { dryRun: 'All' } : {}) },
        contentType: 'application/apply-patch+yaml',
        body: object,
        idempotent: true,
      });
      const action = !before
        ? 'created'
        : comparable(body) === comparable(before)
          ? 'unchanged'
          : 'configured';
      return { kind: 'applied', live: body, action: status === 201 ? 'created' : action };
    } catch (error) {
      if (error instanceof KubernetesApiError && error.status === 409 && error.reason === 'Conflict') {
        const conflicts = parseConflicts(error);
        if (conflicts.length > 0) return { kind: 'conflict', conflicts };
      }
      throw error;
    }
  }

  /** Deletes one object, letting the garbage collector remove its dependents in the background. */
  async delete(info: ResourceInfo, namespace: string | undefined, name: string): Promise<void> {
    try {
      await this.client.request({
        method: 'DELETE',
        path: objectPath(info, namespace, name),
        body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' },
        idempotent: true,
      });
    } catch (error) {
      if (!(error instanceof KubernetesApiError && error.status === 404)) throw error;
    }
  }

  /** Follows changes to a collection from `resourceVersion` until `signal` aborts (see KubernetesClient.follow). */
  watch(
    info: ResourceInfo,
    namespace: string | undefined,
    resourceVersion: string,
    onChange: (event: WatchEvent) => void,
    signal: AbortSignal,
    relist: () => Promise<string>,
    selectors: Selectors = {},
  ): Promise<void> {
    return this.client.follow(collectionPath(info, namespace), resourceVersion, onChange, signal, relist, {
      ...selectors,
    });
  }

  /**
   * The HorizontalPodAutoscalers in a namespace (autoscaling/v2, else v1: both name their
   * target in spec.scaleTargetRef), or none when the cluster serves neither.
   */
  async autoscalers(namespace: string): Promise<KubeObject[]> {
    for (const apiVersion of ['autoscaling/v2', 'autoscaling/v1']) {
      const info = await this.discovery.resolve(apiVersion, 'HorizontalPodAutoscaler');
      if (info) return (await this.list(info, namespace)).items;
    }
    return [];
  }

  /**
   * Asks whether the identity may do something: a SelfSubjectAccessReview, which every
   * authenticated identity may create (RBAC's system:basic-user), answered without storing
   * anything, so it is safe to resend.
   */
  async accessReview(attributes: ResourceAttributes): Promise<AccessDecision> {
    const { body } = await this.client.request<{ status?: { allowed?: boolean; reason?: string } }>({
      method: 'POST',
      path: '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: { resourceAttributes: attributes },
      },
      idempotent: true,
    });
    const reason = body.status?.reason;
    return { allowed: body.status?.allowed === true, ...(reason ? { reason } : {}) };
  }

  /** The identity's user name, as the cluster sees it (a SelfSubjectReview), or undefined when it cannot tell. */
  async userName(): Promise<string | undefined> {
    try {
      const { body } = await this.client.request<{ status?: { userInfo?: { username?: string } } }>({
        method: 'POST',
        path: '/apis/authentication.k8s.io/v1/selfsubjectreviews',
        body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
        idempotent: true,
      });
      return body.status?.userInfo?.username || undefined;
    } catch (error) {
      if (error instanceof KubernetesApiError) return undefined;
      throw error;
    }
  }

  /**
   * Waits until an object is gone (watching it by name), for at most `timeoutMs`; true
   * when it went. An object being deleted can take a while: a namespace is emptied first,
   * pods stop within their grace period, finalizers run.
   */
  async waitUntilGone(
    info: ResourceInfo,
    namespace: string | undefined,
    name: string,
    timeoutMs: number,
  ): Promise<boolean> {
    const controller = new AbortController();
    const selectors = { fieldSelector: `metadata.name=${name}` };
    let gone = false;
    const relist = async (): Promise<string> => {
      const { items, resourceVersion } = await this.list(info, namespace, selectors);
      if (items.length === 0) {
        gone = true;
        controller.abort();
      }
      return resourceVersion;
    };
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    try {
      const from = await relist();
      if (!gone)
        await this.watch(
          info,
          namespace,
          from,
          (event) => {
            if (event.type === 'DELETED') {
              gone = true;
              controller.abort();
            }
          },
          controller.signal,
          relist,
          selectors,
        );
    } finally {
      clearTimeout(timer);
    }
    return gone;
  }

  /** Pods matching a workload's selector. */
  async podsOf(workload: KubeObject): Promise<KubeObject[]> {
    const selector =
      isRecord(workload.spec) && isRecord(workload.spec.selector) ? workload.spec.selector : undefined;
    const matchLabels =
      selector && isRecord(selector.matchLabels) ? (selector.matchLabels as Record<string, string>) : {};
    const labelSelector = Object.entries(matchLabels)
      .map(([key, value]) => `${key}=${value}`)
      .join(',');
    if (!labelSelector) return [];
    const pods = await this.list(core('pods', 'Pod'), workload.metadata.namespace, { labelSelector });
    return pods.items;
  }

  /** Events in a namespace about any of the named objects. */
  async eventsAbout(namespace: string | undefined, names: ReadonlySet<string>): Promise<KubeObject[]> {
    const events = await this.list(core('events', 'Event'), namespace);
    return events.items.filter((event) => {
      const involved = isRecord(event.involvedObject) ? event.involvedObject : {};
      return names.has(String(involved.name));
    });
  }

  /** The last log lines of a container, its previous instance first (the one that crashed). */
  async lastLogLines(namespace: string | undefined, pod: string, container: string): Promise<string[]> {
    for (const previous of ['true', 'false']) {
      try {
        const { body } = await this.client.request<unknown>({
          method: 'GET',
          path: `/api/v1/namespaces/${encodeURIComponent(namespace ?? 'default')}/pods/${encodeURIComponent(pod)}/log`,
          query: { container, tailLines: String(logLineCount), previous },
          text: true,
          idempotent: true,
        });
        const text = typeof body === 'string' ? body : '';
        if (text) return text.replace(/\n$/, '').split('\n').slice(-logLineCount);
      } catch {
        // No previous instance, or the log is gone: try the current one, then give up quietly.
      }
    }
    return [];
  }
}

/** A core-group resource. */
export function core(resource: string, kind: string): ResourceInfo {
  return { group: '', version: 'v1', resource, kind, namespaced: true };
}

/** An apps/v1 or batch/v1 resource by kind, for the kinds the task reads itself. */
export function builtIn(kind: 'ReplicaSet' | 'ControllerRevision'): ResourceInfo {
  return { group: 'apps', version: 'v1', resource: `${kind.toLowerCase()}s`, kind, namespaced: true };
}

/** Whether an object is a CustomResourceDefinition. */
export function isCrd(object: KubeObject): boolean {
  return groupOf(object) === 'apiextensions.k8s.io' && object.kind === 'CustomResourceDefinition';
}
