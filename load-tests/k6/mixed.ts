// k6 script: production-like mix, 90% search (mostly popular bodies) and 10% answer, at a constant arrival rate.
import {
  buildOptions,
  runIteration,
  type SummaryData,
  selectScenarios,
  summaryOutputs,
} from "./lib/k6-runtime.js";

const scenarios = selectScenarios(["mixed"]);

export const options = buildOptions(scenarios);

export default function (): void {
  runIteration(scenarios);
}

export function handleSummary(data: SummaryData) {
  return summaryOutputs("mixed", scenarios, data);
}
