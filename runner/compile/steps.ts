// Steps as the service holds them: every shorthand (`script`, `bash`, `pwsh`,
// `powershell`, `publish`, `download`) spelt out as the task it stands for, `checkout`
// kept as a checkout step, and the properties every step has.
import type { CheckoutStep, PipelineResource, SourceLocation, Step, TaskCatalog, TaskStep } from '../model';
import { isValidName, NodeReader } from './read';
import { entryOf, valueOf, type YMapping, type YNode } from './yaml-tree';

/** What reading steps needs to know about the pipeline. */
export interface StepContext {
  readonly reader: NodeReader;
  /** Repository aliases a checkout may name: `self` and the mapped, declared ones. */
  readonly checkoutAliases: ReadonlySet<string>;
  /** Aliases declared in resources.repositories but not mapped to a folder. */
  readonly unmappedAliases: ReadonlySet<string>;
  readonly pipelines: readonly PipelineResource[];
  readonly catalog?: TaskCatalog;
}

const commonKeys = [
  'name',
  'displayName',
  'condition',
  'continueOnError',
  'enabled',
  'timeoutInMinutes',
  'retryCountOnTaskFailure',
  'env',
  'target',
];

// Shorthand properties that become inputs of the task they stand for, by shorthand.
const shorthandInputs: Record<string, readonly string[]> = {
  script: ['workingDirectory', 'failOnStderr'],
  bash: ['workingDirectory', 'failOnStderr'],
  pwsh: [
    'workingDirectory',
    'errorActionPreference',
    'warningPreference',
    'informationPreference',
    'verbosePreference',
    'debugPreference',
    'progressPreference',
    'failOnStderr',
    'ignoreLASTEXITCODE',
  ],
};
shorthandInputs.powershell = shorthandInputs.pwsh;

const scriptTasks: Record<
  string,
  { task: string; majorVersion: number; inputs: Record<string, string>; displayName: string }
> = {
  script: { task: 'CmdLine', majorVersion: 2, inputs: {}, displayName: 'CmdLine' },
  bash: { task: 'Bash', majorVersion: 3, inputs: { targetType: 'inline' }, displayName: 'Bash' },
  pwsh: { task: 'PowerShell', majorVersion: 2, inputs: { targetType: 'inline' }, displayName: 'PowerShell' },
  powershell: {
    task: 'PowerShell',
    majorVersion: 2,
    inputs: { targetType: 'inline' },
    displayName: 'PowerShell',
  },
};

const unsupportedSteps: Record<string, string> = {
  downloadBuild:
    'downloadBuild steps (build artifacts) are not supported by the runner: publish and download pipeline artifacts instead',
  getPackage: 'getPackage steps are not supported by the runner',
  reviewApp: 'reviewApp steps are not supported by the runner',
  restoreCache: 'restoreCache steps are not supported by the runner',
  saveCache: 'saveCache steps are not supported by the runner',
};

// A task's instanceNameFormat with `$(input)` filled in from the step's inputs.
function instanceName(format: string, inputs: Readonly<Record<string, string>>): string {
  return format.replace(/\$\(([^)]+)\)/g, (whole, name: string) => inputs[name] ?? whole);
}

/** The properties every step has, read from its mapping; `displayName` when none is given. */
function common(step: YMapping, context: StepContext, displayName: string) {
  const reader = context.reader;
  const name = reader.text(valueOf(step, 'name'), 'name');
  if (name !== undefined && name !== '' && !isValidName(name)) {
    reader.problems.add(
      valueOf(step, 'name')!.location,
      `Step ${name} has an invalid name. Valid names may only contain alphanumeric characters and '_' and may not start with a number.`,
    );
  }
  const target = valueOf(step, 'target');
  if (target !== undefined && !(target.kind === 'scalar' && target.text === 'host')) {
    reader.problems.add(
      target.location,
      'target: (a container or command restrictions) is not supported by the runner',
    );
  }
  return {
    name: name === '' ? undefined : name,
    displayName: reader.text(valueOf(step, 'displayName'), 'displayName') || displayName,
    condition: reader.text(valueOf(step, 'condition'), 'condition') || undefined,
    continueOnError: reader.boolean(valueOf(step, 'continueOnError'), 'continueOnError') ?? false,
    enabled: reader.boolean(valueOf(step, 'enabled'), 'enabled') ?? true,
    timeoutInMinutes: reader.integer(valueOf(step, 'timeoutInMinutes'), 'timeoutInMinutes'),
    retryCountOnTaskFailure: reader.integer(
      valueOf(step, 'retryCountOnTaskFailure'),
      'retryCountOnTaskFailure',
    ),
    env: reader.textMap(valueOf(step, 'env'), 'env').values,
    location: step.location,
  };
}

function taskStep(
  step: YMapping,
  context: StepContext,
  task: string,
  majorVersion: number,
  inputs: Record<string, string>,
  inputLocations: Record<string, SourceLocation>,
  displayName: string,
  shorthand?: TaskStep['shorthand'],
): TaskStep {
  const properties = common(step, context, displayName);
  return {
    kind: 'task',
    ...properties,
    task,
    majorVersion,
    inputs,
    inputLocations,
    ...(shorthand ? { shorthand } : {}),
  };
}

function readTask(step: YMapping, context: StepContext): TaskStep | undefined {
  const reader = context.reader;
  reader.keys(step, ['task', 'inputs', ...commonKeys]);
  const reference = reader.text(valueOf(step, 'task'), 'task');
  if (reference === undefined) return undefined;
  const match = /^\s*([^@\s]+)@(\d+)\s*$/.exec(reference);
  if (!match) {
    reader.problems.add(
      valueOf(step, 'task')!.location,
      `task: '${reference}' must name a task and its major version, like AksDeploy@1`,
    );
    return undefined;
  }
  const { values, locations } = reader.textMap(valueOf(step, 'inputs'), 'inputs');
  const definition = context.catalog?.find(match[1], Number(match[2]));
  const displayName = definition?.instanceNameFormat
    ? instanceName(definition.instanceNameFormat, values)
    : match[1];
  return taskStep(step, context, match[1], Number(match[2]), values, locations, displayName);
}

function readScript(
  step: YMapping,
  kind: 'script' | 'bash' | 'pwsh' | 'powershell',
  context: StepContext,
): TaskStep {
  const reader = context.reader;
  reader.keys(step, [kind, ...shorthandInputs[kind], ...commonKeys]);
  const spelt = scriptTasks[kind];
  const inputs: Record<string, string> = { ...spelt.inputs };
  const locations: Record<string, SourceLocation> = {};
  const scriptEntry = entryOf(step, kind)!;
  inputs.script = reader.text(scriptEntry.value, kind) ?? '';
  locations.script = scriptEntry.key.location;
  if (kind === 'pwsh') inputs.pwsh = 'true';
  for (const property of shorthandInputs[kind]) {
    const entry = entryOf(step, property);
    if (entry === undefined) continue;
    const value = reader.text(entry.value, property);
    if (value === undefined) continue;
    inputs[property] = value;
    locations[property] = entry.key.location;
  }
  return taskStep(step, context, spelt.task, spelt.majorVersion, inputs, locations, spelt.displayName, kind);
}

function readPublish(step: YMapping, context: StepContext): TaskStep {
  const reader = context.reader;
  reader.keys(step, ['publish', 'artifact', ...commonKeys]);
  const inputs: Record<string, string> = {
    targetPath: reader.text(valueOf(step, 'publish'), 'publish') ?? '',
  };
  const locations: Record<string, SourceLocation> = { targetPath: entryOf(step, 'publish')!.key.location };
  const artifact = reader.text(valueOf(step, 'artifact'), 'artifact');
  if (artifact) {
    inputs.artifactName = artifact;
    locations.artifactName = entryOf(step, 'artifact')!.key.location;
  }
  return taskStep(
    step,
    context,
    'PublishPipelineArtifact',
    1,
    inputs,
    locations,
    'PublishPipelineArtifact',
    'publish',
  );
}

/**
 * `download: current | <pipeline resource> | none` as DownloadPipelineArtifact@2, with the
 * target folders the service uses; `none` is no step at all (undefined).
 */
function readDownload(step: YMapping, context: StepContext): TaskStep | undefined {
  const reader = context.reader;
  reader.keys(step, ['download', 'artifact', 'patterns', ...commonKeys]);
  const source = reader.text(valueOf(step, 'download'), 'download') ?? '';
  if (source === 'none') return undefined;
  const artifact = reader.text(valueOf(step, 'artifact'), 'artifact') || undefined;
  const patterns = reader.text(valueOf(step, 'patterns'), 'patterns') || undefined;
  const location = entryOf(step, 'download')!.key.location;
  const spelt = downloadInputs(source, artifact, patterns, context, location);
  if (spelt === undefined) return undefined;
  const locations = Object.fromEntries(Object.keys(spelt).map((input) => [input, location]));
  return taskStep(
    step,
    context,
    'DownloadPipelineArtifact',
    2,
    spelt,
    locations,
    'DownloadPipelineArtifact',
    'download',
  );
}

/** The inputs of DownloadPipelineArtifact@2 for `download: <source>`. */
export function downloadInputs(
  source: string,
  artifact: string | undefined,
  patterns: string | undefined,
  context: StepContext,
  location: SourceLocation,
): Record<string, string> | undefined {
  const named = {
    ...(artifact ? { artifactName: artifact } : {}),
    itemPattern: patterns ?? '**',
  };
  if (source === 'current') {
    return {
      buildType: 'current',
      ...named,
      targetPath: artifact ? `$(Pipeline.Workspace)/${artifact}` : '$(Pipeline.Workspace)',
    };
  }
  const resource = context.pipelines.find((pipeline) => pipeline.alias === source);
  if (resource === undefined) {
    context.reader.problems.add(
      location,
      `download: '${source}' is neither current, none nor a pipeline resource: declare it under resources.pipelines` +
        (context.pipelines.length
          ? ` (declared: ${context.pipelines.map((pipeline) => pipeline.alias).join(', ')})`
          : ''),
    );
    return undefined;
  }
  return {
    buildType: 'specific',
    // The service fills the project from the resource (the pipeline's own when it names none).
    project: resource.project ?? '$(System.TeamProjectId)',
    definition: resource.source,
    buildVersionToDownload: 'specific',
    pipelineId: `$(resources.pipeline.${source}.runID)`,
    ...named,
    targetPath: artifact ? `$(Pipeline.Workspace)/${source}/${artifact}` : `$(Pipeline.Workspace)/${source}`,
  };
}

function readCheckout(step: YMapping, context: StepContext): CheckoutStep | undefined {
  const reader = context.reader;
  reader.keys(
    step,
    ['checkout', 'clean', 'fetchDepth', 'path', 'persistCredentials', 'fetchTags', ...commonKeys],
    {
      lfs: 'checkout lfs: is not supported by the runner',
      submodules: 'checkout submodules: is not supported by the runner',
      sparseCheckoutDirectories: 'sparse checkout is not supported by the runner',
      sparseCheckoutPatterns: 'sparse checkout is not supported by the runner',
      workspaceRepo: 'workspaceRepo: is not supported by the runner',
    },
  );
  const repository = reader.text(valueOf(step, 'checkout'), 'checkout') ?? '';
  const location = valueOf(step, 'checkout')!.location;
  if (repository !== 'none' && !context.checkoutAliases.has(repository)) {
    reader.problems.add(
      location,
      context.unmappedAliases.has(repository)
        ? `checkout: ${repository} is a repository the runner has no folder for: name its folder in the runner's resources file`
        : `The checkout step references the repository '${repository}' which is not defined by the pipeline: declare it under resources.repositories`,
    );
  }
  const clean = reader.boolean(valueOf(step, 'clean'), 'clean');
  const fetchDepth = reader.integer(valueOf(step, 'fetchDepth'), 'fetchDepth');
  const path = reader.text(valueOf(step, 'path'), 'path') || undefined;
  const properties = common(
    step,
    context,
    repository === 'none' ? 'Checkout none' : `Checkout ${repository} to ${path ?? 's'}`,
  );
  return {
    kind: 'checkout',
    ...properties,
    repository,
    ...(clean === undefined ? {} : { clean }),
    ...(fetchDepth === undefined ? {} : { fetchDepth }),
    ...(path === undefined ? {} : { path }),
  };
}

/** One step, or undefined for a step that is none (`download: none`) or too broken to read. */
export function readStep(node: YNode, context: StepContext): Step | undefined {
  const step = context.reader.mapping(node, 'A step');
  if (step === undefined) return undefined;
  const kind = step.entries.find((entry) =>
    ['task', 'script', 'bash', 'pwsh', 'powershell', 'publish', 'download', 'checkout', 'template'].includes(
      entry.key.text,
    ),
  )?.key.text;
  switch (kind) {
    case 'task':
      return readTask(step, context);
    case 'script':
    case 'bash':
    case 'pwsh':
    case 'powershell':
      return readScript(step, kind, context);
    case 'publish':
      return readPublish(step, context);
    case 'download':
      return readDownload(step, context);
    case 'checkout':
      return readCheckout(step, context);
    case 'template':
      // A template that could not be included: its problem is already recorded.
      return undefined;
    default: {
      const unsupported = step.entries.find((entry) => Object.hasOwn(unsupportedSteps, entry.key.text));
      context.reader.problems.add(
        unsupported?.key.location ?? step.location,
        unsupported
          ? unsupportedSteps[unsupported.key.text]
          : `A step needs one of task, script, bash, pwsh, powershell, checkout, download, publish or template; this one has ${step.entries.map((entry) => entry.key.text).join(', ') || 'nothing'}`,
      );
      return undefined;
    }
  }
}

/** Whether a step list holds a download of any kind (`download: none` included). */
export function hasDownloadStep(node: YNode | undefined): boolean {
  return (
    node?.kind === 'sequence' &&
    node.items.some((item) => item.kind === 'mapping' && entryOf(item, 'download') !== undefined)
  );
}

/** Reads a `steps:` list. */
export function readSteps(node: YNode | undefined, context: StepContext): Step[] {
  if (node === undefined) return [];
  if (node.kind !== 'sequence') {
    if (node.kind === 'scalar' && node.value === null) return [];
    context.reader.problems.add(node.location, 'steps: must be a list of steps');
    return [];
  }
  return node.items.flatMap((item) => {
    const step = readStep(item, context);
    return step ? [step] : [];
  });
}
