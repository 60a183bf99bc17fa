/** A model could not be found, fetched or loaded; the agent cannot start with it. */
export class ModelLoadError extends Error {
  override readonly name = "ModelLoadError";
  constructor(
    readonly modelId: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** `<what>: <the underlying error's message>`, keeping the error as the cause. */
  static because(modelId: string, what: string, error: unknown): ModelLoadError {
    const reason = error instanceof Error ? error.message : String(error);
    return new ModelLoadError(modelId, `${what}: ${reason}`, { cause: error });
  }
}
