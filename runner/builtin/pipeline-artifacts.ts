/**
 * PublishPipelineArtifact@1 and DownloadPipelineArtifact@2 (the `publish:` and `download:`
 * shorthands), which the agent runs as plugins (src/Agent.Plugins/PipelineArtifact in
 * microsoft/azure-pipelines-agent), over the run's ArtifactStore. Wording and defaults are
 * the plugins': the artifact name defaults to the job's identifier, a download of one named
 * artifact lands directly in the target folder and a download of all in one folder each.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ArtifactSource, BuiltinContext, BuiltinResult } from './types';
import { setVariableCommand } from './support/commands';
import { settle, StepFailure } from './support/failure';
import { choiceInput, pathInput, requiredInput, textInput } from './support/inputs';

/** The characters an artifact name cannot hold (PipelineArtifactPathHelper.IsValidArtifactName). */
const invalidNameCharacters = /[\\/":<>|*?]/;

/** Runs a PublishPipelineArtifact@1 (`publish:`) step; only `publishLocation: pipeline`. */
export function runPublishPipelineArtifact(context: BuiltinContext): Promise<BuiltinResult> {
  return settle(context, async () => {
    const location = choiceInput(context, 'artifactType', ['pipeline', 'filepath'], 'pipeline');
    if (location === 'filepath') {
      throw new StepFailure(
        'publishLocation: filepath (a file share) is not available to the local runner: use publishLocation: pipeline.',
      );
    }
    const path = pathInput(context, 'path');
    const name = textInput(context, 'artifactName') || defaultArtifactName(context);
    checkArtifactName(name);
    if (!existsSync(path)) {
      throw new StepFailure(`Path does not exist: ${path}. Create it in an earlier step, or fix targetPath.`);
    }
    context.output(
      `Uploading pipeline artifact from ${path} for build #${context.variable('Build.BuildId') ?? ''}`,
    );
    const existing = await context.artifacts.list({ kind: 'current' });
    if (existing.includes(name)) {
      throw new StepFailure(
        `An artifact named '${name}' was already published in this run: give this one another artifact name.`,
      );
    }
    await context.artifacts.publish(name, path);
    context.output(`Published '${path}' as artifact '${name}'`);
    context.output('Uploading pipeline artifact finished.');
    return { status: 'Succeeded' };
  });
}

/** Runs a DownloadPipelineArtifact@2 (`download:`) step. */
export function runDownloadPipelineArtifact(context: BuiltinContext): Promise<BuiltinResult> {
  return settle(context, async () => {
    const source = artifactSource(context);
    const name = textInput(context, 'artifact');
    if (name) checkArtifactName(name);
    const patterns = (textInput(context, 'patterns') || '**').split('\n').filter((line) => line.length > 0);
    const targetPath = pathInput(context, 'path');
    if (source.kind === 'pipeline' && source.runId) {
      context.output(`Download from the specified build: #${source.runId}`);
      // The plugin's output variable BuildNumber holds the run's id (OutputBuildInfo).
      context.output(setVariableCommand('BuildNumber', source.runId));
    }

    const available = await context.artifacts.list(source);
    const names = name ? [name] : available;
    if (name && !available.includes(name)) {
      const has = available.length > 0 ? `it has ${available.join(', ')}` : 'it has none';
      throw new StepFailure(
        `Artifact '${name}' was not found in ${describeSource(source)}: ${has}. Fix the artifact name, or publish it in an earlier step or stage.`,
      );
    }
    context.output(`Download artifact to: ${targetPath}`);
    if (names.length > 1) context.output(`Downloading ${names.length} pipeline artifacts...`);
    for (const artifact of names) {
      const folder = name ? targetPath : join(targetPath, artifact);
      const files = await context.artifacts.download(source, artifact, patterns, folder);
      context.output(`Downloaded ${files.length} file(s) of artifact '${artifact}' to ${folder}`);
    }
    context.output('Downloading artifact finished.');
    return { status: 'Succeeded' };
  });
}

/** Which run: this one (`buildType: current`) or a pipeline resource's (`specific`). */
function artifactSource(context: BuiltinContext): ArtifactSource {
  const kind = choiceInput(context, 'source', ['current', 'specific'], 'current');
  if (kind === 'current') return { kind: 'current' };
  const definition = requiredInput(context, 'pipeline');
  const version = choiceInput(context, 'runVersion', ['latest', 'latestFromBranch', 'specific'], 'latest');
  if (version !== 'specific') return { kind: 'pipeline', definition };
  return { kind: 'pipeline', definition, runId: requiredInput(context, 'runId') };
}

function describeSource(source: ArtifactSource): string {
  if (source.kind === 'current') return 'this run';
  return source.runId
    ? `run ${source.runId} of pipeline '${source.definition}'`
    : `pipeline '${source.definition}'`;
}

function checkArtifactName(name: string): void {
  if (invalidNameCharacters.test(name)) {
    throw new StepFailure(
      `Artifact name is not valid: ${name}. It cannot contain '\\', '/', '"', ':', '<', '>', '|', '*', and '?'`,
    );
  }
}

/** The plugin's default name: System.JobIdentifier without the characters it strips, nor `.default`. */
function defaultArtifactName(context: BuiltinContext): string {
  const identifier = context.variable('System.JobIdentifier');
  if (!identifier) {
    throw new StepFailure('Artifact Name is required: set artifact (for example artifact: drop).');
  }
  return identifier.replace(/[^a-zA-Z0-9 .]/g, '').replaceAll('.default', '');
}
