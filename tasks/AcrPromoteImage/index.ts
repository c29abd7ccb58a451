import { EOL } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TokenCredential } from '@azure/core-auth';
import * as tl from 'azure-pipelines-task-lib/task';
import { readNetworkSettings } from '../shared/agent-environment';
import { readAzureRmConnection, type AzureRmConnection } from '../shared/azure-connection';
import { scopeFor } from '../shared/cloud';
import { boolean, lines, oneOf, optionalString, requiredString } from '../shared/inputs';
import { defaultRetryPolicy, type NetworkSettings } from '../shared/network';
import { AcrCredentials } from '../shared/registry/acr-auth';
import { RegistryClient } from '../shared/registry/client';
import { Transport } from '../shared/registry/transport';
import { readStepPlace, uploadSummary } from '../shared/summary-file';
import { TaskError } from '../shared/task-error';
import { localise, runTask } from '../shared/task-shell';
import { chooseMethod, methods, parseConfig } from './config';
import { promote } from './promote';
import { promotedArguments, renderSummary, summaryTitle } from './summary';

void runTask(async () => {
  const started = performance.now();
  const network = readNetworkSettings();
  const sourceConnection = readAzureRmConnection('sourceConnection');
  const targetConnection = optionalString('targetConnection')
    ? readAzureRmConnection('targetConnection')
    : sourceConnection;
  const sourceImage = requiredString('sourceImage', tl.loc('SourceImageHint'));
  const config = parseConfig({
    sourceRegistry: requiredString('sourceRegistry', tl.loc('RegistryHint')),
    sourceImage,
    targetRegistry: requiredString('targetRegistry', tl.loc('RegistryHint')),
    targetRepository: optionalString('targetRepository'),
    targetTags: lines('targetTags'),
    copyReferrers: boolean('copyReferrers', true),
    overwriteTags: boolean('overwriteTags', false),
    lockAfterPromotion: boolean('lockAfterPromotion', false),
    method: oneOf('method', methods, 'auto'),
    sourceEnvironment: sourceConnection.cloud.environment,
    targetEnvironment: targetConnection.cloud.environment,
  });
  const transport = new Transport({ network, retry: defaultRetryPolicy });
  const sourceCredential = signIn(sourceConnection, network);
  const targetCredential =
    targetConnection === sourceConnection ? sourceCredential : signIn(targetConnection, network);
  const registryCredentials = (connection: AzureRmConnection, credential: TokenCredential) =>
    new AcrCredentials(transport, credential, scopeFor(connection.cloud.containerRegistryAudience));
  const sourceAuth = registryCredentials(sourceConnection, sourceCredential);
  const targetAuth =
    targetConnection === sourceConnection
      ? sourceAuth
      : registryCredentials(targetConnection, targetCredential);
  const { source, target } = config.request;
  say(
    new TaskError('Promoting', [
      source.registry + '/' + sourceImage,
      target.registry + '/' + target.repository,
    ]),
  );

  const sourceClient = new RegistryClient(source.registry, transport, sourceAuth);
  const targetClient = new RegistryClient(target.registry, transport, targetAuth);
  const method = chooseMethod(
    config.method,
    config,
    targetConnection.cloud.environment,
    Boolean(sourceConnection.subscriptionId && targetConnection.subscriptionId),
  );
  // Import finds both registries by subscription: without one, say so before any request.
  if (method === 'import') {
    for (const connection of new Set([sourceConnection, targetConnection])) {
      if (!connection.subscriptionId) {
        throw new TaskError('ImportNeedsSubscription', [connection.id, connection.inputName]);
      }
    }
  }

  try {
    // Import leaves the referrers behind; the copy that follows brings them, and finds
    // everything else already in place.
    // The ARM and ACR SDKs load only when asked for: most runs copy and do not lock,
    // and the task starts faster without them.
    const arm = method === 'import' ? await import('./import') : undefined;
    const request = arm
      ? await arm.importServerSide(config.request, {
          source: sourceClient,
          target: targetClient,
          sourceArm: new arm.ArmRegistries(sourceConnection, sourceCredential, network),
          targetArm: new arm.ArmRegistries(targetConnection, targetCredential, network),
        })
      : config.request;
    const report = await promote(request, {
      source: sourceClient,
      target: targetClient,
      retry: defaultRetryPolicy,
      wait: (ms) => sleep(ms),
      log: (line) => tl.debug(line),
    });
    const imageReference = target.registry + '/' + target.repository + '@' + report.digest;
    if (config.lockAfterPromotion) {
      const { lockPromoted } = await import('./lock');
      await lockPromoted(
        {
          registry: target.registry,
          repository: target.repository,
          digest: report.digest,
          tags: target.tags,
        },
        targetCredential,
        targetConnection.cloud.containerRegistryAudience,
        network,
      );
    }
    tl.setVariable('imageDigest', report.digest, false, true);
    tl.setVariable('imageReference', imageReference, false, true);
    say(new TaskError('Promoted', promotedArguments(report, imageReference)));
    const summary = renderSummary(report, {
      sourceImage: source.registry + '/' + sourceImage,
      imageReference,
      requests: transport.stats.requests,
      retries: transport.stats.retries,
      durationMs: performance.now() - started,
      locked: config.lockAfterPromotion,
      imported: method === 'import',
      place: readStepPlace(),
      targetRegistry: target.registry,
    });
    uploadSummary(summaryTitle(target.registry), summary);
    tl.setResult(tl.TaskResult.Succeeded, '');
  } finally {
    transport.close();
  }
});

// The credential for a connection, loaded on first use: @azure/identity is the largest part
// of the bundle, and a registry that lets the agent in without a token never needs it.
// A sign-in failure becomes the shared sign-in message that names the connection and the
// fix, instead of a bare identity-library error.
function signIn(connection: AzureRmConnection, network: NetworkSettings): TokenCredential {
  let identity:
    Promise<{ credential: TokenCredential; module: typeof import('../shared/azure-credential') }> | undefined;
  return {
    getToken: async (scopes, options) => {
      identity ??= import('../shared/azure-credential').then((module) => ({
        credential: module.createCredential(connection, network),
        module,
      }));
      const { credential, module } = await identity;
      try {
        return await credential.getToken(scopes, options);
      } catch (error) {
        throw await module.diagnoseSignInFailure(error, connection, network);
      }
    },
  };
}

// The agent shows stdout lines as the step's log; task-lib has no plain "info" command.
function say(message: TaskError): void {
  process.stdout.write(localise(message) + EOL);
}
