// The AcceptanceGate@1 inputs the CD template passes to scope the gate's health to the
// release (issue 14), by the names agreed for them. The template checks take each as
// declared until tasks/AcceptanceGate/task.json declares it; from then on the task.json's
// own declaration is the one checked, and this list can go.
import type { TaskInput } from './schema';

const agreed: Readonly<Record<string, readonly string[]>> = {
  AcceptanceGate: [
    'clusterName',
    'namespace',
    'podTemplateHash',
    'appRoleName',
    'appVersion',
    'errorLogPattern',
    'healthWaitMinutes',
  ],
};

/** The agreed inputs of a task that its task.json does not declare yet, as optional strings. */
export function agreedInputsMissing(task: string, declared: readonly { name: string }[]): TaskInput[] {
  const names = new Set(declared.map((input) => input.name));
  return (agreed[task] ?? [])
    .filter((name) => !names.has(name))
    .map((name) => ({ name, type: 'string', required: false }));
}
