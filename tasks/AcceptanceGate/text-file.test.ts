import * as assert from 'node:assert/strict';
import { controlCharacterProblem, decodeText } from './text-file';

describe('text files', () => {
  it('decodes UTF-8, with or without a byte-order mark, unicode included', () => {
    assert.deepEqual(decodeText(Buffer.from('checks: [] # café ✓\n')), {
      ok: true,
      text: 'checks: [] # café ✓\n',
    });
    assert.deepEqual(decodeText(Buffer.from('\uFEFFchecks: []')), { ok: true, text: 'checks: []' });
  });

  const refused: [string, Uint8Array, RegExp][] = [
    [
      'a PNG',
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]),
      /NUL byte at byte 8/,
    ],
    [
      'UTF-16 from PowerShell',
      Buffer.from('\uFEFFchecks: []', 'utf16le'),
      /saved as UTF-16; save it as UTF-8/,
    ],
    ['Latin-1 bytes', Buffer.from([0x63, 0x61, 0x66, 0xe9]), /not UTF-8 text/],
    ['a control character', Buffer.from('checks:\u0007'), /control character U\+0007 at character 8/],
  ];
  for (const [what, bytes, problem] of refused) {
    it(`says ${what} is not text`, () => {
      const decoded = decodeText(bytes);
      assert.equal(decoded.ok, false);
      assert.match(decoded.ok ? '' : decoded.problem, problem);
    });
  }

  it('accepts tabs and both line endings', () => {
    assert.equal(controlCharacterProblem('a\tb\r\nc\n'), undefined);
  });
});
