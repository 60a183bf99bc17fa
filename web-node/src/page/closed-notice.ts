import type { DonateConfig } from "@rung/shared/protocol";

/** What the donor reads when the pool takes no tabs: the edge's reason, when it gives one (since 1.5). */
export function closedNotice(config: Pick<DonateConfig, "reason">): string {
  const reason = config.reason?.trim();
  return `This pool is not accepting donated tabs right now.${reason ? ` ${reason}` : ""} Thank you all the same!`;
}
