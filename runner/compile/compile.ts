// Compile time, as the service does it when a run is queued: expand the pipeline's
// templates and expressions, normalise it into the model, and check it. Every problem
// found is reported at once, each with its file, line and column.
import { PipelineError, type CompiledPipeline, type TaskCatalog } from '../model';
import { checkPipeline } from './checks';
import { expandPipelineFile, type ExpandOptions } from './expand';
import { normalisePipeline } from './normalise';
import { checkRuntimeExpressions } from './outputs';

/** What to compile: the pipeline, where its repositories are, the run's values, the tasks. */
export interface CompileOptions extends ExpandOptions {
  /** The tasks steps may name; their inputs and outputs are checked against it. */
  readonly catalog: TaskCatalog;
}

/**
 * Compiles a pipeline file into the model the run executes. Throws a PipelineError that
 * lists every problem found (not only the first), each at its place in a file.
 */
export function compilePipeline(options: CompileOptions): CompiledPipeline {
  const { expanded, problems } = expandPipelineFile(options);
  if (expanded === undefined) throw new PipelineError(problems.list);
  const pipeline = normalisePipeline({
    document: expanded.document,
    file: options.file,
    parameters: expanded.parameters,
    repositories: options.repositories,
    problems,
    catalog: options.catalog,
  });
  checkPipeline(pipeline, options.catalog, problems);
  checkRuntimeExpressions(pipeline, options.catalog, problems);
  if (problems.list.length > 0) throw new PipelineError(problems.list);
  return pipeline;
}
