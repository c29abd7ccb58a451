/**
 * UseDotNet@2: its definition is complete so that pipelines using it compile and check, but
 * this machine has no .NET SDK and cannot download one, so a run fails in one line.
 */
import type { BuiltinContext, BuiltinResult } from './types';
import { settle, StepFailure } from './support/failure';
import { textInput } from './support/inputs';

/** Runs a UseDotNet@2 step: always one line saying why it cannot. */
export function runUseDotNet(context: BuiltinContext): Promise<BuiltinResult> {
  return settle(context, async () => {
    const packageType = textInput(context, 'packageType') || 'sdk';
    const version =
      textInput(context, 'version') ||
      (textInput(context, 'useGlobalJson') === 'true' ? 'from global.json' : 'latest');
    throw new StepFailure(
      `UseDotNet@2 cannot install .NET ${packageType} ${version}: this machine has no .NET SDK and cannot download one. Run the .NET stack in Azure Pipelines, or use the node stack locally.`,
    );
  });
}
