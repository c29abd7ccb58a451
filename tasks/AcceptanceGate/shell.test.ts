import * as assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { endsWithin } from '../../test/support/processes';
import { runInShell } from './shell';

describe('shell', function () {
  this.timeout(20_000);
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'gate-shell-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('returns the exit code, with STAGING_BASE_URL and the rest of the environment set', async () => {
    const exit = await runInShell(
      'test "$STAGING_BASE_URL" = http://s && test -n "$PATH" && exit 3',
      { STAGING_BASE_URL: 'http://s' },
      dir,
      {
        timeoutMs: 10_000,
        graceMs: 100,
        progressEveryMs: 10_000,
        onProgress: () => {},
      },
    );
    assert.deepEqual(exit, { timedOut: false, exitCode: 3 });
  });

  it('stops a command at its time limit with every process it started, and reports progress meanwhile', async () => {
    const progress: number[] = [];
    const started = Date.now();
    const exit = await runInShell('sleep 600 & echo $! > background.pid; sleep 600', {}, dir, {
      timeoutMs: 400,
      graceMs: 2_000,
      progressEveryMs: 100,
      onProgress: (elapsedMs) => progress.push(elapsedMs),
    });
    assert.deepEqual(exit, { timedOut: true });
    assert.ok(Date.now() - started < 5_000, 'stopped well within the grace period');
    assert.ok(progress.length >= 2, `progress was reported ${progress.length} time(s)`);
    assert.ok(progress.every((ms, i) => i === 0 || ms > (progress[i - 1] ?? 0)));
    const background = Number(readFileSync(join(dir, 'background.pid'), 'utf8'));
    assert.ok(await endsWithin(background), 'the background child was stopped too');
  });

  it('kills, after the grace period, what ignores the request to stop', async () => {
    const started = Date.now();
    const exit = await runInShell("trap '' TERM; sleep 600 & echo $! > stubborn.pid; wait", {}, dir, {
      timeoutMs: 200,
      graceMs: 500,
      progressEveryMs: 10_000,
      onProgress: () => {},
    });
    assert.deepEqual(exit, { timedOut: true });
    const waited = Date.now() - started;
    assert.ok(waited >= 650 && waited < 5_000, `took ${waited} ms`);
    assert.ok(await endsWithin(Number(readFileSync(join(dir, 'stubborn.pid'), 'utf8'))));
  });
});
