// What the running service says about itself: the package's name and version, and the
// commit and time of the build (dist/build-info.json, written by `npm run build`).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Reads the name and version from `appRoot`/package.json and the build's commit and time
 * from `appRoot`/build-info.json; run from the sources, there is no build, and it says so.
 */
export function readBuildInfo(appRoot) {
  const { name, version } = JSON.parse(readFileSync(join(appRoot, 'package.json'), 'utf8'));
  const buildFile = join(appRoot, 'build-info.json');
  const build = existsSync(buildFile) ? JSON.parse(readFileSync(buildFile, 'utf8')) : {};
  return { name, version, commit: build.commit ?? 'unbuilt', builtAt: build.builtAt ?? null };
}
