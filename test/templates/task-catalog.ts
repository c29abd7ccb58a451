// The task catalog the template and compile tests check steps against: this extension's
// tasks read from their task.json under tasks/, and the runner's built-ins (the real
// task.json definitions of Microsoft's tasks, runner/builtin/definitions).
import { join } from 'node:path';
import { builtinTasks } from '../../runner/builtin';
import type { TaskCatalog } from '../../runner/model';
import { createTaskCatalog, readExtensionTasks } from '../../runner/run/catalog';

const tasksFolder = join(__dirname, '..', '..', 'tasks');

/** The catalog of this extension's tasks (from their sources) and the built-ins. */
export function testCatalog(): TaskCatalog {
  return createTaskCatalog(readExtensionTasks(tasksFolder), builtinTasks());
}
