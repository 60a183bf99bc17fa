import { Hono } from "hono";
import type { AppEnv } from "./env.ts";
import { onError, onNotFound } from "./middleware/error-handler.ts";
import { requestId } from "./middleware/request-id.ts";
import { adminRoutes } from "./routes/admin.ts";
import { dashboardRoutes } from "./routes/dashboard.ts";
import { dashboardPageRoutes } from "./routes/dashboard-page.ts";
import { donateRoutes } from "./routes/donate.ts";
import { healthRoutes } from "./routes/health.ts";
import { metricsRoutes } from "./routes/metrics.ts";
import { nodeRoutes } from "./routes/nodes.ts";
import { openaiRoutes } from "./routes/openai.ts";
import { statusRoutes } from "./routes/status.ts";

const app = new Hono<AppEnv>()
  .use("*", requestId)
  .route("/health", healthRoutes)
  .route("/v1/nodes", nodeRoutes)
  .route("/v1/status", statusRoutes)
  // Before /admin: the feed authenticates in its first frame, not with a bearer header.
  .route("/admin/dashboard", dashboardRoutes)
  .route("/admin", adminRoutes)
  .route("/metrics", metricsRoutes)
  .route("/donate", donateRoutes)
  .route("/dashboard", dashboardPageRoutes)
  .route("/v1", openaiRoutes)
  .onError(onError)
  .notFound(onNotFound);

export type AppType = typeof app;
export default app;
export { Fabric } from "./fabric/fabric.ts";
export { KeyStore } from "./keys/key-store.ts";
