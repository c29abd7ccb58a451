import { basename, isAbsolute, resolve } from 'node:path';
import { quoted } from '../shared/known-secrets';
import { TaskError } from '../shared/task-error';

/** The program that renders a kustomization folder into objects on its standard output. */
export interface RenderTool {
  /** How log and error lines name it, for example `kubectl kustomize`. */
  readonly name: string;
  /** The executable, as found. */
  readonly command: string;
  /** The arguments that render `folder`, with the user's extra arguments last. */
  argsFor(folder: string, extra: readonly string[]): string[];
}

/** How the task finds programs on the agent. */
export interface ProgramLocator {
  /** The program's path when `name` is on the PATH, else undefined. */
  which(name: string): string | undefined;
  isFile(path: string): boolean;
}

/** kubectl renders with its `kustomize` command, the kustomize binary with `build`. */
function toolAt(command: string, shownAs: string): RenderTool {
  const verb = /^kubectl/i.test(basename(command)) ? 'kustomize' : 'build';
  return {
    name: `${shownAs} ${verb}`,
    command,
    argsFor: (folder, extra) => [verb, folder, ...extra],
  };
}

/**
 * Chooses the renderer: the program the `kustomizeBinary` input names (a path, relative to
 * the working directory, or a name on the PATH; a kubectl renders with `kubectl kustomize`),
 * else the agent's kubectl, else a kustomize on the PATH. `folder` is the first folder to
 * render, for the error line when there is none.
 */
export function chooseRenderTool(
  binary: string | undefined,
  folder: string,
  workDir: string,
  locate: ProgramLocator,
): RenderTool {
  if (binary !== undefined) {
    if (/[/\\]/.test(binary)) {
      const path = isAbsolute(binary) ? binary : resolve(workDir, binary);
      if (!locate.isFile(path)) throw new TaskError('KustomizeBinaryNotFound', [quoted(binary)]);
      return toolAt(path, binary);
    }
    const found = locate.which(binary);
    if (!found) throw new TaskError('KustomizeBinaryNotOnPath', [quoted(binary)]);
    return toolAt(found, binary);
  }
  const kubectl = locate.which('kubectl');
  if (kubectl) return toolAt(kubectl, 'kubectl');
  const kustomize = locate.which('kustomize');
  if (kustomize) return toolAt(kustomize, 'kustomize');
  throw new TaskError('KustomizeToolMissing', [folder]);
}
