import { DONATE_CONFIG_PATH, donateConfig, donateConfigSchema } from "@rung/shared/protocol";
import { describe, expect, it } from "vitest";
import { closedNotice } from "../../src/page/closed-notice.ts";
import { donateConfigUrl } from "../../src/page/donate-config-url.ts";

describe("donateConfigUrl", () => {
  it("reads the settings of the pool the page's address names, or of main without one", () => {
    expect(donateConfigUrl("")).toBe(DONATE_CONFIG_PATH);
    expect(donateConfigUrl("?threads=2")).toBe(DONATE_CONFIG_PATH);
    expect(donateConfigUrl("?pool=")).toBe(DONATE_CONFIG_PATH);
    expect(donateConfigUrl("?pool=lab-2&threads=2")).toBe("/donate/config?pool=lab-2");
    expect(donateConfigUrl("?pool=main")).toBe("/donate/config?pool=main");
  });

  it("refuses a name the edge would refuse, saying so", () => {
    for (const bad of ["Lab", "-lab", "lab/../x", "a".repeat(33), "lab&token=x"]) {
      expect(() => donateConfigUrl(`?pool=${encodeURIComponent(bad)}`)).toThrow(/is not a pool name/);
    }
  });
});

describe("the pool's donate config", () => {
  const settings = { accepting: true, ggufModels: [], webllmModels: [] };
  /** What the page connects to, as main.ts builds it from the config. */
  const socketUrl = (connectPath: string) => new URL(connectPath, "wss://edge.example/donate?pool=lab").href;

  it("connects the tab to the pool the config is for; main's path names none", () => {
    expect(socketUrl(donateConfig({ ...settings, pool: "lab" }).connectPath)).toBe("wss://edge.example/donate/connect?pool=lab");
    expect(donateConfig({ ...settings, pool: "main" }).connectPath).toBe("/donate/connect");
    expect(donateConfig(settings).connectPath).toBe("/donate/connect");
    expect(donateConfig({ ...settings, pool: "lab" })).not.toHaveProperty("pool");
    expect(donateConfigSchema.safeParse(donateConfig({ ...settings, pool: "lab" })).success).toBe(true);
  });

  it("carries why a closed pool takes no tabs, at most 500 characters, and the page shows it", () => {
    const reason = "No key of this pool may use donated tabs.";
    const closed = donateConfigSchema.parse(donateConfig({ ...settings, accepting: false, reason }));
    expect(closedNotice(closed)).toBe(`This pool is not accepting donated tabs right now. ${reason} Thank you all the same!`);
    expect(closedNotice({})).toBe("This pool is not accepting donated tabs right now. Thank you all the same!");
    expect(donateConfigSchema.safeParse(donateConfig({ ...settings, accepting: false, reason: "x".repeat(501) })).success).toBe(false);
  });
});
