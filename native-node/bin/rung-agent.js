#!/usr/bin/env node
// The agent is TypeScript run as-is: tsx compiles it on load, so there is no build step to forget.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/cli/main.ts");
// Exit explicitly: native model handles can keep the event loop alive after a clean shutdown.
process.exit(await main(process.argv.slice(2)));
