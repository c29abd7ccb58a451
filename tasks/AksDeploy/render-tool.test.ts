import { strict as assert } from 'node:assert';
import { TaskError } from '../shared/task-error';
import { chooseRenderTool, type ProgramLocator } from './render-tool';

describe('choosing the program that renders kustomizations', () => {
  const agent = (onPath: Record<string, string>, files: string[] = []): ProgramLocator => ({
    which: (name) => onPath[name],
    isFile: (path) => files.includes(path),
  });
  const choose = (binary: string | undefined, locate: ProgramLocator) => {
    const tool = chooseRenderTool(binary, 'deploy/overlays/staging', '/work/s', locate);
    return { name: tool.name, command: tool.command, args: tool.argsFor('/work/s/o', ['--enable-helm']) };
  };
  const refusal = (binary: string | undefined, locate: ProgramLocator) => {
    try {
      choose(binary, locate);
    } catch (error) {
      if (error instanceof TaskError) return { key: error.key, args: error.args };
      throw error;
    }
    return undefined;
  };

  it('takes the agent’s kubectl first, then kustomize on the PATH', () => {
    const both = agent({ kubectl: '/usr/bin/kubectl', kustomize: '/usr/local/bin/kustomize' });
    assert.deepEqual(choose(undefined, both), {
      name: 'kubectl kustomize',
      command: '/usr/bin/kubectl',
      args: ['kustomize', '/work/s/o', '--enable-helm'],
    });
    assert.deepEqual(choose(undefined, agent({ kustomize: '/usr/local/bin/kustomize' })), {
      name: 'kustomize build',
      command: '/usr/local/bin/kustomize',
      args: ['build', '/work/s/o', '--enable-helm'],
    });
  });

  it('takes the binary the input names: a name on the PATH, or a path from the working directory', () => {
    const locate = agent({ kubectl: '/usr/bin/kubectl', kustomize: '/usr/local/bin/kustomize' }, [
      '/opt/kustomize/kustomize',
      '/work/s/tools/kubectl-1.29',
    ]);
    assert.equal(choose('kustomize', locate).name, 'kustomize build');
    assert.deepEqual(choose('/opt/kustomize/kustomize', locate), {
      name: '/opt/kustomize/kustomize build',
      command: '/opt/kustomize/kustomize',
      args: ['build', '/work/s/o', '--enable-helm'],
    });
    assert.deepEqual(choose('tools/kubectl-1.29', locate), {
      name: 'tools/kubectl-1.29 kustomize',
      command: '/work/s/tools/kubectl-1.29',
      args: ['kustomize', '/work/s/o', '--enable-helm'],
    });
  });

  it('says which program is missing, and how to get one', () => {
    assert.deepEqual(refusal(undefined, agent({})), {
      key: 'KustomizeToolMissing',
      args: ['deploy/overlays/staging'],
    });
    assert.deepEqual(refusal('kustomize', agent({ kubectl: '/usr/bin/kubectl' })), {
      key: 'KustomizeBinaryNotOnPath',
      args: ['kustomize'],
    });
    assert.deepEqual(refusal('/opt/kustomize/kustomize', agent({ kubectl: '/usr/bin/kubectl' })), {
      key: 'KustomizeBinaryNotFound',
      args: ['/opt/kustomize/kustomize'],
    });
  });
});
