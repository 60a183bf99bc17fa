import { type ApiErrorInit, type ErrorStatus, errorBody } from "@rung/shared/openai";

/** The one error class of the edge; `onError` turns it into OpenAI's error body. */
export class ApiError extends Error {
  override readonly name = "ApiError";
  readonly status: ErrorStatus;
  readonly code: string | null;
  readonly param: string | null;
  readonly headers: Record<string, string>;

  constructor(init: ApiErrorInit & { headers?: Record<string, string> }) {
    super(init.message);
    this.status = init.status;
    this.code = init.code ?? null;
    this.param = init.param ?? null;
    this.headers = init.headers ?? {};
  }

  toResponse(): Response {
    const body = errorBody({ status: this.status, message: this.message, code: this.code, param: this.param });
    return Response.json(body, { status: this.status, headers: this.headers });
  }
}
