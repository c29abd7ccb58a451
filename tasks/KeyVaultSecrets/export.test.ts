import assert from 'node:assert/strict';
import { exportPath, renderExport } from './export';

const entries = [
  { variable: 'PLAIN', value: 'abc-123' },
  { variable: 'TRICKY', value: 'a "b" $HOME \\ \nline2\r\n' },
  { variable: 'JSON', value: '{"a": [1, 2]}' },
];

describe('KeyVaultSecrets export', () => {
  it('dotenv quotes and escapes only what needs it', () => {
    assert.equal(
      renderExport('dotenv', entries, '/t/app.env'),
      'PLAIN=abc-123\nTRICKY="a \\"b\\" \\$HOME \\\\ \\nline2\\r\\n"\nJSON="{\\"a\\": [1, 2]}"\n',
    );
  });

  it('json keeps every value byte for byte', () => {
    const parsed = JSON.parse(renderExport('json', entries, '/t/app.json')) as Record<string, string>;
    assert.deepEqual(parsed, Object.fromEntries(entries.map((entry) => [entry.variable, entry.value])));
  });

  it('a Kubernetes Secret holds base64 data and is named after the file', () => {
    const text = renderExport('kubernetesSecret', entries, '/t/App Secrets.yaml');
    assert.match(
      text,
      /^apiVersion: v1\nkind: Secret\nmetadata:\n {2}name: app-secrets\ntype: Opaque\ndata:\n/,
    );
    const line = text.split('\n').find((each) => each.startsWith('  "TRICKY"')) ?? '';
    assert.equal(Buffer.from(line.split(': ')[1] ?? '', 'base64').toString('utf8'), entries[1]?.value);
    assert.match(renderExport('kubernetesSecret', [], '/t/x.yaml'), /data: \{\}\n$/);
  });

  it('a bare file name goes to the temp directory; a path is used as given', () => {
    assert.equal(exportPath('app.env', '/agent/_temp', '/work'), '/agent/_temp/app.env');
    assert.equal(exportPath('out/app.env', '/agent/_temp', '/work'), '/work/out/app.env');
    assert.equal(exportPath('/abs/app.env', '/agent/_temp', '/work'), '/abs/app.env');
  });
});
