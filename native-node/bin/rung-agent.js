#!/usr/bin/env node
// The agent is TypeScript run as-is: tsx compiles it on load, so there is no build step to forget.
import { register } from "tsx/esm/api";

// node-llama-cpp (plain JavaScript) loads before tsx's hooks exist: past them, each of its
// ~540 files would take a trip through the hooks' thread and have its source map read,
// about 0.6 s of CPU on every start (docs/benchmarks.md, "How fast an agent joins").
// The agent's own imports of it then find it loaded.
await import("node-llama-cpp");
register();
const { main } = await import("../src/cli/main.ts");
// Exit explicitly: native model handles can keep the event loop alive after a clean shutdown.
process.exit(await main(process.argv.slice(2)));
