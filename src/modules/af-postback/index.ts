/**
 * POST /af/postback: AppsFlyer's Push API V2 delivers one record per request. The push token is checked
 * in transform, so after the body is framed (413/400) but before the record is validated (422).
 */
import { Elysia } from "elysia";
import { config } from "../../config";
import { AfErrors, AfRecord, AfStored } from "./model";
import { checkPushToken, receivePostback } from "./service";

export const afPostbackModule = new Elysia({ name: "af-postback", prefix: "/af" })
  .onTransform(({ headers }) =>
    checkPushToken(headers[config.afPushTokenHeader], config.afPushToken, config.afPushTokenHeader),
  )
  .post(
    "/postback",
    async ({ body, set }) => {
      const { recordId, replayed } = await receivePostback(body);
      if (replayed) set.headers["idempotent-replayed"] = "true";
      return { ok: true as const, recordId };
    },
    {
      body: AfRecord,
      response: { 200: AfStored, ...AfErrors },
      detail: {
        tags: ["partners"],
        summary: "Receive one AppsFlyer Push API V2 record (installs, af_purchase and other in-app events)",
        description:
          "AppsFlyer sends the app's push token in the header named by AF_PUSH_TOKEN_HEADER (default Authorization; with Authorization a `Bearer ` prefix is accepted too). " +
          "A record whose purchase key (appsflyer_id, event_time to the second, event_name, event_revenue_usd) is already stored answers 200 with `Idempotent-Replayed: true` and stores nothing. " +
          "`npm run export:purchases` writes the stored purchases as the pipeline's purchases_raw.csv.",
        security: [{ afPushToken: [] }],
      },
    },
  );
