// Checks of the compiled pipeline, like the service's and stricter where the service
// silently ignores: task steps against their definitions, names, dependsOn and cycles.
// Each problem names the file and line and says what to change. Structure messages are
// the service's (PipelineStrings in its pipelines library).
import { isDeferredValue, wholeTemplateExpression } from '../expressions';
import {
  stepsOfJob,
  type CompiledPipeline,
  type Job,
  type SourceLocation,
  type TaskCatalog,
  type TaskDefinition,
  type TaskInputDefinition,
  type TaskStep,
} from '../model';
import type { Problems } from './problems';
import { isValidName } from './read';

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

/** The closest of `candidates` to `wanted` (ignoring case), when one is close enough to be a typo. */
export function closest(wanted: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const d = distance(wanted.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(wanted.length / 3)) ? best : undefined;
}

// A task.json visibleRule: `name = value`, `name != value`, `name == value`, joined by && or ||
// (one kind of joiner per rule, as task.json allows), evaluated on the given inputs and defaults.
function isVisible(rule: string | undefined, valueOf: (name: string) => string): boolean {
  if (!rule) return true;
  const clause = (text: string) => {
    const match =
      /^\s*([A-Za-z0-9_.]+)\s*(!=|==|=|NotEndsWith|EndsWith|NotContains|Contains)\s*(.*?)\s*$/.exec(text);
    if (!match) return true;
    const actual = valueOf(match[1]).toLowerCase();
    const expected = match[3].replace(/^"(.*)"$/, '$1').toLowerCase();
    switch (match[2]) {
      case '!=':
        return actual !== expected;
      case 'EndsWith':
        return actual.endsWith(expected);
      case 'NotEndsWith':
        return !actual.endsWith(expected);
      case 'Contains':
        return actual.includes(expected);
      case 'NotContains':
        return !actual.includes(expected);
      default:
        return actual === expected;
    }
  };
  return rule.includes('||') ? rule.split('||').some(clause) : rule.split('&&').every(clause);
}

function inputNamed(definition: TaskDefinition, name: string): TaskInputDefinition | undefined {
  const lower = name.toLowerCase();
  return definition.inputs.find(
    (input) =>
      input.name.toLowerCase() === lower ||
      (input.aliases ?? []).some((alias) => alias.toLowerCase() === lower),
  );
}

function checkTask(step: TaskStep, job: Job, catalog: TaskCatalog, problems: Problems): void {
  const reference = `${step.task}@${step.majorVersion}`;
  const definition = catalog.find(step.task, step.majorVersion);
  if (definition === undefined) {
    const sameName = catalog
      .names()
      .filter((name) => name.toLowerCase().startsWith(`${step.task.toLowerCase()}@`));
    const suggestion = sameName.length ? sameName.join(', ') : closest(reference, catalog.names());
    problems.add(
      step.location,
      `A task is missing. The pipeline references a task called '${step.task}' at version ${step.majorVersion}, which the runner does not know` +
        (suggestion ? `. Did you mean ${suggestion}?` : '.'),
    );
    return;
  }
  const where = (name: string): SourceLocation => step.inputLocations[name] ?? step.location;
  const runsOn = job.kind === 'server' ? 'server' : 'agent';
  if (!definition.runsOn.includes(runsOn)) {
    problems.add(
      step.location,
      runsOn === 'server'
        ? `${reference} runs on an agent, but this job is agentless (pool: server): move the step to an agent job`
        : `${reference} is a server task: it runs only in an agentless job (pool: server); move it to one`,
    );
  }
  const given = new Map<TaskInputDefinition, string>();
  for (const [name, value] of Object.entries(step.inputs)) {
    const input = inputNamed(definition, name);
    if (input === undefined) {
      const names = definition.inputs.map((candidate) => candidate.name);
      const suggestion = closest(name, [
        ...names,
        ...definition.inputs.flatMap((candidate) => candidate.aliases ?? []),
      ]);
      problems.add(
        where(name),
        `${reference} has no input '${name}'` +
          (suggestion ? `: did you mean '${suggestion}'?` : `; its inputs are ${names.join(', ')}`),
      );
      continue;
    }
    given.set(input, value);
  }
  const valueOf = (name: string) => {
    const input = inputNamed(definition, name);
    return input === undefined ? '' : (given.get(input) ?? input.defaultValue ?? '');
  };
  for (const input of definition.inputs) {
    const value = given.get(input);
    const written =
      Object.keys(step.inputs).find((name) => inputNamed(definition, name) === input) ?? input.name;
    if (value !== undefined && !isDeferredValue(value) && wholeTemplateExpression(value) === undefined) {
      if (
        input.type === 'pickList' &&
        input.options &&
        !input.editableOptions &&
        value !== '' &&
        !Object.hasOwn(input.options, value)
      ) {
        problems.add(
          where(written),
          `${reference} input '${input.name}' is '${value}', which is not one of its options: ${Object.keys(input.options).join(', ')}`,
        );
      }
      if (input.type === 'boolean' && value !== '' && !/^(true|false)$/i.test(value)) {
        problems.add(where(written), `${reference} input '${input.name}' is '${value}': give true or false`);
      }
    }
    if (!input.required || !isVisible(input.visibleRule, valueOf)) continue;
    if ((value ?? input.defaultValue ?? '') === '') {
      problems.add(
        step.location,
        `${reference} needs input '${input.name}', which is required and not given`,
      );
    }
  }
}

function checkSteps(job: Job, catalog: TaskCatalog | undefined, problems: Problems): void {
  const names = new Set<string>();
  for (const step of stepsOfJob(job)) {
    if (step.name !== undefined) {
      if (names.has(step.name.toLowerCase())) {
        problems.add(
          step.location,
          `Job ${job.name}: The step name ${step.name} appears more than once. Step names must be unique within a job.`,
        );
      }
      names.add(step.name.toLowerCase());
    }
    if (step.kind === 'task' && catalog) checkTask(step, job, catalog, problems);
  }
}

// Depth-first search for a cycle among `nodes`; reports each edge that closes one.
function checkGraph(
  nodes: readonly { name: string; dependsOn: readonly string[]; location: SourceLocation }[],
  unknown: (node: string, dependency: string) => string,
  cycle: (node: string, dependency: string) => string,
  problems: Problems,
): void {
  const byName = new Map(nodes.map((node) => [node.name.toLowerCase(), node]));
  for (const node of nodes) {
    for (const dependency of node.dependsOn) {
      if (!byName.has(dependency.toLowerCase())) problems.add(node.location, unknown(node.name, dependency));
    }
  }
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (node: (typeof nodes)[number]) => {
    state.set(node.name.toLowerCase(), 'visiting');
    for (const dependency of node.dependsOn) {
      const next = byName.get(dependency.toLowerCase());
      if (next === undefined) continue;
      const seen = state.get(next.name.toLowerCase());
      if (seen === 'visiting') problems.add(node.location, cycle(node.name, next.name));
      else if (seen === undefined) visit(next);
    }
    state.set(node.name.toLowerCase(), 'done');
  };
  for (const node of nodes) if (!state.has(node.name.toLowerCase())) visit(node);
}

/** Records every structural and task problem of a compiled pipeline. */
export function checkPipeline(
  pipeline: CompiledPipeline,
  catalog: TaskCatalog | undefined,
  problems: Problems,
): void {
  const stageNames = new Set<string>();
  for (const stage of pipeline.stages) {
    if (stage.name !== '__default' && !isValidName(stage.name)) {
      problems.add(
        stage.location,
        `Stage ${stage.name} has an invalid name. Valid names may only contain alphanumeric characters and '_' and may not start with a number.`,
      );
    }
    if (stageNames.has(stage.name.toLowerCase())) {
      problems.add(
        stage.location,
        `The stage name ${stage.name} appears more than once. Stage names must be unique within a pipeline.`,
      );
    }
    stageNames.add(stage.name.toLowerCase());
    const jobNames = new Set<string>();
    for (const job of stage.jobs) {
      if (!isValidName(job.name)) {
        problems.add(
          job.location,
          `Stage ${stage.name} job ${job.name} has an invalid name. Valid names may only contain alphanumeric characters and '_' and may not start with a number.`,
        );
      }
      if (jobNames.has(job.name.toLowerCase())) {
        problems.add(
          job.location,
          `Stage ${stage.name} job ${job.name} appears more than once. Job names must be unique within a stage.`,
        );
      }
      jobNames.add(job.name.toLowerCase());
      // The YAML schema's own words for a deployment job's name.
      if (job.kind === 'deployment' && job.name.toLowerCase() === 'deploy') {
        problems.add(
          job.location,
          `Deployment job name 'deploy': the word deploy is a keyword and is unsupported as the deployment name; rename the deployment job`,
        );
      }
      checkSteps(job, catalog, problems);
    }
    checkGraph(
      stage.jobs,
      (job, dependency) => `Stage ${stage.name} job ${job} depends on unknown job ${dependency}.`,
      (job, dependency) =>
        `Stage ${stage.name} job ${job} depends on job ${dependency} which creates a cycle in the dependency graph.`,
      problems,
    );
  }
  checkGraph(
    pipeline.stages,
    (stage, dependency) => `Stage ${stage} depends on unknown stage ${dependency}.`,
    (stage, dependency) =>
      `Stage ${stage} depends on stage ${dependency} which creates a cycle in the dependency graph.`,
    problems,
  );
}
