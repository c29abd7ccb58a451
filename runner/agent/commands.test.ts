import assert from 'node:assert/strict';
import { TaskCommand } from 'azure-pipelines-task-lib/taskcommand';
import {
  escapeCommandText,
  lookupCommand,
  parseCommandLine,
  property,
  unescapeCommandText,
} from './commands';

describe('harness: logging command parser', () => {
  const cases: {
    line: string;
    name: string;
    properties?: Record<string, string>;
    data: string;
  }[] = [
    { line: '##vso[task.debug]hello', name: 'task.debug', data: 'hello' },
    {
      line: '##vso[task.setvariable variable=a;isOutput=false;issecret=true;]v',
      name: 'task.setvariable',
      properties: { variable: 'a', isOutput: 'false', issecret: 'true' },
      data: 'v',
    },
    { line: '##vso[task.debug]100%AZP25 done', name: 'task.debug', data: '100% done' },
    // %AZP25 is undone last, so an escaped literal "%3B" survives as text.
    { line: '##vso[task.debug]%AZP253B', name: 'task.debug', data: '%3B' },
    {
      line: '##vso[task.setvariable variable=x%3By%5Dz]a;b]c',
      name: 'task.setvariable',
      properties: { variable: 'x;y]z' },
      data: 'a;b]c',
    },
    {
      line: '##vso[task.issue type=error]line one%0D%0Aline two',
      name: 'task.issue',
      properties: { type: 'error' },
      data: 'line one\r\nline two',
    },
    { line: 'prefix ##vso[task.debug]mid-line', name: 'task.debug', data: 'mid-line' },
    {
      line: '##vso[Task.SetVariable variable=a]b',
      name: 'task.setvariable',
      properties: { variable: 'a' },
      data: 'b',
    },
    // A property without a value, or without "=", is dropped as the agent drops it.
    {
      line: '##vso[task.complete result=Failed;done=;junk]m',
      name: 'task.complete',
      properties: { result: 'Failed' },
      data: 'm',
    },
    { line: '##vso[task.debug]', name: 'task.debug', data: '' },
  ];
  for (const { line, name, properties, data } of cases) {
    it(`parses ${JSON.stringify(line)}`, () => {
      const command = parseCommandLine(line);
      assert.ok(command);
      assert.equal(command.name, name);
      assert.deepEqual(command.properties, properties ?? {});
      assert.equal(command.data, data);
    });
  }

  for (const line of [
    'plain text',
    '##vso[task]no event',
    '##vso[task.debug no close',
    '##vso[a.b.c]x',
    '##vso[]x',
  ]) {
    it(`does not parse ${JSON.stringify(line)}`, () => {
      assert.equal(parseCommandLine(line), undefined);
    });
  }

  it('reads properties without regard to case', () => {
    const command = parseCommandLine('##vso[task.setvariable Variable=a;IsSecret=true]b');
    assert.ok(command);
    assert.equal(property(command, 'variable'), 'a');
    assert.equal(property(command, 'issecret'), 'true');
  });

  const awkward = [
    'plain',
    '50%',
    '%3B%0A%5D%AZP25',
    'a;b]c',
    'x=y;z=w',
    'tab\there',
    'multi\r\nline\nvalue',
    ']]',
  ];
  for (const value of awkward) {
    it(`round-trips task-lib's own escaping of ${JSON.stringify(value)}`, () => {
      const line = new TaskCommand('task.setvariable', { variable: value }, value).toString();
      const command = parseCommandLine(line);
      assert.ok(command);
      assert.equal(property(command, 'variable'), value);
      assert.equal(command.data, value);
      assert.equal(unescapeCommandText(escapeCommandText(value)), value);
    });
  }

  const lookups: { line: string; expected: ReturnType<typeof lookupCommand> }[] = [
    {
      line: '##vso[task.issue type=error]x',
      expected: { kind: 'known', canonical: 'task.logissue', allowedInRestrictedMode: true },
    },
    {
      line: '##vso[task.uploadsummary]/x.md',
      expected: { kind: 'known', canonical: 'task.uploadsummary', allowedInRestrictedMode: false },
    },
    {
      line: '##vso[results.publish type=JUnit]',
      expected: { kind: 'known', canonical: 'results.publish', allowedInRestrictedMode: false },
    },
    { line: '##vso[task.nosuch]x', expected: { kind: 'unknownEvent' } },
    { line: '##vso[nosuch.thing]x', expected: { kind: 'unknownArea' } },
  ];
  for (const { line, expected } of lookups) {
    it(`routes ${line} as the agent does`, () => {
      const command = parseCommandLine(line);
      assert.ok(command);
      assert.deepEqual(lookupCommand(command), expected);
    });
  }
});
