import { type JobEvent, jobEventSchema } from "../fabric/fabric-job.ts";
import { readLines } from "../read-lines.ts";

/** The Durable Object's NDJSON body as typed events; aborting the signal tells the fabric the client left. */
export async function* readJobEvents(body: ReadableStream<Uint8Array>, signal?: AbortSignal): AsyncGenerator<JobEvent> {
  for await (const line of readLines(body, { signal })) yield jobEventSchema.parse(JSON.parse(line));
}
