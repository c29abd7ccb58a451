import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseLcov, toCobertura, totals } from '../../scripts/lcov-to-cobertura.mjs';

// Shaped like Node's lcov reporter output: two functions share a name, a branch was never taken.
const lcov = `TN:
SF:/app/src/routes.mjs
FN:2,GET
FN:5,GET
FNDA:3,GET
FNDA:0,GET
FNF:2
FNH:1
BRDA:2,0,0,3
BRDA:2,1,0,-
BRF:2
BRH:1
DA:1,1
DA:2,3
DA:5,0
DA:6,0
LF:4
LH:2
end_of_record
TN:
SF:src/util/<tag>.mjs
DA:1,1
end_of_record
`;

describe('lcov to Cobertura', () => {
  const files = parseLcov(lcov, { sourceRoot: '/app' });

  it('reads each file with paths relative to the source root', () => {
    assert.deepEqual(
      files.map((file) => file.path),
      ['src/routes.mjs', 'src/util/<tag>.mjs'],
    );
    assert.deepEqual(files[0].functions, [
      { name: 'GET', line: 2, hits: 3 },
      { name: 'GET', line: 5, hits: 0 },
    ]);
  });

  it('counts lines and branches', () => {
    assert.deepEqual(totals(files), {
      lines: 5,
      linesCovered: 3,
      branches: 2,
      branchesCovered: 1,
      lineRate: 0.6,
      branchRate: 0.5,
    });
    assert.deepEqual(totals([]), {
      lines: 0,
      linesCovered: 0,
      branches: 0,
      branchesCovered: 0,
      lineRate: 1,
      branchRate: 1,
    });
  });

  it('writes one package per folder, one class per file, escaped', () => {
    const xml = toCobertura(files, { sourceRoot: '/app', timestamp: 1_700_000_000_000 });
    assert.match(
      xml,
      /<coverage line-rate="0\.6000" branch-rate="0\.5000" lines-covered="3" lines-valid="5" branches-covered="1" branches-valid="2" complexity="0" version="0\.1" timestamp="1700000000">/,
    );
    assert.match(xml, /<source>\/app<\/source>/);
    assert.match(xml, /<package name="src" line-rate="0\.5000" branch-rate="0\.5000"/);
    assert.match(xml, /<package name="src\.util" line-rate="1\.0000"/);
    assert.match(xml, /<class name="&lt;tag&gt;\.mjs" filename="src\/util\/&lt;tag&gt;\.mjs"/);
    assert.match(xml, /<line number="2" hits="3" branch="true" condition-coverage="50% \(1\/2\)"\/>/);
    assert.match(xml, /<line number="5" hits="0" branch="false"\/>/);
    assert.equal(xml.match(/<method name="GET"/g).length, 2);
  });
});
