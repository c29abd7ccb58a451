import type { EmulatedRegistry } from '../test/emulators/acr';
import type { PromoteWorld } from '../test/oci/fixture';
import type { SampleImage } from './sample-image';

/** What one registry holds for the sample app, read straight from the registry process. */
export interface RegistryContent {
  readonly name: string;
  readonly loginServer: string;
  /** The digest of the bytes stored under the tag, or undefined when the tag is missing. */
  readonly digest: string | undefined;
  /** Whether the SBOM is stored there, under its own digest. */
  readonly sbom: boolean;
}

/** Both registries' content and whether production holds exactly what non-production does. */
export interface RegistryComparison {
  readonly nonprod: RegistryContent;
  readonly prod: RegistryContent;
  /** True when prod's tag resolves to the very bytes CI pushed to nonprod. */
  readonly identical: boolean;
}

/**
 * Reads each registry on its own with `skopeo inspect --raw` (through the fixture, straight
 * at the registry behind the ACR front), hashing the stored manifest bytes: the check does
 * not go through the task's client or the front, so it cannot agree with them by accident.
 */
export function compareRegistries(world: PromoteWorld, image: SampleImage): RegistryComparison {
  const read = (registry: EmulatedRegistry): RegistryContent => ({
    name: registry.name,
    loginServer: registry.loginServer,
    digest: world.storedDigest(registry, image.repository, image.tag),
    sbom: world.storedDigest(registry, image.repository, image.sbom.digest) === image.sbom.digest,
  });
  const nonprod = read(world.nonprod);
  const prod = read(world.prod);
  return {
    nonprod,
    prod,
    identical:
      prod.digest !== undefined && prod.digest === nonprod.digest && prod.digest === image.index.digest,
  };
}
