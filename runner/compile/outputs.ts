// Runtime expressions checked before the run: conditions and `$[ ]` variables must parse
// and name only what exists there, and a reference to another job's output variable
// must be able to find one. The service yields an empty value when the job is not in
// dependsOn, the step has no such name or nothing sets that output; the runner says so.
//   dependencies.<job>.outputs['<step>.<var>']            (a job of the same stage)
//   dependencies.<stage>.outputs['<job>.<step>.<var>']    (in a stage's condition or variables)
//   stageDependencies.<stage>.<job>.outputs['<step>.<var>']
// A deployment job's outputs carry its lifecycle hook's prefix: `<job>.<step>.<var>` for
// runOnce, `Deploy_<resource>.<step>.<var>` when the environment names a resource
// (docs/pipelines/process/deployment-jobs.md, "Support for output variables").
import {
  ExpressionError,
  checkExpression,
  runtimeOnlyFunctions,
  wholeRuntimeExpression,
  type EvaluationContext,
  type ExpressionNode,
  type ExtraFunction,
} from '../expressions';
import {
  stepsOfJob,
  type CompiledPipeline,
  type Job,
  type SourceLocation,
  type Stage,
  type Step,
  type TaskCatalog,
} from '../model';
import type { Problems } from './problems';

const anything: ExtraFunction = { minArgs: 0, maxArgs: Number.POSITIVE_INFINITY, call: () => null };
const namedValues = {
  variables: {},
  dependencies: {},
  stageDependencies: {},
  pipeline: {},
  resources: {},
  environment: {},
  strategy: {},
};

const statusFunctions = Object.fromEntries(
  runtimeOnlyFunctions.filter((name) => name !== 'counter').map((name) => [name, anything]),
);
const conditionContext: EvaluationContext = { mode: 'runtime', namedValues, functions: statusFunctions };
const variableContext: EvaluationContext = {
  mode: 'runtime',
  namedValues,
  functions: { counter: { minArgs: 2, maxArgs: 2, call: () => null } },
};

/** A runtime expression to check, with where it was written and who reads it. */
interface Reading {
  readonly text: string;
  readonly kind: 'condition' | 'variable';
  readonly location: SourceLocation;
  readonly stage: Stage;
  readonly job?: Job;
}

// A chain `name.a['b'].c` as its literal keys, from the name on; undefined when not literal.
function chainOf(node: ExpressionNode): { name: string; keys: string[] } | undefined {
  if (node.kind === 'name') return { name: node.name, keys: [] };
  if (node.kind !== 'index' || node.key.kind !== 'literal' || typeof node.key.value !== 'string')
    return undefined;
  const inner = chainOf(node.object);
  return inner && { name: inner.name, keys: [...inner.keys, node.key.value] };
}

// Every maximal chain starting at `dependencies` or `stageDependencies`.
function dependencyChains(
  node: ExpressionNode,
  into: { name: string; keys: string[] }[] = [],
): { name: string; keys: string[] }[] {
  const chain = chainOf(node);
  if (chain && /^(stage)?dependencies$/i.test(chain.name)) {
    into.push(chain);
    return into;
  }
  if (node.kind === 'index') {
    dependencyChains(node.object, into);
    dependencyChains(node.key, into);
  } else if (node.kind === 'filter') {
    dependencyChains(node.object, into);
  } else if (node.kind === 'call') {
    for (const arg of node.args) dependencyChains(arg, into);
  }
  return into;
}

// `dependencies.A.outputs['step.var']`, as written.
function describeChain(chain: { name: string; keys: string[] }): string {
  return (
    chain.name + chain.keys.map((key) => (/^[A-Za-z_][\w-]*$/.test(key) ? `.${key}` : `['${key}']`)).join('')
  );
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

// Whether a step can set output variable `name`: a task that declares it, or a script that
// writes `##vso[task.setvariable variable=<name>;isOutput=true]` (or builds the name at run time).
function canSetOutput(
  step: Step,
  name: string,
  catalog: TaskCatalog | undefined,
): { ok: boolean; why: string } {
  if (step.kind === 'checkout') return { ok: false, why: 'a checkout step sets no output variables' };
  if (step.shorthand && ['script', 'bash', 'pwsh', 'powershell'].includes(step.shorthand)) {
    const commands = [...(step.inputs.script ?? '').matchAll(/##vso\[task\.setvariable([^\]]*)\]/gi)].map(
      (match) => match[1],
    );
    const ok = commands.some((properties) => {
      const variable = /variable=([^;\]]*)/i.exec(properties)?.[1]?.trim() ?? '';
      return /isOutput=true/i.test(properties) && (same(variable, name) || /[$%]/.test(variable));
    });
    return { ok, why: `its script never writes ##vso[task.setvariable variable=${name};isOutput=true]` };
  }
  const definition = catalog?.find(step.task, step.majorVersion);
  if (definition === undefined) return { ok: true, why: '' };
  return {
    ok: definition.outputVariables.some((output) => same(output, name)),
    why: definition.outputVariables.length
      ? `${step.task}@${step.majorVersion} declares the outputs ${definition.outputVariables.join(', ')}`
      : `${step.task}@${step.majorVersion} declares no output variables`,
  };
}

// The prefix a job's output keys carry: none for an agent job, the hook's for a deployment.
function outputPrefix(job: Job): string | undefined {
  if (job.kind !== 'deployment') return undefined;
  return job.environment.resourceName ? `Deploy_${job.environment.resourceName}` : job.name;
}

function checkOutputKey(
  job: Job,
  key: string,
  reference: string,
  reading: Reading,
  catalog: TaskCatalog | undefined,
  problems: Problems,
): void {
  const segments = key.split('.');
  const prefix = outputPrefix(job);
  if (prefix !== undefined) {
    if (segments.length < 3 || !same(segments[0], prefix)) {
      const rest = segments.length < 3 ? key : segments.slice(1).join('.');
      problems.add(
        reading.location,
        `${reference}: job ${job.name} is a deployment job, whose outputs carry the lifecycle hook's prefix: ` +
          `read it as '${prefix}.${rest}'`,
      );
      return;
    }
    segments.shift();
  }
  if (segments.length < 2) {
    problems.add(reading.location, `${reference}: an output is read as '<step>.<variable>', not '${key}'`);
    return;
  }
  const [stepName, ...variable] = segments;
  const name = variable.join('.');
  const step = stepsOfJob(job).find(
    (candidate) => candidate.name !== undefined && same(candidate.name, stepName),
  );
  if (step === undefined) {
    problems.add(
      reading.location,
      `${reference} reads step '${stepName}' of job ${job.name}, which has no step of that name: give the step that sets '${name}' name: ${stepName}`,
    );
    return;
  }
  const { ok, why } = canSetOutput(step, name, catalog);
  if (!ok)
    problems.add(
      reading.location,
      `${reference}: step '${stepName}' of job ${job.name} cannot set the output '${name}': ${why}`,
    );
}

function findJob(stage: Stage, name: string): Job | undefined {
  return stage.jobs.find((job) => same(job.name, name));
}

function checkReading(
  reading: Reading,
  pipeline: CompiledPipeline,
  catalog: TaskCatalog | undefined,
  problems: Problems,
): void {
  let parsed;
  try {
    parsed = checkExpression(reading.text, reading.kind === 'condition' ? conditionContext : variableContext);
  } catch (error) {
    if (!(error instanceof ExpressionError)) throw error;
    problems.add(reading.location, error.message);
    return;
  }
  const reader = reading.job ? `job ${reading.job.name}` : `stage ${reading.stage.name}`;
  for (const chain of dependencyChains(parsed.root)) {
    const quoted = describeChain(chain);
    const stageLevel = /^stageDependencies$/i.test(chain.name);
    if (stageLevel) {
      // stageDependencies.<stage>.<job>.outputs['<step>.<var>']
      const [stageName, jobName, outputs, key] = chain.keys;
      if (stageName === undefined) continue;
      const stage = pipeline.stages.find((candidate) => same(candidate.name, stageName));
      if (stage === undefined) {
        problems.add(reading.location, `${quoted}: there is no stage ${stageName}`);
        continue;
      }
      if (!reading.stage.dependsOn.some((name) => same(name, stage.name))) {
        problems.add(
          reading.location,
          `${quoted} is read in stage ${reading.stage.name}, which does not depend on stage ${stage.name}: add ${stage.name} to its dependsOn (without it the value is empty)`,
        );
        continue;
      }
      if (jobName === undefined) continue;
      const job = findJob(stage, jobName);
      if (job === undefined) {
        problems.add(reading.location, `${quoted}: stage ${stage.name} has no job ${jobName}`);
        continue;
      }
      if (outputs !== undefined && same(outputs, 'outputs') && key !== undefined)
        checkOutputKey(job, key, quoted, reading, catalog, problems);
      continue;
    }
    const [name, outputs, key] = chain.keys;
    if (name === undefined) continue;
    if (reading.job) {
      // dependencies.<job>...: a job of the same stage that this job depends on.
      const job = findJob(reading.stage, name);
      if (job === undefined) {
        problems.add(reading.location, `${quoted}: stage ${reading.stage.name} has no job ${name}`);
        continue;
      }
      if (!reading.job.dependsOn.some((dependency) => same(dependency, job.name))) {
        problems.add(
          reading.location,
          `${quoted} is read by ${reader}, which does not depend on job ${job.name}: add ${job.name} to its dependsOn (without it the value is empty)`,
        );
        continue;
      }
      if (outputs !== undefined && same(outputs, 'outputs') && key !== undefined)
        checkOutputKey(job, key, quoted, reading, catalog, problems);
      continue;
    }
    // dependencies.<stage>.outputs['<job>.<step>.<var>'] in a stage's condition or variables.
    const stage = pipeline.stages.find((candidate) => same(candidate.name, name));
    if (stage === undefined) {
      problems.add(reading.location, `${quoted}: there is no stage ${name}`);
      continue;
    }
    if (!reading.stage.dependsOn.some((dependency) => same(dependency, stage.name))) {
      problems.add(
        reading.location,
        `${quoted} is read by ${reader}, which does not depend on stage ${stage.name}: add ${stage.name} to its dependsOn (without it the value is empty)`,
      );
      continue;
    }
    if (outputs === undefined || !same(outputs, 'outputs') || key === undefined) continue;
    const [jobName, ...rest] = key.split('.');
    const job = findJob(stage, jobName);
    if (job === undefined) {
      problems.add(
        reading.location,
        `${quoted}: stage ${stage.name} has no job ${jobName} (a stage reads outputs as '<job>.<step>.<var>')`,
      );
      continue;
    }
    checkOutputKey(job, rest.join('.'), quoted, reading, catalog, problems);
  }
}

function runtimeReadings(
  stage: Stage,
  job: Job | undefined,
  owner: { condition?: string; variables: Job['variables']; location: SourceLocation },
): Reading[] {
  const readings: Reading[] = [];
  if (owner.condition)
    readings.push({ text: owner.condition, kind: 'condition', location: owner.location, stage, job });
  for (const variable of owner.variables) {
    if (variable.kind !== 'value') continue;
    const inside = wholeRuntimeExpression(variable.value);
    if (inside !== undefined)
      readings.push({ text: inside, kind: 'variable', location: variable.location, stage, job });
  }
  return readings;
}

/** Records problems of conditions and `$[ ]` variables, output references included. */
export function checkRuntimeExpressions(
  pipeline: CompiledPipeline,
  catalog: TaskCatalog | undefined,
  problems: Problems,
): void {
  for (const stage of pipeline.stages) {
    const readings = runtimeReadings(stage, undefined, stage);
    for (const job of stage.jobs) {
      readings.push(...runtimeReadings(stage, job, job));
      for (const step of stepsOfJob(job)) {
        if (step.condition) {
          // A step's condition reads variables and status functions, not other jobs.
          try {
            checkExpression(step.condition, conditionContext);
          } catch (error) {
            if (!(error instanceof ExpressionError)) throw error;
            problems.add(step.location, error.message);
          }
        }
      }
    }
    for (const reading of readings) checkReading(reading, pipeline, catalog, problems);
  }
}
