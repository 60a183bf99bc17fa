import { z } from "zod";

/** OpenAI's error body: `{ error: { message, type, param, code } }`. */
export const errorBodySchema = z.object({
  error: z.object({
    message: z.string(),
    type: z.string(),
    param: z.string().nullable(),
    code: z.string().nullable(),
  }),
});
export type ErrorBody = z.infer<typeof errorBodySchema>;

export type ErrorStatus = 400 | 401 | 403 | 404 | 408 | 413 | 429 | 500 | 502 | 503 | 504;

/**
 * The `type` for each status, as OpenAI's API sends it where it has one (a bad
 * key and an unknown model are `invalid_request_error` there too). SDKs choose
 * their exception class by status; `type` and `code` are for programs and people.
 */
const typeByStatus: Record<ErrorStatus, string> = {
  400: "invalid_request_error",
  401: "invalid_request_error",
  403: "permission_error",
  404: "invalid_request_error",
  408: "timeout_error",
  413: "invalid_request_error",
  429: "rate_limit_error",
  500: "server_error",
  502: "server_error",
  503: "server_error",
  504: "timeout_error",
};

export interface ApiErrorInit {
  status: ErrorStatus;
  message: string;
  code?: string | null;
  param?: string | null;
}

export function errorBody({ status, message, code = null, param = null }: ApiErrorInit): ErrorBody {
  return { error: { message, type: typeByStatus[status], param, code } };
}
