import { strict as assert } from 'node:assert';
import { splitArguments } from './command-line';

describe('splitting kustomizeArgs into arguments', () => {
  const table: [string, string[] | undefined][] = [
    ['', []],
    ['   ', []],
    ['--enable-helm', ['--enable-helm']],
    [
      '--enable-helm  --load-restrictor LoadRestrictionsNone',
      ['--enable-helm', '--load-restrictor', 'LoadRestrictionsNone'],
    ],
    ['--helm-command "/opt/helm 3/helm"', ['--helm-command', '/opt/helm 3/helm']],
    ["--helm-command '/opt/helm 3/helm'", ['--helm-command', '/opt/helm 3/helm']],
    ['--x="a \\"b\\" c"', ['--x=a "b" c']],
    ["--x='a \\ b'", ['--x=a \\ b']],
    ['--helm-command C:\\tools\\helm.exe', ['--helm-command', 'C:\\tools\\helm.exe']],
    ['""', ['']],
    ['--x "unclosed', undefined],
    ["--x 'unclosed", undefined],
    ['\t--a\n--b\t', ['--a', '--b']],
  ];
  for (const [text, args] of table) {
    it(`${JSON.stringify(text)} → ${JSON.stringify(args)}`, () =>
      assert.deepEqual(splitArguments(text), args));
  }
});
