// minimatch 3 (the version azure-pipelines-task-lib and the agent's own item patterns use)
// ships no types; this is the part the runner calls.
declare module 'minimatch' {
  interface MinimatchOptions {
    dot?: boolean;
    nocase?: boolean;
    matchBase?: boolean;
  }
  function minimatch(path: string, pattern: string, options?: MinimatchOptions): boolean;
  export = minimatch;
}
