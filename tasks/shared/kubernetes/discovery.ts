import { KubernetesApiError, type KubernetesClient } from './client';
import { groupVersionOf } from './object';

/** Where a kind lives in the REST API. */
export interface ResourceInfo {
  readonly group: string;
  readonly version: string;
  /** Lower-case plural, as in URLs. */
  readonly resource: string;
  readonly kind: string;
  readonly namespaced: boolean;
}

interface ApiResourceList {
  resources?: { name: string; kind: string; namespaced: boolean }[];
}

/**
 * Finds kinds through discovery, one group/version at a time (`/api/v1`,
 * `/apis/<group>/<version>`), as kubectl's REST mapper does, so that only the group
 * versions a deploy uses are fetched. A CRD applied in the same run is found once its
 * group is forgotten and asked again.
 */
export class Discovery {
  private readonly lists = new Map<string, Promise<ApiResourceList | undefined>>();

  constructor(private readonly client: KubernetesClient) {}

  /** The resource for `apiVersion` + `kind`, or undefined when the server does not serve it. */
  async resolve(apiVersion: string, kind: string): Promise<ResourceInfo | undefined> {
    const { group, version } = groupVersionOf(apiVersion);
    const list = await this.list(apiVersion);
    const found = list?.resources?.find((resource) => resource.kind === kind && !resource.name.includes('/'));
    return found ? { group, version, resource: found.name, kind, namespaced: found.namespaced } : undefined;
  }

  /** Drops what is cached for a group, e.g. after one of its CRDs became Established. */
  forget(group: string): void {
    for (const key of this.lists.keys()) if (groupVersionOf(key).group === group) this.lists.delete(key);
  }

  private list(apiVersion: string): Promise<ApiResourceList | undefined> {
    let list = this.lists.get(apiVersion);
    if (!list) {
      const path = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
      list = this.client.request<ApiResourceList>({ method: 'GET', path, idempotent: true }).then(
        (response) => response.body,
        (error: unknown) => {
          if (error instanceof KubernetesApiError && error.status === 404) return undefined;
          throw error;
        },
      );
      this.lists.set(apiVersion, list);
    }
    return list;
  }
}

/** The URL path of a resource's collection, in a namespace or cluster-wide. */
export function collectionPath(info: ResourceInfo, namespace?: string): string {
  const root = info.group === '' ? `/api/${info.version}` : `/apis/${info.group}/${info.version}`;
  return info.namespaced && namespace
    ? `${root}/namespaces/${encodeURIComponent(namespace)}/${info.resource}`
    : `${root}/${info.resource}`;
}

/** The URL path of one object. */
export function objectPath(info: ResourceInfo, namespace: string | undefined, name: string): string {
  return `${collectionPath(info, namespace)}/${encodeURIComponent(name)}`;
}
