import { strict as assert } from 'node:assert';
import { TaskError } from '../shared/task-error';
import { parseImageLines, parseImageReference, repositoryOf } from './image-reference';

const digest = `sha256:${'a'.repeat(64)}`;

describe('image references', () => {
  it('splits registry, path, tag and digest the way the runtime does', () => {
    const table: [string, string | undefined, string | undefined, string | undefined][] = [
      // text, repository, tag, digest
      ['nginx', 'docker.io/library/nginx', undefined, undefined],
      ['nginx:1.27', 'docker.io/library/nginx', '1.27', undefined],
      ['docker.io/nginx', 'docker.io/library/nginx', undefined, undefined],
      ['index.docker.io/library/nginx:1', 'docker.io/library/nginx', '1', undefined],
      ['bitnami/redis:7', 'docker.io/bitnami/redis', '7', undefined],
      ['contoso.azurecr.io/orders/api:1.4.2', 'contoso.azurecr.io/orders/api', '1.4.2', undefined],
      [`contoso.azurecr.io/orders/api@${digest}`, 'contoso.azurecr.io/orders/api', undefined, digest],
      [`contoso.azurecr.io/orders/api:1.4.2@${digest}`, 'contoso.azurecr.io/orders/api', '1.4.2', digest],
      // Registry ports (azure-pipelines-tasks #10646, #12064): the port is not a tag.
      ['myregistry:5000/app', 'myregistry:5000/app', undefined, undefined],
      ['myregistry:5000/app:v2', 'myregistry:5000/app', 'v2', undefined],
      [
        'registry.contoso.com:5000/team/sub/app:v2',
        'registry.contoso.com:5000/team/sub/app',
        'v2',
        undefined,
      ],
      [`localhost:5000/app@${digest}`, 'localhost:5000/app', undefined, digest],
      ['localhost/app:1', 'localhost/app', '1', undefined],
      ['REGISTRY.Contoso.com/app:1', 'registry.contoso.com/app', '1', undefined],
      ['[::1]:5000/app:1', '[::1]:5000/app', '1', undefined],
    ];
    for (const [text, repository, tag, expectedDigest] of table) {
      const parsed = parseImageReference(text);
      assert.ok(parsed, text);
      assert.equal(repositoryOf(parsed), repository, text);
      assert.equal(parsed.tag, tag, text);
      assert.equal(parsed.digest, expectedDigest, text);
    }
  });

  it('rejects what is not a reference', () => {
    for (const text of [
      '',
      'Upper/Case:1',
      'app:',
      'app@sha256:short',
      'a b',
      'registry:5000/',
      'app:bad/tag',
      '/app',
    ]) {
      assert.equal(parseImageReference(text), undefined, text);
    }
  });

  it('reads the images input, one pinned reference per line', () => {
    const numbered = (lines: string[]) => lines.map((text, index) => ({ line: index + 1, text }));
    const pinned = parseImageLines(
      numbered([`contoso.azurecr.io/orders/api@${digest}`, 'myregistry:5000/web:2']),
    );
    assert.deepEqual(pinned.map(repositoryOf), ['contoso.azurecr.io/orders/api', 'myregistry:5000/web']);
    const bad: [string[], string, (string | number)[]][] = [
      [['contoso.azurecr.io/orders/api'], 'ImageLineInvalid', [1, 'contoso.azurecr.io/orders/api']],
      [['app:1', 'not an image'], 'ImageLineInvalid', [2, 'not an image']],
      [
        ['app:1', 'docker.io/library/app:2'],
        'ImageLineDuplicate',
        [2, 'docker.io/library/app', 'app:1', 'docker.io/library/app:2'],
      ],
    ];
    for (const [lines, key, args] of bad) {
      assert.throws(
        () => parseImageLines(numbered(lines)),
        (error: unknown) =>
          error instanceof TaskError && error.key === key && assert.deepEqual(error.args, args) === undefined,
        lines.join(' | '),
      );
    }
    // Blank lines count, so that the line number is the one the editor shows.
    assert.throws(
      () => parseImageLines([{ line: 3, text: 'not an image' }]),
      (error: unknown) => error instanceof TaskError && error.args[0] === 3,
    );
    // A 120 KB line comes back cut.
    assert.throws(
      () => parseImageLines([{ line: 1, text: 'x'.repeat(120_000) }]),
      (error: unknown) =>
        error instanceof TaskError &&
        String(error.args[1]).length < 300 &&
        /more characters/.test(String(error.args[1])),
    );
    assert.deepEqual(
      parseImageLines(numbered(['app:1', 'app:1'])).map((image) => image.line),
      [1],
      'the same line twice is kept once',
    );
  });
});
