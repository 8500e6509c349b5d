// The Dockerfile as data for the drift test: its stages and their instructions. Home-made because the
// file uses only plain instructions and `\` continuations, which a few lines read; no engine here to ask.

export type Step = [instruction: string, args: string];
export interface Stage {
  /** What follows FROM, e.g. `${NODE_IMAGE} AS runtime`. */
  from: string;
  steps: Step[];
}

/** Stages in order, each a list of [INSTRUCTION, arguments] with comments dropped and continuations folded. */
export function dockerfileStages(text: string): Stage[] {
  const stages: Stage[] = [];
  const lines = text
    .replace(/\\\n/g, " ")
    .split("\n")
    .filter((line) => line.trim() && !line.trimStart().startsWith("#"));
  for (const line of lines) {
    const [, instruction = "", args = ""] = line.trim().match(/^(\S+)\s*(.*)$/) ?? [];
    if (instruction.toUpperCase() === "FROM") stages.push({ from: args, steps: [] });
    else stages.at(-1)?.steps.push([instruction.toUpperCase(), args.replace(/\s+/g, " ")]);
  }
  return stages;
}

/** The steps of the stage named `AS name`. */
export function stageSteps(stages: Stage[], name: string): Step[] {
  const found = stages.find(({ from }) => from.endsWith(` AS ${name}`));
  if (!found) throw new Error(`Dockerfile has no ${name} stage`);
  return found.steps;
}

/** The arguments of every `instruction` in `steps`, in order. */
export function instructionArgs(steps: Step[], instruction: string): string[] {
  return steps.filter(([name]) => name === instruction).map(([, text]) => text);
}
