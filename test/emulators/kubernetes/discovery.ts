import { builtInTypes, groupVersion, servedVerbs, typesFromCrd, type ResourceType } from './resources';
import type { KubeObject } from './object';

/** The Kubernetes version the emulated clusters report. */
export const serverVersion = {
  major: '1',
  minor: '31',
  gitVersion: 'v1.31.3',
  gitCommit: 'c83cbee114ec45f6a6f9f8c5d5c2d6b1f6e2a7b0',
  gitTreeState: 'clean',
  buildDate: '2024-11-20T10:00:00Z',
  goVersion: 'go1.22.9',
  compiler: 'gc',
  platform: 'linux/amd64',
};

/** The types a cluster serves now: built-ins plus those of stored CRDs. */
export class TypeRegistry {
  private custom: ResourceType[] = [];

  /** Every served type, built-ins first. */
  all(): readonly ResourceType[] {
    return [...builtInTypes, ...this.custom];
  }

  /** Replaces the custom types with those the given CRDs serve. */
  setCrds(crds: readonly KubeObject[]): void {
    this.custom = crds.flatMap((crd) => typesFromCrd(crd));
  }

  /** The type at `group/version/resource`, if served. */
  find(group: string, version: string, resource: string): ResourceType | undefined {
    return this.all().find(
      (type) => type.group === group && type.version === version && type.resource === resource,
    );
  }

  /** The type of a kind in a group (any served version; the first wins). */
  byKind(group: string, kind: string): ResourceType | undefined {
    return this.all().find((type) => type.group === group && type.kind === kind);
  }

  /** The type whose objects a storage bucket holds (the stored version's, for types served at several). */
  byStorageKey(key: string): ResourceType | undefined {
    return this.all().find((type) => !type.storedAs && storageKey(type) === key);
  }

  /** Served groups (without the core group) with their versions, preferred first. */
  groups(): { name: string; versions: string[] }[] {
    const groups = new Map<string, string[]>();
    for (const type of this.all()) {
      if (!type.group) continue;
      const versions = groups.get(type.group) ?? [];
      if (!versions.includes(type.version)) versions.push(type.version);
      groups.set(type.group, versions);
    }
    return [...groups].map(([name, versions]) => ({ name, versions }));
  }
}

/** Where objects of a type are stored: one bucket per group and resource, whatever the version. */
export function storageKey(type: Pick<ResourceType, 'group' | 'resource' | 'storedAs'>): string {
  const stored = type.storedAs ?? type;
  return `${stored.group}/${stored.resource}`;
}

/** `GET /api`. */
export function coreVersions(serverAddress: string): KubeObject {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

function groupEntry(group: { name: string; versions: string[] }): KubeObject {
  const versions = group.versions.map((version) => ({ groupVersion: `${group.name}/${version}`, version }));
  return { name: group.name, versions, preferredVersion: versions[0] };
}

/** `GET /apis`. */
export function groupList(registry: TypeRegistry): KubeObject {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: registry.groups().map(groupEntry) };
}

/** `GET /apis/<group>`, or undefined when the group is not served. */
export function group(registry: TypeRegistry, name: string): KubeObject | undefined {
  const found = registry.groups().find((each) => each.name === name);
  return found ? { kind: 'APIGroup', apiVersion: 'v1', ...groupEntry(found) } : undefined;
}

/** `GET /api/v1` or `/apis/<group>/<version>`, or undefined when not served. */
export function resourceList(
  registry: TypeRegistry,
  groupName: string,
  version: string,
): KubeObject | undefined {
  const types = registry.all().filter((type) => type.group === groupName && type.version === version);
  if (types.length === 0) return undefined;
  const resources: KubeObject[] = [];
  for (const type of types) {
    resources.push({
      name: type.resource,
      singularName: type.kind.toLowerCase(),
      namespaced: type.namespaced,
      kind: type.kind,
      verbs: [...(type.verbs ?? servedVerbs)],
      ...(type.shortNames?.length ? { shortNames: type.shortNames } : {}),
      ...(type.categories?.length ? { categories: type.categories } : {}),
    });
    for (const subresource of type.subresources ?? []) {
      resources.push({
        name: `${type.resource}/${subresource}`,
        singularName: '',
        namespaced: type.namespaced,
        kind: subresource === 'scale' ? 'Scale' : type.kind,
        ...(subresource === 'scale' ? { group: 'autoscaling', version: 'v1' } : {}),
        verbs:
          subresource === 'log'
            ? ['get']
            : subresource === 'finalize'
              ? ['update']
              : ['get', 'patch', 'update'],
      });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: groupVersion(types[0]!), resources };
}
