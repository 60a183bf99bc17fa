/** How far a model download and load has come, for the progress bar. */
export interface LoadProgress {
  loadedBytes: number;
  /** 0 while the size is not known yet. */
  totalBytes: number;
  elapsedMs: number;
}
