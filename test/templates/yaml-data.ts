// The pipeline templates as plain data for the tests: YAML files read as values, and
// pipelines expanded by the runner's compile time (runner/compile) and handed back as
// plain data, so the tests can look at the expanded stages, jobs and steps.
import { readFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { expandPipelineFile, toPlain, type RepositoryFolders } from '../../runner/compile';
import { PipelineError } from '../../runner/model';

/** A value in a YAML document. */
export type TemplateValue =
  string | number | boolean | null | TemplateValue[] | { [key: string]: TemplateValue };

/** A mapping in a pipeline or template. */
export type YamlMapping = { [key: string]: TemplateValue };

/** Reads a YAML file as plain data. */
export function loadYaml(file: string): TemplateValue {
  return parse(readFileSync(file, 'utf8')) as TemplateValue;
}

/** A copy of a mapping without the given keys. */
export function withoutKeys(mapping: YamlMapping, keys: readonly string[]): YamlMapping {
  return Object.fromEntries(Object.entries(mapping).filter(([key]) => !keys.includes(key)));
}

/**
 * Expands a pipeline file, or a pipeline given as data that stands in `file`'s place, as
 * compile time does; throws the PipelineError listing every problem.
 */
export function expandPipeline(
  file: string,
  repositories: RepositoryFolders,
  document?: YamlMapping,
): YamlMapping {
  const { expanded, problems } = expandPipelineFile({
    file,
    repositories,
    ...(document ? { source: stringify(document) } : {}),
  });
  if (expanded === undefined || problems.list.length > 0) throw new PipelineError(problems.list);
  return toPlain(expanded.document) as YamlMapping;
}
