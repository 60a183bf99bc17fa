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
}
