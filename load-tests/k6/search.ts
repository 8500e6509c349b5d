// k6 script: POST /v1/courses/search, cache hit then cache miss (SCENARIO=search-cache-miss runs one alone).
import {
  buildOptions,
  runIteration,
  type SummaryData,
  selectScenarios,
  summaryOutputs,
} from "./lib/k6-runtime.js";

const scenarios = selectScenarios(["search-cache-hit", "search-cache-miss"]);

export const options = buildOptions(scenarios);

export default function (): void {
  runIteration(scenarios);
}

export function handleSummary(data: SummaryData) {
  return summaryOutputs("search", scenarios, data);
}
