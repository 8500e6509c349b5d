// k6 script: POST /v1/answer with distinct questions, ramping VUs (each answer waits on its upstreams).
import {
  buildOptions,
  runIteration,
  type SummaryData,
  selectScenarios,
  summaryOutputs,
} from "./lib/k6-runtime.js";

const scenarios = selectScenarios(["answer"]);

export const options = buildOptions(scenarios);

export default function (): void {
  runIteration(scenarios);
}

export function handleSummary(data: SummaryData) {
  return summaryOutputs("answer", scenarios, data);
}
