import type { Hello } from "@rung/shared/protocol";

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
