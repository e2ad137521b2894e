/** The root app: cross-cutting plugins, the one onError, and every feature module. */

import { swagger } from "@elysiajs/swagger";
import { Elysia } from "elysia";
import { config } from "./config";
import { mapError, rootCause } from "./errors";
import { log } from "./logger";
import { afPostbackModule } from "./modules/af-postback";
import { authModule } from "./modules/auth";
import { docsModule } from "./modules/docs";
import { eventsModule } from "./modules/events";
import { trackModule } from "./modules/events/track";
import { healthModule } from "./modules/health";
import { metricsModule } from "./modules/metrics";
import { pipelineModule } from "./modules/pipeline";
import { statsModule } from "./modules/stats";
import { walletModule } from "./modules/wallet";
import { cors } from "./plugins/cors";
import { requestContext, requestInfo } from "./plugins/request-context";

export const app = new Elysia({ name: "game-api" })
  .use(requestContext)
  .use(cors(config.allowedOrigins))
  .onError({ as: "global" }, ({ code, error, request, set, path }) => {
    const { requestId } = requestInfo(request);
    const mapped = mapError(code, error, requestId);
    // the driver's own message (drizzle's "Failed query: ..." hides it in cause) names what went wrong
    if (mapped.unexpected)
      log("error", mapped.status === 503 ? "database unavailable" : "unhandled error", {
        requestId,
        path,
        cause: rootCause(error),
        error: String((error as Error)?.stack ?? error).slice(0, 2000),
      });
    set.status = mapped.status;
    Object.assign(set.headers, mapped.headers);
    return mapped.body;
  })
  .use(
    swagger({
      path: "/docs",
      provider: "swagger-ui",
      documentation: {
        info: {
          title: "Game API",
          version: config.version,
          description: "Wallet, events and attribution for the game clients; the revenue pipeline trigger for ops.",
        },
        components: {
          securitySchemes: {
            bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" },
            afPushToken: {
              type: "apiKey",
              in: "header",
              name: config.afPushTokenHeader,
              description: "AppsFlyer Push API token (AF_PUSH_TOKEN), in the header AF_PUSH_TOKEN_HEADER",
            },
          },
        },
      },
    }),
  )
  .use(healthModule)
  .use(metricsModule)
  .use(authModule)
  .use(walletModule)
  .use(eventsModule)
  .use(statsModule)
  .use(trackModule)
  .use(pipelineModule)
  .use(afPostbackModule)
  .use(docsModule);
