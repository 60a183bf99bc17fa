export * from "./attempt-outcomes.ts";
export * from "./counter.ts";
export * from "./histogram.ts";
export * from "./merge-families.ts";
export * from "./metric-family.ts";
export * from "./prometheus-text.ts";
export * from "./series-map.ts";
