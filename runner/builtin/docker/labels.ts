/**
 * The labels Docker@2 adds to a build (docker-common's pipelineutils.getDefaultLabels):
 * pipeline data under the reversed host name of the collection URL
 * (`com.azure.dev.image.build.sourceversion=...`), and the base image.
 */
import type { BuiltinContext } from '../types';

/** Which labels to add. */
export interface LabelOptions {
  readonly addPipelineData: boolean;
  readonly addBaseImageData: boolean;
  /** The final stage's base image, when the Dockerfile names one. */
  readonly baseImage?: string;
  /** Its digest, when the Dockerfile pins one. */
  readonly baseImageDigest?: string;
}

/** The labels, in the real task's order. */
export function defaultLabels(context: BuiltinContext, options: LabelOptions): string[] {
  const labels: string[] = [];
  const collection = context.variable('System.TeamFoundationCollectionUri');
  const hostName = collection ? reversedHostName(collection) : undefined;
  if (hostName) {
    const add = (name: string, variable: string) => {
      const value = context.variable(variable);
      if (value) labels.push(`${hostName}.image.${name}=${value}`);
    };
    add('system.teamfoundationcollectionuri', 'System.TeamFoundationCollectionUri');
    if (options.addPipelineData) {
      add('system.teamproject', 'System.TeamProject');
      add('build.repository.name', 'Build.Repository.Name');
    }
    if ((context.variable('System.HostType') ?? '').toLowerCase() === 'build') {
      add('build.sourceversion', 'Build.SourceVersion');
      if (options.addPipelineData) {
        add('build.repository.uri', 'Build.Repository.Uri');
        add('build.sourcebranchname', 'Build.SourceBranchName');
        add('build.definitionname', 'Build.DefinitionName');
        add('build.buildnumber', 'Build.BuildNumber');
        add('build.builduri', 'Build.BuildUri');
      }
    } else {
      add('release.releaseid', 'Release.ReleaseId');
      if (options.addPipelineData) {
        add('release.definitionname', 'Release.DefinitionName');
        add('release.releaseweburl', 'Release.ReleaseWebUrl');
      }
    }
  }
  if (options.addBaseImageData && options.baseImage) {
    labels.push(`image.base.ref.name=${options.baseImage}`);
    if (options.baseImageDigest) labels.push(`image.base.digest=${options.baseImageDigest}`);
  }
  return labels;
}

function reversedHostName(url: string): string | undefined {
  try {
    return new URL(url).hostname.split('.').reverse().join('.');
  } catch {
    return undefined;
  }
}
