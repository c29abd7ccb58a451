import assert from 'node:assert/strict';
import { readYaml, toPlain } from './yaml-tree';

describe('compile: YAML with positions', () => {
  it('keeps where every node was written and the text of each scalar as written', () => {
    const read = readYaml('a:\n  - true\n  - 0x1F\n  - ~\nb: text\n', '/p.yml');
    assert.ok(read.ok);
    assert.deepEqual(toPlain(read.root), { a: [true, 31, null], b: 'text' });
    const a = read.root.kind === 'mapping' ? read.root.entries[0].value : undefined;
    assert.ok(a?.kind === 'sequence');
    assert.deepEqual(
      a.items.map((item) =>
        item.kind === 'scalar' ? [item.text, item.location.line, item.location.column] : [],
      ),
      [
        ['true', 2, 5],
        ['0x1F', 3, 5],
        ['', 4, 5],
      ],
    );
  });

  const mistakes: [string, string, string[]][] = [
    ['a key given twice', 'a: 1\na: 2\n', ["2:1 'a' is already defined"]],
    [
      'anchors and aliases',
      'a: &x 1\nb: *x\n',
      [
        "1:7 Anchors and aliases are not supported in pipeline YAML: write the value out instead of '&x'",
        "2:4 Anchors and aliases are not supported in pipeline YAML: write the value out instead of '*x'",
      ],
    ],
    [
      'two documents',
      'a: 1\n---\nb: 2\n',
      ['2:1 A pipeline or template file holds one YAML document: remove the `---` and what follows'],
    ],
    [
      'broken syntax',
      'a: [1, 2\n',
      ['2:1 Flow sequence in block collection must be sufficiently indented and end with a ]'],
    ],
  ];
  for (const [what, text, expected] of mistakes) {
    it(`reports ${what} at its line`, () => {
      const read = readYaml(text, '/p.yml');
      assert.ok(!read.ok);
      assert.deepEqual(
        read.problems.map(
          (problem) => `${problem.location?.line}:${problem.location?.column} ${problem.message}`,
        ),
        expected,
      );
    });
  }
});
