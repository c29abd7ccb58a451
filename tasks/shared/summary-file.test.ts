import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describePlace, summaryFileName, writeSummaryFile } from './summary-file';

describe('step summary files', () => {
  it('names the file as the Extensions tab should title it, on any agent', () => {
    const table: [string, string][] = [
      ['Deploy to AKS (staging)', 'Deploy to AKS (staging).md'],
      ['Promote image to prod.azurecr.io:5000/orders', 'Promote image to prod.azurecr.io-5000-orders.md'],
      ['Key Vault secrets (a|b?*<>"\\)', 'Key Vault secrets (a-b------).md'],
      ['tabs\tand\nnew lines', 'tabs-and-new lines.md'],
      ['ends with a dot. ', 'ends with a dot.md'],
      ['', 'Summary.md'],
      ['x'.repeat(200), `${'x'.repeat(80)}.md`],
    ];
    for (const [title, name] of table) assert.equal(summaryFileName(title), name, title);
  });

  it('never overwrites the file an earlier step of the job uploaded', () => {
    const temp = mkdtempSync(join(tmpdir(), 'summary-file-'));
    try {
      const first = writeSummaryFile(temp, 'Deploy to AKS (staging)', 'one');
      const second = writeSummaryFile(temp, 'Deploy to AKS (staging)', 'two');
      assert.equal(basename(first), 'Deploy to AKS (staging).md');
      assert.equal(basename(second), 'Deploy to AKS (staging) (2).md');
      assert.equal(readFileSync(first, 'utf8'), 'one');
      assert.equal(readFileSync(second, 'utf8'), 'two');
    } finally {
      rmSync(temp, { recursive: true, force: true });
    }
  });

  it('describes the place a step ran in', () => {
    assert.equal(
      describePlace({ environment: 'staging', stage: 'Staging' }),
      'environment staging · stage Staging',
    );
    assert.equal(describePlace({ stage: 'Build' }), 'stage Build');
    assert.equal(describePlace({}), '');
  });
});
