import { strict as assert } from 'node:assert';
import { TaskError, TaskErrors } from '../shared/task-error';
import { healthMetrics } from './health-catalog';
import { describeLimit, parseThresholds, type ThresholdNames } from './health-thresholds';

const catalog = healthMetrics.map((metric) => metric.name);
const known: ThresholdNames = { catalog, customQuery: false };
const custom: ThresholdNames = { catalog, customQuery: true };

describe('healthThresholds grammar', () => {
  it('reads the old form, one per line or several on a line', () => {
    assert.deepEqual(parseThresholds('failedRatePercent <= 1\n\np95DurationMs<1000, requests >= 10', known), [
      {
        metric: 'failedRatePercent',
        line: 1,
        pass: { operator: '<=', value: 1, relative: false },
        weight: 1,
      },
      { metric: 'p95DurationMs', line: 3, pass: { operator: '<', value: 1000, relative: false }, weight: 1 },
      { metric: 'requests', line: 3, pass: { operator: '>=', value: 10, relative: false }, weight: 1 },
    ]);
  });

  it('reads pass and warning lines, a weight, and limits relative to the previous release', () => {
    assert.deepEqual(
      parseThresholds(
        '# comments and blank lines are skipped\nfailedRatePercent: pass <= 1, warn <= 3, weight 2\np95DurationMs: pass <= +10%, warn <= +25%\nrequests: pass >= -20%, weight 0.5',
        known,
      ),
      [
        {
          metric: 'failedRatePercent',
          line: 2,
          pass: { operator: '<=', value: 1, relative: false },
          warn: { operator: '<=', value: 3, relative: false },
          weight: 2,
        },
        {
          metric: 'p95DurationMs',
          line: 3,
          pass: { operator: '<=', value: 10, relative: true },
          warn: { operator: '<=', value: 25, relative: true },
          weight: 1,
        },
        { metric: 'requests', line: 4, pass: { operator: '>=', value: -20, relative: true }, weight: 0.5 },
      ],
    );
  });

  it('takes any column name when a custom healthQuery is set', () => {
    assert.equal(parseThresholds('errorBudget: pass <= 2, warn <= 4', custom)[0]?.metric, 'errorBudget');
  });

  it('writes limits back as they were written', () => {
    assert.equal(describeLimit({ operator: '<=', value: 10, relative: true }), '<= +10%');
    assert.equal(describeLimit({ operator: '>=', value: -5, relative: true }), '>= -5%');
    assert.equal(describeLimit({ operator: '<', value: 3, relative: false }), '< 3');
  });

  const refused: { what: string; text: string; names?: ThresholdNames; line: number; problem: RegExp }[] = [
    {
      what: 'a bad operator',
      text: 'failedRatePercent ~ 1',
      line: 1,
      problem: /^'~' is not an operator; use <=, <, >= or >$/,
    },
    { what: 'an equality', text: 'restarts == 0', line: 1, problem: /^'==' is not an operator/ },
    {
      what: 'no operator',
      text: 'restarts 0',
      line: 1,
      problem: /^write a metric, an operator \(<=, <, >=, >\) and a limit, for example/,
    },
    {
      what: 'a bad operator in a clause',
      text: 'restarts: pass => 0',
      line: 1,
      problem: /^'=>' is not an operator/,
    },
    {
      what: 'a relative limit on a custom column',
      text: 'errorBudget <= +10%',
      names: custom,
      line: 1,
      problem:
        /^'errorBudget' comes from healthQuery, which has no previous release to compare with; give it a plain limit/,
    },
    {
      what: 'a weight of zero',
      text: 'restarts: pass <= 0, weight 0',
      line: 1,
      problem: /^the weight '0' must be a positive number, for example weight 2$/,
    },
    {
      what: 'a negative weight',
      text: 'restarts: pass <= 0, weight -1',
      line: 1,
      problem: /^the weight '-1' must be a positive number/,
    },
    {
      what: 'a weight that is a word',
      text: 'restarts: pass <= 0, weight heavy',
      line: 1,
      problem: /^the weight 'heavy' must be a positive number/,
    },
    {
      what: 'a warning line stricter than the pass line',
      text: 'failedRatePercent: pass <= 3, warn <= 1',
      line: 1,
      problem:
        /^the warn line <= 1 is stricter than the pass line <= 3; a warning line lets through more than the pass line/,
    },
    {
      what: 'a lower-bound warning line stricter than its pass line',
      text: 'requests: pass >= 100, warn >= 200',
      line: 1,
      problem: /^the warn line >= 200 is stricter than the pass line >= 100/,
    },
    {
      what: 'pass and warn pointing different ways',
      text: 'requests: pass >= 100, warn <= 50',
      line: 1,
      problem: /^pass >= and warn <= point different ways; write both with < or <=, or both with > or >=$/,
    },
    {
      what: 'no pass line',
      text: 'failedRatePercent: warn <= 3',
      line: 1,
      problem: /^a pass line is required, for example/,
    },
    {
      what: 'an unknown clause',
      text: 'failedRatePercent: pass <= 1, fail > 5',
      line: 1,
      problem: /^'fail > 5' is not a pass, warn or weight clause/,
    },
    {
      what: 'a percentage without its sign',
      text: 'p95DurationMs <= 10%',
      line: 1,
      problem:
        /^the limit '10%' needs a sign to be relative to the previous release, such as \+10%; or give a plain number such as 10$/,
    },
    {
      what: 'a limit that is not a number',
      text: 'restarts <= none',
      line: 1,
      problem: /^the limit 'none' is not a number or a change such as \+10%$/,
    },
    {
      what: 'a metric given twice',
      text: 'restarts <= 0\nrestarts <= 1',
      line: 2,
      problem: /^restarts already has a threshold on line 1; keep one of them$/,
    },
  ];
  for (const row of refused) {
    it(`refuses ${row.what}, naming its line`, () => {
      assert.throws(
        () => parseThresholds(row.text, row.names ?? known),
        (error: unknown) => {
          assert.ok(error instanceof TaskError, String(error));
          assert.equal(error.key, 'HealthThresholdInvalid');
          assert.equal(error.args[0], row.line);
          assert.equal(error.args[1], row.text.split('\n')[row.line - 1]);
          assert.match(String(error.args[2]), row.problem);
          return true;
        },
      );
    });
  }

  it('refuses an unknown metric without a custom query, listing those it knows', () => {
    assert.throws(
      () => parseThresholds('failedRatePercent <= 1\nerrorBudget <= 2', known),
      (error: unknown) => {
        assert.ok(error instanceof TaskError);
        assert.equal(error.key, 'HealthThresholdUnknownMetric');
        assert.deepEqual(error.args, [
          2,
          'errorBudget <= 2',
          'errorBudget',
          catalog.join(', '),
          'errorBudget',
        ]);
        return true;
      },
    );
  });

  it('reports every bad line at once', () => {
    assert.throws(
      () => parseThresholds('restarts ~ 0\nfailedRatePercent <= 1\nnope <= 2', known),
      (error: unknown) =>
        error instanceof TaskErrors && error.errors.map((each) => each.args[0]).join() === '1,3',
    );
  });
});
