import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { excerpt, firstLineExcerpt, type Redact } from '../shared/redaction';

/**
 * JUnit XML in and out. Reading accepts what test runners actually write (a
 * <testsuites> root or a bare <testsuite>, nested suites, <failure>, <error> and
 * <skipped>; mocha's built-in xunit reporter among them). Writing produces the one
 * file the gate publishes, with every text passed through `redact`.
 */

/** How a test or check ended, as the gate counts it. */
export type TestOutcome = 'passed' | 'flaky' | 'failed' | 'skipped';

/** One test case, from a runner's file or from a check. */
export interface TestCase {
  readonly suite: string;
  readonly classname: string;
  readonly name: string;
  readonly outcome: TestOutcome;
  readonly timeSeconds: number;
  /** The failure's message (for a flaky test, the first failure's), as the runner wrote it; see failureLine. */
  readonly message?: string;
  readonly details?: string;
  readonly attempts: number;
}

/** A JUnit file could not be read; `reason` says why. */
export class JUnitReadError extends Error {}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  textNodeName: '#text',
  parseAttributeValue: false,
  parseTagValue: false,
  trimValues: false,
  processEntities: true,
  // Runners escape with numeric references (mocha writes &#x3C; for <); these decode them.
  htmlEntities: true,
  isArray: (name) => ['testsuite', 'testcase', 'failure', 'error', 'skipped'].includes(name),
});

/** Parses one JUnit XML document into test cases. */
export function parseJUnit(xml: string): TestCase[] {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw new JUnitReadError(describeXmlError(xml, valid.err));
  const document = parser.parse(xml) as Record<string, unknown>;
  const roots = document.testsuites ?? document.testsuite;
  if (roots === undefined) throw new JUnitReadError('no <testsuites> or <testsuite> element');
  const cases: TestCase[] = [];
  const visit = (suite: XmlNode, parentName: string): void => {
    const name = text(suite.name) || parentName;
    for (const testcase of asArray(suite.testcase as XmlNode[] | undefined))
      cases.push(readCase(testcase, name));
    for (const child of asArray(suite.testsuite as XmlNode[] | undefined)) visit(child, name);
  };
  for (const root of asArray(roots as XmlNode | XmlNode[])) visit(root, 'tests');
  return cases;
}

type XmlNode = Record<string, unknown>;

function readCase(testcase: XmlNode, suite: string): TestCase {
  const failure = [...asArray(testcase.failure), ...asArray(testcase.error)][0];
  const skipped = asArray(testcase.skipped).length > 0;
  const base = {
    suite,
    classname: text(testcase.classname) || suite,
    name: text(testcase.name) || '(unnamed)',
    timeSeconds: Number(text(testcase.time)) || 0,
    attempts: 1,
  };
  if (failure !== undefined) {
    const node =
      typeof failure === 'object' && failure !== null ? (failure as XmlNode) : { '#text': failure };
    const details = text(node['#text']).trim();
    const message = text(node.message);
    return { ...base, outcome: 'failed', ...(message ? { message } : {}), ...(details ? { details } : {}) };
  }
  return { ...base, outcome: skipped ? 'skipped' : 'passed' };
}

interface XmlError {
  readonly code: string;
  readonly msg: string;
  readonly line: number;
}

/** What is wrong with a document, in words: the validator's messages name tags, not the fix. */
function describeXmlError(xml: string, error: XmlError): string {
  if (xml.trim() === '') return 'the file is empty';
  const unclosed = /^Invalid '(\[.*\])' found\.$/s.exec(error.msg);
  if (unclosed) {
    const tags = (JSON.parse(unclosed[1] as string) as string[]).map((tag) => `<${tag}>`).join(', ');
    return `it ends before ${tags} ${tags.includes(',') ? 'are' : 'is'} closed, as if it was cut short; make the test command finish writing it`;
  }
  if (error.code === 'InvalidChar' && !xml.trimStart().startsWith('<'))
    return `it does not start with an XML element (it starts with ${JSON.stringify(excerpt(xml.trimStart(), 40))})`;
  const at = `on line ${error.line}`;
  const rewrites: [RegExp, string][] = [
    [
      /^Expected closing tag '(.+)' \(opened in line (\d+), col \d+\) instead of closing tag '(.+)'\.$/,
      `<$1> (opened on line $2) is not closed before </$3> ${at}`,
    ],
    [/^Closing tag '(.+)' has not been opened\.$/, `</$1> ${at} closes a tag that was never opened`],
    [/^Unclosed tag '(.+)'\.$/, `the tag <$1 ${at} is not finished with ">"`],
    [
      /^Attributes for '(.+)' have open quote\.$/,
      `an attribute of <$1> ${at} has a quote that is not closed`,
    ],
    [/^Attribute '(.+)' is repeated\.$/, `the attribute $1 appears twice in one tag ${at}`],
    [/^Attribute '(.+)' is without value\.$/, `the attribute $1 ${at} has no quoted value`],
    [
      /^Multiple possible root nodes found\.$/,
      `it has a second top-level element ${at}; JUnit has one <testsuites> or <testsuite> around everything`,
    ],
  ];
  for (const [pattern, words] of rewrites)
    if (pattern.test(error.msg)) return error.msg.replace(pattern, words);
  return `${at}: ${excerpt(error.msg, 200)}`;
}

function asArray<T>(value: T | T[] | undefined): T[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '';
}

/**
 * Merges the runs of a test command retried after failures: a test that failed and
 * later passed is flaky, one that failed every time failed. Tests are matched by
 * suite, class and name.
 */
export function mergeRuns(runs: readonly (readonly TestCase[])[]): TestCase[] {
  const merged = new Map<string, TestCase>();
  for (const run of runs) {
    for (const testcase of run) {
      const key = `${testcase.suite}\u0000${testcase.classname}\u0000${testcase.name}`;
      const earlier = merged.get(key);
      if (!earlier) merged.set(key, testcase);
      else if (earlier.outcome === 'failed') {
        merged.set(key, {
          ...testcase,
          attempts: earlier.attempts + 1,
          ...(testcase.outcome === 'passed'
            ? { outcome: 'flaky', message: earlier.message, details: earlier.details }
            : {}),
        } as TestCase);
      }
    }
  }
  return [...merged.values()];
}

/** Writes test cases as one JUnit document, one <testsuite> per suite, every text redacted. */
export function writeJUnit(
  cases: readonly TestCase[],
  redact: (text: string) => string,
  timestamp: Date,
): string {
  const suites = new Map<string, TestCase[]>();
  for (const testcase of cases) suites.set(testcase.suite, [...(suites.get(testcase.suite) ?? []), testcase]);
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const total = summarise(cases);
  lines.push(
    `<testsuites name="Acceptance gate" tests="${cases.length}" failures="${total.failed}" skipped="${total.skipped}" time="${total.time}">`,
  );
  for (const [suite, members] of suites) {
    const counts = summarise(members);
    lines.push(
      `  <testsuite name="${attr(redact(suite))}" tests="${members.length}" failures="${counts.failed}" errors="0" skipped="${counts.skipped}" time="${counts.time}" timestamp="${timestamp.toISOString().replace(/\.\d+Z$/, '')}">`,
    );
    for (const testcase of members) lines.push(...caseLines(testcase, redact));
    lines.push('  </testsuite>');
  }
  lines.push('</testsuites>', '');
  return lines.join('\n');
}

/** A failure's one line: its message, else the first line of its details; redacted, then cut. */
export function failureLine(testcase: TestCase, redact: Redact): string {
  return firstLineExcerpt(testcase.message ?? testcase.details ?? '', failureLineLength, redact) || 'failed';
}

/** A failure line is cut to this many characters; the whole text stays in the details. */
const failureLineLength = 300;

function caseLines(testcase: TestCase, redact: (text: string) => string): string[] {
  const open = `    <testcase classname="${attr(redact(testcase.classname))}" name="${attr(redact(testcase.name))}" time="${testcase.timeSeconds.toFixed(3)}"`;
  const message = failureLine(testcase, redact);
  const details = testcase.details !== undefined ? redact(testcase.details) : undefined;
  switch (testcase.outcome) {
    case 'passed':
      return [`${open}/>`];
    case 'skipped':
      return [`${open}>`, '      <skipped/>', '    </testcase>'];
    case 'failed':
      return [
        `${open}>`,
        `      <failure message="${attr(message)}" type="AssertionError">${body(details ?? message)}</failure>`,
        '    </testcase>',
      ];
    case 'flaky':
      // JUnit has no "flaky"; the Tests tab shows it passed, and the output says it needed a retry.
      return [
        `${open}>`,
        `      <system-out>${body(`Flaky: passed on attempt ${testcase.attempts}. The first attempt failed: ${details ?? message}`)}</system-out>`,
        '    </testcase>',
      ];
  }
}

function summarise(cases: readonly TestCase[]): { failed: number; skipped: number; time: string } {
  return {
    failed: cases.filter((c) => c.outcome === 'failed').length,
    skipped: cases.filter((c) => c.outcome === 'skipped').length,
    time: cases.reduce((sum, c) => sum + c.timeSeconds, 0).toFixed(3),
  };
}

// XML 1.0 forbids most control characters even when escaped; a runner's output may hold them.
function clean(value: string): string {
  return value.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '');
}

function attr(value: string): string {
  return clean(value)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;');
}

function body(value: string): string {
  return clean(value).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
