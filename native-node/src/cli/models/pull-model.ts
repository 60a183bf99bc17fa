import { resolveModelFile } from "node-llama-cpp";
import { isRemoteModel } from "../../engines/resolve-model-path.ts";
import { UsageError } from "../usage-error.ts";

/** Throws a UsageError unless `uri` is something `pull` can fetch. */
export function checkPullUri(uri: string): void {
  if (!isRemoteModel(uri)) {
    throw new UsageError(
      `models pull takes a hf:<user>/<repo>:<quant> URI or an https:// URL (got "${uri}"); a local file needs no pull, give it to --model as is`,
    );
  }
}

/**
 * `rung-agent models pull <uri>`: download into `dir` with node-llama-cpp's
 * resolver (its progress bar on the terminal; a file already there is reused).
 */
export async function pullModel(dir: string, uri: string, write: (text: string) => void): Promise<number> {
  checkPullUri(uri);
  let path: string;
  try {
    path = await resolveModelFile(uri, { directory: dir, cli: true });
  } catch (error) {
    write(`Could not fetch ${uri}: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
  write(`${path}\n`);
  return 0;
}
