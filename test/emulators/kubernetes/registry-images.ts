import { request } from 'node:https';
import type { ImageExists } from './controllers/kubelet';

/** How the image check reaches registries. */
export interface RegistryImageOptions {
  /** The run's CA, which the emulated registries' certificates chain to. */
  readonly caPem: string;
  /** The Authorization header for a registry host (`name.azurecr.azure.test:port`), if it needs one. */
  readonly authorization?: (registryHost: string) => string | undefined;
}

// The manifest types a container runtime accepts, as containerd asks for them.
const manifestTypes = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

/**
 * The kubelet's "pull" against the emulated registries: a HEAD of the manifest, which
 * answers the image's digest when it exists. References without a registry host
 * (Docker Hub) do not exist here, as nothing outside loopback is reachable.
 */
export function registryImageExists(options: RegistryImageOptions): ImageExists {
  return async (reference) => {
    const parsed = parseReference(reference);
    if (!parsed) return false;
    return new Promise<boolean | string>((resolve) => {
      const authorization = options.authorization?.(parsed.host);
      const outgoing = request(
        `https://${parsed.host}/v2/${parsed.repository}/manifests/${parsed.reference}`,
        {
          method: 'HEAD',
          ca: options.caPem,
          headers: { accept: manifestTypes, ...(authorization ? { authorization } : {}) },
        },
        (response) => {
          response.resume();
          if (response.statusCode !== 200) return resolve(false);
          const digest = response.headers['docker-content-digest'];
          resolve(typeof digest === 'string' ? digest : true);
        },
      );
      outgoing.on('error', () => resolve(false));
      outgoing.end();
    });
  };
}

/** Host, repository and tag-or-digest of a reference with an explicit registry host. */
export function parseReference(
  reference: string,
): { host: string; repository: string; reference: string } | undefined {
  const slash = reference.indexOf('/');
  if (slash < 0) return undefined;
  const host = reference.slice(0, slash);
  if (!/[.:]/.test(host) && host !== 'localhost') return undefined;
  let rest = reference.slice(slash + 1);
  let tagOrDigest = 'latest';
  const at = rest.indexOf('@');
  if (at >= 0) {
    tagOrDigest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  } else {
    const colon = rest.lastIndexOf(':');
    if (colon > rest.lastIndexOf('/')) {
      tagOrDigest = rest.slice(colon + 1);
      rest = rest.slice(0, colon);
    }
  }
  return { host, repository: rest, reference: tagOrDigest };
}

/** The image check for registries behind the ACR front: each pull signs in with the front's all-scopes token. */
export function acrImageExists(
  front: { adminAuthorization(registry: string): string },
  caPem: string,
): ImageExists {
  return registryImageExists({
    caPem,
    authorization: (host) => {
      const name = /^([a-z0-9]+)\.azurecr\.azure\.test(?::\d+)?$/.exec(host)?.[1];
      if (!name) return undefined;
      try {
        return front.adminAuthorization(name);
      } catch {
        return undefined;
      }
    },
  });
}
