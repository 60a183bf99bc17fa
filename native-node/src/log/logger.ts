/** Where the agent's log lines go. Structured JSON logs come later; this keeps the call sites stable. */
export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export type LogLevel = "debug" | "info" | "warn" | "error";

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export interface LoggerOptions {
  /** Lines below this level are dropped. Default `"info"`. */
  level?: LogLevel;
  /** Default `process.stderr`, so stdout stays free for anything a script might parse. */
  write?: (line: string) => void;
}

/** Readable lines: `2025-01-01T12:00:00.000Z INFO  joined as node_1a2b3c4d`. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const threshold = RANK[options.level ?? "info"];
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const at = (level: LogLevel) => (message: string) => {
    if (RANK[level] >= threshold) write(`${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${message}\n`);
  };
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

/** For tests and library use: drops everything. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
