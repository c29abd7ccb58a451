// Small repositories of YAML files written to a temporary folder, compiled as the tests
// need them: the model, or the problems as `file (Line: l, Col: c): message` lines.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { testCatalog } from '../../test/templates/task-catalog';
import { PipelineError, describeLocation, type CompiledPipeline } from '../model';
import { compilePipeline } from './compile';
import { expandPipelineFile } from './expand';
import { toPlain } from './yaml-tree';

/** Repositories by alias, each a map of path → YAML text; `self` holds the pipeline. */
export type Repositories = Record<string, Record<string, string>>;

const made: string[] = [];

/** Writes the repositories to temporary folders; returns alias → folder. */
export function writeRepositories(repositories: Repositories): Record<string, string> {
  const folders: Record<string, string> = {};
  for (const [alias, files] of Object.entries(repositories)) {
    const folder = mkdtempSync(join(tmpdir(), `runner-compile-${alias}-`));
    made.push(folder);
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(folder, path)), { recursive: true });
      writeFileSync(join(folder, path), text);
    }
    folders[alias] = folder;
  }
  return folders;
}

/** Removes every folder written so far. */
export function removeRepositories(): void {
  for (const folder of made.splice(0)) rmSync(folder, { recursive: true, force: true });
}

/** Options of a compilation besides the files. */
export interface RunOptions {
  readonly file?: string;
  readonly parameters?: Record<string, string>;
  readonly variables?: Record<string, string>;
  /** Aliases written but not mapped to a folder. */
  readonly unmapped?: readonly string[];
}

function options(repositories: Repositories, run: RunOptions) {
  const folders = writeRepositories(repositories);
  for (const alias of run.unmapped ?? []) delete folders[alias];
  return {
    file: join(folders.self, run.file ?? 'azure-pipelines.yml'),
    repositories: folders,
    parameters: run.parameters,
    variables: run.variables,
    catalog: testCatalog(),
  };
}

/** Compiles; returns the model, or the problems as lines. */
export function compileFiles(repositories: Repositories, run: RunOptions = {}): CompiledPipeline | string[] {
  try {
    return compilePipeline(options(repositories, run));
  } catch (error) {
    if (!(error instanceof PipelineError)) throw error;
    return error.problems.map((problem) =>
      problem.location ? `${describeLocation(problem.location)}: ${problem.message}` : problem.message,
    );
  }
}

/** Compiles what must compile; throws with the problems otherwise. */
export function compiled(repositories: Repositories, run: RunOptions = {}): CompiledPipeline {
  const result = compileFiles(repositories, run);
  if (Array.isArray(result)) throw new Error(`expected no problems, got:\n${result.join('\n')}`);
  return result;
}

/** The problems of what must not compile. */
export function problemsOf(repositories: Repositories, run: RunOptions = {}): string[] {
  const result = compileFiles(repositories, run);
  if (!Array.isArray(result)) throw new Error('expected problems, but it compiled');
  return result;
}

/** Expands only; returns the pipeline as plain data, or the problems as lines. */
export function expandFiles(repositories: Repositories, run: RunOptions = {}): unknown {
  const { expanded, problems } = expandPipelineFile(options(repositories, run));
  if (problems.list.length > 0 || expanded === undefined)
    return problems.list.map((problem) =>
      problem.location ? `${describeLocation(problem.location)}: ${problem.message}` : problem.message,
    );
  return toPlain(expanded.document);
}
