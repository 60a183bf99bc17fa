import { describe, expect, it } from "vitest";
import { CoalescingWriter } from "../../src/fabric/coalescing-writer.ts";

const decoder = new TextDecoder();

function pipe() {
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  let gone = 0;
  const writer = new CoalescingWriter(writable.getWriter(), () => (gone += 1));
  const reader = readable.getReader();
  const read = async () => {
    const { value, done } = await reader.read();
    return done ? null : decoder.decode(value);
  };
  return { writer, reader, read, gone: () => gone };
}

describe("CoalescingWriter", () => {
  it("sends a write at once to a reader that waits, and gathers what comes while it is in flight", async () => {
    const { writer, read } = pipe();
    writer.write("a");
    expect(await read()).toBe("a");
    // Let the first write settle: the writer is idle again.
    await new Promise((resolve) => setTimeout(resolve, 0));
    writer.write("b");
    writer.write("c");
    writer.write("d");
    // "b" went out alone; "c" and "d" came while it was in flight, so they travel together.
    expect(await read()).toBe("b");
    expect(await read()).toBe("cd");
  });

  it("closes only after everything written has gone out, and writes nothing after close", async () => {
    const { writer, read } = pipe();
    writer.write("1");
    writer.write("2");
    writer.close();
    writer.write("late");
    expect(await read()).toBe("1");
    expect(await read()).toBe("2");
    expect(await read()).toBeNull();
  });

  it("tells once that the reader went away", async () => {
    const { writer, reader, gone } = pipe();
    writer.write("a");
    await reader.cancel("client left");
    writer.write("b");
    writer.write("c");
    await expect.poll(gone).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(gone()).toBe(1);
  });
});
