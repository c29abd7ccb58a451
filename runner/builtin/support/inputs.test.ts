import assert from 'node:assert/strict';
import { createTestContext } from '../testing/context';
import { StepFailure } from './failure';
import { booleanInput, choiceInput, lineList, pathInput, splitArguments } from './inputs';

describe('input parsers', () => {
  it('splits a command line as task-lib ToolRunner.line() does', () => {
    const cases: [string, string[]][] = [
      ['run build', ['run', 'build']],
      ['  run   build  ', ['run', 'build']],
      ['--build-arg "A=b c" -t x', ['--build-arg', 'A=b c', '-t', 'x']],
      ['say "a \\"quoted\\" word"', ['say', 'a "quoted" word']],
      ['path "C:\\\\dir"', ['path', 'C:\\\\dir']],
      ['empty ""', ['empty', '']],
      ['', []],
    ];
    for (const [text, expected] of cases) assert.deepEqual(splitArguments(text), expected, text);
  });

  it('reads booleans strictly, naming the input and the accepted forms', () => {
    const step = createTestContext({ inputs: { yes: 'True', no: 'false', empty: '', typo: 'yes' } });
    try {
      assert.equal(booleanInput(step.context, 'yes'), true);
      assert.equal(booleanInput(step.context, 'no', true), false);
      assert.equal(booleanInput(step.context, 'empty', true), true);
      assert.equal(booleanInput(step.context, 'absent'), false);
      assert.throws(
        () => booleanInput(step.context, 'typo'),
        (error: Error) =>
          error instanceof StepFailure && error.message === "Input 'typo' is 'yes': write true or false.",
      );
      assert.equal(choiceInput(step.context, 'yes', ['true', 'false'], 'false'), 'true');
      assert.throws(() => choiceInput(step.context, 'typo', ['a', 'b'], 'a'), /use one of a, b\./);
    } finally {
      step.dispose();
    }
  });

  it('roots relative paths at System.DefaultWorkingDirectory, as the agent roots filePath inputs', () => {
    const step = createTestContext({ inputs: { relative: 'a/b', absolute: '/x/../y', empty: '' } });
    try {
      assert.equal(pathInput(step.context, 'relative'), `${step.workingDirectory}/a/b`);
      assert.equal(pathInput(step.context, 'absolute'), '/y');
      assert.equal(pathInput(step.context, 'empty'), step.workingDirectory);
    } finally {
      step.dispose();
    }
  });

  it('lists the non-empty lines of a multi-line input', () => {
    assert.deepEqual(lineList(' a \r\n\n b\n'), ['a', 'b']);
  });
});
