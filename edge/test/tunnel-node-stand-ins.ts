import { ReadableStream } from "node:stream/web";
import { type Request, Response } from "miniflare";

/**
 * Tunnel nodes for the workerd tests, answering the Durable Object's outbound
 * job calls from Node (miniflare's outboundService): each host misbehaves in
 * one way the dispatcher must survive. Only `*.node.test` hosts are served.
 */
export async function tunnelNodeStandIns(request: Request): Promise<Response> {
  const host = new URL(request.url).hostname;
  const job = (await request.json()) as { jobId: string };
  const frame = (value: object) => `${JSON.stringify(value)}\n`;
  const encoder = new TextEncoder();
  if (host === "answers-then-babbles.node.test") {
    // A complete answer, then junk: the edge must take the answer and stop reading at `done`.
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (sent > 0) await new Promise((resolve) => setTimeout(resolve, 50));
        if (sent > 20) return controller.close();
        if (sent === 0) {
          controller.enqueue(encoder.encode(frame({ type: "chunk", jobId: job.jobId, seq: 0, text: "tunnelled", confidence: 0.99 })));
          controller.enqueue(
            encoder.encode(
              frame({ type: "done", jobId: job.jobId, chunks: 1, finishReason: "stop", usage: { promptTokens: 1, completionTokens: 1 } }),
            ),
          );
        } else controller.enqueue(encoder.encode("junk\n"));
        sent += 1;
      },
    });
    return new Response(body, { headers: { "content-type": "application/x-ndjson" } });
  }
  if (host === "endless-line.node.test") {
    // One line that never ends: the edge must not buffer it all.
    const chunk = encoder.encode("x".repeat(64 * 1024));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ > 200) return controller.close();
        controller.enqueue(chunk);
      },
    });
    return new Response(body, { headers: { "content-type": "application/x-ndjson" } });
  }
  if (host === "fails.node.test") return new Response("boom", { status: 500 });
  return new Response("no such stand-in", { status: 404 });
}
