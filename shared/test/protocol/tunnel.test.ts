import { describe, expect, it } from "vitest";
import { PROTOCOL_VERSION } from "../../protocol/messages.ts";
import { tunnelRegistrationSchema } from "../../protocol/tunnel.ts";

const hello = {
  type: "hello",
  protocol: PROTOCOL_VERSION,
  node: { name: "n", kind: "native", engine: "llama-cpp", slots: 1 },
  models: [{ id: "m", parameters: 1, quantization: "F32", contextLength: 16, tokensPerSecond: 1, slots: 1 }],
};
const accepts = (url: string) => tunnelRegistrationSchema.safeParse({ hello, url }).success;

describe("tunnel registration URLs", () => {
  it("accept https anywhere and plain http only on this machine", () => {
    expect(accepts("https://calm-river-1234.trycloudflare.com")).toBe(true);
    expect(accepts("https://gpu.example.com/rung")).toBe(true);
    expect(accepts("http://127.0.0.1:8788")).toBe(true);
    expect(accepts("http://localhost:8788")).toBe(true);
    expect(accepts("http://gpu.example.com")).toBe(false);
  });

  it("refuse anything that could steer where a job lands: credentials, queries, fragments", () => {
    expect(accepts("https://user:pw@gpu.example.com")).toBe(false);
    expect(accepts("https://victim.example.com/any/path?")).toBe(false);
    expect(accepts("https://victim.example.com/x?y=1")).toBe(false);
    expect(accepts("https://victim.example.com/x#")).toBe(false);
    expect(accepts("ftp://gpu.example.com")).toBe(false);
  });
});
