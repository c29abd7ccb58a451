/**
 * PowerShell@2 on Linux (Tasks/PowerShellV2/powershell.ts), with PowerShell 7 (`pwsh: true`)
 * only: the preferences, the script and the LASTEXITCODE check are written to a `.ps1` file
 * under Agent.TempDirectory and run with `pwsh -NoLogo -NoProfile -NonInteractive -Command . '<file>'`.
 */
import { EOL } from 'node:os';
import type { BuiltinContext, BuiltinResult } from './types';
import { taskData, taskMessage } from './definitions';
import { settle, StepFailure } from './support/failure';
import { booleanInput, choiceInput, pathInput, textInput } from './support/inputs';
import { which } from './support/process';
import { isFile, runScript, scriptWorkingDirectory } from './script-host';

const task = taskData('PowerShell', 2);

const actionPreferences = ['default', 'stop', 'continue', 'silentlyContinue'] as const;

/** The preference inputs, each with the variable it sets and the real task's default. */
const preferenceInputs = [
  { input: 'errorActionPreference', variable: 'ErrorActionPreference', fallback: 'stop' },
  { input: 'warningPreference', variable: 'WarningPreference', fallback: 'default' },
  { input: 'informationPreference', variable: 'InformationPreference', fallback: 'default' },
  { input: 'verbosePreference', variable: 'VerbosePreference', fallback: 'default' },
  { input: 'debugPreference', variable: 'DebugPreference', fallback: 'default' },
  { input: 'progressPreference', variable: 'ProgressPreference', fallback: 'silentlyContinue' },
] as const;

/** Runs a PowerShell@2 (`pwsh:`) step. */
export function runPowerShell(context: BuiltinContext): Promise<BuiltinResult> {
  return settle(context, async () => {
    if (!booleanInput(context, 'pwsh')) {
      throw new StepFailure(
        'PowerShell@2 with pwsh: false runs Windows PowerShell, which does not exist on Linux: set pwsh: true (PowerShell 7) or write the step with bash.',
      );
    }
    const pwsh = which('pwsh', context.env.PATH);
    if (!pwsh) {
      throw new StepFailure(
        "pwsh (PowerShell 7) is not installed on this machine: install the 'powershell' package from Microsoft's Debian repository, or write the step with bash.",
      );
    }
    const lines: string[] = [];
    for (const preference of preferenceInputs) {
      const value = choiceInput(context, preference.input, actionPreferences, preference.fallback);
      if (value !== 'default') lines.push(`$${preference.variable} = '${value}'`);
    }
    const showWarnings = booleanInput(context, 'showWarnings');
    const failOnStderr = booleanInput(context, 'failOnStderr');
    const ignoreLastExitCode = booleanInput(context, 'ignoreLASTEXITCODE');
    const separateScope = booleanInput(context, 'runScriptInSeparateScope');
    const workingDirectory = scriptWorkingDirectory(context);
    const targetType = choiceInput(context, 'targetType', ['filePath', 'inline'], 'filePath');

    let script: string;
    if (targetType === 'filePath') {
      const filePath = pathInput(context, 'filePath');
      if (!textInput(context, 'filePath') || !isFile(filePath) || !/\.ps1$/i.test(filePath)) {
        throw new StepFailure(
          `${taskMessage(task, 'JS_InvalidFilePath', filePath)} Fix filePath, or use targetType: inline.`,
        );
      }
      script = `. '${filePath.replace(/'/g, "''")}' ${textInput(context, 'arguments')}`.trim();
    } else {
      script = context.inputs.script ?? '';
    }
    context.output(taskMessage(task, 'GeneratingScript'));
    if (showWarnings) script = warningsWrapper(script);
    lines.push(script);
    if (!ignoreLastExitCode) lines.push(...lastExitCodeCheck);

    return runScript(context, workingDirectory, {
      // The real task prepends a BOM so that Windows PowerShell reads the file as UTF-8.
      contents: '\ufeff' + lines.join(EOL),
      extension: '.ps1',
      interpreter: pwsh,
      argumentsFor: (file) => [
        '-NoLogo',
        '-NoProfile',
        '-NonInteractive',
        '-Command',
        `${separateScope ? '&' : '.'} '${file.replace(/'/g, "''")}'`,
      ],
      failOnStderr,
      exitCodeMessage: (code) => taskMessage(task, 'JS_ExitCode', code),
      stderrMessage: taskMessage(task, 'JS_Stderr'),
    });
  });
}

const lastExitCodeCheck = [
  'if (!(Test-Path -LiteralPath variable:\\LASTEXITCODE)) {',
  "    Write-Host '##vso[task.debug]$LASTEXITCODE is not set.'",
  '} else {',
  "    Write-Host ('##vso[task.debug]$LASTEXITCODE: {0}' -f $LASTEXITCODE)",
  '    exit $LASTEXITCODE',
  '}',
];

function warningsWrapper(script: string): string {
  return [
    '$warnings = New-Object System.Collections.ObjectModel.ObservableCollection[System.Management.Automation.WarningRecord];',
    'Register-ObjectEvent -InputObject $warnings -EventName CollectionChanged -Action {',
    '    if($Event.SourceEventArgs.Action -like "Add"){',
    '        $Event.SourceEventArgs.NewItems | ForEach-Object {',
    '            Write-Host "##vso[task.logissue type=warning;]$_";',
    '        }',
    '    }',
    '};',
    `Invoke-Command {${script}} -WarningVariable +warnings;`,
  ].join(EOL);
}
