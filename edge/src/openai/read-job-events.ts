import { jobEventSchema, type JobEvent } from "../fabric/fabric-job.ts";

/**
 * Split the Durable Object's NDJSON body into typed events. Aborting the signal
 * cancels the body, which tells the fabric the client left.
 */
export async function* readJobEvents(body: ReadableStream<Uint8Array>, signal?: AbortSignal): AsyncGenerator<JobEvent> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  signal?.addEventListener("abort", () => void reader.cancel().catch(() => {}));
  let buffered = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffered += value;
      let newline = buffered.indexOf("\n");
      while (newline >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (line) yield jobEventSchema.parse(JSON.parse(line));
        newline = buffered.indexOf("\n");
      }
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}
