/**
 * Docker@2 (Tasks/DockerV2) with buildah as the engine: build, push, buildAndPush, login
 * and logout, with the real task's inputs, labels, image names, DockerOutput files and
 * variable, and push lines in docker's own format (`<tag>: digest: sha256:<hex> size: <n>`)
 * carrying the digest the registry gave. Base images must come from `scratch` or from a
 * registry this machine can reach (`machine.hosts`); the check runs before any build.
 */
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRedactor, firstLineExcerpt, type Redact } from '../../../tasks/shared/redaction';
import type { BuiltinContext, BuiltinResult } from '../types';
import { taskData, taskMessage } from '../definitions';
import { issueCommand, setVariableCommand } from '../support/commands';
import { settle, StepFailure } from '../support/failure';
import { findFiles } from '../support/glob';
import { booleanInput, pathInput, requiredInput, splitArguments, textInput } from '../support/inputs';
import { openSession, runInNamespace, type BuildahSession } from './buildah';
import { baseImages, finalBaseImageName, hostOfRegistry, registryOfImage } from './dockerfile';
import { defaultLabels } from './labels';
import {
  basicAuth,
  loggedInConfig,
  loggedInRegistries,
  qualifiedImageName,
  registryHost,
  registryLogin,
  removeLogin,
  validImageName,
  writeAuthFile,
  type RegistryLogin,
} from './registry-login';

const task = taskData('Docker', 2);

/** The commands run locally; start and stop need a Docker engine. */
const commands = ['buildAndPush', 'build', 'push', 'login', 'logout'] as const;
type DockerCommand = (typeof commands)[number];

/** What one step works with: its login, credentials file and redaction. */
interface DockerStep {
  readonly context: BuiltinContext;
  readonly login?: RegistryLogin;
  /** The auth file buildah reads: this step's own (deleted at the end) or an earlier login's. */
  readonly authFile?: string;
  readonly redact: Redact;
  /** Logs a line, secrets removed. */
  readonly show: (line: string) => void;
}

/** Runs a Docker@2 step. */
export function runDocker(context: BuiltinContext): Promise<BuiltinResult> {
  return settle(context, async () => {
    const command = parseCommand(requiredInput(context, 'command'));
    const login = registryLogin(context);
    const secrets = login ? [login.password, basicAuth(login)] : [];
    const redact = createRedactor(secrets);
    const ownAuthFile = login
      ? join(context.dirs.temp, `docker-auth-${randomUUID()}`, 'auth.json')
      : undefined;
    const step: DockerStep = {
      context,
      login,
      authFile: ownAuthFile ?? loggedInConfig(context),
      redact,
      show: (line) => context.output(redact(line)),
    };
    try {
      if (ownAuthFile && login) writeAuthFile(ownAuthFile, [login]);
      let outputPaths = '';
      switch (command) {
        case 'login':
          logIn(step);
          break;
        case 'logout':
          logOut(step);
          break;
        case 'build':
          outputPaths = (await build(step, { ignoreArguments: false })).outputPath;
          break;
        case 'push':
          outputPaths = await push(step, { ignoreArguments: false });
          break;
        case 'buildAndPush': {
          if (textInput(context, 'arguments'))
            context.output(issueCommand('warning', taskMessage(task, 'IgnoringArgumentsInput')));
          const built = await build(step, { ignoreArguments: true });
          outputPaths = `${built.outputPath}\n${await push(step, { ignoreArguments: true })}`;
          await removeImage(step, built.session, built.imageId);
          break;
        }
      }
      context.output(setVariableCommand('DockerOutput', outputPaths));
      return { status: 'Succeeded' };
    } finally {
      if (ownAuthFile) rmSync(dirname(ownAuthFile), { recursive: true, force: true });
    }
  });
}

function parseCommand(value: string): DockerCommand {
  const found = commands.find((command) => command.toLowerCase() === value.toLowerCase());
  if (found) return found;
  if (['start', 'stop'].includes(value.toLowerCase())) {
    throw new StepFailure(
      `Docker@2 command ${value} needs a Docker engine to run containers, and this machine has none: use build, push, buildAndPush, login or logout.`,
    );
  }
  throw new StepFailure(
    `${taskMessage(task, 'CommandNotRecognized', value)}. Use one of ${commands.join(', ')}.`,
  );
}

/** `login`: a config.json under Agent.TempDirectory for later steps, named by DOCKER_CONFIG. */
function logIn(step: DockerStep): void {
  if (!step.login)
    throw new StepFailure(`${taskMessage(task, 'DockerRegistryNotFound')} Set containerRegistry.`);
  const folder = join(step.context.dirs.temp, `DockerConfig_${Date.now()}`);
  writeAuthFile(join(folder, 'config.json'), [step.login]);
  step.context.output(setVariableCommand('DOCKER_CONFIG', folder));
}

/** `logout`: removes this registry's credentials (all of them without containerRegistry). */
function logOut(step: DockerStep): void {
  const config = loggedInConfig(step.context);
  if (!config) return;
  const result = removeLogin(config, step.login?.host);
  if (result === 'all') step.context.output(setVariableCommand('DOCKER_CONFIG', ''));
}

/** The images a build tags and a push pushes: the connection's, or every earlier login's. */
function imageNames(step: DockerStep): string[] {
  const repository = textInput(step.context, 'repository');
  if (!repository) return [];
  if (step.login) return [qualifiedImageName(step.login.host, repository)];
  const config = loggedInConfig(step.context);
  const hosts = config ? loggedInRegistries(config) : [];
  // No login: the image is only tagged locally, as the real task does.
  if (hosts.length === 0) return [validImageName(repository)];
  return hosts.map((host) => qualifiedImageName(registryHost(host), repository));
}

function tagList(context: BuiltinContext): string[] {
  return (context.inputs.tags ?? '')
    .split(/[\n,]+/)
    .map((tag) => tag.trim())
    .filter((tag) => tag.length > 0);
}

/** The Dockerfile input: a pattern matched from System.DefaultWorkingDirectory (first match), or a path. */
function findDockerfile(context: BuiltinContext): string {
  const input = requiredInput(context, 'Dockerfile');
  const path = pathInput(context, 'Dockerfile');
  const notFound = () =>
    new StepFailure(
      `${taskMessage(task, 'ContainerDockerFileNotFound', input)} Fix the Dockerfile input (a path or a pattern).`,
    );
  if (input.includes('*') || input.includes('?')) {
    const found = findFiles(context.workingDirectory, [path], { matchBase: true });
    if (found.length === 0) throw notFound();
    return found[0]!;
  }
  if (!existsSync(path)) throw notFound();
  return path;
}

/** Refuses, before anything runs, a base image from a registry this machine cannot reach. */
function checkBaseImages(context: BuiltinContext, dockerfile: string, text: string): void {
  for (const base of baseImages(text)) {
    if (base.image.toLowerCase() === 'scratch') continue;
    const where = `${dockerfile} line ${base.line}`;
    if (base.image.includes('$')) {
      throw new StepFailure(
        `${where}: FROM ${base.image} is set by a build argument, so the runner cannot tell which registry it needs: name the image, FROM scratch or from a registry this machine can reach.`,
      );
    }
    const registry = registryOfImage(base.image);
    if (!isReachable(context, registry)) {
      throw new StepFailure(
        `${where}: FROM ${base.image} needs ${registry}, which this machine cannot reach: build FROM scratch, or push the base image to a registry in the runner's hosts and use it from there.`,
      );
    }
  }
}

/** A registry is reachable when the machine's hosts name it, or it is on loopback. */
function isReachable(context: BuiltinContext, registry: string): boolean {
  const host = hostOfRegistry(registry).toLowerCase();
  if (host === 'localhost' || host === '[::1]' || host.startsWith('127.')) return true;
  return Object.keys(context.machine.hosts).some((name) => name.toLowerCase() === host);
}

/** Options shared by every buildah call that talks to a registry. */
function registryArgs(step: DockerStep, session: BuildahSession): string[] {
  return [
    ...(session.certDir ? ['--cert-dir', session.certDir] : []),
    ...(step.authFile ? ['--authfile', step.authFile] : []),
  ];
}

/** `build`: buildah bud with the real task's labels and tags; returns the output file and the image id. */
async function build(
  step: DockerStep,
  options: { readonly ignoreArguments: boolean },
): Promise<{ outputPath: string; imageId: string; session: BuildahSession }> {
  const { context } = step;
  const dockerfile = findDockerfile(context);
  const text = readFileSync(dockerfile, 'utf8');
  checkBaseImages(context, dockerfile, text);
  const session = openSession(context);

  const names = imageNames(step);
  const tags = tagList(context);
  const tagArgs = names.flatMap((name) => (tags.length > 0 ? tags.map((tag) => `${name}:${tag}`) : [name]));
  const baseImage = finalBaseImageName(text);
  const labels = defaultLabels(context, {
    addPipelineData: booleanInput(context, 'addPipelineData', true),
    addBaseImageData: booleanInput(context, 'addBaseImageData', true),
    baseImage,
    baseImageDigest: baseImage ? pinnedDigest(text, baseImage) : undefined,
  });
  const buildContext = buildContextFor(context, dockerfile);
  const userArgs = options.ignoreArguments
    ? []
    : splitArguments(textInput(context, 'arguments').replace(/\n/g, ' '));
  const iidFile = join(session.tempDir, `iid-${randomUUID()}`);

  const args = [
    ...session.storageArgs,
    'bud',
    '--isolation',
    'chroot',
    // Docker's own manifest format, as `docker build` and `docker push` produce.
    '--format',
    'docker',
    // docker build adds no label of its own; buildah would add io.buildah.version.
    '--identity-label=false',
    '--iidfile',
    iidFile,
    ...registryArgs(step, session),
    '-f',
    dockerfile,
    ...labels.flatMap((label) => ['--label', label]),
    ...userArgs,
    ...tagArgs.flatMap((tag) => ['-t', tag]),
    buildContext,
  ];
  const run = await runInNamespace(context, session, session.buildah, args, step.show);
  if (run.outcome.aborted) throw new StepFailure('The step was canceled.');
  if (run.outcome.exitCode !== 0) throw toolFailure(step, 'buildah bud', run.outcome.exitCode, run.lines);
  const imageId = readFileSync(iidFile, 'utf8')
    .trim()
    .replace(/^sha256:/, '');
  rmSync(iidFile, { force: true });
  // Docker's last build line: what DockerOutput readers and the real task parse the id from.
  const builtLine = `Successfully built ${imageId.slice(0, 12)}`;
  step.show(builtLine);
  shareBuiltImageId(context, imageId.slice(0, 12));
  return { outputPath: writeTaskOutput(context, 'build', [...run.lines, builtLine]), imageId, session };
}

/** The build context: the input, or the Dockerfile's folder when left at its default (`**`). */
function buildContextFor(context: BuiltinContext, dockerfile: string): string {
  const input = textInput(context, 'buildContext');
  const path = pathInput(context, 'buildContext');
  if (!input || path === join(context.workingDirectory, '**')) return dirname(dockerfile);
  return path;
}

function pinnedDigest(text: string, baseImage: string): string | undefined {
  const line = text
    .split(/\r?\n/)
    .find((candidate) => candidate.toLowerCase().includes(`${baseImage}@sha256:`));
  return line ? /@sha256:([0-9a-f]{64})/i.exec(line)?.[1] : undefined;
}

/** The real task's DOCKER_TASK_BUILT_IMAGES: the ids built in this job, `;`-separated. */
function shareBuiltImageId(context: BuiltinContext, id: string): void {
  const earlier = context.variable('DOCKER_TASK_BUILT_IMAGES');
  context.output(setVariableCommand('DOCKER_TASK_BUILT_IMAGES', earlier ? `${earlier};${id}` : id));
}

/** `push`: every image and tag, each with docker's digest line; returns the output file. */
async function push(step: DockerStep, options: { readonly ignoreArguments: boolean }): Promise<string> {
  const { context } = step;
  const names = imageNames(step);
  if (!textInput(context, 'repository')) {
    context.output(issueCommand('warning', 'No repository is specified. Nothing will be pushed.'));
    return '';
  }
  const tags = tagList(context);
  const references = names.flatMap((name) =>
    tags.length > 0 ? tags.map((tag) => ({ name, tag })) : [{ name, tag: 'latest' }],
  );
  for (const { name } of references) {
    const registry = registryOfImage(name);
    if (!isReachable(context, registry)) {
      throw new StepFailure(
        `Cannot push ${name}: this machine cannot reach ${registry}. Add the registry's host to the runner's resources file (hosts), or push to a registry listed there.`,
      );
    }
  }
  const session = openSession(context);
  if (!session.skopeo) {
    throw new StepFailure(
      'skopeo is not installed, and Docker@2 reads the pushed manifest with it: run scripts/install-system-deps.sh.',
    );
  }
  const userArgs = options.ignoreArguments
    ? []
    : splitArguments(textInput(context, 'arguments').replace(/\n/g, ' '));
  const output: string[] = [];
  for (const { name, tag } of references) {
    const reference = `${name}:${tag}`;
    const refersTo = `The push refers to repository [${name}]`;
    step.show(refersTo);
    output.push(refersTo);
    const digestFile = join(session.tempDir, `digest-${randomUUID()}`);
    const args = [
      ...session.storageArgs,
      'push',
      '--digestfile',
      digestFile,
      ...registryArgs(step, session),
      ...userArgs,
      reference,
      `docker://${reference}`,
    ];
    const run = await runInNamespace(context, session, session.buildah, args, step.show);
    if (run.outcome.aborted) throw new StepFailure('The step was canceled.');
    if (run.outcome.exitCode !== 0) throw toolFailure(step, 'buildah push', run.outcome.exitCode, run.lines);
    output.push(...run.lines);
    const digest = readFileSync(digestFile, 'utf8').trim();
    rmSync(digestFile, { force: true });
    const size = await manifestSize(step, session, `${name}@${digest}`, digest);
    const digestLine = `${tag}: digest: ${digest} size: ${size}`;
    step.show(digestLine);
    output.push(digestLine);
  }
  return writeTaskOutput(context, 'push', output);
}

/** The pushed manifest's size in bytes, read back from the registry (`skopeo inspect --raw`). */
async function manifestSize(
  step: DockerStep,
  session: BuildahSession,
  reference: string,
  digest: string,
): Promise<number> {
  const chunks: Buffer[] = [];
  const args = ['inspect', '--raw', ...registryArgs(step, session), `docker://${reference}`];
  const run = await runInNamespace(step.context, session, session.skopeo!, args, () => undefined, {
    stdoutData: (chunk) => chunks.push(chunk),
  });
  if (run.outcome.aborted) throw new StepFailure('The step was canceled.');
  if (run.outcome.exitCode !== 0) throw toolFailure(step, 'skopeo inspect', run.outcome.exitCode, run.lines);
  const manifest = Buffer.concat(chunks);
  const actual = `sha256:${createHash('sha256').update(manifest).digest('hex')}`;
  if (actual !== digest) {
    throw new StepFailure(
      `The registry served ${reference} with digest ${actual}, not ${digest}: push again.`,
    );
  }
  return manifest.length;
}

/** Removes the image a buildAndPush built, so the job's storage keeps only what later steps need. */
async function removeImage(step: DockerStep, session: BuildahSession, imageId: string): Promise<void> {
  const run = await runInNamespace(
    step.context,
    session,
    session.buildah,
    [...session.storageArgs, 'rmi', '--force', imageId],
    () => undefined,
  );
  if (run.outcome.exitCode !== 0) {
    step.context.output(
      issueCommand(
        'warning',
        `Could not remove the built image ${imageId.slice(0, 12)} from the job's buildah storage.`,
      ),
    );
  }
}

/** The real task's writeTaskOutput: `<Agent.TempDirectory>/task_outputs/<command>_<ms>.txt`. */
function writeTaskOutput(context: BuiltinContext, commandName: string, lines: readonly string[]): string {
  const folder = join(context.dirs.temp, 'task_outputs');
  mkdirSync(folder, { recursive: true });
  const path = join(folder, `${commandName}_${Date.now()}.txt`);
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
}

/** One line for a failed tool: what failed, its last line (redacted), and the fix when known. */
function toolFailure(
  step: DockerStep,
  what: string,
  exitCode: number | null,
  lines: readonly string[],
): StepFailure {
  const last = firstLineExcerpt(
    [...lines].reverse().find((line) => line.trim().length > 0) ?? '',
    300,
    step.redact,
  );
  if (/^unshare: .*(not permitted|Permission denied)/i.test(last)) {
    return new StepFailure(
      'Docker@2 runs buildah in a private mount namespace, which needs root: run the runner as root (CI does).',
    );
  }
  return new StepFailure(`${what} exited with code ${exitCode ?? 'unknown'}: ${last || 'no output'}`);
}
