import { DONATE_CONFIG_PATH, DONATE_CONNECT_PATH, donateConfigSchema } from "@rung/shared/protocol";
import { afterEach, describe, expect, it } from "vitest";
import app from "../src/index.ts";
import { closeNodesAndResetPolicy, small } from "./ladder-fixtures.ts";
import { as, closed, expectError, newKey } from "./operating-fixtures.ts";
import { TestNode } from "./test-node.ts";

afterEach(closeNodesAndResetPolicy);

describe("closed by default", () => {
  it("refuses API requests without a key with a 401 that says how to make one, and serves a key", async () => {
    const error = await expectError(await app.request("/v1/models", {}, closed), 401, "invalid_api_key");
    // Either no key exists yet in this test run's store (how to make one) or some do (send yours).
    expect(error.message).toMatch(/POST \/admin\/keys|Bearer/);
    const { key } = await newKey({ name: "closed-edge-client" });
    const models = await app.request("/v1/models", { headers: as(key) }, closed);
    expect(models.status).toBe(200);
    await expectError(await app.request("/v1/models", { headers: as(`${key}x`) }, closed), 401, "invalid_api_key");
  });

  it("takes no node without a join token, and says how to get one", async () => {
    const error = await expectError(
      await app.request("/v1/nodes/connect", { headers: { upgrade: "websocket" } }, closed),
      401,
      "invalid_node_token",
    );
    expect(error.message).toContain("POST /admin/join-tokens");
  });

  it("answers /health liveness to everyone and names nodes only to a key", async () => {
    await TestNode.join("host-7.internal", [small]);
    expect(await (await app.request("/health", {}, closed)).json()).toEqual({ status: "ok" });
    const { key } = await newKey({ name: "health-reader" });
    const detailed = (await (await app.request("/health", { headers: as(key) }, closed)).json()) as { nodes: string[] };
    expect(detailed.nodes).toEqual(["host-7.internal"]);
  });

  it("offers the donate page to tabs only when some key of the pool may use them", async () => {
    const pool = "donations-test";
    const config = async () => donateConfigSchema.parse(await (await app.request(`${DONATE_CONFIG_PATH}?pool=${pool}`, {}, closed)).json());
    const before = await config();
    expect(before.accepting).toBe(false);
    expect(before.reason).toMatch(/No key of this pool/);
    await expectError(
      await app.request(`${DONATE_CONNECT_PATH}?pool=${pool}`, { headers: { upgrade: "websocket" } }, closed),
      403,
      "donations_closed",
    );
    await newKey({ name: "tab-user", pool, tiers: ["private", "public"] });
    const after = await config();
    expect(after.accepting).toBe(true);
    expect(after.connectPath).toBe(`${DONATE_CONNECT_PATH}?pool=${pool}`);
  });
});
