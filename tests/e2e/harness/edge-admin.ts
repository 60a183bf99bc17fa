/**
 * Small helpers shared by the benchmarks and the evaluation that drive a local edge:
 * the admin policy route, the status route, and a median.
 */

/** Replaces the edge's routing policy (PUT /admin/policy; the edge needs RUNG_ADMIN_KEY). */
export async function putPolicy(edgeUrl: string, adminKey: string, policy: object): Promise<void> {
  const response = await fetch(`${edgeUrl}/admin/policy`, {
    method: "PUT",
    headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
    body: JSON.stringify(policy),
  });
  if (!response.ok) throw new Error(`PUT /admin/policy ${response.status}: ${await response.text()}`);
}

export interface CatalogStatus {
  id: string;
  parameters: number;
  firstTokenP95Ms: number | null;
  nodes: { name: string; tokensPerSecond: number }[];
}

/** GET /v1/status: the catalog as the router sees it. */
export async function edgeStatus(edgeUrl: string, apiKey = "local"): Promise<{ catalog: CatalogStatus[] }> {
  const response = await fetch(`${edgeUrl}/v1/status`, { headers: { authorization: `Bearer ${apiKey}` } });
  if (!response.ok) throw new Error(`GET /v1/status ${response.status}: ${await response.text()}`);
  return (await response.json()) as never;
}

export const median = (values: readonly number[]): number => {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
