import * as tl from 'azure-pipelines-task-lib/task';

/**
 * Sets a secret pipeline variable through task-lib, which escapes the value for the
 * `##vso` command (%, \r, \n, ] and ;) so the agent stores it byte for byte.
 *
 * Multi-line values need care. The agent masks output line by line, so a value registered
 * only whole never matches any one log line: each line is registered on its own first
 * (task.setsecret). Then both task-lib and the agent refuse a secret with a line break
 * unless SYSTEM_UNSAFEALLOWMULTILINESECRET is true: task-lib reads it from this process's
 * environment, the agent from the job's variables
 * (microsoft/azure-pipelines-agent: TaskSetVariableCommand, AgentKnobs.AllowUnsafeMultilineSecret).
 * So the switch is turned on just for the one setvariable and turned off again right after,
 * in both places. The agent handles commands in order, so nothing else runs while it is on,
 * and later steps see it off. A value the job had already allowed is left alone.
 */
export function setSecretVariable(name: string, value: string): void {
  if (!/[\r\n]/.test(value)) {
    tl.setVariable(name, value, true);
    return;
  }
  for (const line of new Set(value.split(/\r\n|\r|\n/))) {
    // Lines this short are ordinary text ("}", "---"); masking them would garble the log.
    if (line.trim().length >= minimumMaskedLineLength) tl.setSecret(line.trim());
  }
  const switchName = 'SYSTEM_UNSAFEALLOWMULTILINESECRET';
  const before = process.env[switchName];
  if (`${before}`.toUpperCase() === 'TRUE') {
    tl.setVariable(name, value, true);
    return;
  }
  tl.setVariable(switchName, 'true');
  try {
    tl.setVariable(name, value, true);
  } finally {
    tl.setVariable(switchName, 'false');
    if (before === undefined) delete process.env[switchName];
    else process.env[switchName] = before;
  }
}

/** Lines of a multi-line secret shorter than this are not registered for masking on their own. */
export const minimumMaskedLineLength = 4;
