import * as tl from 'azure-pipelines-task-lib/task';
import { requiredString } from '../shared/inputs';
import { runTask } from '../shared/task-shell';

void runTask(async () => {
  requiredString('keyVaultName', tl.loc('KeyVaultNameHint'));
});
