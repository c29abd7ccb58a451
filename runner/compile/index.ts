// Compile time of the pipeline runner: from a pipeline file to the model the run executes.
export { compilePipeline, type CompileOptions } from './compile';
export { expandPipelineFile, type ExpandOptions, type ExpandedPipeline } from './expand';
export { templateLimits, type RepositoryFolders } from './files';
export { toPlain, type YNode, type YMapping } from './yaml-tree';
