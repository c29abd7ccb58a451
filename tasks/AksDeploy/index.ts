import { existsSync, statSync } from 'node:fs';
import { EOL } from 'node:os';
import * as tl from 'azure-pipelines-task-lib/task';
import { readNetworkSettings } from '../shared/agent-environment';
import {
  KubernetesApiError,
  KubernetesClient,
  KubernetesUnreachableError,
} from '../shared/kubernetes/client';
import { quoted as quotedRedacted, redactKnownSecrets } from '../shared/known-secrets';
import { readStepPlace, uploadSummary } from '../shared/summary-file';
import { TaskError } from '../shared/task-error';
import { localise, runTask } from '../shared/task-shell';
import { applySetFor } from './apply-set';
import { traceabilityAnnotations } from './annotations';
import { Cluster } from './cluster';
import { readInputs, type TaskInputs } from './config';
import { accessThroughArm, accessThroughKubernetesConnection } from './connection';
import { readManifestSources, type KustomizationFolder } from './manifest-files';
import { parseManifestFiles } from './manifests';
import { isNamespaceName, quoted } from './names';
import { prepareManifests } from './prepare';
import {
  renderKustomizations,
  renderTimeoutMs,
  unusedKustomizeInputs,
  type RenderedKustomization,
} from './render';
import { renderedMarkdown } from './render-summary';
import { chooseRenderTool } from './render-tool';
import { runCommand } from './run-command';
import { run } from './run';
import { appliedObjectsOutput, summaryMarkdown, summaryTitle, type DeployTarget } from './summary';

/**
 * AksDeploy@1: reads the inputs and the manifests once (rendering kustomization folders)
 * and checks them, reaches the cluster (ARM credentials or a Kubernetes connection,
 * including the one an environment passes down), then applies, prunes, waits, explains and
 * rolls back, and publishes the outputs and the summary.
 */
void runTask(async () => {
  const inputs = readInputs();
  for (const warning of inputs.warnings) tl.warning(warning, tl.IssueSource.TaskInternal);
  const workDir = tl.getVariable('System.DefaultWorkingDirectory') || process.cwd();
  const sources = readManifestSources(inputs.manifestPatterns, workDir);
  const { rendered, warnings: renderWarnings } = await render(sources.kustomizations, inputs, workDir);
  const warnings = [...inputs.warnings, ...renderWarnings];
  const prepared = prepareManifests(
    parseManifestFiles(
      sources.files,
      rendered.flatMap((each) => each.objects),
    ),
    inputs.images,
    inputs.imagePullSecrets,
  );
  for (const replacement of prepared.replacements) {
    process.stdout.write(
      `Image ${replacement.from} -> ${replacement.to} (${replacement.object}, container ${replacement.container})${EOL}`,
    );
  }
  const network = readNetworkSettings();

  let access;
  // The cluster as the summary names it: the AKS cluster's name, or the API server's host.
  let clusterLabel: string;
  if (inputs.cluster.type === 'azureResourceManager') {
    // Loaded on first use: @azure/identity and its company take longer to load than a
    // whole deploy through a Kubernetes connection needs to start.
    const { readAzureRmConnection } = await import('../shared/azure-connection');
    const { createCredential } = await import('../shared/azure-credential');
    const connection = readAzureRmConnection('azureSubscription');
    const credential = createCredential(connection, network);
    const { resourceGroup, clusterName, useClusterAdmin } = inputs.cluster;
    access = await accessThroughArm(
      connection,
      credential,
      network,
      resourceGroup,
      clusterName,
      useClusterAdmin,
    );
    clusterLabel = clusterName;
  } else {
    // In a deployment job targeting an environment's Kubernetes resource, Azure Pipelines
    // fills this input with the resource's service connection, whose data holds its namespace.
    const id = inputs.cluster.connectionId;
    if (!id) throw new TaskError('KubernetesConnectionMissing');
    access = accessThroughKubernetesConnection(id, undefined);
    if (!inputs.namespace && access.namespace && !isNamespaceName(access.namespace))
      throw new TaskError('ConnectionNamespaceInvalid', [quoted(access.namespace), id]);
    clusterLabel = URL.canParse(access.server) ? new URL(access.server).hostname : access.server;
    const resource = tl.getVariable('Environment.ResourceName');
    process.stdout.write(
      `Cluster ${access.server} through ${resource ? `the environment resource '${resource}' (connection '${id}')` : `the connection '${id}'`}${
        access.namespace ? `, namespace '${access.namespace}'` : ''
      }${EOL}`,
    );
  }

  const applySet = (namespace: string) =>
    applySetFor(
      tl.getVariable('System.TeamProjectId') ?? '',
      tl.getVariable('System.DefinitionId') ?? '',
      namespace,
    );
  const client = new KubernetesClient(access, { network });
  const cluster = new Cluster(client);
  const started = Date.now();
  try {
    const result = await run(
      {
        manifests: prepared.manifests,
        images: inputs.images,
        namespaces: {
          ...(inputs.namespace ? { input: inputs.namespace } : {}),
          ...(access.namespace ? { connection: access.namespace } : {}),
        },
        rolloutTimeoutSeconds: inputs.rolloutTimeoutSeconds,
        rollbackOnFailure: inputs.rollbackOnFailure,
        prune: inputs.prune,
        pruneLimit: inputs.pruneLimit,
        dryRun: inputs.dryRun,
        annotations: traceabilityAnnotations({
          collectionUri: tl.getVariable('System.CollectionUri'),
          project: tl.getVariable('System.TeamProject'),
          definitionName: tl.getVariable('Build.DefinitionName'),
          definitionId: tl.getVariable('System.DefinitionId'),
          buildId: tl.getVariable('Build.BuildId'),
          buildNumber: tl.getVariable('Build.BuildNumber'),
          jobName: tl.getVariable('Agent.JobName') ?? tl.getVariable('System.JobDisplayName'),
        }),
        applySet,
      },
      {
        cluster,
        log: (line) => process.stdout.write(line + EOL),
        warn: (line) => tl.warning(line, tl.IssueSource.TaskInternal),
        progress: (percent, description) => tl.setProgress(percent, description),
        now: () => Date.now(),
        redact: (text) => redactKnownSecrets(text),
      },
    );
    tl.setVariable('appliedObjects', appliedObjectsOutput(result.objects), false, true);
    tl.setVariable('rolloutStatus', result.rolloutStatus, false, true);
    tl.setVariable('podTemplateHash', result.podTemplateHashes.join(','), false, true);
    tl.setVariable('previousImages', result.previousImages.join('\n'), false, true);
    const namespace = inputs.namespace || access.namespace || 'default';
    const target: DeployTarget = {
      cluster: clusterLabel,
      namespace,
      place: readStepPlace(),
      dryRun: inputs.dryRun,
      applySetRecord: `${namespace}/${applySet(namespace).parentName}`,
    };
    uploadSummary(summaryTitle(target), summaryMarkdown(result, target) + renderedMarkdown(rendered));
    tl.debug(
      `${client.stats.requests} requests, ${client.stats.retries} retries, ${Date.now() - started} ms`,
    );
    if (result.failure) throw result.failure;
    // The warnings were written when the inputs were read: the result only marks the step.
    tl.setResult(warnings.length > 0 ? tl.TaskResult.SucceededWithIssues : tl.TaskResult.Succeeded, '');
  } catch (error) {
    if (error instanceof KubernetesApiError) throw apiFailure(error);
    if (error instanceof KubernetesUnreachableError)
      throw new TaskError('ClusterUnreachable', [error.server, error.operation], error);
    throw error;
  } finally {
    client.close();
  }
});

/**
 * Renders the kustomization folders, logging each one's object count and the tool's notes,
 * and warns about the Kustomize inputs when there is nothing to render. Returns the renders
 * and the warnings written.
 */
async function render(
  folders: readonly KustomizationFolder[],
  inputs: TaskInputs,
  workDir: string,
): Promise<{ rendered: RenderedKustomization[]; warnings: string[] }> {
  const warn = (error: TaskError) => {
    const line = localise(error);
    tl.warning(line, tl.IssueSource.TaskInternal);
    return line;
  };
  if (folders.length === 0)
    return { rendered: [], warnings: unusedKustomizeInputs(inputs.kustomize).map(warn) };
  const tool = chooseRenderTool(inputs.kustomize.binary, folders[0]!.folder, workDir, {
    which: (name) => tl.which(name) || undefined,
    isFile: (path) => existsSync(path) && statSync(path).isFile(),
  });
  const { rendered, warnings } = await renderKustomizations(
    folders,
    { tool, args: inputs.kustomize.args, workDir, images: inputs.images, timeoutMs: renderTimeoutMs },
    { run: runCommand, now: () => Date.now() },
  );
  for (const each of rendered) {
    for (const note of each.notes) process.stdout.write(`${each.tool}: ${quotedRedacted(note, 500)}${EOL}`);
    process.stdout.write(
      `Rendered ${each.folder} with ${each.tool}: ${each.objects.length} objects in ${each.durationMs} ms${EOL}`,
    );
  }
  return { rendered, warnings: warnings.map(warn) };
}

function apiFailure(error: KubernetesApiError): TaskError {
  if (error.status === 401) return new TaskError('ClusterUnauthorized', [error.operation], error);
  if (error.status === 403) return new TaskError('ClusterForbidden', [error.operation, error.message], error);
  return new TaskError('ClusterRequestFailed', [error.operation, error.status, error.message], error);
}
