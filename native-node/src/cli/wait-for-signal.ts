/**
 * Resolves with the first of `signals`. A second one while shutting down
 * means "now": the process exits at once with 128 + signal number, as shells expect.
 */
export function waitForSignal(signals: readonly NodeJS.Signals[], onForced: (signal: NodeJS.Signals) => void): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const first = (signal: NodeJS.Signals) => {
      for (const s of signals) {
        process.off(s, first);
        process.once(s, onForced);
      }
      resolve(signal);
    };
    for (const s of signals) process.on(s, first);
  });
}
