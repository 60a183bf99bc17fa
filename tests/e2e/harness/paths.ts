import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
/** Generated models live in the repo's ignored cache, made once and reused. */
export const modelCache = join(repoRoot, ".cache", "models");
export const agentBin = join(repoRoot, "native-node", "bin", "rung-agent.js");
