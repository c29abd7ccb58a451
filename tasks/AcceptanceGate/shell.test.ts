import * as assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInShell } from './shell';

/** True while `pid` runs: a process that has exited but not been reaped (a zombie) does not count. */
function running(pid: number): boolean {
  const stat = `/proc/${pid}/stat`;
  if (existsSync('/proc/self/stat'))
    return existsSync(stat) && !/^\d+ \(.*\) Z/.test(readFileSync(stat, 'utf8'));
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

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
    for (let wait = 0; running(background) && wait < 50; wait++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(running(background), false, 'the background child was stopped too');
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
    // SIGKILL is delivered to the whole group at once, but the kernel may take a moment to
    // end a process on a busy machine.
    const stubborn = Number(readFileSync(join(dir, 'stubborn.pid'), 'utf8'));
    for (let wait = 0; running(stubborn) && wait < 50; wait++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(running(stubborn), false);
  });
});
