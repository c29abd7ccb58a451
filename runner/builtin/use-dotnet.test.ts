import assert from 'node:assert/strict';
import { taskData } from './definitions';
import { createTestContext } from './testing/context';
import { runUseDotNet } from './use-dotnet';

describe('UseDotNet@2', () => {
  it('fails in one line naming what it would install and what to do instead', async () => {
    const step = createTestContext({ definition: taskData('UseDotNet', 2), inputs: { version: '8.x' } });
    try {
      assert.deepEqual(await runUseDotNet(step.context), {
        status: 'Failed',
        message:
          'UseDotNet@2 cannot install .NET sdk 8.x: this machine has no .NET SDK and cannot download one. Run the .NET stack in Azure Pipelines, or use the node stack locally.',
      });
      assert.deepEqual(step.lines, []);
    } finally {
      step.dispose();
    }
  });
});
