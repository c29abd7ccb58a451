/**
 * Checks of a compiled pipeline against what the resources file holds, made before
 * anything runs, each naming the place in the YAML and what to add: a service connection
 * an input names, an environment's Kubernetes resource, a pipeline resource's runs, a
 * repository to check out, a variable group. Azure Pipelines makes the same checks when
 * it authorises a run.
 */
import { isDeferredValue } from '../expressions';
import { stepsOfJob, type CompiledPipeline, type PipelineProblem, type TaskStep } from '../model';
import type { RunnerTaskCatalog } from './catalog';
import { latestSuccessfulRun } from './engine';
import type { RunnerResources } from './resources';

/** Every problem found; an empty list means the pipeline can run with these resources. */
export function checkAgainstResources(
  pipeline: CompiledPipeline,
  resources: RunnerResources,
  catalog: RunnerTaskCatalog,
  options: { readonly triggeredByAlias?: string; readonly resourcesFile?: string } = {},
): PipelineProblem[] {
  const problems: PipelineProblem[] = [];
  const inFile = options.resourcesFile ? ` in ${options.resourcesFile}` : '';
  const connectionNames = new Set(
    resources.connections.flatMap((each) => [each.name.toLowerCase(), each.id.toLowerCase()]),
  );

  for (const resource of pipeline.pipelines) {
    if (resource.alias === options.triggeredByAlias) continue;
    const folder = resources.pipelines[resource.source];
    if (!folder) {
      problems.push({
        location: resource.location,
        message: `The pipeline resource '${resource.alias}' names the pipeline '${resource.source}', which has no runs folder: add 'pipelines: { ${resource.source}: <folder of its runs> }'${inFile}.`,
      });
    } else if (!latestSuccessfulRun(folder)) {
      problems.push({
        location: resource.location,
        message: `The pipeline resource '${resource.alias}' needs a successful run of '${resource.source}', and ${folder} holds none: run that pipeline first.`,
      });
    }
  }
  for (const declaration of pipeline.variables) {
    if (declaration.kind === 'group' && !resources.variableGroups[declaration.name]) {
      problems.push({
        location: declaration.location,
        message: `The variable group '${declaration.name}' is not defined: add it under variableGroups${inFile}.`,
      });
    }
  }

  for (const stage of pipeline.stages) {
    for (const declaration of stage.variables) {
      if (declaration.kind === 'group' && !resources.variableGroups[declaration.name]) {
        problems.push({
          location: declaration.location,
          message: `The variable group '${declaration.name}' is not defined: add it under variableGroups${inFile}.`,
        });
      }
    }
    for (const job of stage.jobs) {
      if (job.kind === 'deployment' && job.environment.resourceName) {
        const { name, resourceName } = job.environment;
        if (!resources.environments[name]?.[resourceName]) {
          problems.push({
            location: job.environment.location,
            message: `The environment '${name}' has no Kubernetes resource '${resourceName}': add it under 'environments: { ${name}: { ${resourceName}: { type: Kubernetes, connection: <name>, namespace: <namespace> } } }'${inFile}.`,
          });
        }
      }
      for (const step of stepsOfJob(job)) {
        if (step.kind === 'checkout') {
          // `self` is always there: the runner maps it to the pipeline's own repository.
          if (!['none', 'self'].includes(step.repository) && !resources.repositories[step.repository]) {
            problems.push({
              location: step.location,
              message: `checkout: ${step.repository} needs a local folder for that repository: add 'repositories: { ${step.repository}: <folder> }'${inFile}.`,
            });
          }
          continue;
        }
        problems.push(...connectionProblems(step, catalog, connectionNames, inFile));
      }
    }
  }
  return problems;
}

function connectionProblems(
  step: TaskStep,
  catalog: RunnerTaskCatalog,
  known: ReadonlySet<string>,
  inFile: string,
): PipelineProblem[] {
  const definition = catalog.find(step.task, step.majorVersion);
  if (!definition) return [];
  const problems: PipelineProblem[] = [];
  for (const input of definition.inputs) {
    if (!input.type.startsWith('connectedService:')) continue;
    const given = [input.name, ...(input.aliases ?? [])]
      .map((name) => Object.entries(step.inputs).find(([key]) => key.toLowerCase() === name.toLowerCase()))
      .find((entry) => entry !== undefined);
    if (!given || !given[1] || isDeferredValue(given[1])) continue;
    for (const name of given[1].split(',').map((part) => part.trim())) {
      if (!known.has(name.toLowerCase())) {
        problems.push({
          location: step.inputLocations[given[0]] ?? step.location,
          message: `The input '${given[0]}' of ${step.task}@${step.majorVersion} names the service connection '${name}', which does not exist: add it under connections${inFile}.`,
        });
      }
    }
  }
  return problems;
}
