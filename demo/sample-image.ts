import {
  imageIndex,
  imageManifest,
  commonPlatforms,
  randomLayer,
  sbom,
  tarLayer,
  type Manifest,
} from '../test/oci/content';
import type { PromoteWorld } from '../test/oci/fixture';
import { appName, appVersion } from './environment';

/** The sample app as the CI pipeline built it: a multi-arch index and the SBOM attached to it. */
export interface SampleImage {
  readonly repository: string;
  readonly tag: string;
  readonly index: Manifest;
  readonly sbom: Manifest;
}

/**
 * Builds the sample app as real OCI content: a base layer both platforms share, an app
 * layer per platform, an image index over them, and an SPDX SBOM whose subject is the index.
 */
export function buildSampleImage(version: string = appVersion): SampleImage {
  const base = randomLayer(48 * 1024);
  const children = commonPlatforms.map((platform) =>
    imageManifest({
      format: 'oci',
      platform,
      layers: [
        base,
        tarLayer({
          'app/server.js': `console.log('${appName} ${version} on ${platform.architecture}');\n`,
          'app/package.json': JSON.stringify({ name: appName, version }),
        }),
        randomLayer(16 * 1024),
      ],
      label: `${appName}:${version}`,
    }),
  );
  const index = imageIndex('oci', children);
  return { repository: appName, tag: version, index, sbom: sbom(index) };
}

/** Pushes the image and its SBOM to the non-production registry, as the CI pipeline's push does. */
export async function pushToNonProduction(world: PromoteWorld, image: SampleImage): Promise<void> {
  await world.seed(world.nonprod, image.repository, image.index, [image.tag]);
  await world.seed(world.nonprod, image.repository, image.sbom);
}
