/**
 * Test result files read into one shape: JUnit XML (the testsuite/testcase schema every
 * JUnit-style reporter writes) and VSTest `.trx`. Pure functions over the file's text.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';

/** One test's outcome as Azure Pipelines counts it. */
export type TestOutcome = 'passed' | 'failed' | 'skipped';

/** One test case. */
export interface TestCaseResult {
  /** The test's own name. */
  readonly name: string;
  /** Its class or suite, when the file names one. */
  readonly container?: string;
  readonly outcome: TestOutcome;
  readonly durationMs?: number;
  /** The failure or error message, when failed. */
  readonly message?: string;
}

/** The formats parsed here; the others (NUnit, XUnit, CTest) are refused by the task. */
export type ParsedFormat = 'JUnit' | 'VSTest';

/** Why a file could not be read as the format: the task reports it in the agent's words. */
export class ResultFileFormatError extends Error {
  override name = 'ResultFileFormatError';
}

/** Totals over a set of test cases. */
export interface TestTotals {
  readonly total: number;
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
}

/** Counts the outcomes. */
export function totalsOf(results: readonly TestCaseResult[]): TestTotals {
  const count = (outcome: TestOutcome) => results.filter((result) => result.outcome === outcome).length;
  return {
    total: results.length,
    passed: count('passed'),
    failed: count('failed'),
    skipped: count('skipped'),
  };
}

/** Reads a result file's text as `format`; text that is not that format throws ResultFileFormatError. */
export function parseTestResults(format: ParsedFormat, text: string): TestCaseResult[] {
  if (XMLValidator.validate(text) !== true) throw new ResultFileFormatError('not well-formed XML');
  return format === 'JUnit' ? parseJUnit(text) : parseTrx(text);
}

type XmlNode = Record<string, unknown>;

const junitParser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  isArray: (name) => ['testsuite', 'testcase', 'failure', 'error', 'skipped'].includes(name),
});

function parseJUnit(text: string): TestCaseResult[] {
  const document = junitParser.parse(text) as XmlNode;
  if (isNode(document.testsuites)) return suiteCases(document.testsuites);
  // An empty <testsuites/> parses to '' rather than an object: a valid file with no tests.
  if (document.testsuites !== undefined) return [];
  if (document.testsuite !== undefined)
    return asNodes(document.testsuite).flatMap((suite) => suiteCases(suite));
  throw new ResultFileFormatError('neither <testsuites> nor <testsuite> at the root');
}

/**
 * A suite's own test cases, then its nested suites' (JUnit allows nesting). Node's junit
 * reporter also puts top-level tests straight under <testsuites>, so the root is read the same way.
 */
function suiteCases(suite: XmlNode): TestCaseResult[] {
  const own = asNodes(suite.testcase).map((testCase): TestCaseResult => {
    const failure = [...asNodes(testCase.failure), ...asNodes(testCase.error)][0] ?? failureText(testCase);
    const skipped = testCase.skipped !== undefined;
    const seconds = Number(testCase.time);
    return {
      name: String(testCase.name ?? ''),
      container: stringOrUndefined(testCase.classname) ?? stringOrUndefined(suite.name),
      outcome: failure !== undefined ? 'failed' : skipped ? 'skipped' : 'passed',
      durationMs: Number.isFinite(seconds) ? Math.round(seconds * 1000) : undefined,
      message: failure !== undefined ? messageOf(failure) : undefined,
    };
  });
  return [...own, ...asNodes(suite.testsuite).flatMap((nested) => suiteCases(nested))];
}

// `<failure/>` with neither attributes nor text parses to '' rather than an object.
function failureText(testCase: XmlNode): XmlNode | undefined {
  for (const key of ['failure', 'error']) {
    const value = testCase[key];
    if (Array.isArray(value) && value.length > 0) return { '#text': String(value[0] ?? '') };
  }
  return undefined;
}

function messageOf(failure: XmlNode): string {
  return stringOrUndefined(failure.message) ?? stringOrUndefined(failure['#text']) ?? '';
}

const trxParser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  removeNSPrefix: true,
  isArray: (name) => ['UnitTestResult', 'UnitTest'].includes(name),
});

function parseTrx(text: string): TestCaseResult[] {
  const run = (trxParser.parse(text) as XmlNode).TestRun;
  if (!isNode(run)) throw new ResultFileFormatError('no <TestRun> element');
  const classes = new Map<string, string>();
  for (const test of asNodes((run.TestDefinitions as XmlNode | undefined)?.UnitTest)) {
    const method = test.TestMethod as XmlNode | undefined;
    if (method?.className) classes.set(String(test.id), String(method.className));
  }
  return asNodes((run.Results as XmlNode | undefined)?.UnitTestResult).map((result) => {
    const outcome = String(result.outcome ?? '');
    const errorInfo = ((result.Output as XmlNode | undefined)?.ErrorInfo as XmlNode | undefined) ?? undefined;
    return {
      name: String(result.testName ?? ''),
      container: classes.get(String(result.testId)),
      outcome: outcome === 'Passed' ? 'passed' : outcome === 'NotExecuted' ? 'skipped' : 'failed',
      durationMs: trxDuration(String(result.duration ?? '')),
      message: outcome === 'Passed' ? undefined : stringOrUndefined(errorInfo?.Message),
    };
  });
}

/** `hh:mm:ss.fffffff` in milliseconds. */
function trxDuration(text: string): number | undefined {
  const match = /^(\d+):(\d+):(\d+(?:\.\d+)?)$/.exec(text);
  if (!match) return undefined;
  return Math.round((Number(match[1]) * 3600 + Number(match[2]) * 60 + Number(match[3])) * 1000);
}

function isNode(value: unknown): value is XmlNode {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asNodes(value: unknown): XmlNode[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).filter(isNode);
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}
