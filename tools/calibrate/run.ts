// `npm run calibrate`: the escalation bar from a sample of recorded traces (or a labelled sample)
// for an operator's target, as RouteLLM's calibrate_threshold does; docs/ladder.md explains it.
//
//   npm run calibrate -- traces.jsonl --below-top 0.8
//   npm run calibrate -- labelled.jsonl --accuracy 0.98 --edge https://rung.example.com
import { main } from "./cli.ts";

process.exitCode = await main(process.argv.slice(2));
