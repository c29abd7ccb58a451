// Converts the lcov report of Node's built-in coverage to Cobertura XML, which the
// pipeline's PublishCodeCoverageResults step reads. Node writes no Cobertura of its own.
//
//   node scripts/lcov-to-cobertura.mjs <lcov.info> <cobertura.xml> [--include <folder/>]
//
// lcov records: https://github.com/linux-test-project/lcov/blob/master/man/geninfo.1 ("TRACEFILE FORMAT").
// Cobertura: http://cobertura.sourceforge.net/xml/coverage-04.dtd
import { readFileSync, writeFileSync } from 'node:fs';
import { isAbsolute, posix, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/** Parses lcov text into one record per source file: its lines, branches and functions. */
export function parseLcov(text, { sourceRoot }) {
  const files = [];
  let file;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    const colon = line.indexOf(':');
    const [tag, value] = colon < 0 ? [line, ''] : [line.slice(0, colon), line.slice(colon + 1)];
    if (tag === 'SF') {
      const path = isAbsolute(value) ? relative(sourceRoot, value) : value;
      file = { path: path.split(sep).join(posix.sep), lines: new Map(), branches: new Map(), functions: [] };
    } else if (!file) {
      continue;
    } else if (tag === 'DA') {
      const [number, hits] = value.split(',');
      file.lines.set(Number(number), Number(hits));
    } else if (tag === 'BRDA') {
      const [number, , , taken] = value.split(',');
      const branch = file.branches.get(Number(number)) ?? { total: 0, covered: 0 };
      branch.total += 1;
      if (taken !== '-' && Number(taken) > 0) branch.covered += 1;
      file.branches.set(Number(number), branch);
    } else if (tag === 'FN') {
      const [number, ...name] = value.split(',');
      file.functions.push({ name: name.join(','), line: Number(number), hits: undefined });
    } else if (tag === 'FNDA') {
      // Names repeat (every `GET() {}` is GET); the FNDA lines come in the FN lines' order.
      const [hits, ...name] = value.split(',');
      const fn = file.functions.find((entry) => entry.name === name.join(',') && entry.hits === undefined);
      if (fn) fn.hits = Number(hits);
    } else if (tag === 'end_of_record') {
      files.push(file);
      file = undefined;
    }
  }
  return files;
}

/** Line and branch counts of a set of files, and their rates (1 when there is nothing to cover). */
export function totals(files) {
  let lines = 0;
  let linesCovered = 0;
  let branches = 0;
  let branchesCovered = 0;
  for (const file of files) {
    for (const hits of file.lines.values()) {
      lines += 1;
      if (hits > 0) linesCovered += 1;
    }
    for (const branch of file.branches.values()) {
      branches += branch.total;
      branchesCovered += branch.covered;
    }
  }
  const rate = (covered, valid) => (valid === 0 ? 1 : covered / valid);
  return {
    lines,
    linesCovered,
    branches,
    branchesCovered,
    lineRate: rate(linesCovered, lines),
    branchRate: rate(branchesCovered, branches),
  };
}

const escapeXml = (text) =>
  String(text).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c],
  );
const decimal = (rate) => rate.toFixed(4);

/**
 * Writes Cobertura XML for `files`, one package per folder and one class per file, with
 * paths relative to `sourceRoot` (the one <source>).
 */
export function toCobertura(files, { sourceRoot, timestamp = Date.now() }) {
  const all = totals(files);
  const packages = new Map();
  for (const file of files) {
    const folder = posix.dirname(file.path);
    packages.set(folder, [...(packages.get(folder) ?? []), file]);
  }
  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE coverage SYSTEM "http://cobertura.sourceforge.net/xml/coverage-04.dtd">',
    `<coverage line-rate="${decimal(all.lineRate)}" branch-rate="${decimal(all.branchRate)}" lines-covered="${all.linesCovered}" lines-valid="${all.lines}" branches-covered="${all.branchesCovered}" branches-valid="${all.branches}" complexity="0" version="0.1" timestamp="${Math.floor(timestamp / 1000)}">`,
    `  <sources><source>${escapeXml(sourceRoot)}</source></sources>`,
    '  <packages>',
  ];
  for (const [folder, members] of packages) {
    const own = totals(members);
    out.push(
      `    <package name="${escapeXml(folder.replaceAll('/', '.'))}" line-rate="${decimal(own.lineRate)}" branch-rate="${decimal(own.branchRate)}" complexity="0">`,
      '      <classes>',
    );
    for (const file of members) {
      const fileTotals = totals([file]);
      out.push(
        `        <class name="${escapeXml(posix.basename(file.path))}" filename="${escapeXml(file.path)}" line-rate="${decimal(fileTotals.lineRate)}" branch-rate="${decimal(fileTotals.branchRate)}" complexity="0">`,
        '          <methods>',
      );
      for (const fn of file.functions) {
        const hits = fn.hits ?? 0;
        const hit = hits > 0 ? 1 : 0;
        out.push(
          `            <method name="${escapeXml(fn.name)}" signature="" hits="${hits}" line-rate="${hit}" branch-rate="${hit}"><lines><line number="${fn.line}" hits="${hits}"/></lines></method>`,
        );
      }
      out.push('          </methods>', '          <lines>');
      for (const [number, hits] of [...file.lines].sort(([a], [b]) => a - b)) {
        const branch = file.branches.get(number);
        const condition = branch
          ? ` branch="true" condition-coverage="${Math.round((100 * branch.covered) / branch.total)}% (${branch.covered}/${branch.total})"`
          : ' branch="false"';
        out.push(`            <line number="${number}" hits="${hits}"${condition}/>`);
      }
      out.push('          </lines>', '        </class>');
    }
    out.push('      </classes>', '    </package>');
  }
  out.push('  </packages>', '</coverage>', '');
  return out.join('\n');
}

/** Converts the lcov file to a Cobertura file, keeping only files under `include`; returns the totals. */
export function convert({ lcovFile, coberturaFile, include, sourceRoot = process.cwd() }) {
  const files = parseLcov(readFileSync(lcovFile, 'utf8'), { sourceRoot }).filter(
    (file) => !include || file.path.startsWith(include),
  );
  writeFileSync(coberturaFile, toCobertura(files, { sourceRoot }));
  return totals(files);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { include: { type: 'string' } },
  });
  if (positionals.length !== 2) {
    console.error(
      'usage: node scripts/lcov-to-cobertura.mjs <lcov.info> <cobertura.xml> [--include <folder/>]',
    );
    process.exit(2);
  }
  const [lcovFile, coberturaFile] = positionals.map((path) => resolve(path));
  const result = convert({ lcovFile, coberturaFile, include: values.include });
  console.log(
    `coverage: ${relative(process.cwd(), coberturaFile)}: lines ${(100 * result.lineRate).toFixed(1)}%, branches ${(100 * result.branchRate).toFixed(1)}%`,
  );
}
