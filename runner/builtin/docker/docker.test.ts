import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  createTestCertificateAuthority,
  type TestCertificateAuthority,
} from '../../../test/emulators/certificates';
import { startRegistry, type RegistryInstance } from '../../../test/emulators/registry';
import { taskData } from '../definitions';
import { which } from '../support/process';
import { createTestContext, type TestContext, type TestContextOptions } from '../testing/context';
import type { ServiceConnection } from '../types';
import { runDocker } from './docker';

const definition = taskData('Docker', 2);
/** Resolves only through machine.hosts: not in /etc/hosts, not under the emulated cloud's domain. */
const registryName = 'images.builds.test';
const password = 'registry-password-4f1d9c';

const tools = ['buildah', 'skopeo', 'unshare'].every((tool) => which(tool, process.env.PATH));
const asRoot = process.getuid?.() === 0;

(tools && asRoot ? describe : describe.skip)('Docker@2 with buildah', function () {
  this.timeout(120_000);
  let ca: TestCertificateAuthority;
  let registry: RegistryInstance;
  let connection: ServiceConnection;
  let registryHost: string;
  let step: TestContext | undefined;

  before(async () => {
    ca = await createTestCertificateAuthority();
    registry = await startRegistry(ca, { hostNames: [registryName] });
    registryHost = `${registryName}:${registry.host.split(':')[1]}`;
    connection = {
      id: '5b0e7c1a-0000-4000-8000-000000000001',
      name: 'builds-registry',
      type: 'dockerregistry',
      url: `https://${registryHost}`,
      scheme: 'UsernamePassword',
      parameters: { registry: `https://${registryHost}`, username: 'builder', password },
      data: { registrytype: 'Others' },
    };
  });
  after(async () => {
    await registry?.stop();
    ca?.dispose();
  });
  afterEach(() => step?.dispose());

  function dockerStep(
    inputs: Record<string, string>,
    options: Partial<TestContextOptions> = {},
  ): TestContext {
    return createTestContext({
      definition,
      inputs,
      connections: [connection],
      machine: { caFile: ca.caFile, hosts: { [registryName]: '127.0.0.1' } },
      variables: {
        'System.TeamFoundationCollectionUri': 'https://dev.azure.com/contoso/',
        'System.TeamProject': 'orders',
        'Build.SourceVersion': 'a1b2c3d',
        'Build.Repository.Name': 'orders-api',
      },
      ...options,
    });
  }

  function writeApp(root: string, dockerfile = 'FROM scratch\nCOPY hello.txt /hello.txt\n'): void {
    mkdirSync(join(root, 'app'), { recursive: true });
    writeFileSync(join(root, 'app', 'Dockerfile'), dockerfile);
    writeFileSync(join(root, 'app', 'hello.txt'), 'hello\n');
  }

  /** The stored manifest's bytes, read straight from the registry (not through the name). */
  function storedManifest(reference: string): Buffer {
    return execFileSync('skopeo', [
      'inspect',
      '--raw',
      '--cert-dir',
      registry.certDir,
      `docker://${registry.host}/${reference}`,
    ]);
  }

  function variableValue(lines: readonly string[], name: string): string | undefined {
    const prefix = `##vso[task.setvariable variable=${name};isOutput=false;issecret=false;]`;
    const line = lines.find((candidate) => candidate.startsWith(prefix));
    return line?.slice(prefix.length).replace(/%0A/g, '\n');
  }

  it('buildAndPush: builds FROM scratch, pushes every tag through the private hosts name, and reports docker digest lines', async () => {
    const hostsBefore = readFileSync('/etc/hosts', 'utf8');
    const cacheFile = '/var/lib/containers/cache/blob-info-cache-v1.boltdb';
    const cacheBefore = existsSync(cacheFile) ? statSync(cacheFile).mtimeMs : undefined;
    step = dockerStep({
      command: 'buildAndPush',
      containerRegistry: 'builds-registry',
      repository: 'Team/App',
      tags: '1\nlatest',
    });
    writeApp(step.workingDirectory);

    const result = await runDocker(step.context);
    assert.deepEqual(result, { status: 'Succeeded' }, step.lines.join('\n'));

    // The registry holds both tags, and the log's digest lines carry its digest and size.
    const manifest = storedManifest('team/app:1');
    const digest = `sha256:${createHash('sha256').update(manifest).digest('hex')}`;
    assert.deepEqual(storedManifest('team/app:latest'), manifest);
    assert.ok(step.lines.includes(`1: digest: ${digest} size: ${manifest.length}`), step.lines.join('\n'));
    assert.ok(step.lines.includes(`latest: digest: ${digest} size: ${manifest.length}`));
    assert.equal(
      JSON.parse(manifest.toString()).mediaType,
      'application/vnd.docker.distribution.manifest.v2+json',
    );

    // DockerOutput: the build file, then the push file, as the real task writes them.
    const [buildFile, pushFile] = (variableValue(step.lines, 'DockerOutput') ?? '').split('\n');
    assert.match(buildFile!, /task_outputs\/build_\d+\.txt$/);
    assert.match(pushFile!, /task_outputs\/push_\d+\.txt$/);
    const pushed = readFileSync(pushFile!, 'utf8');
    assert.match(pushed, new RegExp(`The push refers to repository \\[${registryHost}/team/app\\]`));
    assert.match(
      pushed,
      /sha256:([\w]+)(\s+)size:\s([\w]+)/,
      'the real task parses the digest with this pattern',
    );
    assert.match(readFileSync(buildFile!, 'utf8'), /^Successfully built [0-9a-f]{12}$/m);

    // The labels the real task adds.
    const config = JSON.parse(
      execFileSync('skopeo', [
        'inspect',
        '--config',
        '--cert-dir',
        registry.certDir,
        `docker://${registry.host}/team/app:1`,
      ]).toString(),
    ) as { config: { Labels: Record<string, string> } };
    assert.deepEqual(config.config.Labels, {
      'com.azure.dev.image.system.teamfoundationcollectionuri': 'https://dev.azure.com/contoso/',
      'com.azure.dev.image.system.teamproject': 'orders',
      'com.azure.dev.image.build.repository.name': 'orders-api',
      'com.azure.dev.image.build.sourceversion': 'a1b2c3d',
      'com.azure.dev.image.build.buildnumber': '20261206.1',
      'image.base.ref.name': 'scratch',
    });

    // No secret in the log, no credentials left, nothing global changed.
    const basic = Buffer.from(`builder:${password}`).toString('base64');
    assert.ok(!step.lines.some((line) => line.includes(password) || line.includes(basic)));
    assert.deepEqual(
      readdirSync(step.dirs.temp).filter((name) => name.startsWith('docker-auth-')),
      [],
    );
    assert.equal(readFileSync('/etc/hosts', 'utf8'), hostsBefore);
    if (cacheBefore !== undefined) assert.equal(statSync(cacheFile).mtimeMs, cacheBefore);
  });

  it('build then push in two steps of one job, the second without the first image rebuilt', async () => {
    step = dockerStep({
      command: 'build',
      containerRegistry: 'builds-registry',
      repository: 'two/steps',
      tags: '7',
    });
    writeApp(step.workingDirectory);
    assert.deepEqual(await runDocker(step.context), { status: 'Succeeded' }, step.lines.join('\n'));
    const pushStep = dockerStep(
      { command: 'push', containerRegistry: 'builds-registry', repository: 'two/steps', tags: '7' },
      { sameJobAs: step },
    );
    assert.deepEqual(await runDocker(pushStep.context), { status: 'Succeeded' }, pushStep.lines.join('\n'));
    const manifest = storedManifest('two/steps:7');
    const digest = `sha256:${createHash('sha256').update(manifest).digest('hex')}`;
    assert.ok(pushStep.lines.includes(`7: digest: ${digest} size: ${manifest.length}`));
  });

  it('login writes a 0600 config for later steps, and push without containerRegistry uses it', async () => {
    step = dockerStep({ command: 'login', containerRegistry: 'builds-registry' });
    assert.deepEqual(await runDocker(step.context), { status: 'Succeeded' });
    const configFolder = variableValue(step.lines, 'DOCKER_CONFIG')!;
    const configFile = join(configFolder, 'config.json');
    assert.equal(statSync(configFile).mode & 0o777, 0o600);
    assert.deepEqual(JSON.parse(readFileSync(configFile, 'utf8')), {
      auths: { [registryHost]: { auth: Buffer.from(`builder:${password}`).toString('base64') } },
    });

    const later = { sameJobAs: step, variables: { DOCKER_CONFIG: configFolder } };
    const build = dockerStep({ command: 'buildAndPush', repository: 'via/login', tags: '3' }, later);
    writeApp(step.workingDirectory);
    assert.deepEqual(await runDocker(build.context), { status: 'Succeeded' }, build.lines.join('\n'));
    assert.ok(storedManifest('via/login:3').length > 0);

    const logout = dockerStep({ command: 'logout', containerRegistry: 'builds-registry' }, later);
    assert.deepEqual(await runDocker(logout.context), { status: 'Succeeded' });
    assert.ok(!existsSync(configFolder), 'the last login removed');
    assert.equal(variableValue(logout.lines, 'DOCKER_CONFIG'), '');
  });

  it('refuses a base image from a registry this machine cannot reach, before building anything', async () => {
    step = dockerStep({ command: 'buildAndPush', containerRegistry: 'builds-registry', repository: 'x/y' });
    writeApp(step.workingDirectory, 'FROM node:20 AS build\nRUN true\nFROM build\n');
    const result = await runDocker(step.context);
    assert.deepEqual(result, {
      status: 'Failed',
      message: `${join(step.workingDirectory, 'app', 'Dockerfile')} line 1: FROM node:20 needs docker.io, which this machine cannot reach: build FROM scratch, or push the base image to a registry in the runner's hosts and use it from there.`,
    });
    assert.ok(!step.lines.some((line) => line.startsWith('[command]')));
  });

  it('builds FROM an image on a registry the machine reaches', async () => {
    step = dockerStep({
      command: 'buildAndPush',
      containerRegistry: 'builds-registry',
      repository: 'base/image',
      tags: 'v1',
    });
    writeApp(step.workingDirectory);
    assert.equal((await runDocker(step.context)).status, 'Succeeded', step.lines.join('\n'));
    const derived = dockerStep(
      {
        command: 'buildAndPush',
        containerRegistry: 'builds-registry',
        repository: 'derived/image',
        tags: 'v1',
      },
      { sameJobAs: step },
    );
    writeFileSync(
      join(step.workingDirectory, 'app', 'Dockerfile'),
      `FROM ${registryHost}/base/image:v1\nCOPY hello.txt /again.txt\n`,
    );
    assert.deepEqual(await runDocker(derived.context), { status: 'Succeeded' }, derived.lines.join('\n'));
    const layers = (JSON.parse(storedManifest('derived/image:v1').toString()) as { layers: unknown[] })
      .layers;
    assert.equal(layers.length, 2, 'the base layer and the new one');
  });

  it('refuses start, an unknown command, a missing connection and a missing buildah, each in one line', async () => {
    step = dockerStep({ command: 'start' });
    assert.match(
      (await runDocker(step.context)).message ?? '',
      /^Docker@2 command start needs a Docker engine/,
    );
    const unknown = dockerStep({ command: 'prune' }, { sameJobAs: step });
    assert.equal(
      (await runDocker(unknown.context)).message,
      'Command not recognized: prune. Use one of buildAndPush, build, push, login, logout.',
    );
    const missing = dockerStep(
      { command: 'push', containerRegistry: 'nope', repository: 'a/b' },
      { sameJobAs: step },
    );
    assert.match(
      (await runDocker(missing.context)).message ?? '',
      /^Service connection 'nope' \(containerRegistry\) was not found/,
    );
    const noBuildah = dockerStep(
      { command: 'build', containerRegistry: 'builds-registry', repository: 'a/b' },
      { sameJobAs: step, env: { PATH: '/nonexistent' } },
    );
    writeApp(step.workingDirectory);
    assert.equal(
      (await runDocker(noBuildah.context)).message,
      'buildah is not installed, and Docker@2 builds with it here (there is no Docker engine): run scripts/install-system-deps.sh.',
    );
  });

  it('says which Dockerfile pattern matched nothing, in the real words', async () => {
    step = dockerStep({ command: 'build', repository: 'a/b' });
    assert.equal(
      (await runDocker(step.context)).message,
      'No Dockerfile matching  **/Dockerfile  was found. Fix the Dockerfile input (a path or a pattern).',
    );
  });
});
