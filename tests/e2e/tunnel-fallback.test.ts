import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AgentProcess } from "./harness/agent-process.ts";
import { type LocalFabric, startFabric, testModel } from "./harness/fabric.ts";
import { freePort, type RefusingProxy, startUpgradeRefusingProxy } from "./harness/upgrade-refusing-proxy.ts";

/**
 * An agent behind a proxy that refuses WebSocket upgrades: in `auto` it falls
 * back to the tunnel transport (its loopback URL given as --public-url, where a
 * real deployment would have cloudflared's), and clients notice nothing.
 */
let fabric: LocalFabric;
let proxy: RefusingProxy;
let agent: AgentProcess;

beforeAll(async () => {
  const model = await testModel("tiny");
  fabric = await startFabric();
  proxy = await startUpgradeRefusingProxy(fabric.url);
  const port = await freePort();
  agent = await fabric.join({
    edge: proxy.url,
    name: "behind-proxy",
    models: [model],
    extraArgs: ["--transport", "auto", "--tunnel-port", String(port), "--public-url", `http://127.0.0.1:${port}`],
  });
});

afterAll(async () => {
  await fabric?.stop();
  await proxy?.close();
});

describe("the tunnel fallback", () => {
  it("joins through the tunnel once the proxy refuses the WebSocket", async () => {
    expect(proxy.refusedUpgrades).toBeGreaterThanOrEqual(1);
    // The edge lists the node as soon as it registers; the agent logs it a moment later.
    await expect.poll(() => agent.output.join("")).toMatch(/joined as node_\S+ in pool main through the tunnel/);
  });

  it("answers streamed and whole requests through the tunnel", async () => {
    const stream = await fabric.client.chat.completions.create({
      model: "auto",
      messages: [{ role: "user", content: "Hello" }],
      max_tokens: 16,
      temperature: 0,
      stream: true,
    });
    let text = "";
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      finish ??= chunk.choices[0]?.finish_reason;
    }
    expect(finish).toMatch(/^(stop|length)$/);
    const whole = await fabric.client.chat.completions
      .create({ model: "auto", messages: [{ role: "user", content: "Hello" }], max_tokens: 16, temperature: 0 })
      .withResponse();
    expect(whole.response.headers.get("x-rung-node")).toBe("behind-proxy");
    expect(whole.data.choices[0]?.message.content).toBe(text);
  });

  it("leaves the edge when stopped, so it stops being offered", async () => {
    agent.signal("SIGTERM");
    expect(await agent.exited).toBe(0);
    const ids = [];
    for await (const model of fabric.client.models.list()) ids.push(model.id);
    expect(ids.filter((id) => !id.startsWith("auto"))).toEqual([]);
  });
});
