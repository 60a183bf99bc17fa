/** What `auto:<profile>` may name; `auto` alone means the policy's `defaultProfile`. */
export const PROFILE_NAMES = ["quality", "balanced", "speed", "budget", "long_context"] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];
