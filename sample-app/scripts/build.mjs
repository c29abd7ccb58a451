// `npm run build`: writes dist/, what the Dockerfile copies into the image: the sources,
// a package.json with what the service reads of it, and build-info.json naming the commit
// and time of the build, which /api/version reports.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const appRoot = dirname(dirname(fileURLToPath(import.meta.url)));
const dist = join(appRoot, 'dist');

/** The commit being built: the pipeline's Build.SourceVersion, else git's HEAD, else unknown. */
function sourceCommit() {
  if (process.env.BUILD_SOURCEVERSION) return process.env.BUILD_SOURCEVERSION;
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], {
      cwd: appRoot,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return 'unknown'; // not a git checkout (a copied folder, a source archive)
  }
}

/** When it was built: SOURCE_DATE_EPOCH when set (https://reproducible-builds.org/specs/source-date-epoch/), else now. */
function buildTime() {
  const epoch = process.env.SOURCE_DATE_EPOCH;
  return (epoch && /^\d+$/.test(epoch) ? new Date(Number(epoch) * 1000) : new Date()).toISOString();
}

const { name, version, description, license, type, engines } = JSON.parse(
  readFileSync(join(appRoot, 'package.json'), 'utf8'),
);
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist);
cpSync(join(appRoot, 'src'), join(dist, 'src'), { recursive: true });
writeFileSync(
  join(dist, 'package.json'),
  `${JSON.stringify({ name, version, description, license, type, engines }, null, 2)}\n`,
);
const info = { name, version, commit: sourceCommit(), builtAt: buildTime(), node: process.version };
writeFileSync(join(dist, 'build-info.json'), `${JSON.stringify(info, null, 2)}\n`);
console.log(
  `build: dist/ holds ${name} ${version}, commit ${info.commit.slice(0, 12)}, built ${info.builtAt} on Node ${process.version}`,
);
