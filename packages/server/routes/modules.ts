/**
 * The server's route modules, in mounting order: each is mounted on the app with `app.route()`
 * and documented in the OpenAPI document from the same declarations. A new route group is one
 * module added here (see CONTRIBUTING.md, "Adding a route").
 *
 * @module
 */
import type { RouteModule } from "./context.ts";
import { embedRoutes } from "./embed.ts";
import { healthRoutes } from "./health.ts";
import { queryRoutes } from "./query.ts";
import { referenceRoutes } from "./references.ts";

/** Every documented route module (the route serving the OpenAPI document lives in `openapi.ts`). */
export const ROUTE_MODULES: readonly RouteModule[] = [healthRoutes, embedRoutes, queryRoutes, referenceRoutes];
