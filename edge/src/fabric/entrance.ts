import type { BrowserModel, Hello } from "@rung/shared/protocol";

/** Who vouches for a node (`TrustTier` in the protocol). */
export type Trust = NonNullable<Hello["node"]["trust"]>;

/**
 * Which door a socket came in by: `connect` is /v1/nodes/connect, behind the join
 * token when one is set; `donate` is /donate/connect, open to any browser tab.
 */
export type Entrance = "connect" | "donate";

/** The tier a socket has before its hello says anything. */
export function trustOfEntrance(entrance: Entrance): Trust {
  return entrance === "donate" ? "public" : "private";
}

/**
 * The tier a node joins with. Through the open door a node is public whatever it
 * would like to be, and it must say so itself: a hello claiming otherwise is a
 * node that does not know where it is (an agent pointed at the wrong URL) or one
 * hoping to be trusted, and either way is refused rather than quietly relabelled.
 * Through the token door a node may lower itself to public, never the other way.
 */
export function trustAtHello(entrance: Entrance, node: Hello["node"]): { ok: true; trust: Trust } | { ok: false; message: string } {
  if (entrance === "connect") return { ok: true, trust: node.trust ?? "private" };
  if (node.kind === "browser" && node.trust === "public") return { ok: true, trust: "public" };
  return {
    ok: false,
    message:
      `The donate page's entrance takes browser tabs in the public tier only: the hello must say node.kind "browser" ` +
      `and node.trust "public" (it said kind "${node.kind}", trust "${node.trust ?? "private"}"). ` +
      "Owned machines join at /v1/nodes/connect with the pool's join token.",
  };
}

/**
 * Whether what a tab at the donate entrance announced loading is the file the
 * pool's policy names: a model the policy lists with a `sha256` must not be
 * announced with another (one announced without, by a tab older than 1.6, is
 * let in). The whole hello is refused rather than that model dropped: a tab
 * serves one model, so it would stay joined with nothing to serve while its
 * donor believes it helps; and a tab that announces another file is stale (it
 * loaded the file before the operator replaced it) or broken, which its donor
 * should hear, as with a wrong trust claim. Owned machines at the token door
 * load the files their owners choose: only the donate entrance is held to the list.
 */
export function hashesAtHello(
  entrance: Entrance,
  models: Hello["models"],
  listed: readonly Pick<BrowserModel, "id" | "sha256">[],
): { ok: true } | { ok: false; message: string } {
  if (entrance !== "donate") return { ok: true };
  for (const model of models) {
    const expected = listed.find((entry) => entry.id === model.id)?.sha256;
    if (expected === undefined || model.sha256 === undefined || model.sha256 === expected) continue;
    return {
      ok: false,
      message:
        `This pool's policy names another file for ${model.id}: its SHA-256 is ${expected}, this tab announced ${model.sha256}. ` +
        "Reload the donate page to download the pool's current file.",
    };
  }
  return { ok: true };
}
