// `npm run lint`: the app's own checks, with no dependencies. Every JavaScript file must
// parse (`node --check`), and every text file follows a few rules. Prints one line per
// problem, `file:line: what`, and exits 1 when there is any.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const appRoot = dirname(dirname(fileURLToPath(import.meta.url)));
const skippedFolders = new Set(['node_modules', 'dist', 'coverage', 'test-results', '.git']);
const textFile = /\.(mjs|js|json|md|ya?ml)$|^(Dockerfile|\.dockerignore|\.gitignore|\.npmrc)$/;
const javaScript = /\.m?js$/;
// The logger is the one module in src/ that writes output; the rest log through it.
const logger = 'src/log.mjs';

/** The app's files the rules apply to, relative to the app folder, in a stable order. */
function listFiles(folder = appRoot) {
  return readdirSync(folder, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) => {
      if (entry.isDirectory())
        return skippedFolders.has(entry.name) ? [] : listFiles(join(folder, entry.name));
      return textFile.test(entry.name) ? [relative(appRoot, join(folder, entry.name))] : [];
    });
}

/** The rules on one file's text; returns `[line, problem]` pairs. */
function textProblems(file, text) {
  const problems = [];
  const lines = text.split('\n');
  lines.forEach((line, index) => {
    const at = index + 1;
    if (/[ \t]+\r?$/.test(line)) problems.push([at, 'trailing whitespace']);
    if (line.endsWith('\r')) problems.push([at, 'CRLF line ending; use LF']);
    if (!javaScript.test(file)) return;
    if (file.startsWith('src/') && file !== logger && /\bconsole\.\w+\(/.test(line)) {
      problems.push([at, `console output in src/; log through ${logger}`]);
    }
    if (/^\s*debugger\b/.test(line)) problems.push([at, 'debugger statement']);
    if (/\b(it|test|describe)\.only\(/.test(line)) problems.push([at, '.only() would skip every other test']);
  });
  if (text.length > 0 && !text.endsWith('\n'))
    problems.push([lines.length, 'no newline at the end of the file']);
  return problems;
}

async function syntaxProblem(file) {
  try {
    await promisify(execFile)(process.execPath, ['--check', file], { cwd: appRoot });
    return [];
  } catch (error) {
    // node --check prints `file:line`, the line, a caret, then `SyntaxError: ...`.
    const stderr = String(error.stderr);
    const line = Number(stderr.match(/:(\d+)\n/)?.[1] ?? 1);
    return [[line, stderr.match(/^\w*Error: .*$/m)?.[0] ?? 'does not parse']];
  }
}

const files = listFiles();
const results = await Promise.all(
  files.map(async (file) => {
    const problems = [...textProblems(file, readFileSync(join(appRoot, file), 'utf8'))];
    if (javaScript.test(file)) problems.push(...(await syntaxProblem(file)));
    return problems.map(([line, problem]) => `${file}:${line}: ${problem}`);
  }),
);
const lines = results.flat();
for (const line of lines) console.error(line);
console.log(
  `lint: ${files.length} files, ${lines.length === 0 ? 'no problems' : `${lines.length} problem(s)`}`,
);
process.exitCode = lines.length === 0 ? 0 : 1;
