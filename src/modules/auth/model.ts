import { t } from "elysia";
import { CONTROL_CHARS, storableText } from "../../shared-models";

/** 1-255 chars, none of < > & " ' and no control characters. */
const UserIdString = t.String({
  minLength: 1,
  maxLength: 255,
  pattern: storableText(`${CONTROL_CHARS}<>&"'`),
  description: "1-255 chars, no < > & \" ' and no control characters",
  examples: ["player_12345"],
});

export const LoginBody = t.Object({ userId: UserIdString }, { additionalProperties: true });
export type LoginBody = typeof LoginBody.static;

export const LoginResponse = t.Object({
  token: t.String({ description: "HS256 JWT; send as `Authorization: Bearer <token>`" }),
  userId: t.String(),
  expiresAt: t.String({ format: "date-time" }),
});
export type LoginResponse = typeof LoginResponse.static;
