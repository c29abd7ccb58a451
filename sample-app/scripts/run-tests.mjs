// `npm test` and `npm run test:integration`: Node's test runner with the spec report on
// the console and JUnit in test-results/, which the pipeline's PublishTestResults reads.
// The unit tests also write coverage: Node's lcov report, converted to Cobertura in
// coverage/cobertura-coverage.xml for PublishCodeCoverageResults.
//
//   node scripts/run-tests.mjs unit|integration
//
// Works on Node 20 and 24; where their test runners differ, the difference is handled here.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { convert } from './lcov-to-cobertura.mjs';

const appRoot = dirname(dirname(fileURLToPath(import.meta.url)));
const suites = {
  unit: { folder: 'test/unit', junit: 'test-results/TEST-unit.xml', coverage: true },
  integration: { folder: 'test/integration', junit: 'test-results/TEST-integration.xml', coverage: false },
};
const lcovFile = 'coverage/lcov.info';
const coberturaFile = 'coverage/cobertura-coverage.xml';
const covered = 'src/';

const suite = suites[process.argv[2]];
if (!suite) {
  console.error(`run-tests: name the tests to run: ${Object.keys(suites).join(' or ')}.`);
  process.exit(2);
}

// Results of an earlier run must not be published as this run's.
rmSync(join(appRoot, suite.junit), { force: true });
mkdirSync(join(appRoot, 'test-results'), { recursive: true });
if (suite.coverage) {
  rmSync(join(appRoot, 'coverage'), { recursive: true, force: true });
  mkdirSync(join(appRoot, 'coverage'));
}

// Node 20 takes no globs, so the files are listed here.
const files = readdirSync(join(appRoot, suite.folder))
  .filter((name) => name.endsWith('.test.mjs'))
  .sort()
  .map((name) => join(suite.folder, name));

const reporters = [
  ['spec', 'stdout'],
  ['junit', suite.junit],
  ...(suite.coverage ? [['lcov', lcovFile]] : []),
];
const nodeArgs = [
  '--test',
  ...reporters.flatMap(([reporter, destination]) => [
    `--test-reporter=${reporter}`,
    `--test-reporter-destination=${destination}`,
  ]),
];
if (suite.coverage) {
  nodeArgs.push('--experimental-test-coverage');
  // Node 22.5+ can limit coverage to src/; Node 20 cannot, and the conversion below keeps src/ only.
  if (process.allowedNodeEnvironmentFlags.has('--test-coverage-include'))
    nodeArgs.push(`--test-coverage-include=${covered}**`);
}
if (reporters.length >= 3) {
  // Three reporters make the runner warn of a listener leak that is not one:
  // https://github.com/nodejs/node/issues/57605
  nodeArgs.unshift('--disable-warning=MaxListenersExceededWarning');
}

const run = spawnSync(process.execPath, [...nodeArgs, ...files], { cwd: appRoot, stdio: 'inherit' });
if (run.error) throw run.error;

if (suite.coverage && !existsSync(join(appRoot, lcovFile))) {
  console.error(`coverage: the test runner wrote no ${lcovFile}, so there is no ${coberturaFile}.`);
  process.exitCode = 1;
} else if (suite.coverage) {
  // Converted even when a test failed: the pipeline publishes coverage either way.
  const result = convert({
    lcovFile: join(appRoot, lcovFile),
    coberturaFile: join(appRoot, coberturaFile),
    include: covered,
    sourceRoot: appRoot,
  });
  console.log(
    `coverage: ${coberturaFile}: lines ${(100 * result.lineRate).toFixed(1)}%, branches ${(100 * result.branchRate).toFixed(1)}% of ${covered}`,
  );
}
console.log(`test results: ${suite.junit}`);
process.exitCode ||= run.status ?? 1;
