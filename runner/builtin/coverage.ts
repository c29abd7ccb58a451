/**
 * Code coverage summaries read into one shape: Cobertura XML (the root `<coverage>`
 * element's counters, as istanbul, coverlet and coverage.py write them) and lcov (the
 * `LF`/`LH`/`BRF`/`BRH` records of every file). Pure functions over the file's text.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';

/** Covered out of valid. */
export interface CoverageCount {
  readonly covered: number;
  readonly valid: number;
}

/** A coverage summary; `branches` only when the file counts them. */
export interface CoverageSummary {
  readonly format: 'Cobertura' | 'lcov';
  readonly lines: CoverageCount;
  readonly branches?: CoverageCount;
}

/** Why a file is neither Cobertura nor lcov. */
export class CoverageFormatError extends Error {
  override name = 'CoverageFormatError';
}

/** Reads a summary file, telling Cobertura from lcov by its content. */
export function parseCoverage(text: string): CoverageSummary {
  return text.trimStart().startsWith('<') ? parseCobertura(text) : parseLcov(text);
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseAttributeValue: false,
});

/** Cobertura's root counters (`lines-valid`, `lines-covered`, `branches-valid`, `branches-covered`). */
export function parseCobertura(text: string): CoverageSummary {
  if (XMLValidator.validate(text) !== true) throw new CoverageFormatError('not well-formed XML');
  const coverage = (parser.parse(text) as Record<string, unknown>).coverage;
  if (typeof coverage !== 'object' || coverage === null)
    throw new CoverageFormatError('no <coverage> element');
  const attributes = coverage as Record<string, unknown>;
  const lines = count(attributes['lines-covered'], attributes['lines-valid']);
  if (!lines) throw new CoverageFormatError('no lines-valid and lines-covered on <coverage>');
  const branches = count(attributes['branches-covered'], attributes['branches-valid']);
  return { format: 'Cobertura', lines, ...(branches && branches.valid > 0 ? { branches } : {}) };
}

/** The sums of lcov's per-file `LF`/`LH` (lines) and `BRF`/`BRH` (branches) records. */
export function parseLcov(text: string): CoverageSummary {
  const totals = { LF: 0, LH: 0, BRF: 0, BRH: 0 };
  let records = 0;
  for (const line of text.split(/\r?\n/)) {
    const match = /^(LF|LH|BRF|BRH):(\d+)$/.exec(line.trim());
    if (match) totals[match[1] as keyof typeof totals] += Number(match[2]);
    if (line.trim() === 'end_of_record') records++;
  }
  if (records === 0) throw new CoverageFormatError('neither Cobertura XML nor lcov (no end_of_record)');
  const lines = { covered: totals.LH, valid: totals.LF };
  const branches = { covered: totals.BRH, valid: totals.BRF };
  return { format: 'lcov', lines, ...(branches.valid > 0 ? { branches } : {}) };
}

/** Adds summaries of several files. */
export function addCoverage(summaries: readonly CoverageSummary[]): Omit<CoverageSummary, 'format'> {
  const sum = (pick: (summary: CoverageSummary) => CoverageCount | undefined) => {
    const counts = summaries.map(pick).filter((value): value is CoverageCount => value !== undefined);
    if (counts.length === 0) return undefined;
    return counts.reduce((a, b) => ({ covered: a.covered + b.covered, valid: a.valid + b.valid }));
  };
  const branches = sum((summary) => summary.branches);
  return {
    lines: sum((summary) => summary.lines) ?? { covered: 0, valid: 0 },
    ...(branches ? { branches } : {}),
  };
}

/** `85.71% (6/7)`, or `n/a (0/0)` when nothing counts. */
export function formatCount(count: CoverageCount): string {
  if (count.valid === 0) return `n/a (0/0)`;
  return `${((count.covered / count.valid) * 100).toFixed(2)}% (${count.covered}/${count.valid})`;
}

function count(covered: unknown, valid: unknown): CoverageCount | undefined {
  const c = Number(covered);
  const v = Number(valid);
  if (covered === undefined || valid === undefined || !Number.isFinite(c) || !Number.isFinite(v))
    return undefined;
  return { covered: c, valid: v };
}
