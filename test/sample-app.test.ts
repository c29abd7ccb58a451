import assert from 'node:assert/strict';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { XMLParser } from 'fast-xml-parser';
import { loadAll } from 'js-yaml';
import { runChecks, type CheckResult } from '../tasks/AcceptanceGate/check-runner';
import { parseChecks } from '../tasks/AcceptanceGate/checks-file';
import { HostPool } from '../tasks/AcceptanceGate/host-pool';
import { createSend } from '../tasks/AcceptanceGate/http-client';
import { nodeExecutable, repoRoot } from './harness/agent';

/**
 * The sample app (sample-app/) as the example pipelines run it: `npm ci`, lint, build, unit
 * tests and integration tests in a copy of the folder, on Node 20 and on Node 24, and the
 * result files the pipeline publishes. Then its acceptance checks against the built
 * service, its manifests, and its image built by buildah.
 */

const appSource = join(repoRoot, 'sample-app');
const secretVariable = 'ORDERS_DB_CONNECTION';
const commit = '0123456789abcdef0123456789abcdef01234567';
const missingSecretMessage = `${secretVariable} is not set: in the pipeline, KeyVaultSecrets@1 loads it from Key Vault as a secret variable, which reaches a script only through the step's env:`;
const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@' });

/**
 * Copies the app's committed files (not what an earlier run left: dist/, results) to
 * `<temporary folder>/orders-api`, beside an empty npm user config.
 */
function copyApp(): string {
  const copy = join(mkdtempSync(join(tmpdir(), 'sample-app-')), 'orders-api');
  cpSync(appSource, copy, {
    recursive: true,
    filter: (path) => !/^(node_modules|dist|coverage|test-results)(\/|$)/.test(relative(appSource, path)),
  });
  writeFileSync(join(copy, '..', 'empty.npmrc'), '');
  return copy;
}

const removeCopy = (copy: string) => rmSync(dirname(copy), { recursive: true, force: true });

/**
 * The environment of a pipeline step on `node`: that Node first on PATH, nothing of the
 * npm that may run these tests, no secret unless given, and an empty npm user config, so
 * only the app's own .npmrc applies, as on a fresh agent.
 */
function stepEnvironment(node: string, folder: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^npm_/i.test(name) && name !== secretVariable) env[name] = value;
  }
  return {
    ...env,
    PATH: `${dirname(node)}${delimiter}${process.env.PATH}`,
    npm_config_userconfig: join(folder, '..', 'empty.npmrc'),
    ...extra,
  };
}

function npm(
  folder: string,
  node: string,
  args: string[],
  extra: NodeJS.ProcessEnv = {},
): SpawnSyncReturns<string> {
  return spawnSync('npm', args, {
    cwd: folder,
    env: stepEnvironment(node, folder, extra),
    encoding: 'utf8',
    timeout: 120_000,
  });
}

const outputOf = (run: SpawnSyncReturns<string>) => `${run.stdout}\n${run.stderr}`;

function assertSucceeded(run: SpawnSyncReturns<string>, what: string): void {
  assert.equal(run.status, 0, `${what} failed (exit ${run.status}):\n${outputOf(run)}`);
}

interface JUnitCase {
  '@name': string;
  failure?: { '@message': string };
}

/** Every test case of a JUnit file, which must parse and hold at least one suite. */
function junitCases(file: string): JUnitCase[] {
  const parsed = xml.parse(readFileSync(file, 'utf8'));
  const suites = [parsed.testsuites?.testsuite].flat().filter(Boolean);
  assert.ok(suites.length > 0, `${file} holds no <testsuite>`);
  return suites.flatMap((suite) => [suite.testcase].flat().filter(Boolean));
}

/** The parts of the app's Kubernetes objects the test reads. */
interface Manifest {
  kind: string;
  metadata: { name: string; namespace?: string };
  data?: Record<string, string>;
  spec?: { replicas?: number; template?: { spec: { containers: Container[] } } };
}

interface Container {
  image: string;
  readinessProbe: { httpGet: { path: string } };
  envFrom: unknown[];
  resources: { requests?: object; limits?: object };
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

for (const label of ['node20', 'node24'] as const) {
  describe(`sample app on ${label}: the pipeline's steps and the files they write`, function () {
    this.timeout(180_000);
    const secret = `Server=tcp:orders-db.test;Password=${randomBytes(12).toString('hex')}`;
    let node: string;
    let app: string;
    const runs: Record<string, SpawnSyncReturns<string>> = {};

    before(function () {
      node = nodeExecutable(label);
      app = copyApp();
      // A registry nobody answers on: `npm ci` must not need one.
      runs.ci = npm(app, node, ['ci'], { npm_config_registry: 'http://127.0.0.1:9/' });
      runs.ciOffline = npm(app, node, ['ci', '--offline']);
      runs.lint = npm(app, node, ['run', 'lint']);
      runs.build = npm(app, node, ['run', 'build'], { BUILD_SOURCEVERSION: commit });
      runs.test = npm(app, node, ['test']);
      runs.integration = npm(app, node, ['run', 'test:integration'], { [secretVariable]: secret });
    });
    after(() => removeCopy(app));

    it('installs with npm ci, offline and with no registry reachable', () => {
      assertSucceeded(runs.ci, 'npm ci (unreachable registry)');
      assertSucceeded(runs.ciOffline, 'npm ci --offline');
      // The app's .npmrc keeps npm from asking a registry for an audit: where none answers
      // at all (no refusal, just silence), that request would hang the step.
      assert.doesNotMatch(outputOf(runs.ci), /audited|vulnerabilit/);
    });

    it('passes its lint', () => {
      assertSucceeded(runs.lint, 'npm run lint');
      assert.match(runs.lint.stdout, /lint: \d+ files, no problems/);
    });

    it('builds dist/ with the version, the commit and the Node it was built on', () => {
      assertSucceeded(runs.build, 'npm run build');
      const info = JSON.parse(readFileSync(join(app, 'dist', 'build-info.json'), 'utf8'));
      const { version } = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8'));
      assert.equal(info.version, version);
      assert.equal(info.commit, commit);
      assert.equal(info.node, spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim());
      assert.ok(existsSync(join(app, 'dist', 'src', 'server.mjs')));
    });

    it('writes JUnit and Cobertura coverage of src/ from the unit tests', () => {
      assertSucceeded(runs.test, 'npm test');
      const cases = junitCases(join(app, 'test-results', 'TEST-unit.xml'));
      assert.ok(cases.length >= 10, `only ${cases.length} unit tests in the JUnit file`);
      assert.deepEqual(
        cases.filter((testCase) => testCase.failure),
        [],
      );
      const coverage = xml.parse(
        readFileSync(join(app, 'coverage', 'cobertura-coverage.xml'), 'utf8'),
      ).coverage;
      const lineRate = Number(coverage['@line-rate']);
      assert.ok(lineRate > 0.8 && lineRate <= 1, `line-rate ${coverage['@line-rate']}`);
      const classes = [coverage.packages.package]
        .flat()
        .flatMap((pkg: { classes: { class: unknown } }) => [pkg.classes.class].flat()) as {
        '@filename': string;
      }[];
      assert.ok(classes.length > 0);
      assert.ok(
        classes.every((entry) => entry['@filename'].startsWith('src/')),
        classes.map((entry) => entry['@filename']).join(', '),
      );
    });

    it(`runs the integration tests with ${secretVariable}, leaving its hash and never its value`, () => {
      assertSucceeded(runs.integration, 'npm run test:integration');
      const cases = junitCases(join(app, 'test-results', 'TEST-integration.xml'));
      assert.ok(cases.length > 0);
      assert.deepEqual(
        cases.filter((testCase) => testCase.failure),
        [],
      );
      const seenText = readFileSync(join(app, 'test-results', 'secret-seen.json'), 'utf8');
      assert.deepEqual(JSON.parse(seenText), { variable: secretVariable, sha256: sha256(secret) });
      for (const [where, text] of [
        ['secret-seen.json', seenText],
        ['the output', outputOf(runs.integration)],
        ['TEST-integration.xml', readFileSync(join(app, 'test-results', 'TEST-integration.xml'), 'utf8')],
      ]) {
        assert.ok(!text.includes(secret), `${where} holds the secret's value`);
      }
    });

    it(`fails the integration tests with a clear message when ${secretVariable} is missing`, () => {
      const run = npm(app, node, ['run', 'test:integration']);
      assert.notEqual(run.status, 0, outputOf(run));
      assert.ok(outputOf(run).includes(missingSecretMessage), outputOf(run));
      const failed = junitCases(join(app, 'test-results', 'TEST-integration.xml')).filter(
        (testCase) => testCase.failure,
      );
      assert.equal(failed.length, 1);
      assert.ok(
        failed[0]!.failure!['@message'].startsWith(missingSecretMessage),
        failed[0]!.failure!['@message'],
      );
      assert.ok(!existsSync(join(app, 'test-results', 'secret-seen.json')), 'an earlier run left its proof');
    });
  });
}

describe('sample app: what CD deploys and checks', function () {
  this.timeout(120_000);
  let app: string;

  before(() => {
    app = copyApp();
    const build = spawnSync(process.execPath, ['scripts/build.mjs'], {
      cwd: app,
      env: { ...process.env, BUILD_SOURCEVERSION: commit },
      encoding: 'utf8',
    });
    assertSucceeded(build, 'node scripts/build.mjs');
  });
  after(() => removeCopy(app));

  /** Starts the built service on a free port; resolves with its URL and a stop function. */
  async function startBuilt(
    env: NodeJS.ProcessEnv = {},
  ): Promise<{ url: string; stop: () => Promise<void> }> {
    const child = spawn(process.execPath, ['dist/src/server.mjs'], {
      cwd: app,
      env: { PATH: process.env.PATH, PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = once(child, 'exit');
    const url = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const port = line.match(/ listening on port (\d+) /)?.[1];
        if (port) resolve(`http://127.0.0.1:${port}`);
      });
      child.once('exit', (code) => reject(new Error(`the service exited with ${code} before it listened`)));
    });
    return {
      url,
      stop: async () => {
        child.kill('SIGTERM');
        await exited;
      },
    };
  }

  async function runAcceptanceChecks(env: NodeJS.ProcessEnv = {}): Promise<CheckResult[]> {
    const file = 'deploy/acceptance-checks.yaml';
    const parsed = parseChecks(readFileSync(join(app, file), 'utf8'), file, () => undefined);
    assert.ok(parsed.ok, JSON.stringify(!parsed.ok && parsed.problems));
    const service = await startBuilt(env);
    const http = createSend({}, 4);
    try {
      return await runChecks(parsed.checks, service.url, 0, {
        send: http.send,
        pool: new HostPool(4),
        redact: (text) => text,
      });
    } finally {
      http.close();
      await service.stop();
    }
  }

  it('passes its acceptance checks (AcceptanceGate@1 parser and runner) when healthy', async () => {
    const results = await runAcceptanceChecks();
    const failed = results.filter((result) => result.outcome !== 'passed');
    assert.deepEqual(
      failed.map((result) => `${result.name}: ${result.failures.join('; ')}`),
      [],
    );
    assert.deepEqual(
      results.map((result) => result.name),
      ['health', 'version', 'orders list', 'create an order', 'orders list p95 latency'],
    );
  });

  it('fails health and the order checks with ORDERS_FAIL_CHECKS=1', async () => {
    const results = await runAcceptanceChecks({ ORDERS_FAIL_CHECKS: '1' });
    assert.deepEqual(
      results.filter((result) => result.outcome === 'failed').map((result) => result.name),
      ['health', 'orders list', 'create an order', 'orders list p95 latency'],
    );
  });

  it('has the overlays CD deploys: the image by repository only, probes, the app-insights Secret, replicas and settings per environment', () => {
    const render = (overlay: string) => {
      const rendered = spawnSync('kubectl', ['kustomize', join(app, 'deploy', 'overlays', overlay)], {
        encoding: 'utf8',
      });
      assert.equal(rendered.status, 0, rendered.stderr);
      return loadAll(rendered.stdout) as Manifest[];
    };
    const environments = ['staging', 'production'].map((overlay) => {
      const objects = render(overlay);
      const configMap = objects.find((object) => object.kind === 'ConfigMap')!;
      assert.match(configMap.metadata.name, /^orders-api-[a-z0-9]{10}$/, 'the generated name, with its hash');
      assert.deepEqual(objects.map((object) => `${object.kind}/${object.metadata.name}`).sort(), [
        `ConfigMap/${configMap.metadata.name}`,
        'Deployment/orders-api',
        'Namespace/orders',
        'Service/orders-api',
      ]);
      for (const object of objects.filter((entry) => entry.kind !== 'Namespace')) {
        assert.equal(object.metadata.namespace, 'orders', `${object.kind} namespace`);
      }
      const deployment = objects.find((object) => object.kind === 'Deployment')!;
      const [container, ...others] = deployment.spec!.template!.spec.containers;
      assert.equal(others.length, 0);
      assert.equal(container!.image, 'orders/api:latest');
      assert.equal(container!.readinessProbe.httpGet.path, '/ready');
      assert.deepEqual(container!.envFrom, [
        { configMapRef: { name: configMap.metadata.name } },
        { secretRef: { name: 'app-insights' } },
      ]);
      assert.ok(container!.resources.requests && container!.resources.limits);
      return { replicas: deployment.spec!.replicas, settings: configMap.data };
    });
    assert.deepEqual(environments, [
      { replicas: 1, settings: { PORT: '8080', ENVIRONMENT: 'staging' } },
      { replicas: 3, settings: { PORT: '8080', ENVIRONMENT: 'production' } },
    ]);
  });

  it('builds its image with buildah from the Dockerfile, holding dist/', function () {
    const reason =
      spawnSync('buildah', ['--version']).error !== undefined
        ? 'buildah is not installed (sudo scripts/install-system-deps.sh)'
        : process.getuid?.() !== 0
          ? 'buildah builds here only as root (vfs storage, chroot isolation)'
          : undefined;
    if (reason) {
      console.log(`      skipped: ${reason}`);
      this.skip();
    }
    const storage = mkdtempSync(join(tmpdir(), 'orders-api-buildah-'));
    const buildah = (...args: string[]) =>
      spawnSync(
        'buildah',
        [
          '--storage-driver',
          'vfs',
          '--root',
          join(storage, 'root'),
          '--runroot',
          join(storage, 'run'),
          ...args,
        ],
        { cwd: app, encoding: 'utf8', timeout: 120_000 },
      );
    try {
      const image = 'localhost/orders/api:test';
      assertSucceeded(buildah('bud', '--isolation', 'chroot', '-q', '-t', image, '.'), 'buildah bud');
      const inspected = buildah('inspect', '--type', 'image', image);
      assertSucceeded(inspected, 'buildah inspect');
      const config = JSON.parse(inspected.stdout).OCIv1.config;
      assert.deepEqual([...config.Entrypoint, ...config.Cmd], ['node', 'src/server.mjs']);
      assert.equal(config.WorkingDir, '/app');
      assert.equal(config.Labels['org.opencontainers.image.title'], 'orders-api');
      // The layer holds dist/ under /app, and nothing else of the folder (.dockerignore).
      assertSucceeded(buildah('push', '-q', image, `dir:${join(storage, 'image')}`), 'buildah push');
      const manifest = JSON.parse(readFileSync(join(storage, 'image', 'manifest.json'), 'utf8'));
      assert.equal(manifest.layers.length, 1);
      const layer = join(storage, 'image', manifest.layers[0].digest.replace(/^sha256:/, ''));
      const listing = spawnSync('tar', ['-tf', layer], { encoding: 'utf8' });
      assertSucceeded(listing, 'tar -tf');
      const files = listing.stdout.split('\n').filter((entry) => entry && !entry.endsWith('/'));
      assert.deepEqual(files.sort(), [
        'app/build-info.json',
        'app/package.json',
        'app/src/app.mjs',
        'app/src/build-info.mjs',
        'app/src/config.mjs',
        'app/src/log.mjs',
        'app/src/orders.mjs',
        'app/src/server.mjs',
      ]);
    } finally {
      rmSync(storage, { recursive: true, force: true });
    }
  });
});
